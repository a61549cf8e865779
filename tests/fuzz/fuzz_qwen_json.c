/* fuzz_qwen_json.c - the reader of qwen's `-o json` output.
 *
 * The input is an agent's stdout, byte for byte (a JSON array of events,
 * maybe after lines of noise). worker_parse_qwen_json() must never crash
 * or leak, and what it returns must hold together: an error is set
 * exactly when it failed, requests is -1 or counted, and the reason
 * worker_exit_reason() gives for a failure is a string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "squadfile.h"
#include "worker.h"

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
	if (res.answer)
		(void)strlen(res.answer);
	reason = worker_exit_reason(&qwen, size ? data[0] : 0, res.error);
	(void)strlen(reason);
	free(reason);
	agent_result_release(&res);
	return 0;
}
