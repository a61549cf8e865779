/* outcome.c - the failure model: one attempt judged; see outcome.h. */
#include "job/outcome.h"

#include <stdbool.h>
#include <string.h>

const char outcome_rate_limit_pattern[] =
	"(?i)\\b429\\b|too many requests|rate[ _-]?limit(ed)? (exceeded|reached)|"
	"quota (exceeded|limit)|possible quota limitations|insufficient_quota|"
	"resource[_ ]exhausted";

/* How this attempt ended, before retries are weighed; reason filled. */
static enum task_status judge(const struct attempt *a, struct strbuf *reason, bool *final)
{
	switch (a->end) {
	case ATTEMPT_INTERRUPTED:
		return TASK_INTERRUPTED;
	case ATTEMPT_NOT_STARTED:
		/* another try finds the same missing program, the same
		 * spent budget, the same folder outside the repository */
		*final = true;
		strbuf_addstr(reason, a->start_error ? a->start_error : "could not start");
		return TASK_FAILED;
	case ATTEMPT_TIMED_OUT:
		if (a->agent_reason) {
			/* what the agent's provider kept answering until then
			 * ("rate limited: 429 ... (killed at its timeout)") says
			 * more than the timeout */
			strbuf_addstr(reason, a->agent_reason);
			return TASK_TIMED_OUT;
		}
		strbuf_addstr(reason, "timed out");
		if (a->timeout_ms > 0)
			strbuf_addf(reason, " after %.1fs", (double)a->timeout_ms / 1000);
		return TASK_TIMED_OUT;
	case ATTEMPT_SIGNALED:
		strbuf_addf(reason, "killed by signal %d (%s)", a->term_signal,
			    strsignal(a->term_signal));
		return TASK_FAILED;
	case ATTEMPT_EXITED:
		break;
	}
	if (a->exit_code) {
		/* an agent's words say more than its exit code; a plain
		 * command's exit code is in the result already */
		if (a->agent_reason)
			strbuf_addstr(reason, a->agent_reason);
		return TASK_FAILED;
	}
	if (a->agent_failed) {
		strbuf_addstr(reason, a->agent_reason ? a->agent_reason : "the agent failed");
		return TASK_FAILED;
	}
	if (a->refused && a->no_answer) {
		/* it stopped where it was refused (qwen and opencode end
		 * the turn there): a success would say the work is done;
		 * another try asks for the same leave */
		*final = true;
		strbuf_addf(reason, "the agent gave no answer after a tool call was refused (%s)",
			    a->refused);
		return TASK_FAILED;
	}
	if (a->expect == EXPECT_MISSED) {
		strbuf_addstr(reason, "the output does not match 'expect'");
		return TASK_FAILED;
	}
	if (a->change_error) {
		/* the work is done but lost: a success would hide that;
		 * another try meets the same broken repository or disk */
		*final = true;
		strbuf_addf(reason, "its change could not be taken from its worktree: %s",
			    a->change_error);
		return TASK_FAILED;
	}
	return TASK_OK;
}

/* A rate limit: wait and try again, or give up as rate limited. */
static bool back_off(const struct attempt_history *h, struct outcome *o)
{
	unsigned n = h->rate_limited; /* waits so far */
	long delay = n >= 6 ? OUTCOME_BACKOFF_MAX_MS : 1000L << n;

	if (delay > OUTCOME_BACKOFF_MAX_MS)
		delay = OUTCOME_BACKOFF_MAX_MS;
	strbuf_reset(&o->reason);
	if (h->stopping) {
		strbuf_addstr(&o->reason, "rate limited when squad stopped");
		return false;
	}
	if (n >= OUTCOME_RATE_LIMIT_TRIES) {
		strbuf_addf(&o->reason, "rate limited: still so after %u waits", n);
		return false;
	}
	if (h->timeout_ms > 0 && h->elapsed_ms + delay >= h->timeout_ms) {
		strbuf_addf(&o->reason, "rate limited: the next try (in %lds) would pass "
			    "its timeout of %.1fs", delay / 1000, (double)h->timeout_ms / 1000);
		return false;
	}
	o->delay_ms = delay;
	strbuf_addstr(&o->reason, "rate limited");
	return true;
}

void outcome_decide(const struct attempt *a, const struct attempt_history *h,
		    struct outcome *o)
{
	enum task_status status;
	bool final = false;

	strbuf_reset(&o->reason);
	o->delay_ms = 0;
	o->next = OUTCOME_FINISH;
	status = judge(a, &o->reason, &final);
	o->status = status;
	if (status == TASK_INTERRUPTED)
		return;
	if (a->rate_limited && (a->end == ATTEMPT_EXITED || a->end == ATTEMPT_SIGNALED)) {
		/* a quota message may come as a success: it is none */
		o->status = TASK_FAILED;
		if (back_off(h, o)) {
			o->next = OUTCOME_BACK_OFF;
			return;
		}
		/* given up: retries would only meet the same limit */
		goto failed;
	}
	if (status == TASK_OK)
		return;
	if (final)
		goto failed;
	if (!h->stopping && h->attempts - h->rate_limited <= h->retries) {
		o->next = OUTCOME_RETRY;
		return;
	}
failed:
	if (h->escalate)
		o->status = TASK_ESCALATED;
}

void outcome_release(struct outcome *o)
{
	strbuf_release(&o->reason);
}

enum change_fate outcome_change(enum task_changes wanted, enum task_status status,
				bool conflicted)
{
	if (wanted == CHANGES_DISCARD)
		return CHANGE_DISCARD;
	if (status != TASK_OK)
		return CHANGE_KEEP;
	if (wanted == CHANGES_APPLY && !conflicted)
		return CHANGE_APPLY;
	return CHANGE_REVIEW;
}

bool outcome_reads_rate_limited(const struct regex *re, bool succeeded, const char *answer,
				const char *output, size_t output_len)
{
	if (!re)
		return false;
	if (succeeded) {
		if (!answer || strlen(answer) > OUTCOME_RATE_LIMIT_ANSWER_MAX)
			return false;
		return regex_match(re, answer, strlen(answer), NULL);
	}
	return (answer && regex_match(re, answer, strlen(answer), NULL)) ||
	       (output && regex_match(re, output, output_len, NULL));
}
