/* test_files.c - the files layer through files.h: blob ids as git
 * computes them, stat data, and the walk: over many roots (two threads
 * on two CPUs), told by its rules which files and folders are left out,
 * which ids are known and which folders' names, and what a trusted walk
 * does with the marks it is given. No git, no cache: hooks of the
 * test's own stand for them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files/files.h"
#include "scratch_tree.h"

/* The ids `git hash-object` gives: empty, one line, and more than one
 * read buffer's worth (64 KiB) of bytes. */
static void test_hash_is_git_blob_id(void **unused)
{
	char hex[41];
	size_t big = 200000;
	char *data = malloc(big);

	(void)unused;
	files_hash("", 0, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	files_hash("hello\n", 6, hex);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	files_hash(data, big, hex);
	assert_string_equal(hex, "5c2ea5d482bf8dd5219d3a4e8d49f3b4f29bb016");
	free(data);
}

/* Settled means changed (ctime) strictly before `since`. */
static void test_stat_settled_by_ctime(void **unused)
{
	struct file_stat st = { 500, 0, 100, 500, 0, 1 }; /* mtime later than ctime */
	struct timespec since = { 100, 600 };

	(void)unused;
	assert_true(file_stat_settled(&st, &since));
	since.tv_nsec = 500; /* the same tick: not settled */
	assert_false(file_stat_settled(&st, &since));
	since.tv_sec = 99;
	since.tv_nsec = 999999999;
	assert_false(file_stat_settled(&st, &since));
	since.tv_sec = 101;
	since.tv_nsec = 0;
	assert_true(file_stat_settled(&st, &since));
}

#define FOLDERS 80

/* FOLDERS folders (scratch_folders()), d00 also with sub/g.c. */
static void make_tree(struct strvec *roots)
{
	char path[300];

	scratch_folders("files", FOLDERS, roots);
	snprintf(path, sizeof(path), "%s/d00/sub", root);
	assert_int_equal(mkdir(path, 0777), 0);
	scratch_write_old("d00/sub/g.c", "g\n");
}

static void remove_tree(void)
{
	assert_int_equal(scratch_remove(), 0);
}

static void walk(struct file_list *files, const struct strvec *roots,
		 const struct walk_rules *rules)
{
	struct strbuf top = STRBUF_INIT;

	strbuf_addf(&top, "%s/", root);
	file_list_walk(files, strbuf_detach(&top, NULL), roots, rules);
}

/* No rules: every regular file of every root, sorted, from both halves
 * of the roots; each folder read once; no id known. */
static void test_walk_without_rules(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct file_list files;

	(void)unused;
	make_tree(&roots);
	walk(&files, &roots, NULL);
	assert_int_equal(files.nr, 2 * FOLDERS + 1);
	assert_int_equal(files.nr_folders, FOLDERS + 1);
	assert_int_equal(files.folders_read, FOLDERS + 1);
	assert_false(files.stopped);
	assert_string_equal(files.paths[0], "d00/f.c");
	assert_string_equal(files.paths[1], "d00/sub/g.c");
	assert_string_equal(files.paths[2], "d00/x.log");
	for (size_t i = 0; i < files.nr; i++) {
		assert_string_equal(files.oid[i], "");
		if (i)
			assert_true(strcmp(files.paths[i - 1], files.paths[i]) < 0);
	}
	/* a folder's listing: its names sorted, a folder's with its '/' */
	assert_string_equal(files.folders[0].path, "d00/");
	assert_int_equal(files.folders[0].names_len, strlen("f.c") + strlen("sub/") +
						     strlen("x.log") + 3);
	assert_memory_equal(files.folders[0].names, "f.c\0sub/\0x.log\0",
			    files.folders[0].names_len);
	file_list_release(&files);

	/* the whole tree (roots NULL), and a root inside another walked once */
	walk(&files, NULL, NULL);
	assert_int_equal(files.nr, 2 * FOLDERS + 1);
	assert_string_equal(files.folders[0].path, "");
	file_list_release(&files);
	strvec_clear(&roots);
	strvec_push(&roots, "d00/");
	strvec_push(&roots, "d00/sub/");
	strvec_push(&roots, "d01/");
	walk(&files, &roots, NULL);
	assert_int_equal(files.nr, 5);
	assert_int_equal(files.nr_folders, 3);
	file_list_release(&files);
	strvec_clear(&roots);
	remove_tree();
}

/* What the test's rules were asked, and what they answer. */
struct asked {
	size_t folders, roots, files;
	bool stop_at_roots; /* skip_folder cannot tell about roots */
};

/* Leave out every folder named sub/ and the root d01/. */
static int skip_folder(void *data, const char *rel, bool is_root)
{
	struct asked *a = data;
	size_t len = strlen(rel);

	if (is_root)
		a->roots++;
	else
		a->folders++;
	if (is_root && a->stop_at_roots)
		return -1;
	return !strcmp(rel, "d01/") || (len >= 4 && !strcmp(rel + len - 4, "sub/"));
}

/* Leave out the logs; know the id of each f.c. */
static bool skip_file(void *data, const char *rel, const struct stat *st, char oid[41])
{
	struct asked *a = data;
	size_t len = strlen(rel);

	(void)st;
	a->files++;
	if (len >= 4 && !strcmp(rel + len - 4, ".log"))
		return true;
	if (len >= 3 && !strcmp(rel + len - 3, "f.c"))
		memcpy(oid, "0123456789012345678901234567890123456789", 41);
	return false;
}

/* The rules decide: left-out files and folders are not listed, and are
 * marked in their folder's listing; known ids are kept. */
static void test_walk_told_by_rules(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct asked asked = { 0, 0, 0, false };
	struct walk_rules rules = { &asked, skip_folder, skip_file, NULL, false, true };
	struct file_list files;

	(void)unused;
	make_tree(&roots);
	walk(&files, &roots, &rules);
	/* one f.c a root, but d01/'s; no log, nothing under sub/ */
	assert_int_equal(files.nr, FOLDERS - 1);
	assert_string_equal(files.paths[0], "d00/f.c");
	assert_string_equal(files.paths[1], "d02/f.c");
	assert_string_equal(files.oid[0], "0123456789012345678901234567890123456789");
	assert_int_equal(asked.roots, FOLDERS);
	assert_int_equal(asked.folders, 1);              /* d00/sub/ */
	assert_int_equal(asked.files, 2 * (FOLDERS - 1)); /* d01/'s not asked */
	assert_string_equal(files.folders[0].path, "d00/");
	assert_memory_equal(files.folders[0].names, "f.c\0/sub/\0/x.log\0",
			    files.folders[0].names_len);
	file_list_release(&files);
	strvec_clear(&roots);
	remove_tree();
}

/* Names known by a folder's stat data: no readdir, and a name that is
 * not on disk (or changed kind) is left out without harm. */
static const char *known(void *data, const char *rel, const struct file_stat *st,
			 size_t *names_len)
{
	(void)data;
	(void)st;
	if (strcmp(rel, "d00/"))
		return NULL;
	*names_len = sizeof("f.c\0gone.c\0sub\0x.log/");
	return "f.c\0gone.c\0sub\0x.log/";
}

static void test_walk_with_known_names(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct walk_rules rules = { NULL, NULL, NULL, known, false, false };
	struct file_list files;

	(void)unused;
	make_tree(NULL);
	strvec_push(&roots, "d00/");
	strvec_push(&roots, "d01/");
	walk(&files, &roots, &rules);
	/* d00/: only f.c is as its name says (sub is a folder, x.log a
	 * file); d01/ read from the disk */
	assert_int_equal(files.folders_read, 1);
	assert_int_equal(files.nr, 3);
	assert_string_equal(files.paths[0], "d00/f.c");
	assert_string_equal(files.paths[1], "d01/f.c");
	assert_string_equal(files.paths[2], "d01/x.log");
	file_list_release(&files);
	strvec_clear(&roots);
	remove_tree();
}

/* Marks known for d00/: its log left out. */
static const char *marked(void *data, const char *rel, const struct file_stat *st,
			  size_t *names_len)
{
	(void)data;
	(void)st;
	if (strcmp(rel, "d00/"))
		return NULL;
	*names_len = sizeof("f.c\0/sub/\0/x.log");
	return "f.c\0/sub/\0/x.log";
}

/* A trusted walk takes the marks as they are (the rules' hooks for
 * files and folders are not asked), and stops at a folder whose names
 * are not known, or at a root the rules cannot tell about. */
static void test_trusted_walk(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct asked asked = { 0, 0, 0, false };
	struct walk_rules rules = { &asked, skip_folder, skip_file, marked, true, false };
	struct file_list files;

	(void)unused;
	make_tree(NULL);
	strvec_push(&roots, "d00/");
	walk(&files, &roots, &rules);
	assert_false(files.stopped);
	assert_int_equal(files.nr, 1);
	assert_string_equal(files.paths[0], "d00/f.c");
	assert_string_equal(files.oid[0], ""); /* skip_file not asked */
	assert_int_equal(asked.files, 0);
	assert_int_equal(asked.folders, 0);
	assert_int_equal(asked.roots, 1);
	assert_int_equal(files.folders_read, 0);
	file_list_release(&files);

	strvec_push(&roots, "d02/"); /* names not known */
	walk(&files, &roots, &rules);
	assert_true(files.stopped);
	file_list_release(&files);

	strvec_clear(&roots);
	strvec_push(&roots, "d00/");
	asked.stop_at_roots = true;
	walk(&files, &roots, &rules);
	assert_true(files.stopped);
	assert_int_equal(files.nr, 0);
	file_list_release(&files);
	strvec_clear(&roots);
	remove_tree();
}

/* Ids not known are hashed on demand, once; an unreadable file gets
 * "-", a value of its own. */
static void test_oid_hashed_once(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct file_list files;
	char want[41], path[400];

	(void)unused;
	make_tree(NULL);
	strvec_push(&roots, "d03/");
	walk(&files, &roots, NULL);
	assert_int_equal(files.nr, 2);
	files_hash("03\n", 3, want);
	assert_string_equal(file_list_oid(&files, 0), want);
	assert_int_equal(files.hashed, 1);
	assert_string_equal(file_list_oid(&files, 0), want);
	assert_int_equal(files.hashed, 1);
	snprintf(path, sizeof(path), "%s/d03/x.log", root);
	assert_int_equal(unlink(path), 0);
	assert_string_equal(file_list_oid(&files, 1), "-");
	file_list_release(&files);
	strvec_clear(&roots);
	remove_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_git_blob_id),
		cmocka_unit_test(test_stat_settled_by_ctime),
		cmocka_unit_test(test_walk_without_rules),
		cmocka_unit_test(test_walk_told_by_rules),
		cmocka_unit_test(test_walk_with_known_names),
		cmocka_unit_test(test_trusted_walk),
		cmocka_unit_test(test_oid_hashed_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
