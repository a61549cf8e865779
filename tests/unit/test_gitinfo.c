/* test_gitinfo.c - blob ids, as git computes them; the file walk over
 * many roots (two threads on two CPUs), in a real git repository and
 * outside one. */
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

#include "gitinfo.h"

/* The ids `git hash-object` gives: empty, one line, and more than one
 * read buffer's worth (64 KiB) of bytes. */
static void test_hash_is_git_blob_id(void **unused)
{
	char hex[41];
	size_t big = 200000;
	char *data = malloc(big);

	(void)unused;
	gitinfo_hash("", 0, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	gitinfo_hash("hello\n", 6, hex);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	gitinfo_hash(data, big, hex);
	assert_string_equal(hex, "5c2ea5d482bf8dd5219d3a4e8d49f3b4f29bb016");
	free(data);
}

#define FOLDERS 80

static char root[256];

/* root/PATH holding `text`, last changed an hour ago. */
static void write_old(const char *path, const char *text)
{
	char full[512];
	struct timespec t[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(utimensat(AT_FDCWD, full, t, 0), 0);
}

/* FOLDERS folders d00/ .. d79/, each with f.c ("NN\n") and x.log; the
 * roots that name them. */
static void make_tree(struct strvec *roots)
{
	char path[300], text[8];

	snprintf(root, sizeof(root), "%s/squad-walk-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	for (int i = 0; i < FOLDERS; i++) {
		snprintf(path, sizeof(path), "%s/d%02d", root, i);
		assert_int_equal(mkdir(path, 0777), 0);
		snprintf(path, sizeof(path), "d%02d/f.c", i);
		snprintf(text, sizeof(text), "%02d\n", i);
		write_old(path, text);
		snprintf(path, sizeof(path), "d%02d/x.log", i);
		write_old(path, "log\n");
		snprintf(path, sizeof(path), "d%02d/", i);
		strvec_push(roots, path);
	}
}

/* The tree as a git repository, everything in it committed. */
static void commit_tree(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && git init -q && git add . && git -c user.name=t -c user.email=t@t "
		 "commit -qm init", root);
	assert_int_equal(system(cmd), 0);
}

static void remove_tree(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_walk_outside_a_repository(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct file_list files;

	(void)unused;
	make_tree(&roots);
	assert_int_equal(gitinfo_files(&files, root, &roots, NULL, &err), 0);
	assert_false(files.in_repo);
	/* every file of every root, in order, from both halves */
	assert_int_equal(files.nr, 2 * FOLDERS);
	assert_int_equal(files.nr_folders, FOLDERS);
	assert_int_equal(files.folders_read, FOLDERS);
	for (size_t i = 0; i < files.nr; i++) {
		char want[32];

		snprintf(want, sizeof(want), "d%02zu/%s", i / 2, i % 2 ? "x.log" : "f.c");
		assert_string_equal(files.paths[i], want);
		assert_string_equal(files.oid[i], ""); /* no index to vouch */
		if (i)
			assert_true(strcmp(files.paths[i - 1], files.paths[i]) < 0);
	}
	for (size_t i = 0; i < files.nr_folders; i++)
		assert_string_equal(files.folders[i].path, roots.v[i]);
	file_list_release(&files);
	strvec_clear(&roots);
	strbuf_release(&err);
	remove_tree();
}

static void test_walk_in_a_repository(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct file_list files;

	(void)unused;
	make_tree(&roots);
	write_old(".gitignore", "*.log\n");
	commit_tree();
	write_old("d05/new.c", "untracked\n");

	assert_int_equal(gitinfo_files(&files, root, &roots, NULL, &err), 0);
	assert_true(files.in_repo);
	/* the ignored logs are not inputs; the untracked file is */
	assert_int_equal(files.nr, FOLDERS + 1);
	for (size_t i = 0, n = 0; i < files.nr; i++, n++) {
		char want[32], id[41], text[8];

		if (i == 6) {
			assert_string_equal(files.paths[i], "d05/new.c");
			assert_string_equal(files.oid[i], ""); /* not in the index */
			n--;
			continue;
		}
		snprintf(want, sizeof(want), "d%02zu/f.c", n);
		assert_string_equal(files.paths[i], want);
		/* the index vouches for each tracked file: its blob id */
		snprintf(text, sizeof(text), "%02zu\n", n);
		gitinfo_hash(text, 3, id);
		assert_string_equal(files.oid[i], id);
	}
	file_list_release(&files);
	strvec_clear(&roots);
	strbuf_release(&err);
	remove_tree();
}

/* gitinfo_preload() reads the index ahead, and the walk of that folder
 * takes it: here the index file is gone by the time of the walk, and its
 * blob ids still come from the index as it was read. */
static void test_preloaded_index(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct file_list files;
	char cmd[600], id[41];

	(void)unused;
	make_tree(&roots);
	commit_tree();
	gitinfo_preload(root);
	gitinfo_global_init(); /* waits for the preload */
	snprintf(cmd, sizeof(cmd), "rm '%s/.git/index'", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gitinfo_files(&files, root, &roots, NULL, &err), 0);
	assert_true(files.in_repo);
	assert_int_equal(files.nr, 2 * FOLDERS);
	gitinfo_hash("00\n", 3, id);
	assert_string_equal(files.paths[0], "d00/f.c");
	assert_string_equal(files.oid[0], id);
	file_list_release(&files);

	/* taken once: the next walk reads the index (none now), so no file
	 * is vouched for; nor when the preload was of another folder (it
	 * is left for gitinfo_global_shutdown() to free) */
	snprintf(cmd, sizeof(cmd), "%s/d00", root);
	gitinfo_preload(cmd);
	assert_int_equal(gitinfo_files(&files, root, &roots, NULL, &err), 0);
	assert_true(files.in_repo);
	assert_string_equal(files.oid[0], "");
	file_list_release(&files);
	gitinfo_global_shutdown();
	strvec_clear(&roots);
	strbuf_release(&err);
	remove_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_git_blob_id),
		cmocka_unit_test(test_walk_outside_a_repository),
		cmocka_unit_test(test_walk_in_a_repository),
		cmocka_unit_test(test_preloaded_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
