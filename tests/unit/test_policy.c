/* test_policy.c - squad's answers to an agent's permission requests:
 * paths inside and outside the task's folder (through symlinks too),
 * commands named, unnamed, with shell syntax, and everything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/policy.h"

static char root[64];
static char dir[128];

static int make_tree(void **state)
{
	char path[256];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_policy_XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(dir, sizeof(dir), "%s/task", root);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/escape", dir);
	if (symlink("/etc", path) < 0)
		return -1;
	return 0;
}

static int remove_tree(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static bool ask(enum acp_action action, const char *target, const struct strvec *commands,
		bool any, char *why_out, size_t why_size)
{
	struct task_policy p = { dir, root, commands, any };
	struct acp_request req = { action, "test", target };
	struct strbuf why = STRBUF_INIT;
	bool ok = policy_allows(&p, &req, &why);

	if (why_out)
		snprintf(why_out, why_size, "%s", why.buf);
	strbuf_release(&why);
	return ok;
}

static void paths_inside_the_task_folder_only(void **state)
{
	char why[256], path[256];

	(void)state;
	assert_true(ask(ACP_READ, "notes.txt", NULL, false, why, sizeof(why)));
	assert_true(ask(ACP_EDIT, "new/deeper/file.c", NULL, false, why, sizeof(why)));
	snprintf(path, sizeof(path), "%s/a.c", dir);
	assert_true(ask(ACP_EDIT, path, NULL, false, why, sizeof(why)));
	assert_false(ask(ACP_READ, "../outside.txt", NULL, false, why, sizeof(why)));
	assert_string_equal(why, "outside the task's folder");
	assert_false(ask(ACP_READ, "/etc/passwd", NULL, false, why, sizeof(why)));
	assert_string_equal(why, "outside the project");
	/* a symlink out of the folder leads nowhere */
	assert_false(ask(ACP_READ, "escape/passwd", NULL, false, why, sizeof(why)));
	assert_false(ask(ACP_EDIT, "missing/../../x", NULL, false, why, sizeof(why)));
	assert_false(ask(ACP_EDIT, NULL, NULL, false, why, sizeof(why)));
}

static void commands_by_name(void **state)
{
	struct strvec allowed = STRVEC_INIT;
	char why[256];

	(void)state;
	assert_false(ask(ACP_EXECUTE, "touch x", NULL, false, why, sizeof(why)));
	assert_string_equal(why, "the task allows no commands (allow_commands)");
	strvec_push(&allowed, "touch");
	strvec_push(&allowed, "ls");
	assert_true(ask(ACP_EXECUTE, "touch x", &allowed, false, why, sizeof(why)));
	assert_true(ask(ACP_EXECUTE, "/usr/bin/touch x", &allowed, false, why, sizeof(why)));
	assert_false(ask(ACP_EXECUTE, "rm -rf x", &allowed, false, why, sizeof(why)));
	assert_string_equal(why, "'rm' is not in the task's allow_commands");
	assert_false(ask(ACP_EXECUTE, "touch x; rm y", &allowed, false, why, sizeof(why)));
	assert_false(ask(ACP_EXECUTE, "ls $(rm y)", &allowed, false, why, sizeof(why)));
	assert_true(ask(ACP_EXECUTE, "touch x; rm y", NULL, true, why, sizeof(why)));
	assert_false(ask(ACP_OTHER, "https://example.com", NULL, true, why, sizeof(why)));
	strvec_clear(&allowed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths_inside_the_task_folder_only),
		cmocka_unit_test(commands_by_name),
	};

	return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
