/* test_isolate.c - worktrees and patches (isolate.h) in real git
 * repositories: the worktree holds what the user sees (staged, unstaged,
 * untracked), the user's tree and index are untouched by it, a change
 * comes back as a patch git itself applies (binary, renames, modes,
 * deletions), isolate_apply() never overwrites an edit of the user's,
 * and worktrees are removed, leftovers of a dead squad included. */
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

#include "files/gitinfo.h"
#include "files/isolate.h"
#include "scratch_tree.h"

static char state_dir[300];

/* `cmd` run by the shell in `dir`. */
static void in_dir(const char *dir, const char *cmd)
{
	char full[2000];

	snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
	assert_int_equal(system(full), 0);
}

static void in_root(const char *cmd)
{
	in_dir(root, cmd);
}

/* The bytes of `dir`/`rel`, into out (a fresh strbuf). */
static void read_at(const char *dir, const char *rel, struct strbuf *out)
{
	char full[1200];

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	strbuf_init(out, 0);
	assert_int_equal(strbuf_read_file(out, full), 0);
}

static void assert_file(const char *dir, const char *rel, const char *text)
{
	struct strbuf sb;

	read_at(dir, rel, &sb);
	assert_string_equal(sb.buf, text);
	strbuf_release(&sb);
}

static bool exists_at(const char *dir, const char *rel)
{
	char full[1200];
	struct stat st;

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	return lstat(full, &st) == 0;
}

/* A repository on main: a.txt (ten lines), run.sh, bin.dat (binary),
 * old.txt committed; .squad/ ignores itself as squad's does. Then the
 * user's own edits: a.txt line 2 staged, line 9 unstaged on top, new.txt
 * untracked, x.log ignored. */
static int setup(void **unused)
{
	(void)unused;
	if (!scratch_make("isolate"))
		return -1;
	in_root("git init -q -b main && printf '*.log\\n' > .gitignore && "
		"printf '1\\n2\\n3\\n4\\n5\\n6\\n7\\n8\\n9\\n10\\n' > a.txt && "
		"printf '#!/bin/sh\\necho hi\\n' > run.sh && "
		"printf 'B\\000\\001\\002\\377bin' > bin.dat && "
		"printf 'one\\ntwo\\nthree\\nfour\\nfive\\nsix\\n' > old.txt && git add -A && "
		"git -c user.name=t -c user.email=t@t commit -qm init && "
		"mkdir .squad && echo '*' > .squad/.gitignore && "
		"sed -i 's/^2$/two/' a.txt && git add a.txt && sed -i 's/^9$/nine/' a.txt && "
		"echo fresh > new.txt && echo junk > x.log");
	snprintf(state_dir, sizeof(state_dir), "%s/.squad", root);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	gitinfo_global_shutdown();
	return scratch_remove();
}

static void status_of(const char *dir, struct strbuf *out)
{
	char cmd[1200];
	FILE *p;
	char buf[4096];
	size_t n;

	snprintf(cmd, sizeof(cmd), "cd '%s' && git status --porcelain && git diff --cached && "
		 "git diff", dir);
	strbuf_init(out, 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)))
		strbuf_add(out, buf, n);
	assert_int_equal(pclose(p), 0);
}

static void test_worktree_holds_what_the_user_sees(void **unused)
{
	struct isolate iso = ISOLATE_INIT;
	struct strbuf err = STRBUF_INIT, before, after, patch = STRBUF_INIT;

	(void)unused;
	status_of(root, &before);
	assert_int_equal(isolate_create(&iso, root, state_dir, &err), 0);
	assert_string_equal(err.buf, "");
	assert_non_null(strstr(iso.dir, "/.squad/worktrees/"));
	assert_file(iso.dir, "a.txt", "1\ntwo\n3\n4\n5\n6\n7\n8\nnine\n10\n");
	assert_file(iso.dir, "new.txt", "fresh\n");
	assert_false(exists_at(iso.dir, "x.log"));
	/* git works in it, and sees no change yet */
	in_dir(iso.dir, "test -z \"$(git status --porcelain)\"");
	assert_int_equal(isolate_change(&iso, &patch, NULL, &err), 0);
	assert_int_equal(patch.len, 0);
	/* the user's tree and index are as they were */
	status_of(root, &after);
	assert_string_equal(before.buf, after.buf);
	assert_int_equal(isolate_remove(&iso, &err), 0);
	assert_null(iso.dir);
	in_root("test -z \"$(ls .squad/worktrees)\"");
	strbuf_release(&before);
	strbuf_release(&after);
	strbuf_release(&patch);
	strbuf_release(&err);
}

/* Every kind of change, made in the worktree, comes back whole. */
static void test_change_round_trip(void **unused)
{
	struct isolate iso = ISOLATE_INIT;
	struct strbuf err = STRBUF_INIT, patch = STRBUF_INIT, diffstat = STRBUF_INIT, bin;
	struct strvec touched, conflicts;
	struct stat st;
	char path[600];

	(void)unused;
	strvec_init(&touched);
	strvec_init(&conflicts);
	assert_int_equal(isolate_create(&iso, root, state_dir, &err), 0);
	in_dir(iso.dir, "sed -i 's/^5$/five/' a.txt && git mv old.txt renamed.txt && "
	       "chmod +x run.sh && printf 'B\\000\\003\\377\\376changed' > bin.dat && "
	       "rm new.txt && mkdir -p sub/deep && echo added > sub/deep/made.txt && "
	       "echo build > out.log");
	assert_int_equal(isolate_change(&iso, &patch, &diffstat, &err), 6);
	assert_non_null(strstr(patch.buf, "rename from old.txt"));
	assert_non_null(strstr(patch.buf, "new mode 100755"));
	assert_non_null(strstr(patch.buf, "GIT binary patch"));
	assert_non_null(strstr(patch.buf, "deleted file mode"));
	assert_null(strstr(patch.buf, "out.log"));
	assert_non_null(strstr(diffstat.buf, "6 files changed"));
	assert_int_equal(isolate_remove(&iso, &err), 0);

	/* git itself takes it, on the user's tree */
	snprintf(path, sizeof(path), "%s/.squad/p.patch", root);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite(patch.buf, 1, patch.len, f);
		fclose(f);
	}
	in_root("git apply --check .squad/p.patch");

	assert_int_equal(isolate_apply(root, state_dir, NULL, patch.buf, patch.len, &touched, &conflicts, &err), 0);
	assert_string_equal(err.buf, "");
	assert_int_equal(conflicts.nr, 0);
	assert_true(strvec_find(&touched, "old.txt") >= 0);
	assert_true(strvec_find(&touched, "renamed.txt") >= 0);
	assert_file(root, "a.txt", "1\ntwo\n3\n4\nfive\n6\n7\n8\nnine\n10\n");
	assert_file(root, "renamed.txt", "one\ntwo\nthree\nfour\nfive\nsix\n");
	assert_false(exists_at(root, "old.txt"));
	assert_false(exists_at(root, "new.txt"));
	assert_file(root, "sub/deep/made.txt", "added\n");
	assert_file(root, "x.log", "junk\n");
	snprintf(path, sizeof(path), "%s/run.sh", root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	read_at(root, "bin.dat", &bin);
	assert_int_equal(bin.len, 12);
	assert_memory_equal(bin.buf, "B\0\3\377\376changed", 12);
	strbuf_release(&bin);
	/* the staged edit is still staged: the index was not touched */
	in_root("git diff --cached --quiet -- a.txt; test $? = 1");
	in_root("git show :a.txt | grep -qx two && ! git show :a.txt | grep -qx five");

	strvec_clear(&touched);
	strvec_clear(&conflicts);
	strbuf_release(&patch);
	strbuf_release(&diffstat);
	strbuf_release(&err);
}

/* The user edits the same line meanwhile: nothing written, the path
 * named; another line of the same file: both edits kept. */
static void test_apply_never_overwrites_the_user(void **unused)
{
	struct isolate iso = ISOLATE_INIT;
	struct strbuf err = STRBUF_INIT, patch = STRBUF_INIT, before, after;
	struct strvec conflicts;

	(void)unused;
	strvec_init(&conflicts);
	assert_int_equal(isolate_create(&iso, root, state_dir, &err), 0);
	in_dir(iso.dir, "sed -i 's/^5$/five/' a.txt && echo more >> new.txt && "
	       "echo one > made.txt");
	assert_int_equal(isolate_change(&iso, &patch, NULL, &err), 3);
	assert_int_equal(isolate_remove(&iso, &err), 0);

	/* the user changes line 5 too, and makes made.txt */
	in_root("sed -i 's/^5$/FIVE/' a.txt && echo mine > made.txt");
	read_at(root, "a.txt", &before);
	assert_int_equal(isolate_apply(root, state_dir, NULL, patch.buf, patch.len, NULL, &conflicts, &err), 1);
	assert_non_null(strstr(err.buf, "does not apply"));
	assert_true(strvec_find(&conflicts, "a.txt") >= 0);
	assert_true(strvec_find(&conflicts, "made.txt") >= 0);
	assert_true(strvec_find(&conflicts, "new.txt") < 0);
	read_at(root, "a.txt", &after);
	assert_string_equal(before.buf, after.buf);
	assert_file(root, "new.txt", "fresh\n");
	assert_file(root, "made.txt", "mine\n");
	strbuf_release(&before);
	strbuf_release(&after);

	/* the user's change to another line stays beside the task's */
	in_root("sed -i 's/^FIVE$/5/; s/^1$/ONE/' a.txt && rm made.txt");
	strbuf_setlen(&err, 0);
	strvec_clear(&conflicts);
	assert_int_equal(isolate_apply(root, state_dir, NULL, patch.buf, patch.len, NULL, &conflicts, &err), 0);
	assert_file(root, "a.txt", "ONE\ntwo\n3\n4\nfive\n6\n7\n8\nnine\n10\n");
	assert_file(root, "new.txt", "fresh\nmore\n");

	/* an ignored file of the user's in the way of a new one */
	strbuf_setlen(&patch, 0);
	assert_int_equal(isolate_create(&iso, root, state_dir, &err), 0);
	in_dir(iso.dir, "echo task > keep.log && git add -f keep.log");
	assert_int_equal(isolate_change(&iso, &patch, NULL, &err), 1);
	assert_int_equal(isolate_remove(&iso, &err), 0);
	in_root("echo user > keep.log");
	assert_int_equal(isolate_apply(root, state_dir, NULL, patch.buf, patch.len, NULL, &conflicts, &err), 1);
	assert_file(root, "keep.log", "user\n");

	strvec_clear(&conflicts);
	strbuf_release(&patch);
	strbuf_release(&err);
}

/* A dead squad's worktree is swept; a live one's is not. */
static void test_sweep(void **unused)
{
	struct isolate iso = ISOLATE_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)unused;
	assert_int_equal(isolate_create(&iso, root, state_dir, &err), 0);
	/* pid 2^22+1 is above Linux's pid_max: never alive */
	in_root("mkdir -p .squad/worktrees/4194305-1/sub .squad/worktrees/4194305-1.git && "
		"touch .squad/worktrees/4194305-1/sub/f && chmod 555 .squad/worktrees/4194305-1/sub");
	assert_int_equal(isolate_sweep(state_dir), 2);
	assert_false(exists_at(root, ".squad/worktrees/4194305-1"));
	assert_true(exists_at(iso.dir, "a.txt"));
	assert_int_equal(isolate_remove(&iso, &err), 0);
	strbuf_release(&err);
}

static void test_not_a_repository(void **unused)
{
	struct isolate iso = ISOLATE_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)unused;
	assert_int_equal(isolate_create(&iso, "/", state_dir, &err), -1);
	assert_string_equal(err.buf, "'/' is not in a git repository");
	assert_null(iso.dir);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worktree_holds_what_the_user_sees, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_change_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_never_overwrites_the_user, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_repository, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
