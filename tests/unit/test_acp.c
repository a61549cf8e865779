/* test_acp.c - the ACP client's side of a conversation, line by line:
 * what squad sends (initialize, session/new, set_mode, prompt, answers to
 * the agent's requests) and what it makes of what the agent sends
 * (chunks, usage, tool calls, permissions, noise, unknown ids). The
 * agent here is "detached": no process, its lines fed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "agents/acp.h"
#include "util/xalloc.h"

struct seen {
	int ready;
	int turns;
	struct strbuf log;
	struct strbuf answer;
	char stop[32];
	enum acp_end end;
	long in, out, total, requests;
	size_t nr_tools;
	char tool_detail[64], tool_status[32], tool_decision[128];
	int asked;
	enum acp_action last_action;
	bool allow;
};

static void on_ready(void *data, struct acp_agent *a)
{
	(void)a;
	((struct seen *)data)->ready++;
}

static void on_event(void *data, struct acp_agent *a, const struct acp_event *ev)
{
	struct seen *s = data;

	(void)a;
	if (ev->kind == ACP_EVENT_LOG)
		strbuf_addf(&s->log, "%s\n", ev->text);
}

static bool on_allow(void *data, struct acp_agent *a, const struct acp_request *req,
		     struct strbuf *why)
{
	struct seen *s = data;

	(void)a;
	s->asked++;
	s->last_action = req->action;
	strbuf_addstr(why, s->allow ? "the test allows it" : "the test denies it");
	return s->allow;
}

static void on_turn(void *data, struct acp_agent *a, const struct acp_turn *t)
{
	struct seen *s = data;

	(void)a;
	s->turns++;
	s->end = t->end;
	strbuf_reset(&s->answer);
	strbuf_addstr(&s->answer, t->answer);
	snprintf(s->stop, sizeof(s->stop), "%s", t->stop_reason ? t->stop_reason : "");
	s->in = t->input_tokens;
	s->out = t->output_tokens;
	s->total = t->total_tokens;
	s->requests = t->requests;
	s->nr_tools = t->nr_tools;
	if (t->nr_tools) {
		snprintf(s->tool_detail, sizeof(s->tool_detail), "%s",
			 t->tools[0].detail ? t->tools[0].detail : "");
		snprintf(s->tool_status, sizeof(s->tool_status), "%s",
			 t->tools[0].status ? t->tools[0].status : "");
		snprintf(s->tool_decision, sizeof(s->tool_decision), "%s",
			 t->tools[0].decision ? t->tools[0].decision : "");
	}
}

static struct seen seen;
static struct acp_callbacks callbacks = {
	.ready = on_ready, .event = on_event, .allow = on_allow, .turn_done = on_turn,
	.data = &seen,
};

static void feed(struct acp_agent *a, const char *line)
{
	acp_agent_feed(a, line, strlen(line));
	acp_agent_feed(a, "\n", 1);
}

/* The last line squad sent, parsed. */
static json_t *last_sent(struct acp_agent *a)
{
	const char *all = acp_agent_sent(a), *end = all + strlen(all), *start;

	assert_true(end > all && end[-1] == '\n');
	start = end - 1;
	while (start > all && start[-1] != '\n')
		start--;
	return json_loadb(start, (size_t)(end - start - 1), 0, NULL);
}

static const char *method_of(json_t *msg)
{
	return json_string_value(json_object_get(msg, "method"));
}

/* A detached agent brought to the point where the prompt has been sent
 * in session "s1". */
static struct acp_agent *prompted(void)
{
	struct acp_agent *a;
	json_t *m;

	strbuf_release(&seen.log);
	strbuf_release(&seen.answer);
	memset(&seen, 0, sizeof(seen));
	strbuf_init(&seen.log, 0);
	strbuf_init(&seen.answer, 0);
	a = acp_agent_new_detached(&callbacks);
	m = last_sent(a);
	assert_string_equal(method_of(m), "initialize");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"),
							    "protocolVersion")), 1);
	json_decref(m);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":1}}");
	assert_int_equal(seen.ready, 1);
	assert_true(acp_agent_is_ready(a));
	assert_int_equal(acp_agent_prompt(a, "/tmp/work", "say hi"), 0);
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/new");
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"), "cwd")),
			    "/tmp/work");
	json_decref(m);
	/* an agent that starts in a mode that approves by itself is put in
	 * the one that asks */
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"sessionId\":\"s1\",\"modes\":"
		"{\"currentModeId\":\"auto\",\"availableModes\":[{\"id\":\"default\"},{\"id\":\"auto\"}]}}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/set_mode");
	json_decref(m);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/prompt");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(m, "params"), "prompt"), 0), "text")), "say hi");
	json_decref(m);
	return a;
}

static void a_plain_answer_with_usage(void **state)
{
	struct acp_agent *a = prompted();

	(void)state;
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\","
		"\"update\":{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"Hel\"}}}}");
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\","
		"\"update\":{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"lo.\"},"
		"\"_meta\":{\"usage\":{\"inputTokens\":100,\"outputTokens\":3,\"totalTokens\":103}}}}}");
	/* another session's update is none of this turn's */
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"other\","
		"\"update\":{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"X\"}}}}");
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\","
		"\"update\":{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"\"},"
		"\"_meta\":{\"usage\":{\"inputTokens\":10,\"outputTokens\":2,\"totalTokens\":12}}}}}");
	assert_int_equal(seen.turns, 0);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"stopReason\":\"end_turn\"}}");
	assert_int_equal(seen.turns, 1);
	assert_int_equal(seen.end, ACP_END_STOPPED);
	assert_string_equal(seen.stop, "end_turn");
	assert_string_equal(seen.answer.buf, "Hello.");
	assert_int_equal(seen.in, 110);
	assert_int_equal(seen.out, 5);
	assert_int_equal(seen.total, 115);
	assert_int_equal(seen.requests, 2);
	assert_false(acp_agent_is_busy(a));
	/* warm: the next turn opens a new session */
	assert_int_equal(acp_agent_prompt(a, "/tmp/work2", "again"), 0);
	acp_agent_free(a);
}

static void a_permission_is_asked_and_answered(void **state)
{
	struct acp_agent *a;
	json_t *m, *outcome;

	(void)state;
	a = prompted();
	seen.allow = false;
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\","
		"\"update\":{\"sessionUpdate\":\"tool_call\",\"toolCallId\":\"c1\",\"status\":\"pending\","
		"\"title\":\"Shell\",\"kind\":\"execute\",\"rawInput\":{}}}}");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"session/request_permission\",\"params\":{"
		"\"sessionId\":\"s1\",\"options\":[{\"optionId\":\"yes\",\"kind\":\"allow_once\"},"
		"{\"optionId\":\"always\",\"kind\":\"allow_always\"},{\"optionId\":\"no\",\"kind\":\"reject_once\"}],"
		"\"toolCall\":{\"toolCallId\":\"c1\",\"kind\":\"execute\",\"title\":\"touch x\","
		"\"rawInput\":{\"command\":\"touch canary\"}}}}");
	assert_int_equal(seen.asked, 1);
	assert_int_equal(seen.last_action, ACP_EXECUTE);
	m = last_sent(a);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 0);
	outcome = json_object_get(json_object_get(m, "result"), "outcome");
	assert_string_equal(json_string_value(json_object_get(outcome, "optionId")), "no");
	json_decref(m);
	assert_non_null(strstr(seen.log.buf, "denied execute 'touch canary': the test denies it"));
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\","
		"\"update\":{\"sessionUpdate\":\"tool_call_update\",\"toolCallId\":\"c1\",\"status\":\"failed\"}}}");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"stopReason\":\"end_turn\"}}");
	assert_int_equal(seen.nr_tools, 1);
	assert_string_equal(seen.tool_detail, "touch canary");
	assert_string_equal(seen.tool_status, "failed");
	assert_string_equal(seen.tool_decision, "denied: the test denies it");
	acp_agent_free(a);
}

static void fs_requests_follow_the_policy(void **state)
{
	struct acp_agent *a;
	char path[] = "/tmp/test_acp_XXXXXX";
	char line[512];
	int fd = mkstemp(path);
	json_t *m;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "one\ntwo\nthree\n", 14), 14);
	close(fd);
	a = prompted();
	seen.allow = true;
	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"method\":\"fs/read_text_file\","
		 "\"params\":{\"sessionId\":\"s1\",\"path\":\"%s\",\"line\":2,\"limit\":1}}", path);
	feed(a, line);
	m = last_sent(a);
	assert_string_equal(json_string_value(json_object_get(m, "id")), "r1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "result"),
							      "content")), "two\n");
	json_decref(m);
	seen.allow = false;
	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"fs/write_text_file\","
		 "\"params\":{\"sessionId\":\"s1\",\"path\":\"%s\",\"content\":\"gone\"}}", path);
	feed(a, line);
	m = last_sent(a);
	assert_non_null(json_object_get(m, "error"));
	json_decref(m);
	/* the file is as it was */
	{
		char buf[32] = { 0 };

		fd = open(path, O_RDONLY);
		assert_int_equal(read(fd, buf, sizeof(buf) - 1), 14);
		close(fd);
		assert_string_equal(buf, "one\ntwo\nthree\n");
	}
	/* an unknown method of the agent's gets "method not found" */
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"craft/drainMidTurnQueue\",\"params\":{}}");
	m = last_sent(a);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "error"), "code")),
			 -32601);
	json_decref(m);
	unlink(path);
	acp_agent_free(a);
}

static void noise_and_strangers_are_logged_not_fatal(void **state)
{
	struct acp_agent *a = prompted();

	(void)state;
	feed(a, "Loading extensions... done");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}");
	feed(a, "[1,2,3]");
	assert_non_null(strstr(seen.log.buf, "not JSON-RPC"));
	assert_non_null(strstr(seen.log.buf, "(id 99)"));
	assert_int_equal(seen.turns, 0);
	/* the turn still ends when its answer comes */
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"stopReason\":\"refusal\"}}");
	assert_int_equal(seen.turns, 1);
	assert_string_equal(seen.stop, "refusal");
	acp_agent_free(a);
}

static void a_prompt_error_ends_the_turn(void **state)
{
	struct acp_agent *a = prompted();

	(void)state;
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32603,\"message\":\"429 Too Many Requests\"}}");
	assert_int_equal(seen.turns, 1);
	assert_int_equal(seen.end, ACP_END_ERROR);
	acp_agent_free(a);
}

/* A spare session: opened once the turn's prompt has gone, put in the
 * asking mode, and taken by the next turn in the same folder, whose
 * prompt then goes at once; its updates are none of the running turn's;
 * a turn in another folder opens its own; a spare asked for while the
 * next turn waits is used as soon as it is ready; one that fails leaves
 * the turn to open its own. */
static void a_spare_session_serves_the_next_turn(void **state)
{
	struct acp_agent *a = prompted();
	json_t *m;

	(void)state;
	acp_agent_preopen(a, "/tmp/work");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/new");
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 5);
	json_decref(m);
	/* a second ask while one is there: nothing more */
	acp_agent_preopen(a, "/tmp/work");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"sessionId\":\"s2\",\"modes\":"
		"{\"currentModeId\":\"auto\",\"availableModes\":[{\"id\":\"default\"}]}}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/set_mode");
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"),
							      "sessionId")), "s2");
	json_decref(m);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}");
	/* the spare's chatter is not the turn's */
	feed(a, "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s2\","
		"\"update\":{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"X\"}}}}");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"stopReason\":\"end_turn\"}}");
	assert_int_equal(seen.turns, 1);
	assert_string_equal(seen.answer.buf, "");
	/* the next turn in the same folder: its prompt at once, in s2 */
	assert_int_equal(acp_agent_prompt(a, "/tmp/work", "next"), 0);
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/prompt");
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"),
							      "sessionId")), "s2");
	json_decref(m);
	/* a spare for this folder (8), a turn in another: it opens its own */
	acp_agent_preopen(a, "/tmp/work");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"stopReason\":\"end_turn\"}}");
	assert_int_equal(seen.turns, 2);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"sessionId\":\"s3\"}}");
	assert_int_equal(acp_agent_prompt(a, "/tmp/elsewhere", "there"), 0);
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/new");
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"), "cwd")),
			    "/tmp/elsewhere");
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 9);
	json_decref(m);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"sessionId\":\"s4\"}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/prompt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"),
							      "sessionId")), "s4");
	json_decref(m);
	/* asked for after the prompt went (11), still pending when the turn
	 * ends: the next turn waits for it, then prompts in it */
	acp_agent_preopen(a, "/tmp/elsewhere");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":{\"stopReason\":\"end_turn\"}}");
	assert_int_equal(seen.turns, 3);
	assert_int_equal(acp_agent_prompt(a, "/tmp/elsewhere", "waiting"), 0);
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/new"); /* the spare's */
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 11);
	json_decref(m);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":{\"sessionId\":\"s5\"}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/prompt");
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 12);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"),
							      "sessionId")), "s5");
	json_decref(m);
	/* a spare that fails (13): the next turn opens its own (14) */
	acp_agent_preopen(a, "/tmp/elsewhere");
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"stopReason\":\"end_turn\"}}");
	assert_int_equal(seen.turns, 4);
	assert_int_equal(acp_agent_prompt(a, "/tmp/elsewhere", "after a failure"), 0);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":13,\"error\":{\"code\":-32603,\"message\":\"no\"}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/new");
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 14);
	json_decref(m);
	feed(a, "{\"jsonrpc\":\"2.0\",\"id\":14,\"result\":{\"sessionId\":\"s6\"}}");
	m = last_sent(a);
	assert_string_equal(method_of(m), "session/prompt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "params"),
							      "sessionId")), "s6");
	json_decref(m);
	acp_agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_spare_session_serves_the_next_turn),
		cmocka_unit_test(a_plain_answer_with_usage),
		cmocka_unit_test(a_permission_is_asked_and_answered),
		cmocka_unit_test(fs_requests_follow_the_policy),
		cmocka_unit_test(noise_and_strangers_are_logged_not_fatal),
		cmocka_unit_test(a_prompt_error_ends_the_turn),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	strbuf_release(&seen.log);
	strbuf_release(&seen.answer);
	return rc;
}
