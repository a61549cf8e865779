/* test_filecache.c - .squad/files: ids kept by stat data, and when not;
 * folders' names kept by their stat data, and when not. */
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
#include <unistd.h>

#include "files/filecache.h"
#include "files/files.h"

static char root[256], cache[300];

static int setup(void **unused)
{
	(void)unused;
	snprintf(root, sizeof(root), "%s/squad-filecache-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return -1;
	snprintf(cache, sizeof(cache), "%s.files", root);
	return 0;
}

static int teardown(void **unused)
{
	char cmd[700];

	(void)unused;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, cache);
	return system(cmd);
}

/* Write `text` to root/name, its mtime `age` seconds ago. */
static void write_file(const char *name, const char *text, time_t age)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	{
		struct timespec t[2] = { { time(NULL) - age, 0 }, { time(NULL) - age, 0 } };

		assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
	}
}

static const char *known_names(void *fc, const char *rel, const struct file_stat *st,
			       size_t *names_len)
{
	return filecache_folder(fc, rel, st, names_len);
}

/* root walked, as outside a repository, told folders' names by `fc`
 * (when not NULL), as inputs.c tells a walk. */
static void list_with(struct file_list *files, const struct filecache *fc)
{
	struct walk_rules rules = { (void *)fc, NULL, NULL, fc ? known_names : NULL, false,
				    false };
	struct strbuf top = STRBUF_INIT;

	strbuf_addf(&top, "%s/", root);
	file_list_walk(files, strbuf_detach(&top, NULL), NULL, &rules);
}

/* The cache at `cache` applied to a new listing of root. */
static size_t apply(struct file_list *files, const char *path)
{
	struct filecache fc = FILECACHE_INIT;
	size_t filled;

	filecache_load(&fc, path);
	filled = filecache_apply(&fc, files);
	filecache_release(&fc);
	return filled;
}

static void list(struct file_list *files)
{
	list_with(files, NULL);
	assert_int_equal(files->nr, 2);
	assert_string_equal(files->paths[0], "new.txt");
	assert_string_equal(files->paths[1], "old.txt");
}

static void test_ids_kept_by_stat_data(void **unused)
{
	struct strbuf err = STRBUF_INIT;
	struct file_list files;
	char old_id[41];

	(void)unused;
	write_file("old.txt", "one\n", 3600);
	write_file("new.txt", "two\n", 3600);
	list(&files);
	/* ctimes cannot be set: move the listing an hour on, so that both
	 * files count as changed before it, and new.txt's ctime two hours
	 * on, as if it had been changed after the listing began */
	files.listed_at.tv_sec += 3600;
	files.stats[0].ctime_sec += 7200;
	assert_string_equal(files.oid[1], "");
	/* git hash-object of "one\n" */
	assert_string_equal(file_list_oid(&files, 1), "5626abf0f72e58d7a153368ba57db4c673c0e171");
	memcpy(old_id, files.oid[1], 41);
	file_list_oid(&files, 0);
	assert_int_equal(files.hashed, 2);
	assert_int_equal(filecache_save(&files, cache, &err), 0);
	file_list_release(&files);

	/* the settled file comes back without a read; the one changed
	 * after the listing began was not kept */
	list(&files);
	assert_int_equal(apply(&files, cache), 1);
	assert_string_equal(files.oid[1], old_id);
	assert_string_equal(files.oid[0], "");
	file_list_release(&files);

	/* another size: the entry no longer holds */
	write_file("old.txt", "one more\n", 3600);
	list(&files);
	assert_int_equal(apply(&files, cache), 0);
	assert_string_equal(files.oid[1], "");
	file_list_release(&files);

	/* no cache: nothing filled, nothing fails */
	list(&files);
	assert_int_equal(apply(&files, "/nonexistent/files"), 0);
	file_list_release(&files);
	strbuf_release(&err);
}

/* Overwrite the first occurrence of `from` in the file at `path` with
 * `to` (as long). */
static void edit_file(const char *path, const char *from, const char *to)
{
	struct strbuf text = STRBUF_INIT;
	char *at;
	FILE *f;

	assert_int_equal(strbuf_read_file(&text, path), 0);
	at = memmem(text.buf, text.len, from, strlen(from));
	assert_non_null(at);
	memcpy(at, to, strlen(to));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text.buf, 1, text.len, f), text.len);
	fclose(f);
	strbuf_release(&text);
}

/* List root again with the cache as saved; so many folders had to be
 * read, so many files were found. */
static void relist(struct file_list *files, size_t read, size_t nr)
{
	struct filecache fc = FILECACHE_INIT;

	filecache_load(&fc, cache);
	list_with(files, &fc);
	assert_int_equal(files->folders_read, read);
	assert_int_equal(files->nr, nr);
	filecache_release(&fc);
}

/* List root afresh and save it as the cache, the listing moved an hour
 * on (as above: what is in it counts as changed before it). */
static void save_listing(void)
{
	struct strbuf err = STRBUF_INIT;
	struct file_list files;

	list_with(&files, NULL);
	files.listed_at.tv_sec += 3600;
	assert_int_equal(filecache_save(&files, cache, &err), 0);
	file_list_release(&files);
	strbuf_release(&err);
}

static void test_folders_kept_by_stat_data(void **unused)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct filecache fc = FILECACHE_INIT;
	struct file_list files;

	(void)unused;
	write_file("old.txt", "one\n", 3600);
	write_file("new.txt", "two\n", 3600);
	strbuf_addf(&path, "%s/sub", root);
	assert_int_equal(mkdir(path.buf, 0777), 0);
	write_file("sub/a.c", "a\n", 3600);

	/* first listing: both folders read, and kept (the listing moved an
	 * hour on, as above: the folders count as changed before it) */
	list_with(&files, &fc);
	assert_int_equal(files.nr, 3);
	assert_string_equal(files.paths[2], "sub/a.c");
	assert_int_equal(files.nr_folders, 2);
	assert_int_equal(files.folders_read, 2);
	files.listed_at.tv_sec += 3600;
	assert_int_equal(filecache_save(&files, cache, &err), 0);
	file_list_release(&files);

	/* unchanged: the names come from the cache, no folder is read */
	relist(&files, 0, 3);
	assert_string_equal(files.paths[0], "new.txt");
	assert_string_equal(files.paths[1], "old.txt");
	assert_string_equal(files.paths[2], "sub/a.c");
	file_list_release(&files);

	/* the cache is believed while the folder's stat data holds: a name
	 * changed in it (to one that is not there) is what the walk sees */
	edit_file(cache, "old.txt", "odd.txt");
	relist(&files, 0, 2);
	assert_string_equal(files.paths[0], "new.txt");
	file_list_release(&files);

	/* a file added to sub/ changes sub's stat data: sub is read again,
	 * the top folder still comes from the cache */
	write_file("sub/b.c", "b\n", 3600);
	relist(&files, 1, 3);
	assert_string_equal(files.paths[1], "sub/a.c");
	assert_string_equal(files.paths[2], "sub/b.c");
	file_list_release(&files);

	/* a folder changed after the listing began (sub/, its ctime moved
	 * past the listing's) is not kept: read again next time */
	list_with(&files, NULL);
	files.listed_at.tv_sec += 3600;
	assert_string_equal(files.folders[1].path, "sub/");
	files.folders[1].st.ctime_sec += 7200;
	assert_int_equal(filecache_save(&files, cache, &err), 0);
	file_list_release(&files);
	filecache_load(&fc, cache);
	assert_int_equal(fc.nr, 1);
	filecache_release(&fc);
	relist(&files, 1, 4);
	file_list_release(&files);

	/* a name no walk lists (here "..", which would lead the walk out of
	 * its folder) makes the line one that does not read back */
	write_file("zz", "z\n", 3600);
	save_listing();
	edit_file(cache, "zz", "..");
	filecache_load(&fc, cache);
	assert_int_equal(fc.nr, 1);
	assert_string_equal(fc.folders[0].path, "sub/");
	filecache_release(&fc);
	relist(&files, 1, 5);
	assert_string_equal(files.paths[4], "zz");
	file_list_release(&files);

	/* so does a name listed twice (the walk would list its file twice,
	 * or walk its folder twice): names come in the walk's order, once */
	save_listing();
	edit_file(cache, "old.txt", "new.txt");
	filecache_load(&fc, cache);
	assert_int_equal(fc.nr, 1);
	filecache_release(&fc);

	/* a folder line that does not read back whole is skipped, the
	 * next one still holds */
	save_listing();
	edit_file(cache, "squad-files 3\nd ", "squad-files 3\nd x");
	filecache_load(&fc, cache);
	assert_int_equal(fc.nr, 1);
	assert_string_equal(fc.folders[0].path, "sub/");
	filecache_release(&fc);
	strbuf_release(&path);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_kept_by_stat_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folders_kept_by_stat_data, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
