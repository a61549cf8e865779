/* test_worker.c - the workers a Squadfile gets and what one attempt of a
 * task executes, through squadfile.h and worker.h: the built-in presets
 * (shell, qwen over ACP, qwen-oneshot, opencode) and how a worker of the
 * same name or a `protocol` key changes them; the argv, folder and
 * environment built for shell and agent tasks; the prompt and command
 * of an ACP agent. Squadfiles are real files in a scratch folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/diag.h"
#include "model/squadfile.h"
#include "job/worker.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include "scratch_tree.h"

struct fixture {
	struct squadfile sf;
	bool loaded;
	struct strbuf diags; /* what the load said, formatted */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(scratch_make("worker"));
	strbuf_init(&fx->diags, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->loaded)
		squadfile_release(&fx->sf);
	strbuf_release(&fx->diags);
	free(fx);
	return scratch_remove();
}

/* Load `text` as root/Squadfile; returns squadfile_load()'s value, the
 * diagnostics in fx->diags. */
static int load(struct fixture *fx, const char *text)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	char path[512];
	int ret;

	scratch_write_old("Squadfile", text);
	snprintf(path, sizeof(path), "%s/Squadfile", root);
	ret = squadfile_load(&fx->sf, path, &diags);
	fx->loaded = true;
	diag_format(&diags, &fx->diags);
	diag_list_release(&diags);
	return ret;
}

static const struct worker *worker(struct fixture *fx, const char *name)
{
	long n = squadfile_find_worker(&fx->sf, name);

	assert_true(n >= 0);
	return &fx->sf.workers[n];
}

static const struct task *task(struct fixture *fx, const char *name)
{
	return &fx->sf.tasks[scratch_task(&fx->sf, name)];
}

static void assert_argv(const struct strvec *argv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_true(i < argv->nr);
		assert_string_equal(argv->v[i], want[i]);
	}
	assert_int_equal(argv->nr, i);
}

/* The environment entry NAME=... of `env`, or NULL. */
static const char *env_get(const struct strvec *env, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < env->nr; i++)
		if (!strncmp(env->v[i], name, len) && env->v[i][len] == '=')
			return env->v[i] + len + 1;
	return NULL;
}

/* A Squadfile without workers: still has shell, qwen (ACP), qwen-oneshot
 * and opencode, each as documented; no other name is a worker. */
static void test_presets(void **state)
{
	struct fixture *fx = *state;
	const struct worker *w;

	assert_int_equal(load(fx, "version: 1\ntasks:\n  a: { run: 'true' }\n"), 0);
	w = worker(fx, "shell");
	assert_true(w->is_shell);
	assert_int_equal(w->command.nr, 0);
	assert_int_equal(w->timeout_ms, 0);

	w = worker(fx, "qwen");
	assert_false(w->is_shell);
	assert_int_equal(w->protocol, WORKER_ACP);
	assert_argv(&w->command, (const char *const[]){ "qwen", "--acp", NULL });
	assert_int_equal(w->slots, 4);
	assert_int_equal(w->timeout_ms, WORKER_AGENT_TIMEOUT_MS);

	w = worker(fx, "qwen-oneshot");
	assert_int_equal(w->protocol, WORKER_ONESHOT);
	assert_int_equal(w->output, WORKER_OUTPUT_QWEN_JSON);
	assert_argv(&w->command, (const char *const[]){
		"qwen", "--approval-mode", "yolo", "-o", "json", "{prompt}", NULL });

	w = worker(fx, "opencode");
	assert_int_equal(w->protocol, WORKER_ACP);
	assert_argv(&w->command, (const char *const[]){ "opencode", "acp", NULL });

	assert_true(squadfile_find_worker(&fx->sf, "claude") < 0);
	/* a task names no worker: the shell's */
	assert_string_equal(fx->sf.workers[task(fx, "a")->worker].name, "shell");
}

/* A worker named like a preset, given a command of its own, is one-shot
 * (the command takes {prompt}) unless it says `protocol: acp`. */
static void test_preset_with_own_command(void **state)
{
	struct fixture *fx = *state;
	const struct worker *w;

	assert_int_equal(load(fx, "version: 1\n"
			      "workers:\n"
			      "  qwen: { command: [my-qwen, -p, \"{prompt}\"] }\n"
			      "  warm: { command: [my-agent, --acp], protocol: acp, slots: 2 }\n"
			      "tasks:\n  a: { prompt: hi, worker: qwen }\n"), 0);
	w = worker(fx, "qwen");
	assert_int_equal(w->protocol, WORKER_ONESHOT);
	assert_argv(&w->command, (const char *const[]){ "my-qwen", "-p", "{prompt}", NULL });
	/* what the preset set and the Squadfile did not stays */
	assert_int_equal(w->output, WORKER_OUTPUT_QWEN_JSON);
	w = worker(fx, "warm");
	assert_int_equal(w->protocol, WORKER_ACP);
	assert_int_equal(w->slots, 2);
	assert_int_equal(w->timeout_ms, WORKER_AGENT_TIMEOUT_MS);
}

/* `protocol` takes acp or oneshot; an ACP worker's one process serves
 * many tasks, so its command may not hold a task's placeholder. */
static void test_protocol_errors(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, "version: 1\n"
			      "workers:\n"
			      "  w: { command: [agent, \"{prompt}\"], protocol: acp }\n"
			      "  v: { command: [agent], protocol: http }\n"
			      "tasks:\n  a: { prompt: hi, worker: w }\n"), -1);
	assert_non_null(strstr(fx->diags.buf, "Squadfile:3:"));
	assert_non_null(strstr(fx->diags.buf, "speaks ACP"));
	assert_non_null(strstr(fx->diags.buf, "{prompt}"));
	assert_non_null(strstr(fx->diags.buf, "'protocol: oneshot'"));
	assert_non_null(strstr(fx->diags.buf, "Squadfile:4:"));
	assert_non_null(strstr(fx->diags.buf, "must be 'acp' or 'oneshot', not 'http'"));
}

/* What needs /bin/sh: its syntax and builtins; a plain command does not. */
static void test_needs_shell(void **state)
{
	(void)state;
	assert_false(worker_needs_shell("make -j4 all"));
	assert_false(worker_needs_shell("cc -o out/x.o src/a.c"));
	assert_true(worker_needs_shell("echo a | wc -l"));
	assert_true(worker_needs_shell("echo $HOME"));
	assert_true(worker_needs_shell("echo 'quoted'"));
	assert_true(worker_needs_shell("ls *.c"));
	assert_true(worker_needs_shell("cd src"));
	assert_true(worker_needs_shell("FOO=1 make"));
	assert_true(worker_needs_shell("a && b"));
}

/* A shell task: split into an argv when no shell is needed, else run as
 * /bin/sh -c TEXT; an argv list exactly as written; run in the
 * Squadfile's folder (or its dir), with the task's env and squad's
 * variables. */
static void test_shell_commands(void **state)
{
	struct fixture *fx = *state;
	struct command cmd = COMMAND_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	const struct worker *shell;

	assert_int_equal(load(fx, "version: 1\n"
			      "tasks:\n"
			      "  plain: { run: 'make -j4 all', env: { MODE: fast } }\n"
			      "  piped: { run: 'make | tee log', dir: sub }\n"
			      "  listed: { run: [printf, '%s\\n', 'a b; c'] }\n"), 0);
	shell = worker(fx, "shell");

	assert_int_equal(worker_build_command(&cmd, &fx->sf, task(fx, "plain"), shell, NULL,
					      "/x/.squad/changed", &err), 0);
	assert_argv(&cmd.argv, (const char *const[]){ "make", "-j4", "all", NULL });
	assert_false(cmd.via_shell);
	assert_string_equal(cmd.cwd, fx->sf.root);
	assert_string_equal(env_get(&cmd.env, "MODE"), "fast");
	assert_string_equal(env_get(&cmd.env, "SQUAD_TASK"), "plain");
	assert_string_equal(env_get(&cmd.env, "SQUAD_ROOT"), fx->sf.root);
	assert_string_equal(env_get(&cmd.env, "SQUAD_CHANGED"), "/x/.squad/changed");
	command_release(&cmd);

	cmd = (struct command)COMMAND_INIT;
	assert_int_equal(worker_build_command(&cmd, &fx->sf, task(fx, "piped"), shell, NULL,
					      NULL, &err), 0);
	assert_true(cmd.via_shell);
	assert_argv(&cmd.argv, (const char *const[]){ "/bin/sh", "-c", "make | tee log", NULL });
	strbuf_addf(&want, "%s/sub", fx->sf.root);
	assert_string_equal(cmd.cwd, want.buf);
	assert_null(env_get(&cmd.env, "SQUAD_CHANGED"));
	command_release(&cmd);

	cmd = (struct command)COMMAND_INIT;
	assert_int_equal(worker_build_command(&cmd, &fx->sf, task(fx, "listed"), shell, NULL,
					      NULL, &err), 0);
	assert_false(cmd.via_shell);
	/* single-quoted YAML: the backslash stays, as the shell would keep it */
	assert_argv(&cmd.argv, (const char *const[]){ "printf", "%s\\n", "a b; c", NULL });
	command_release(&cmd);
	strbuf_release(&want);
	strbuf_release(&err);
}

/* A prompt task goes to qwen when it names no worker; on the shell
 * worker it is an error that names the fix: in the Squadfile at load,
 * and when the command is built (--worker shell sends it there). */
static void test_prompt_on_shell(void **state)
{
	struct fixture *fx = *state;
	struct command cmd = COMMAND_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(load(fx, "version: 1\n"
			      "tasks:\n  ask: { prompt: 'say ok', worker: shell }\n"), -1);
	assert_non_null(strstr(fx->diags.buf, "Squadfile:3:"));
	assert_non_null(strstr(fx->diags.buf, "has a prompt but no run"));
	squadfile_release(&fx->sf);
	strbuf_reset(&fx->diags);

	assert_int_equal(load(fx, "version: 1\n"
			      "tasks:\n  ask: { prompt: 'say ok' }\n"), 0);
	assert_string_equal(fx->sf.workers[task(fx, "ask")->worker].name, "qwen");
	assert_int_equal(worker_build_command(&cmd, &fx->sf, task(fx, "ask"),
					      worker(fx, "shell"), NULL, NULL, &err), -1);
	assert_non_null(strstr(err.buf, "has a prompt but no command"));
	assert_non_null(strstr(err.buf, "'qwen'"));
	command_release(&cmd);
	strbuf_release(&err);
}

/* A one-shot agent: {prompt} is one argv element whatever it holds, and
 * no shell sees it. */
static void test_oneshot_prompt_is_one_argument(void **state)
{
	struct fixture *fx = *state;
	struct command cmd = COMMAND_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(load(fx, "version: 1\n"
			      "workers:\n"
			      "  agent: { command: [my-agent, --task, \"{task}\", \"{prompt}\"] }\n"
			      "tasks:\n"
			      "  ask: { prompt: \"it's; $(rm -rf /) `id` | x\", worker: agent }\n"), 0);
	assert_int_equal(worker_build_command(&cmd, &fx->sf, task(fx, "ask"),
					      worker(fx, "agent"), NULL, NULL, &err), 0);
	assert_false(cmd.via_shell);
	assert_argv(&cmd.argv, (const char *const[]){
		"my-agent", "--task", "ask", "it's; $(rm -rf /) `id` | x", NULL });
	command_release(&cmd);
	strbuf_release(&err);
}

/* An ACP agent: its process is started from the worker alone, and each
 * task's prompt and folder go over the protocol. */
static void test_acp_agent_and_prompt(void **state)
{
	struct fixture *fx = *state;
	struct command cmd = COMMAND_INIT;
	struct strbuf err = STRBUF_INIT, prompt = STRBUF_INIT, want = STRBUF_INIT;
	char *cwd = NULL;

	assert_int_equal(load(fx, "version: 1\n"
			      "vars: { what: the parser }\n"
			      "tasks:\n"
			      "  ask: { prompt: 'review ${what}', worker: qwen, dir: src }\n"), 0);
	assert_int_equal(worker_build_agent(&cmd, &fx->sf, worker(fx, "qwen"), &err), 0);
	assert_argv(&cmd.argv, (const char *const[]){ "qwen", "--acp", NULL });
	assert_string_equal(cmd.cwd, fx->sf.root);
	assert_null(env_get(&cmd.env, "SQUAD_TASK"));
	command_release(&cmd);

	assert_int_equal(worker_build_prompt(&prompt, &cwd, &fx->sf, task(fx, "ask"),
					     worker(fx, "qwen"), NULL, &err), 0);
	assert_string_equal(prompt.buf, "review the parser");
	strbuf_addf(&want, "%s/src", fx->sf.root);
	assert_string_equal(cwd, want.buf);
	free(cwd);
	strbuf_release(&prompt);
	strbuf_release(&want);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_presets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preset_with_own_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
		cmocka_unit_test(test_needs_shell),
		cmocka_unit_test_setup_teardown(test_shell_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_on_shell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_prompt_is_one_argument, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_acp_agent_and_prompt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
