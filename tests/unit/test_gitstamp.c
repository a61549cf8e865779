/* test_gitstamp.c - .squad/git through gitstamp.h: what it watches, when
 * it holds, what reads back and what does not, when a stamp is kept and
 * when it is not (and the old one goes). Plain files stand for git's
 * state: the module reads none of git itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files/gitstamp.h"

static char dir[256];
static struct timespec future = { (time_t)1 << 40, 0 }, epoch = { 0, 0 };

static int setup(void **unused)
{
	(void)unused;
	snprintf(dir, sizeof(dir), "%s/squad-gitstamp-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **unused)
{
	char cmd[400];

	(void)unused;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* dir/name, written with `text`; its path into `path`. */
static void put(const char *name, const char *text, struct strbuf *path)
{
	FILE *f;

	strbuf_reset(path);
	strbuf_addf(path, "%s/%s", dir, name);
	f = fopen(path->buf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void path_of(const char *name, struct strbuf *path)
{
	strbuf_reset(path);
	strbuf_addf(path, "%s/%s", dir, name);
}

/* A new stamp watching an index, a .gitignore that is not there, the
 * folder itself, with two roots, written against `since` with the cache
 * file `cache`. Returns what gitstamp_write() returned. */
static int write_stamp(const char *stamp, const char *cache, const struct timespec *since)
{
	struct gitstamp gs = GITSTAMP_INIT;
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	gs.workdir = strdup(dir);
	put("index", "index\n", &path);
	gitstamp_watch(&gs, path.buf);
	gitstamp_watch(&gs, path.buf); /* again: once */
	path_of(".gitignore", &path);
	gitstamp_watch(&gs, path.buf);
	gitstamp_watch(&gs, dir);
	assert_int_equal(gs.paths.nr, 3);
	gitstamp_root(&gs, "src/", false);
	gitstamp_root(&gs, "build/", true);
	gitstamp_root(&gs, "src/", true); /* again: the first word stands */
	rc = gitstamp_write(&gs, stamp, cache, since, &err);
	assert_int_equal(err.len, 0);
	gitstamp_release(&gs);
	strbuf_release(&path);
	strbuf_release(&err);
	return rc;
}

/* Written, it reads back whole: the workdir, each path with its kind,
 * the cache file last, the roots' decisions; and it holds while nothing
 * it watches changes. */
static void test_round_trip_and_holds(void **unused)
{
	struct gitstamp gs = GITSTAMP_INIT;
	struct strbuf stamp = STRBUF_INIT, cache = STRBUF_INIT, path = STRBUF_INIT;

	(void)unused;
	path_of("git", &stamp);
	put("files", "squad-files 3\n", &cache);
	assert_int_equal(write_stamp(stamp.buf, cache.buf, &future), 1);
	assert_int_equal(gitstamp_read(&gs, stamp.buf), 0);
	assert_string_equal(gs.workdir, dir);
	assert_int_equal(gs.paths.nr, 4);
	assert_memory_equal(gs.kinds.buf, "f-dc", 4);
	assert_string_equal(gs.paths.v[3], cache.buf);
	assert_int_equal(gitstamp_root_skipped(&gs, "src/"), 0);
	assert_int_equal(gitstamp_root_skipped(&gs, "build/"), 1);
	assert_int_equal(gitstamp_root_skipped(&gs, "docs/"), -1);
	assert_true(gitstamp_holds(&gs));

	/* a watched file changed: no longer */
	put("index", "index, longer\n", &path);
	assert_false(gitstamp_holds(&gs));
	put("index", "index\n", &path); /* as it was, but for its ctime */
	/* a file where there was none */
	gitstamp_release(&gs);
	assert_int_equal(write_stamp(stamp.buf, cache.buf, &future), 1);
	assert_int_equal(gitstamp_read(&gs, stamp.buf), 0);
	assert_true(gitstamp_holds(&gs));
	put(".gitignore", "*.o\n", &path);
	assert_false(gitstamp_holds(&gs));
	assert_int_equal(unlink(path.buf), 0);
	assert_true(gitstamp_holds(&gs));
	/* the cache file rewritten: another run's, not this stamp's */
	put("files", "squad-files 3\nd 1 2 3 4 5 0  \n", &cache);
	assert_false(gitstamp_holds(&gs));
	gitstamp_release(&gs);

	/* a new stamp, never written, vouches for nothing */
	gs.workdir = strdup(dir);
	assert_false(gitstamp_holds(&gs));
	gitstamp_release(&gs);
	strbuf_release(&stamp);
	strbuf_release(&cache);
	strbuf_release(&path);
}

/* What does not read back whole is no stamp, and leaves it empty. */
static void test_read_rejects(void **unused)
{
	static const char *const bad[] = {
		"squad-git 2\nw /x\n",                 /* another version */
		"squad-git 1\n",                       /* no workdir */
		"squad-git 1\nw /x\nr 0 src/",         /* torn last line */
		"squad-git 1\nw /x\nr 2 src/\n",       /* no such decision */
		"squad-git 1\nw /x\ns f 1 2 3 4 5 rel\n", /* stat data cut short */
		"squad-git 1\nw /x\ns f 1 2 3 4 5 6 rel\n", /* a relative path */
		"squad-git 1\nw /x\ns x 1 2 3 4 5 6 /a\n", /* no such kind */
		"squad-git 1\nw /x\nw /y\n",           /* two workdirs */
		"squad-git 1\nw /x\nq what\n",         /* no such line */
	};
	struct gitstamp gs = GITSTAMP_INIT;
	struct strbuf path = STRBUF_INIT;

	(void)unused;
	path_of("none", &path);
	assert_int_equal(gitstamp_read(&gs, path.buf), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		put("bad", bad[i], &path);
		assert_int_equal(gitstamp_read(&gs, path.buf), -1);
		assert_null(gs.workdir);
		assert_int_equal(gs.paths.nr, 0);
		assert_int_equal(gs.roots.nr, 0);
	}
	put("good", "squad-git 1\nw /x/\ns - 0 0 0 0 0 0 /a\nr 1 src/\n", &path);
	assert_int_equal(gitstamp_read(&gs, path.buf), 0);
	assert_string_equal(gs.workdir, "/x/");
	assert_int_equal(gitstamp_root_skipped(&gs, "src/"), 1);
	gitstamp_release(&gs);
	strbuf_release(&path);
}

/* A stamp is kept only when it can be believed; when it cannot, an old
 * one is removed. */
static void test_write_keeps_only_what_holds(void **unused)
{
	struct gitstamp gs = GITSTAMP_INIT;
	struct strbuf stamp = STRBUF_INIT, cache = STRBUF_INIT, path = STRBUF_INIT,
		      err = STRBUF_INIT;

	(void)unused;
	path_of("git", &stamp);
	put("files", "squad-files 3\n", &cache);
	assert_int_equal(write_stamp(stamp.buf, cache.buf, &future), 1);
	assert_int_equal(access(stamp.buf, F_OK), 0);
	/* files changed after the walk began (all of them, against the
	 * epoch): not kept, and the old stamp goes */
	assert_int_equal(write_stamp(stamp.buf, cache.buf, &epoch), 0);
	assert_int_equal(access(stamp.buf, F_OK), -1);
	/* no cache file: nothing to pair with */
	path_of("no-cache", &path);
	assert_int_equal(write_stamp(stamp.buf, path.buf, &future), 0);
	assert_int_equal(access(stamp.buf, F_OK), -1);

	/* a config that includes another (any case): unusable, not kept */
	gs.workdir = strdup(dir);
	put("config", "[core]\n\tbare = false\n", &path);
	gitstamp_watch_config(&gs, path.buf);
	assert_false(gs.unusable);
	put("config2", "[InClude]\n\tpath = more\n", &path);
	gitstamp_watch_config(&gs, path.buf);
	assert_true(gs.unusable);
	assert_int_equal(write_stamp(stamp.buf, cache.buf, &future), 1);
	assert_int_equal(gitstamp_write(&gs, stamp.buf, cache.buf, &future, &err), 0);
	assert_int_equal(access(stamp.buf, F_OK), -1);
	gitstamp_release(&gs);

	/* a relative path watched cannot be checked from elsewhere */
	gs.workdir = strdup(dir);
	gitstamp_watch(&gs, "relative/index");
	assert_int_equal(gitstamp_write(&gs, stamp.buf, cache.buf, &future, &err), 0);
	gitstamp_release(&gs);
	strbuf_release(&stamp);
	strbuf_release(&cache);
	strbuf_release(&path);
	strbuf_release(&err);
}

static bool watches(const struct gitstamp *gs, const char *path)
{
	return strmap_get(&gs->watched, path) >= 0;
}

/* The files git's decisions come from, for a walk's listing: the git
 * folders' files, the user's config and ignore files, the .gitignore of
 * each folder walked that has one and of each folder above a root. */
static void test_watch_git(void **unused)
{
	struct gitstamp gs = GITSTAMP_INIT;
	struct file_list files;
	struct folder_listing folders[2] = {
		{ "", { 0, 0, 0, 0, 0, 0 }, "/.gitignore\0src/", 17 },
		{ "src/", { 0, 0, 0, 0, 0, 0 }, "a.c", 4 },
	};
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;

	(void)unused;
	memset(&files, 0, sizeof(files));
	files.root = "/w/";
	files.folders = folders;
	files.nr_folders = 2;
	setenv("HOME", "/home/u", 1);
	unsetenv("XDG_CONFIG_HOME");
	gitstamp_root(&gs, "src/deep/", false);
	gitstamp_watch_git(&gs, "/w/.git/", "/w/.git/", "", &files);
	assert_string_equal(gs.workdir, "/w/");
	assert_false(gs.unusable);
	assert_true(watches(&gs, "/w/.git"));
	assert_true(watches(&gs, "/w/.git/index"));
	assert_true(watches(&gs, "/w/.git/info/exclude"));
	assert_true(watches(&gs, "/w/.git/config"));
	assert_true(watches(&gs, "/w/.git/config.worktree"));
	assert_true(watches(&gs, "/etc/gitconfig"));
	assert_true(watches(&gs, "/home/u/.gitconfig"));
	assert_true(watches(&gs, "/home/u/.config/git/config"));
	assert_true(watches(&gs, "/home/u/.config/git/ignore"));
	assert_true(watches(&gs, "/w/.gitignore"));     /* listed (marked, too) */
	assert_false(watches(&gs, "/w/src/deep/.gitignore"));
	assert_true(watches(&gs, "/w/src/.gitignore")); /* above the root */
	gitstamp_release(&gs);

	/* XDG_CONFIG_HOME and core.excludesFile */
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	gitstamp_watch_git(&gs, "/w/.git/", "/w/.git", "/etc/excludes", &files);
	assert_true(watches(&gs, "/xdg/git/ignore"));
	assert_true(watches(&gs, "/etc/excludes"));
	assert_false(gs.unusable);
	gitstamp_release(&gs);
	/* a relative excludes file, or HOME, is looked for elsewhere */
	gitstamp_watch_git(&gs, "/w/.git/", "/w/.git", "excludes", &files);
	assert_true(gs.unusable);
	gitstamp_release(&gs);
	setenv("HOME", "home", 1);
	gitstamp_watch_git(&gs, "/w/.git/", "/w/.git", "", &files);
	assert_true(gs.unusable);
	gitstamp_release(&gs);

	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	if (xdg)
		setenv("XDG_CONFIG_HOME", xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	free(home);
	free(xdg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_keeps_only_what_holds, setup, teardown),
		cmocka_unit_test(test_watch_git),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
