/* test_gitinfo.c - libgit2's answers through gitinfo.h, in a real git
 * repository: HEAD and branch, what git leaves out of a walk and which
 * blob ids its index vouches for, where git's state and hooks are; and
 * no repository where there is none. */
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
#include "scratch_tree.h"

/* `cmd` run by the shell in root. */
static void in_root(const char *cmd)
{
	char full[1200];

	snprintf(full, sizeof(full), "cd '%s' && %s", root, cmd);
	assert_int_equal(system(full), 0);
}

/* A repository: a.c and logs/keep.log tracked, *.log and build/ ignored,
 * on branch main. */
static int setup(void **unused)
{
	(void)unused;
	if (!scratch_make("gitinfo"))
		return -1;
	in_root("git init -q -b main && mkdir logs build");
	scratch_write_old(".gitignore", "*.log\nbuild/\n");
	scratch_write_old("a.c", "a\n");
	scratch_write_old("logs/keep.log", "kept\n");
	in_root("git add .gitignore a.c && git add -f logs/keep.log && "
		"git -c user.name=t -c user.email=t@t commit -qm init");
	scratch_write_old("new.c", "untracked\n");
	scratch_write_old("x.log", "ignored\n");
	scratch_write_old("build/out.c", "ignored folder\n");
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	gitinfo_global_shutdown();
	return scratch_remove();
}

static void test_read_head_and_dirty(void **unused)
{
	struct gitinfo gi;
	struct strbuf err = STRBUF_INIT;

	(void)unused;
	assert_int_equal(gitinfo_read(&gi, root, &err), 0);
	assert_true(gi.in_repo);
	assert_string_equal(gi.branch, "main");
	assert_non_null(gi.head);
	assert_int_equal(strlen(gi.head), 40);
	/* the untracked file that is not ignored */
	assert_int_equal(gi.dirty.nr, 1);
	assert_string_equal(gi.dirty.v[0], "new.c");
	gitinfo_release(&gi);
	strbuf_release(&err);
}

static void stat_of(const char *rel, struct stat *st)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", root, rel);
	assert_int_equal(lstat(full, st), 0);
}

/* A walk's questions: tracked files get the index's id while their stat
 * data match, untracked ones are in unless ignored, a folder is left
 * out when ignored with nothing of it tracked. */
static void test_tree_answers_a_walk(void **unused)
{
	struct gitinfo_tree *t;
	struct strbuf err = STRBUF_INIT, top = STRBUF_INIT, excludes = STRBUF_INIT;
	const char *gitdir, *commondir;
	struct stat st;
	char oid[41];

	(void)unused;
	assert_int_equal(gitinfo_tree_open(&t, root, &err), 1);
	strbuf_addf(&top, "%s/", root);
	assert_string_equal(gitinfo_tree_workdir(t), top.buf);

	stat_of("a.c", &st);
	oid[0] = '\0';
	assert_false(gitinfo_tree_skips_file(t, "a.c", &st, oid));
	assert_string_equal(oid, "78981922613b2afb6025042ff6bd878ac1994e85"); /* "a\n" */
	st.st_size++; /* not as the index has it: no id */
	oid[0] = '\0';
	assert_false(gitinfo_tree_skips_file(t, "a.c", &st, oid));
	assert_string_equal(oid, "");
	stat_of("new.c", &st);
	assert_false(gitinfo_tree_skips_file(t, "new.c", &st, oid));
	assert_string_equal(oid, "");
	stat_of("x.log", &st);
	assert_true(gitinfo_tree_skips_file(t, "x.log", &st, oid));
	stat_of("logs/keep.log", &st);
	assert_false(gitinfo_tree_skips_file(t, "logs/keep.log", &st, oid)); /* tracked */

	assert_true(gitinfo_tree_skips_folder(t, "build/"));
	assert_false(gitinfo_tree_skips_folder(t, "logs/"));

	gitinfo_tree_state(t, &gitdir, &commondir, &excludes);
	strbuf_addstr(&top, ".git/");
	assert_string_equal(gitdir, top.buf);
	assert_string_equal(commondir, top.buf);
	assert_string_equal(excludes.buf, "");
	gitinfo_tree_close(t);

	/* core.excludesFile as configured */
	in_root("git config core.excludesFile /etc/squad-excludes");
	assert_int_equal(gitinfo_tree_open(&t, root, &err), 1);
	gitinfo_tree_state(t, &gitdir, &commondir, &excludes);
	assert_string_equal(excludes.buf, "/etc/squad-excludes");
	gitinfo_tree_close(t);
	strbuf_release(&err);
	strbuf_release(&top);
	strbuf_release(&excludes);
}

/* Outside a working tree: no tree, no error; a bare repository is none
 * either. */
static void test_no_tree_outside_a_repository(void **unused)
{
	struct gitinfo_tree *t = (void *)1;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, top = STRBUF_INIT;

	(void)unused;
	strbuf_addf(&path, "%s/.git", root);
	assert_false(gitinfo_find_top("/", NULL));
	assert_true(gitinfo_find_top(root, &top));
	strbuf_addch(&path, '/');
	strbuf_setlen(&path, path.len - 5);
	assert_string_equal(top.buf, path.buf);

	assert_int_equal(gitinfo_tree_open(&t, "/", &err), 0);
	assert_null(t);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/bare.git", root);
	in_root("git init -q --bare bare.git");
	assert_int_equal(gitinfo_tree_open(&t, path.buf, &err), 0);
	assert_null(t);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&top);
}

/* Where a hook goes: .git/hooks/, or core.hooksPath (relative to the
 * top, or absolute); not in a repository, the reason. */
static void test_hook_path(void **unused)
{
	struct strbuf hook = STRBUF_INIT, top = STRBUF_INIT, err = STRBUF_INIT,
		      want = STRBUF_INIT;

	(void)unused;
	assert_int_equal(gitinfo_hook_path(root, "pre-commit", &hook, &top, &err), 0);
	strbuf_addf(&want, "%s/.git/hooks/pre-commit", root);
	assert_string_equal(hook.buf, want.buf);
	strbuf_reset(&want);
	strbuf_addf(&want, "%s/", root);
	assert_string_equal(top.buf, want.buf);

	in_root("git config core.hooksPath .githooks");
	strbuf_reset(&hook);
	strbuf_reset(&top);
	assert_int_equal(gitinfo_hook_path(root, "pre-commit", &hook, &top, &err), 0);
	strbuf_reset(&want);
	strbuf_addf(&want, "%s/.githooks/pre-commit", root);
	assert_string_equal(hook.buf, want.buf);

	in_root("git config core.hooksPath /srv/hooks");
	strbuf_reset(&hook);
	strbuf_reset(&top);
	assert_int_equal(gitinfo_hook_path(root, "pre-commit", &hook, &top, &err), 0);
	assert_string_equal(hook.buf, "/srv/hooks/pre-commit");

	assert_int_equal(gitinfo_hook_path("/", "pre-commit", &hook, &top, &err), -1);
	assert_string_equal(err.buf, "'/' is not in a git repository");
	strbuf_release(&hook);
	strbuf_release(&top);
	strbuf_release(&err);
	strbuf_release(&want);
}

/* What --stash sets aside: a change not staged (with the staged bytes
 * to put in its place), an untracked file, an executable mode; not the
 * ignored files; $GIT_INDEX_FILE is the index compared with. */
static void test_unstaged(void **unused)
{
	struct gitinfo_unstaged *list = NULL;
	struct strbuf top = STRBUF_INIT, err = STRBUF_INIT, index = STRBUF_INIT;
	size_t nr = 0;

	(void)unused;
	scratch_write_old("a.c", "staged\n");
	in_root("git add a.c && echo later > a.c");
	assert_int_equal(gitinfo_unstaged(root, &list, &nr, &top, &err), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(list[0].path, "a.c");
	assert_true(list[0].in_commit);
	assert_false(list[0].link);
	assert_false(list[0].exec);
	assert_string_equal(list[0].content.buf, "staged\n");
	assert_string_equal(list[1].path, "new.c");
	assert_false(list[1].in_commit);
	assert_int_equal(list[1].content.len, 0);
	gitinfo_unstaged_free(list, nr);

	/* the index git names for a commit: a.c staged as it is now */
	in_root("cp .git/index .git/other && GIT_INDEX_FILE=.git/other git add a.c");
	strbuf_addf(&index, "%s/.git/other", root);
	setenv("GIT_INDEX_FILE", index.buf, 1);
	assert_int_equal(gitinfo_unstaged(root, &list, &nr, &top, &err), 0);
	unsetenv("GIT_INDEX_FILE");
	assert_int_equal(nr, 1);
	assert_string_equal(list[0].path, "new.c");
	gitinfo_unstaged_free(list, nr);

	assert_int_equal(gitinfo_unstaged("/", &list, &nr, &top, &err), -1);
	assert_null(list);
	assert_string_equal(err.buf, "'/' is not in a git repository: --stash sets aside what "
			    "git has not staged");
	strbuf_release(&top);
	strbuf_release(&err);
	strbuf_release(&index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_head_and_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_answers_a_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_tree_outside_a_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unstaged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
