/* test_filecache.c - .squad/files: ids kept by stat data, and when not. */
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

#include "filecache.h"
#include "gitinfo.h"

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

static void list(struct file_list *files)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(gitinfo_files(files, root, NULL, &err), 0);
	assert_int_equal(files->nr, 2);
	assert_string_equal(files->paths[0], "new.txt");
	assert_string_equal(files->paths[1], "old.txt");
	strbuf_release(&err);
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
	assert_string_equal(gitinfo_file_oid(&files, 1), "5626abf0f72e58d7a153368ba57db4c673c0e171");
	memcpy(old_id, files.oid[1], 41);
	gitinfo_file_oid(&files, 0);
	assert_int_equal(files.hashed, 2);
	assert_int_equal(filecache_save(&files, cache, &err), 0);
	file_list_release(&files);

	/* the settled file comes back without a read; the one changed
	 * after the listing began was not kept */
	list(&files);
	assert_int_equal(filecache_apply(&files, cache), 1);
	assert_string_equal(files.oid[1], old_id);
	assert_string_equal(files.oid[0], "");
	file_list_release(&files);

	/* another size: the entry no longer holds */
	write_file("old.txt", "one more\n", 3600);
	list(&files);
	assert_int_equal(filecache_apply(&files, cache), 0);
	assert_string_equal(files.oid[1], "");
	file_list_release(&files);

	/* no cache: nothing filled, nothing fails */
	list(&files);
	assert_int_equal(filecache_apply(&files, "/nonexistent/files"), 0);
	file_list_release(&files);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_kept_by_stat_data, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
