/* fuzz_qwen_json.c - the reader of qwen's `-o json` output.
 *
 * The input is an agent's stdout, byte for byte (a JSON array of events,
 * maybe after lines of noise). worker_parse_qwen_json() must never crash
 * or leak, and what it returns must hold together: an error is set
 * exactly when it failed, requests and tokens are -1 or counted (never
 * below), and the reason
 * worker_exit_reason() gives for a failure is a string. The same bytes
 * are then judged by worker_judge_agent() as both stdout and the stderr
 * that may end in qwen's `{"error":{...}}`, with the first byte as the
 * exit code: every verdict but AGENT_OK has a reason. Every tool call
 * read from the events has a kind and a status, the status one of
 * pending, completed, failed, and a decision only for a refusal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/squadfile.h"
#include "job/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker qwen = { .name = "qwen", .output = WORKER_OUTPUT_QWEN_JSON };
	struct agent_result res;
	char *reason;

	worker_parse_qwen_json((const char *)data, size, &res);
	if (!res.parsed && (!res.error || res.answer || res.requests != -1))
		abort(); /* unparsed: a reason, and nothing else */
	if (res.parsed && res.is_error && !res.error)
		abort(); /* a failure always says why */
	if (res.requests < -1 || res.input_tokens < -1 || res.output_tokens < -1 ||
	    res.total_tokens < -1)
		abort(); /* unknown is -1; another program's negative count is unknown */
	if (!res.parsed && (res.input_tokens != -1 || res.output_tokens != -1 ||
			    res.total_tokens != -1))
		abort();
	if (res.answer)
		(void)strlen(res.answer);
	if (res.nr_tools && !res.tools)
		abort();
	for (size_t i = 0; i < res.nr_tools; i++) {
		const struct task_tool *t = &res.tools[i];

		if (!t->kind || !t->status)
			abort();
		if (strcmp(t->status, "pending") && strcmp(t->status, "completed") &&
		    strcmp(t->status, "failed"))
			abort();
		if (t->decision && strncmp(t->decision, "denied: ", 8))
			abort();
		if (t->id)
			(void)strlen(t->id);
		if (t->title)
			(void)strlen(t->title);
		if (t->target)
			(void)strlen(t->target);
	}
	reason = worker_exit_reason(&qwen, size ? data[0] : 0, res.error);
	(void)strlen(reason);
	free(reason);
	agent_result_release(&res);

	{
		struct agent_attempt at = {
			.exit_code = size ? data[0] : 0, .timed_out = size > 1 && data[1] & 1,
			.out = (const char *)data, .out_len = size,
			.err = (const char *)data, .err_len = size,
		};

		worker_judge_agent(&qwen, &at, &res);
		if (res.verdict != AGENT_OK && res.verdict != AGENT_FAILED && !res.reason)
			abort(); /* rate limited, API error, timed out: says which */
		if (res.verdict == AGENT_FAILED && at.exit_code > 0 && !res.reason)
			abort();
		if (res.reason)
			(void)strlen(res.reason);
		agent_result_release(&res);
	}
	return 0;
}
