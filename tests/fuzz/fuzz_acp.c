/* fuzz_acp.c - the ACP client's message reader: what an agent sends
 * squad during a turn (acp.h), after `initialize` was answered and a
 * prompt began (session "s").
 *
 * Byte 0 sets the size of the pieces the rest is fed in (1 + its low 7
 * bits), as a pipe might cut it; its high bit opens a spare session
 * (acp_agent_preopen(), request id 4) and starts a second turn once the
 * first has ended, which takes the spare when it is ready. The policy refuses everything, so no request of the
 * input touches a file. Besides crashes and leaks, it checks that every
 * line squad writes back is one JSON-RPC message that parses, and that
 * a turn ends at most once per prompt.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/acp.h"
#include "agents/jsonrpc.h"

static int turns;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_acp: %s\n", what);
	abort();
}

static bool deny(void *data, struct acp_agent *a, const struct acp_request *req,
		 struct strbuf *why)
{
	(void)data;
	(void)a;
	(void)req;
	strbuf_addstr(why, "fuzzing");
	return false;
}

static void turn_done(void *data, struct acp_agent *a, const struct acp_turn *t)
{
	(void)data;
	(void)a;
	if (!t->answer)
		fail("a turn without an answer string");
	turns++;
}

static void check_sent(const char *all)
{
	const char *p = all;

	while (*p) {
		const char *nl = strchr(p, '\n');
		struct jsonrpc_message m;
		struct strbuf err = STRBUF_INIT;

		if (!nl)
			fail("squad wrote a message without its newline");
		if (jsonrpc_parse(p, (size_t)(nl - p), &m, &err))
			fail("squad wrote a line that does not parse");
		jsonrpc_message_release(&m);
		strbuf_release(&err);
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
				   "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"sessionId\":\"s\"}}\n";
	struct acp_callbacks cb = { .allow = deny, .turn_done = turn_done };
	struct acp_agent *a;
	size_t piece;
	bool spare, second = false;

	if (!size)
		return 0;
	/* the first byte: the size of the pieces fed, and whether a spare
	 * session is opened (acp_agent_preopen(): id 4, after the prompt)
	 * and a second turn asked for once the first has ended */
	spare = data[0] & 0x80;
	piece = 1 + (data[0] & 0x7f);
	data++;
	size--;
	turns = 0;
	a = acp_agent_new_detached(&cb);
	acp_agent_feed(a, init, 37);
	if (acp_agent_prompt(a, "/nonexistent", "fuzz") < 0)
		fail("the prompt could not start");
	acp_agent_feed(a, init + 37, sizeof(init) - 1 - 37);
	if (spare)
		acp_agent_preopen(a, "/nonexistent");
	while (size) {
		size_t n = size < piece ? size : piece;

		acp_agent_feed(a, (const char *)data, n);
		data += n;
		size -= n;
		if (spare && turns == 1 && !second && acp_agent_is_ready(a) && !acp_agent_is_busy(a)) {
			second = true;
			if (acp_agent_prompt(a, "/nonexistent", "again") < 0)
				fail("the second prompt could not start");
		}
	}
	if (turns > 1 + second)
		fail("one prompt ended more than once");
	check_sent(acp_agent_sent(a));
	acp_agent_free(a);
	return 0;
}
