/* test_worker_agent.c - how squad bounds a qwen call and judges how it
 * ended: the flags added to its argv, and the verdict, reason and request
 * count read from its stdout, its stderr error JSON and the request log
 * of --openai-logging-dir (files as qwen 0.24.4 writes them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/squadfile.h"
#include "job/worker.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static struct worker qwen = { .name = "qwen", .output = WORKER_OUTPUT_QWEN_JSON };

/* A request log folder holding one file per message ("" = a call that
 * answered), named in time order as qwen names them. */
static char *api_log(const char *const *messages)
{
	char *dir = strdup("/tmp/squad-test-api.XXXXXX");

	assert_non_null(mkdtemp(dir));
	for (int i = 0; messages[i]; i++) {
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path), "%s/openai-2026-12-04T18-00-%02d.000Z-x.json", dir, i);
		f = fopen(path, "w");
		assert_non_null(f);
		if (*messages[i])
			fprintf(f, "{\"request\": {}, \"error\": {\"message\": \"%s\", "
				"\"stack\": \"Error: ...\"}}", messages[i]);
		else
			fputs("{\"request\": {}, \"response\": {\"id\": \"chatcmpl-1\"}}", f);
		fclose(f);
	}
	return dir;
}

static void judge(struct agent_attempt *at, const char *out, const char *err,
		  struct agent_result *res)
{
	at->out = out;
	at->out_len = strlen(out);
	at->err = err;
	at->err_len = strlen(err);
	worker_judge_agent(&qwen, at, res);
}

static const char warnings[] = "Ripgrep not available: ... EACCES.\nWarning: running headless\n";

/* A known exit code reads plainly, with qwen's own message from the
 * error JSON on stderr, not the parser's complaint of an empty stdout. */
static void test_known_exit_code(void **state)
{
	struct agent_attempt at = { .exit_code = 53 };
	struct agent_result res;

	(void)state;
	judge(&at, "", "Warning: x\n{\n  \"error\": {\n    \"type\": \"FatalTurnLimitedError\",\n"
	      "    \"message\": \"Reached max session turns for this session.\",\n"
	      "    \"code\": 53\n  }\n}\n", &res);
	assert_int_equal(res.verdict, AGENT_FAILED);
	assert_string_equal(res.reason, "qwen exited with 53: it reached its turn limit "
			    "(Reached max session turns for this session.)");
	assert_string_equal(res.error, "Reached max session turns for this session.");
	assert_false(res.cut_short);
	agent_result_release(&res);
	/* without a message: the meaning alone */
	at.exit_code = 41;
	judge(&at, "", "", &res);
	assert_string_equal(res.reason, "qwen exited with 41: authentication failed: give the "
			    "worker an API key and --auth-type (see README, 'Agent workers')");
	agent_result_release(&res);
}

/* 429s until qwen's wall time: rate limited, with the provider's words;
 * the calls it logged are the requests; the log is gone after. */
static void test_rate_limited_until_wall_time(void **state)
{
	static const char *const calls[] = {
		"429 Rate limit reached for requests (mock)", "429 Rate limit reached for requests (mock)",
		"Request was aborted.", NULL,
	};
	char *dir = api_log(calls);
	struct agent_attempt at = { .exit_code = 55, .api_dir = dir };
	struct agent_result res;
	struct strbuf err = STRBUF_INIT;
	struct stat sb;

	(void)state;
	strbuf_addf(&err, "%s{\n  \"error\": {\n    \"type\": \"FatalBudgetExceededError\",\n"
		    "    \"message\": \"Run aborted: wall-clock budget of 20s exceeded "
		    "(--max-wall-time).\",\n    \"code\": 55\n  }\n}\n", warnings);
	judge(&at, "", err.buf, &res);
	assert_int_equal(res.verdict, AGENT_RATE_LIMITED);
	assert_string_equal(res.reason, "rate limited: 429 Rate limit reached for requests (mock) "
			    "(qwen stopped at its --max-wall-time)");
	assert_string_equal(res.provider, "the provider failed 2 of 3 model calls; the last: "
			    "429 Rate limit reached for requests (mock)");
	assert_int_equal(res.requests, 3);
	assert_true(res.cut_short);
	assert_int_equal(stat(dir, &sb), -1);
	agent_result_release(&res);
	strbuf_release(&err);
	free(dir);
}

/* Killed at squad's timeout while the provider answered 500: an API
 * error, not a bare timeout. Without any log: timed out, requests
 * unknown (the call in flight was never logged). */
static void test_killed_at_timeout(void **state)
{
	static const char *const calls[] = { "500 mock error 500", NULL };
	static const char *const none[] = { NULL };
	char *dir = api_log(calls);
	struct agent_attempt at = { .exit_code = -1, .timed_out = true, .api_dir = dir };
	struct agent_result res;

	(void)state;
	judge(&at, "", warnings, &res);
	assert_int_equal(res.verdict, AGENT_API_ERROR);
	assert_string_equal(res.reason, "API error: 500 mock error 500 (killed at its timeout)");
	assert_int_equal(res.requests, 1);
	agent_result_release(&res);
	free(dir);
	dir = api_log(none);
	at.api_dir = dir;
	judge(&at, "", warnings, &res);
	assert_int_equal(res.verdict, AGENT_TIMED_OUT);
	assert_string_equal(res.reason, "timed out");
	assert_int_equal(res.requests, -1);
	assert_true(res.cut_short);
	agent_result_release(&res);
	free(dir);
	/* a hang: the one call logged is qwen's own abort at its wall time */
	{
		static const char *const aborted[] = { "Request was aborted.", NULL };
		struct agent_attempt wall = { .exit_code = 55 };

		dir = api_log(aborted);
		wall.api_dir = dir;
		judge(&wall, "", "{\"error\": {\"type\": \"FatalBudgetExceededError\", \"message\": "
		      "\"Run aborted: wall-clock budget of 5s exceeded (--max-wall-time).\"}}", &res);
		assert_int_equal(res.verdict, AGENT_TIMED_OUT);
		assert_string_equal(res.reason, "timed out (qwen stopped at its --max-wall-time): "
				    "the model never answered");
		assert_int_equal(res.requests, 1);
		assert_true(res.cut_short);
		agent_result_release(&res);
		free(dir);
	}
	/* no request log (a wrapper), but its stderr told of the errors */
	at.api_dir = NULL;
	judge(&at, "", "Retrying: [API Error: 503 upstream busy]\n"
	      "Retrying: [API Error: 429 Too Many Requests]\nheartbeat\n", &res);
	assert_int_equal(res.verdict, AGENT_RATE_LIMITED);
	assert_string_equal(res.reason, "rate limited: 429 Too Many Requests (killed at its timeout)");
	agent_result_release(&res);
	/* a provider that failed once and then answered is not to blame */
	{
		static const char *const recovered[] = { "429 Rate limit reached", "", NULL };

		dir = api_log(recovered);
		at.api_dir = dir;
		judge(&at, "", warnings, &res);
		assert_int_equal(res.verdict, AGENT_TIMED_OUT);
		agent_result_release(&res);
		free(dir);
	}
}

/* A result: its stats are the requests; an [API Error: answer is the
 * provider's failure; is_error is the agent's own, in its words. */
static void test_results(void **state)
{
	struct agent_attempt at = { .exit_code = 0 };
	struct agent_result res;

	(void)state;
	judge(&at, "[{\"type\":\"result\",\"is_error\":false,\"result\":\"hi\","
	      "\"stats\":{\"models\":{\"mock\":{\"api\":{\"totalRequests\":2}}}}}]", warnings, &res);
	assert_int_equal(res.verdict, AGENT_OK);
	assert_null(res.reason);
	assert_int_equal(res.requests, 2);
	agent_result_release(&res);

	judge(&at, "[{\"type\":\"result\",\"is_error\":false,\"result\":\"[API Error: 500 "
	      "Internal]\\nPlease try again.\"}]", warnings, &res);
	assert_int_equal(res.verdict, AGENT_API_ERROR);
	assert_string_equal(res.reason, "API error: 500 Internal");
	agent_result_release(&res);

	at.exit_code = 1;
	judge(&at, "[{\"type\":\"result\",\"is_error\":true,\"error\":{\"message\":\"[API Error: "
	      "429 Rate limit reached (mock)]\\nPossible quota limitations\"}}]", warnings, &res);
	assert_int_equal(res.verdict, AGENT_RATE_LIMITED);
	assert_string_equal(res.reason, "rate limited: 429 Rate limit reached (mock)");
	assert_false(res.cut_short);
	agent_result_release(&res);

	judge(&at, "[{\"type\":\"result\",\"is_error\":true,\"error\":{\"message\":\"No auth type "
	      "is selected.\\nMore.\"}}]", warnings, &res);
	assert_int_equal(res.verdict, AGENT_FAILED);
	assert_string_equal(res.reason, "No auth type is selected.");
	agent_result_release(&res);
}

static void command_of(struct command *cmd, const char *const *argv)
{
	*cmd = (struct command)COMMAND_INIT;
	for (int i = 0; argv[i]; i++)
		strvec_push(&cmd->argv, argv[i]);
	strvec_push(&cmd->env, "PATH=/bin");
	strvec_push(&cmd->env, "QWEN_CODE_UNATTENDED_RETRY=1");
	strvec_push(&cmd->env, "HOME=/h");
}

/* The program called qwen gets --max-wall-time (a third under the
 * timeout, at most a minute under) and the request log, right after
 * argv[0]; a flag already there is left alone; another program gets no
 * flags; the retry-for-ever variable goes either way. */
static void test_bound_agent(void **state)
{
	static const char *const argv[] = { "/opt/bin/qwen", "-o", "json", "the prompt", NULL };
	static const char *const own[] = { "qwen", "--max-wall-time=5m", "-o", "json", "p", NULL };
	static const char *const wrapper[] = { "my-agent", "-o", "json", "p", NULL };
	struct command cmd;
	const char *argv0;
	char *dir;

	(void)state;
	command_of(&cmd, argv);
	argv0 = cmd.argv.v[0];
	dir = worker_bound_agent(&cmd, &qwen, 30000);
	assert_non_null(dir);
	assert_int_equal(cmd.argv.nr, 9);
	assert_ptr_equal(cmd.argv.v[0], argv0); /* a caller may hold it */
	assert_string_equal(cmd.argv.v[1], "--max-wall-time");
	assert_string_equal(cmd.argv.v[2], "20s");
	assert_string_equal(cmd.argv.v[3], "--openai-logging");
	assert_string_equal(cmd.argv.v[4], "--openai-logging-dir");
	assert_string_equal(cmd.argv.v[5], dir);
	assert_string_equal(cmd.argv.v[8], "the prompt");
	assert_null(cmd.argv.v[9]);
	assert_int_equal(cmd.env.nr, 2);
	assert_string_equal(cmd.env.v[1], "HOME=/h");
	assert_null(cmd.env.v[2]);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
	command_release(&cmd);

	command_of(&cmd, argv);
	dir = worker_bound_agent(&cmd, &qwen, WORKER_AGENT_TIMEOUT_MS);
	assert_string_equal(cmd.argv.v[2], "540s");
	rmdir(dir);
	free(dir);
	command_release(&cmd);

	command_of(&cmd, own);
	dir = worker_bound_agent(&cmd, &qwen, 30000);
	assert_int_equal(cmd.argv.nr, 8);
	assert_string_equal(cmd.argv.v[1], "--openai-logging");
	assert_string_equal(cmd.argv.v[4], "--max-wall-time=5m");
	rmdir(dir);
	free(dir);
	command_release(&cmd);

	command_of(&cmd, wrapper);
	assert_null(worker_bound_agent(&cmd, &qwen, 30000));
	assert_int_equal(cmd.argv.nr, 4);
	assert_int_equal(cmd.env.nr, 2);
	command_release(&cmd);
}

/* qwen's -o json result carries its usage and stats: requests summed
 * over models, tokens as given; what it leaves out stays unknown. */
static void test_usage(void **state)
{
	struct agent_result res;
	static const char out[] = "[{\"type\":\"result\",\"is_error\":false,\"result\":\"hi\","
		"\"usage\":{\"input_tokens\":1200,\"output_tokens\":34,\"total_tokens\":1234},"
		"\"stats\":{\"models\":{\"a\":{\"api\":{\"totalRequests\":2}},"
		"\"b\":{\"api\":{\"totalRequests\":1}}}}}]";

	(void)state;
	worker_parse_qwen_json(out, sizeof(out) - 1, &res);
	assert_true(res.parsed);
	assert_int_equal(res.requests, 3);
	assert_int_equal(res.input_tokens, 1200);
	assert_int_equal(res.output_tokens, 34);
	assert_int_equal(res.total_tokens, 1234);
	agent_result_release(&res);
	/* no usage, a negative count, a string: unknown, never 0 */
	{
		static const char bad[] = "[{\"type\":\"result\",\"result\":\"hi\",\"usage\":"
					  "{\"input_tokens\":-5,\"output_tokens\":\"7\"}}]";

		worker_parse_qwen_json(bad, sizeof(bad) - 1, &res);
		assert_true(res.parsed);
		assert_int_equal(res.requests, -1);
		assert_int_equal(res.input_tokens, -1);
		assert_int_equal(res.output_tokens, -1);
		assert_int_equal(res.total_tokens, -1);
		agent_result_release(&res);
	}
}

/* qwen's tool_use blocks become tool calls as the ACP path reports
 * them; a tool_result ends one, permission_denials name a refusal; a
 * call without a result stays pending, and a block of another shape is
 * passed over. */
static void test_tools(void **state)
{
	struct agent_result res;
	static const char out[] = "[{\"type\":\"system\",\"subtype\":\"init\"},"
		"{\"type\":\"assistant\",\"message\":{\"content\":["
		"{\"type\":\"tool_use\",\"id\":\"c0\",\"name\":\"run_shell_command\","
		"\"input\":{\"command\":\"make test\",\"description\":\"run the tests\"}},"
		"{\"type\":\"tool_use\",\"id\":\"c1\",\"name\":\"write_file\","
		"\"input\":{\"file_path\":\"/p/a.c\",\"content\":\"x\"}},"
		"{\"type\":\"tool_use\",\"id\":\"c2\",\"name\":\"grep_search\","
		"\"input\":{\"pattern\":\"TODO\"}},"
		"{\"type\":\"tool_use\",\"id\":\"c3\",\"name\":\"todo_write\",\"input\":7},"
		"{\"type\":\"text\",\"text\":\"hm\"}, 12]}},"
		"{\"type\":\"user\",\"message\":{\"content\":["
		"{\"type\":\"tool_result\",\"tool_use_id\":\"c0\",\"is_error\":false},"
		"{\"type\":\"tool_result\",\"tool_use_id\":\"c1\",\"is_error\":true},"
		"{\"type\":\"tool_result\",\"tool_use_id\":\"nope\",\"is_error\":true}]}},"
		"{\"type\":\"result\",\"is_error\":false,\"result\":\"done\","
		"\"permission_denials\":[{\"tool_name\":\"write_file\",\"tool_use_id\":\"c1\"}]}]";

	(void)state;
	worker_parse_qwen_json(out, sizeof(out) - 1, &res);
	assert_true(res.parsed);
	assert_int_equal(res.nr_tools, 4);
	assert_string_equal(res.tools[0].id, "c0");
	assert_string_equal(res.tools[0].kind, "execute");
	assert_string_equal(res.tools[0].title, "make test (run the tests)");
	assert_string_equal(res.tools[0].target, "make test");
	assert_string_equal(res.tools[0].status, "completed");
	assert_null(res.tools[0].decision);
	assert_string_equal(res.tools[1].kind, "edit");
	assert_string_equal(res.tools[1].target, "/p/a.c");
	assert_string_equal(res.tools[1].status, "failed");
	assert_string_equal(res.tools[1].decision, "denied: qwen's approval mode refused it");
	assert_string_equal(res.tools[2].kind, "search");
	assert_string_equal(res.tools[2].title, "TODO");
	assert_null(res.tools[2].target);
	assert_string_equal(res.tools[2].status, "pending");
	assert_string_equal(res.tools[3].kind, "other");
	assert_string_equal(res.tools[3].title, "todo_write");
	agent_result_release(&res);
	/* no result event (qwen cut short): the calls made are still told */
	{
		static const char cut[] = "[{\"type\":\"assistant\",\"message\":{\"content\":["
			"{\"type\":\"tool_use\",\"name\":\"read_file\","
			"\"input\":{\"absolute_path\":\"/p/b.c\"}}]}}]";

		worker_parse_qwen_json(cut, sizeof(cut) - 1, &res);
		assert_false(res.parsed);
		assert_int_equal(res.nr_tools, 1);
		assert_null(res.tools[0].id);
		assert_string_equal(res.tools[0].kind, "read");
		assert_string_equal(res.tools[0].target, "/p/b.c");
		agent_result_release(&res);
	}
}

/* A request-log folder is named for squad's pid; the sweep removes,
 * files and all, only folders of that shape whose squad is gone: not
 * its own, not a living process's, not a file or a link of that name,
 * nor a name of another shape. */
static void test_sweep_api_dirs(void **state)
{
	char tmp[] = "/tmp/squad-test-sweep.XXXXXX", path[256], mine[64];
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	struct command cmd;
	struct stat sb;
	pid_t dead;
	char *dir;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	setenv("TMPDIR", tmp, 1);
	dead = fork();
	assert_true(dead >= 0);
	if (!dead)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);

	/* its own name */
	{
		static const char *const argv[] = { "qwen", "-o", "json", "p", NULL };

		command_of(&cmd, argv);
		dir = worker_bound_agent(&cmd, &qwen, 30000);
		snprintf(mine, sizeof(mine), "%s/squad-api-%ld-", tmp, (long)getpid());
		assert_non_null(dir);
		assert_int_equal(strncmp(dir, mine, strlen(mine)), 0);
		assert_int_equal(strlen(dir), strlen(mine) + 6);
		command_release(&cmd);
	}
	snprintf(path, sizeof(path), "%s/squad-api-%ld-aBcDeF", tmp, (long)dead);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-aBcDeF/openai-1.json", tmp, (long)dead);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/squad-api-1-aBcDeF", tmp); /* pid 1 lives */
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-short", tmp, (long)dead);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/squad-api-aBcDeF", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-fIlE00", tmp, (long)dead);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/squad-api-%ld-lInK00", tmp, (long)dead);
	assert_int_equal(symlink(tmp, path), 0);

	assert_int_equal(worker_sweep_api_dirs(), 1);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-aBcDeF", tmp, (long)dead);
	assert_int_not_equal(lstat(path, &sb), 0);
	assert_int_equal(stat(dir, &sb), 0);
	snprintf(path, sizeof(path), "%s/squad-api-1-aBcDeF", tmp);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-short", tmp, (long)dead);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/squad-api-aBcDeF", tmp);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-fIlE00", tmp, (long)dead);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/squad-api-%ld-lInK00", tmp, (long)dead);
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(worker_sweep_api_dirs(), 0);

	free(dir);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmp);
	assert_int_equal(system(path), 0);
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_exit_code),
		cmocka_unit_test(test_tools),
		cmocka_unit_test(test_sweep_api_dirs),
		cmocka_unit_test(test_rate_limited_until_wall_time),
		cmocka_unit_test(test_killed_at_timeout),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_bound_agent),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
