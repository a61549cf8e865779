/* test_cache_dir.c - cache_dir.h: entries stored and read back with
 * their tags, misses, keys that could name another file refused, an
 * entry replaced by a symbolic link not followed, the default folder
 * from XDG_CACHE_HOME or HOME, and LRU eviction (a hit counts as a
 * use). Times are set by hand: nothing depends on the clock's pace. */
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

#include "cache/cache_dir.h"
#include "util/strbuf.h"

static char tmp[256];
static const char *sub = "shared"; /* the folder exists() and used_ago() look in */

static int setup(void **unused)
{
	(void)unused;
	snprintf(tmp, sizeof(tmp), "%s/squad-cache-dir-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **unused)
{
	char cmd[400];

	(void)unused;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

static int exists(const char *key)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/v1/%s", tmp, sub, key);
	return lstat(path, &st) == 0;
}

/* The entry `key` last used `ago` seconds ago. */
static void used_ago(const char *key, time_t ago)
{
	char path[512];
	struct timespec t[2] = { { time(NULL) - ago, 0 }, { time(NULL) - ago, 0 } };

	snprintf(path, sizeof(path), "%s/%s/v1/%s", tmp, sub, key);
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void test_put_get(void **unused)
{
	char dir[300], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/shared", tmp);
	assert_int_equal(cache_dir_get(dir, "abc", &body, &tag, &err), 0);
	assert_int_equal(cache_dir_put(dir, "abc", "bytes\0more", 10, "dGFn", 0, &err), 0);
	assert_int_equal(cache_dir_get(dir, "abc", &body, &tag, &err), 1);
	assert_int_equal(body.len, 10);
	assert_memory_equal(body.buf, "bytes\0more", 10);
	assert_string_equal(tag, "dGFn");
	free(tag);
	/* replaced without a tag: the old tag goes with the old body */
	strbuf_reset(&body);
	assert_int_equal(cache_dir_put(dir, "abc", "new", 3, NULL, 0, &err), 0);
	assert_int_equal(cache_dir_get(dir, "abc", &body, &tag, &err), 1);
	assert_string_equal(body.buf, "new");
	assert_null(tag);
	strbuf_release(&body);
	strbuf_release(&err);
}

static void test_bad_keys_refused(void **unused)
{
	char dir[300], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	const char *bad[] = { "", "../x", "a/b", "a.tag", ".hidden" };

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/shared", tmp);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(cache_dir_put(dir, bad[i], "x", 1, NULL, 0, &err), -1);
		assert_int_equal(cache_dir_get(dir, bad[i], &body, &tag, &err), -1);
	}
	strbuf_release(&body);
	strbuf_release(&err);
}

/* An entry that is a symbolic link (to a secret, say) is not read. */
static void test_symlink_not_followed(void **unused)
{
	char dir[300], path[400], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/shared", tmp);
	assert_int_equal(cache_dir_put(dir, "lnk", "x", 1, NULL, 0, &err), 0);
	snprintf(path, sizeof(path), "%s/v1/lnk", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(cache_dir_get(dir, "lnk", &body, &tag, &err), -1);
	assert_int_equal(body.len, 0);
	assert_true(err.len > 0);
	strbuf_release(&body);
	strbuf_release(&err);
}

static void test_lru_eviction(void **unused)
{
	char dir[300], big[100], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;

	(void)unused;
	sub = "lru"; /* a folder of its own: only these entries count */
	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	memset(big, 'x', sizeof(big));
	assert_int_equal(cache_dir_put(dir, "old", big, 100, NULL, 0, &err), 0);
	assert_int_equal(cache_dir_put(dir, "mid", big, 100, NULL, 0, &err), 0);
	assert_int_equal(cache_dir_put(dir, "new", big, 100, NULL, 0, &err), 0);
	used_ago("old", 300);
	used_ago("mid", 200);
	used_ago("new", 100);
	/* a hit on "old" makes it the most recently used */
	assert_int_equal(cache_dir_get(dir, "old", &body, &tag, &err), 1);
	/* a fourth entry past a bound of 300 bytes: "mid" goes */
	assert_int_equal(cache_dir_put(dir, "four", big, 100, NULL, 300, &err), 0);
	assert_true(exists("old"));
	assert_false(exists("mid"));
	assert_true(exists("new"));
	assert_true(exists("four"));
	/* a bound of 1 byte: everything goes */
	assert_int_equal(cache_dir_evict(dir, 1, &err), 3);
	assert_false(exists("old"));
	assert_false(exists("four"));
	strbuf_release(&body);
	strbuf_release(&err);
}

static void test_default_folder(void **unused)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;

	(void)unused;
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	assert_int_equal(cache_dir_default(&out, &err), 0);
	assert_string_equal(out.buf, "/x/cache/squad");
	strbuf_reset(&out);
	setenv("XDG_CACHE_HOME", "relative", 1); /* ignored, as XDG says */
	setenv("HOME", "/home/u", 1);
	assert_int_equal(cache_dir_default(&out, &err), 0);
	assert_string_equal(out.buf, "/home/u/.cache/squad");
	strbuf_reset(&out);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(cache_dir_default(&out, &err), -1);
	assert_true(err.len > 0);
	if (home)
		setenv("HOME", home, 1);
	if (xdg)
		setenv("XDG_CACHE_HOME", xdg, 1);
	free(home);
	free(xdg);
	strbuf_release(&out);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_bad_keys_refused),
		cmocka_unit_test(test_symlink_not_followed),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_default_folder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
