/* test_hook.c - the pre-commit hook installed into and removed from a
 * real git repository in a scratch folder; the script it writes is run
 * by the real shell (with a stand-in for squad: this test program is
 * the binary the hook would call back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/gitinfo.h"
#include "files/hook.h"
#include "files/state.h"
#include "util/strbuf.h"

#include "scratch_tree.h"

static char squadfile[600];

static void in_root(const char *cmd)
{
	char full[1600];

	snprintf(full, sizeof(full), "cd '%s' && %s", root, cmd);
	assert_int_equal(system(full), 0);
}

static void read_text(const char *path, struct strbuf *out)
{
	strbuf_reset(out);
	if (strbuf_read_file(out, path) < 0)
		fail_msg("cannot read '%s'", path);
}

static int setup(void **unused)
{
	char real[PATH_MAX];

	(void)unused;
	if (!scratch_make("hook"))
		return -1;
	/* the working tree's top as libgit2 reports it: no symlink in it */
	assert_non_null(realpath(root, real));
	assert_true(snprintf(root, sizeof(root), "%s", real) < (int)sizeof(root));
	in_root("git init -q -b main && mkdir sub");
	scratch_write_old("sub/Squadfile", "version: 1\ndefault: t\ntasks:\n  t: 'true'\n");
	snprintf(squadfile, sizeof(squadfile), "%s/sub/Squadfile", root);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	return scratch_remove();
}

static void test_install_writes_a_working_script(void **unused)
{
	struct strbuf where = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;
	char want[700], self[PATH_MAX], cmd[2400];
	struct stat sb;
	ssize_t n;

	(void)unused;
	strbuf_reset(&where);
	assert_int_equal(hook_install(squadfile, "squad", "it's", false, &where, &err), 0);
	snprintf(want, sizeof(want), "%s/.git/hooks/pre-commit", root);
	assert_string_equal(where.buf, want);
	assert_int_equal(stat(where.buf, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);

	read_text(where.buf, &text);
	assert_memory_equal(text.buf, "#!/bin/sh\n# squad-hook:", 22);
	/* calls back this very binary by its absolute path */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	/* quoted only when it needs to be */
	assert_true(snprintf(want, sizeof(want), "\nsquad=%s\n", self) < (int)sizeof(want));
	if (!strstr(text.buf, want))
		fail_msg("no \"%s\" in:\n%s", want, text.buf);
	/* the Squadfile relative to the top, the target shell-quoted */
	assert_non_null(strstr(text.buf, "\"$squad\" -f sub/Squadfile --staged --stash "
				    "run 'it'\\''s'\n"));

	/* run it as git would, from a subfolder, with a stand-in squad that
	 * says where it runs and what it got, and asks for the tactician */
	scratch_write_old("fake-squad", "#!/bin/sh\npwd\nprintf '[%s]' \"$@\"\necho\nexit 3\n");
	in_root("chmod +x fake-squad");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && sed \"s|^squad=.*|squad='%s/fake-squad'|\" .git/hooks/pre-commit > h && "
		 "cd sub && sh ../h > ../out 2> ../errs; echo $? > ../status", root, root);
	assert_int_equal(system(cmd), 0);
	snprintf(want, sizeof(want), "%s/status", root);
	read_text(want, &text);
	assert_string_equal(text.buf, "3\n");
	snprintf(want, sizeof(want), "%s/out", root);
	read_text(want, &text);
	snprintf(cmd, sizeof(cmd), "%s\n[-f][sub/Squadfile][--staged][--stash][run][it's]\n", root);
	assert_string_equal(text.buf, cmd);
	snprintf(want, sizeof(want), "%s/errs", root);
	read_text(want, &text);
	assert_non_null(strstr(text.buf, "the commit waits for the tactician"));

	/* with squad gone and none on PATH: one line, exit 127 */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && sed \"s|^squad=.*|squad='%s/gone'|\" .git/hooks/pre-commit > h && "
		 "PATH=/nonexistent /bin/sh h > out 2> errs; echo $? > status", root, root);
	assert_int_equal(system(cmd), 0);
	snprintf(want, sizeof(want), "%s/status", root);
	read_text(want, &text);
	assert_string_equal(text.buf, "127\n");
	snprintf(want, sizeof(want), "%s/errs", root);
	read_text(want, &text);
	assert_non_null(strstr(text.buf, "cannot find squad"));
	assert_non_null(strstr(text.buf, "squad hook install"));

	/* installing again replaces squad's own hook; no target: the default */
	strbuf_reset(&where);
	assert_int_equal(hook_install(squadfile, "squad", NULL, false, &where, &err), 0);
	read_text(where.buf, &text);
	assert_non_null(strstr(text.buf, "--staged --stash\nstatus=$?"));
	assert_null(strstr(text.buf, "--stash run"));

	strbuf_reset(&where);
	assert_int_equal(hook_uninstall(squadfile, &where, &err), 0);
	assert_int_equal(access(where.buf, F_OK), -1);
	/* nothing left to remove */
	strbuf_reset(&where);
	assert_int_equal(hook_uninstall(squadfile, &where, &err), 1);
	strbuf_release(&where);
	strbuf_release(&err);
	strbuf_release(&text);
}

static void test_foreign_hook_is_kept(void **unused)
{
	static const char foreign[] = "#!/bin/sh\necho mine\n";
	struct strbuf where = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;

	(void)unused;
	in_root("mkdir -p .git/hooks");
	scratch_write_old(".git/hooks/pre-commit", foreign);
	strbuf_reset(&where);
	assert_int_equal(hook_install(squadfile, "squad", NULL, false, &where, &err), 1);
	assert_non_null(strstr(err.buf, "was not written by squad"));
	assert_non_null(strstr(err.buf, "--force"));
	read_text(where.buf, &text);
	assert_string_equal(text.buf, foreign);

	/* uninstall leaves another's hook alone */
	strbuf_reset(&err);
	strbuf_reset(&where);
	assert_int_equal(hook_uninstall(squadfile, &where, &err), 1);
	read_text(where.buf, &text);
	assert_string_equal(text.buf, foreign);

	/* --force replaces it */
	strbuf_reset(&where);
	assert_int_equal(hook_install(squadfile, "squad", NULL, true, &where, &err), 0);
	read_text(where.buf, &text);
	assert_non_null(strstr(text.buf, "squad-hook: written by"));
	strbuf_release(&where);
	strbuf_release(&err);
	strbuf_release(&text);
}

static void test_core_hooks_path(void **unused)
{
	struct strbuf where = STRBUF_INIT, err = STRBUF_INIT;
	char want[700];

	(void)unused;
	/* relative to the top, and created when missing */
	in_root("git config core.hooksPath my/hooks && mkdir my");
	strbuf_reset(&where);
	assert_int_equal(hook_install(squadfile, "squad", NULL, false, &where, &err), 0);
	snprintf(want, sizeof(want), "%s/my/hooks/pre-commit", root);
	assert_string_equal(where.buf, want);
	assert_int_equal(access(want, X_OK), 0);
	snprintf(want, sizeof(want), "%s/.git/hooks/pre-commit", root);
	assert_int_equal(access(want, F_OK), -1);
	strbuf_release(&where);
	strbuf_release(&err);
}

static void test_outside_a_repository(void **unused)
{
	struct strbuf where = STRBUF_INIT, err = STRBUF_INIT;

	(void)unused;
	in_root("rm -rf .git");
	strbuf_reset(&where);
	assert_int_equal(hook_install(squadfile, "squad", NULL, false, &where, &err), -1);
	assert_true(err.len > 0);
	strbuf_reset(&err);
	strbuf_reset(&where);
	assert_int_equal(hook_uninstall(squadfile, &where, &err), -1);
	assert_true(err.len > 0);
	strbuf_release(&where);
	strbuf_release(&err);
}

static int global_teardown(void **unused)
{
	(void)unused;
	gitinfo_global_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_writes_a_working_script, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_hook_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_hooks_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_a_repository, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, global_teardown);
}
