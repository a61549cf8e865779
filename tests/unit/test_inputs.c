/* test_inputs.c - the files inputs may name, listed over many roots (two
 * threads on two CPUs) in a real git repository: libgit2's decisions
 * and blob ids, the preloaded index, the stamp that lets a walk skip
 * libgit2, and each change to git's state that must stop it. */
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

#include "files/filecache.h"
#include "files/files.h"
#include "scratch_tree.h"
#include "files/gitinfo.h"
#include "files/gitstamp.h"
#include "files/inputs.h"

#define FOLDERS 80

static void make_tree(struct strvec *roots)
{
	scratch_folders("walk", FOLDERS, roots);
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
	assert_int_equal(scratch_remove(), 0);
}

static void test_walk_in_a_repository(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct inputs in;

	(void)unused;
	make_tree(&roots);
	scratch_write_old(".gitignore", "*.log\n");
	commit_tree();
	scratch_write_old("d05/new.c", "untracked\n");

	assert_int_equal(inputs_list(&in, root, &roots, NULL, &err), 0);
	assert_true(in.in_repo);
	/* the ignored logs are not inputs; the untracked file is */
	assert_int_equal(in.files.nr, FOLDERS + 1);
	for (size_t i = 0, n = 0; i < in.files.nr; i++, n++) {
		char want[32], id[41], text[8];

		if (i == 6) {
			assert_string_equal(in.files.paths[i], "d05/new.c");
			assert_string_equal(in.files.oid[i], ""); /* not in the index */
			n--;
			continue;
		}
		snprintf(want, sizeof(want), "d%02zu/f.c", n);
		assert_string_equal(in.files.paths[i], want);
		/* the index vouches for each tracked file: its blob id */
		snprintf(text, sizeof(text), "%02zu\n", n);
		files_hash(text, 3, id);
		assert_string_equal(in.files.oid[i], id);
	}
	inputs_release(&in);
	strvec_clear(&roots);
	strbuf_release(&err);
	remove_tree();
}

/* inputs_preload() reads the index ahead, and the walk of that folder
 * takes it: here the index file is gone by the time of the walk, and its
 * blob ids still come from the index as it was read. */
static void test_preloaded_index(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct inputs in;
	char cmd[600], id[41];

	(void)unused;
	make_tree(&roots);
	commit_tree();
	inputs_preload(root);
	assert_int_equal(gitinfo_global_init(&err), 0); /* waits for the preload */
	snprintf(cmd, sizeof(cmd), "rm '%s/.git/index'", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(inputs_list(&in, root, &roots, NULL, &err), 0);
	assert_true(in.in_repo);
	assert_int_equal(in.files.nr, 2 * FOLDERS);
	files_hash("00\n", 3, id);
	assert_string_equal(in.files.paths[0], "d00/f.c");
	assert_string_equal(in.files.oid[0], id);
	inputs_release(&in);

	/* taken once: the next walk reads the index (none now), so no file
	 * is vouched for; nor when the preload was of another folder (it
	 * is left for inputs_shutdown() to free) */
	snprintf(cmd, sizeof(cmd), "%s/d00", root);
	inputs_preload(cmd);
	assert_int_equal(inputs_list(&in, root, &roots, NULL, &err), 0);
	assert_true(in.in_repo);
	assert_string_equal(in.files.oid[0], "");
	inputs_release(&in);
	inputs_shutdown();
	strvec_clear(&roots);
	strbuf_release(&err);
	remove_tree();
}


/* Wait until the coarse clock (the one that stamps ctimes, the one a
 * walk reads) has passed the fine clock's now: every change made before
 * counts as settled for a walk that begins after. A condition, not a
 * time: it waits one tick of the coarse clock, however long that is. */
static void settle(void)
{
	struct timespec fine, coarse, nap = { 0, 1000000 };

	clock_gettime(CLOCK_REALTIME, &fine);
	do {
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
	} while (coarse.tv_sec < fine.tv_sec ||
		 (coarse.tv_sec == fine.tv_sec && coarse.tv_nsec <= fine.tv_nsec));
}

static void git_in_root(const char *args)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "cd '%s' && git -c user.name=t -c user.email=t@t %s", root,
		 args);
	assert_int_equal(system(cmd), 0);
}

/* One run's walk, as squad run does it: the preload (which checks the
 * stamp), the cache, the walk, and the cache and the stamp saved. The
 * listing goes to `in`; returns whether git's decisions came from the
 * stamp. */
static bool run_walk(struct inputs *in, const struct strvec *roots)
{
	struct filecache fc = FILECACHE_INIT;
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT, cache = STRBUF_INIT,
		      stamp = STRBUF_INIT;
	bool trusted;

	strbuf_addf(&dir, "%s/.squad", root);
	mkdir(dir.buf, 0777);
	strbuf_addf(&cache, "%s/files", dir.buf);
	strbuf_addf(&stamp, "%s/git", dir.buf);
	inputs_preload(root);
	filecache_load(&fc, cache.buf);
	assert_int_equal(inputs_list(in, root, roots, &fc, &err), 0);
	filecache_apply(&fc, &in->files);
	filecache_release(&fc);
	trusted = in->trusted;
	assert_true(in->in_repo);
	assert_non_null(in->stamp);
	for (size_t i = 0; i < in->files.nr; i++)
		file_list_oid(&in->files, i);
	assert_int_equal(inputs_save(in, cache.buf, stamp.buf, &err), 0);
	inputs_shutdown();
	strbuf_release(&err);
	strbuf_release(&dir);
	strbuf_release(&cache);
	strbuf_release(&stamp);
	return trusted;
}

/* The paths a run lists, one string, ';' after each. */
static void listed(const struct file_list *files, struct strbuf *out)
{
	strbuf_reset(out);
	for (size_t i = 0; i < files->nr; i++)
		strbuf_addf(out, "%s;", files->paths[i]);
}

/* Run twice: the first asks libgit2 (git's state changed), the second
 * takes the stamp's word; both list the same files, `want` when given. */
static void changed_then_trusted(const struct strvec *roots, struct strbuf *first)
{
	struct inputs in;
	struct strbuf second = STRBUF_INIT;

	settle();
	assert_false(run_walk(&in, roots));
	listed(&in.files, first);
	inputs_release(&in);
	assert_true(run_walk(&in, roots));
	listed(&in.files, &second);
	/* every id filled, from the cache or by hashing */
	for (size_t i = 0; i < in.files.nr; i++)
		assert_int_equal(strlen(in.files.oid[i]), 40);
	inputs_release(&in);
	assert_string_equal(first->buf, second.buf);
	strbuf_release(&second);
}

static bool lists(const struct strbuf *listing, const char *path)
{
	char want[300];

	snprintf(want, sizeof(want), "%s;", path);
	return strstr(listing->buf, want) && (listing->buf == strstr(listing->buf, want) ||
					      strstr(listing->buf, want)[-1] == ';');
}

/* The tree committed, logs ignored, walked once with libgit2 and once
 * on the stamp's word; the listing in `first`. */
static void make_stamped_repo(struct strvec *roots, struct strbuf *first)
{
	make_tree(roots);
	scratch_write_old(".gitignore", "*.log\n.squad/\n");
	commit_tree();
	changed_then_trusted(roots, first);
}

/* The absolute `path` holding `len` bytes of `data`, as new. */
static void write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A stamp that holds spares libgit2, and lists what libgit2 would; each
 * part of git's state it watches, changed, sends the walk to libgit2
 * again, which sees the change. */
static void test_stamp_keeps_git_decisions(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf first = STRBUF_INIT;
	struct strbuf text = STRBUF_INIT;
	char path[600];

	(void)unused;
	/* no stamp yet; then one, which holds */
	make_stamped_repo(&roots, &first);
	assert_true(lists(&first, "d00/f.c"));
	assert_false(lists(&first, "d00/x.log"));

	/* another rule in the top .gitignore (above every root) */
	scratch_write_old(".gitignore", "*.c\n.squad/\n");
	changed_then_trusted(&roots, &first);
	assert_true(lists(&first, "d00/f.c")); /* tracked: never ignored */
	assert_true(lists(&first, "d00/x.log"));

	/* a new untracked file: its folder's names are new to git's rules
	 * (once in the second half of the roots, walked by a thread) */
	scratch_write_old(".gitignore", "*.log\n.squad/\n");
	changed_then_trusted(&roots, &first);
	scratch_write_old("d65/new.c", "untracked\n");
	changed_then_trusted(&roots, &first);
	assert_true(lists(&first, "d65/new.c"));
	scratch_write_old("d05/new.c", "untracked\n");
	scratch_write_old("d05/new.log", "untracked\n");
	changed_then_trusted(&roots, &first);
	assert_true(lists(&first, "d05/new.c"));
	assert_false(lists(&first, "d05/new.log"));

	/* .git/info/exclude */
	scratch_write_old(".git/info/exclude", "new.c\n");
	changed_then_trusted(&roots, &first);
	assert_false(lists(&first, "d05/new.c"));

	/* the index: an ignored file added by force is tracked */
	git_in_root("add -f d03/x.log");
	changed_then_trusted(&roots, &first);
	assert_true(lists(&first, "d03/x.log"));
	assert_false(lists(&first, "d04/x.log"));

	/* a .gitignore in a folder walked, edited in place */
	scratch_write_old("d06/.gitignore", "f.c\nz.c\n");
	scratch_write_old("d06/z.c", "z\n");
	changed_then_trusted(&roots, &first);
	assert_false(lists(&first, "d06/z.c"));
	scratch_write_old("d06/.gitignore", "f.c\nq.c\n");
	changed_then_trusted(&roots, &first);
	assert_true(lists(&first, "d06/z.c"));

	/* core.excludesFile named in the repository's config */
	snprintf(path, sizeof(path), "%s/.git/excludes", root);
	scratch_write_old(".git/excludes", "z.c\n");
	snprintf(path, sizeof(path), "config core.excludesFile '%s/.git/excludes'", root);
	git_in_root(path);
	changed_then_trusted(&roots, &first);
	assert_false(lists(&first, "d06/z.c"));
	/* and the file it names */
	scratch_write_old(".git/excludes", "y.c\n");
	changed_then_trusted(&roots, &first);
	assert_true(lists(&first, "d06/z.c"));

	/* a config that includes another: no stamp is kept, run after run;
	 * nor is the cache written when nothing else asks for it */
	snprintf(path, sizeof(path), "%s/.git/config", root);
	assert_int_equal(strbuf_read_file(&text, path), 0);
	strbuf_addstr(&text, "[include]\n\tpath = more\n");
	write_bytes(path, text.buf, text.len);
	settle();
	{
		struct inputs in;

		assert_false(run_walk(&in, &roots));
		assert_false(in.restamp);
		inputs_release(&in);
		assert_false(run_walk(&in, &roots));
		inputs_release(&in);
	}
	strvec_clear(&roots);
	strbuf_release(&first);
	strbuf_release(&text);
	remove_tree();
}

/* The stamp and the cache go together: a cache that another run wrote
 * (or anyone) is not taken with this stamp, nor a stamp torn. */
static void test_stamp_pairs_with_its_cache(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf first = STRBUF_INIT, text = STRBUF_INIT;
	struct gitstamp gs = GITSTAMP_INIT;
	char cache[600], stamp[600];

	(void)unused;
	make_stamped_repo(&roots, &first);
	snprintf(cache, sizeof(cache), "%s/.squad/files", root);
	snprintf(stamp, sizeof(stamp), "%s/.squad/git", root);

	/* the cache rewritten as it was: another file, so not this stamp's */
	assert_int_equal(strbuf_read_file(&text, cache), 0);
	assert_int_equal(unlink(cache), 0);
	write_bytes(cache, text.buf, text.len);
	changed_then_trusted(&roots, &first);

	/* a stamp cut short does not read */
	assert_int_equal(gitstamp_read(&gs, stamp), 0);
	gitstamp_release(&gs);
	strbuf_reset(&text);
	assert_int_equal(strbuf_read_file(&text, stamp), 0);
	write_bytes(stamp, text.buf, text.len - 1);
	assert_int_equal(gitstamp_read(&gs, stamp), -1);
	changed_then_trusted(&roots, &first);

	/* a watched file changed after the walk began (here: every one,
	 * against a walk begun at the epoch) keeps no stamp, and the old
	 * one goes: libgit2 may have read the file before the change */
	{
		struct timespec epoch = { 0, 0 };
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(gitstamp_read(&gs, stamp), 0);
		assert_int_equal(gitstamp_write(&gs, stamp, cache, &epoch, &err), 0);
		assert_int_equal(access(stamp, F_OK), -1);
		gitstamp_release(&gs);
		strbuf_release(&err);
	}
	changed_then_trusted(&roots, &first);

	/* a root the stamp has no word on: asked of libgit2 */
	strvec_push(&roots, "zz/");
	changed_then_trusted(&roots, &first);
	strvec_clear(&roots);
	strbuf_release(&first);
	strbuf_release(&text);
	remove_tree();
}

/* Outside a repository: the cache is written when the listing learnt
 * something (folders read, ids hashed), not when it had all of it from
 * the cache; no stamp; a cache that cannot be written is an error with
 * its path, for the caller to warn about. */
static void test_save_only_what_is_new(void **unused)
{
	struct strvec roots = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, cache = STRBUF_INIT, stamp = STRBUF_INIT,
		      bad = STRBUF_INIT;
	struct filecache fc = FILECACHE_INIT;
	struct inputs in;

	(void)unused;
	make_tree(&roots);
	strbuf_addf(&cache, "%s.files", root);
	strbuf_addf(&stamp, "%s.git", root);
	strbuf_addf(&bad, "%s/no/such/folder/files", root);
	settle();
	assert_int_equal(inputs_list(&in, root, &roots, NULL, &err), 0);
	assert_false(in.in_repo);
	assert_null(in.stamp);
	assert_int_equal(in.files.folders_read, FOLDERS);
	for (size_t i = 0; i < in.files.nr; i++)
		file_list_oid(&in.files, i);
	assert_int_equal(inputs_save(&in, bad.buf, stamp.buf, &err), -1);
	assert_non_null(strstr(err.buf, bad.buf));
	strbuf_reset(&err);
	assert_int_equal(inputs_save(&in, cache.buf, stamp.buf, &err), 0);
	assert_int_equal(access(cache.buf, F_OK), 0);
	assert_int_equal(access(stamp.buf, F_OK), -1);
	inputs_release(&in);

	/* all of it from the cache: nothing to write */
	filecache_load(&fc, cache.buf);
	assert_int_equal(inputs_list(&in, root, &roots, &fc, &err), 0);
	assert_int_equal(filecache_apply(&fc, &in.files), 2 * FOLDERS);
	filecache_release(&fc);
	assert_int_equal(in.files.folders_read, 0);
	assert_int_equal(unlink(cache.buf), 0);
	assert_int_equal(inputs_save(&in, cache.buf, stamp.buf, &err), 0);
	assert_int_equal(access(cache.buf, F_OK), -1);
	inputs_release(&in);
	inputs_shutdown();
	strvec_clear(&roots);
	strbuf_release(&err);
	strbuf_release(&cache);
	strbuf_release(&stamp);
	strbuf_release(&bad);
	remove_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_in_a_repository),
		cmocka_unit_test(test_preloaded_index),
		cmocka_unit_test(test_stamp_keeps_git_decisions),
		cmocka_unit_test(test_stamp_pairs_with_its_cache),
		cmocka_unit_test(test_save_only_what_is_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
