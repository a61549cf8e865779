/* test_outcome.c - the failure model, row by row: for each kind of
 * failure, what outcome_decide() says (status, retry, back-off, give up,
 * escalate, reason), and the rate-limit reading of an agent's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "job/outcome.h"

/* A task with `retries` that may or may not escalate, on its first
 * attempt, with no timeout. */
static struct attempt_history history(unsigned retries, bool escalate)
{
	struct attempt_history h = { .retries = retries, .escalate = escalate, .attempts = 1 };

	return h;
}

static struct attempt exited(int code)
{
	struct attempt a = { .end = ATTEMPT_EXITED, .exit_code = code };

	return a;
}

static void success_finishes_ok(void **state)
{
	struct attempt a = exited(0);
	struct attempt_history h = history(2, true);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_OK);
	assert_int_equal(o.reason.len, 0);
	a.expect = EXPECT_MATCHED;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_OK);
	outcome_release(&o);
}

static void non_zero_exit_is_retried_then_fails(void **state)
{
	struct attempt a = exited(3);
	struct attempt_history h = history(1, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_RETRY);
	assert_int_equal(o.status, TASK_FAILED);
	/* the exit code says it all: no words */
	assert_int_equal(o.reason.len, 0);
	h.attempts = 2;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	/* escalation changes the status, never the verdict */
	h.escalate = true;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_ESCALATED);
	assert_true(task_status_failed(o.status));
	outcome_release(&o);
}

static void signal_and_timeout(void **state)
{
	struct attempt a = { .end = ATTEMPT_SIGNALED, .exit_code = -1, .term_signal = SIGKILL };
	struct attempt_history h = history(0, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	assert_non_null(strstr(o.reason.buf, "killed by signal 9"));

	a.end = ATTEMPT_TIMED_OUT;
	a.timeout_ms = 2500;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_TIMED_OUT);
	assert_string_equal(o.reason.buf, "timed out after 2.5s");
	/* a timeout is retried like any failure */
	h.retries = 1;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_RETRY);
	h.escalate = true;
	h.attempts = 2;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_ESCALATED);
	assert_string_equal(o.reason.buf, "timed out after 2.5s");
	outcome_release(&o);
}

static void expect_mismatch_is_retried(void **state)
{
	struct attempt a = exited(0);
	struct attempt_history h = history(2, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	a.expect = EXPECT_MISSED;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_RETRY);
	assert_string_equal(o.reason.buf, "the output does not match 'expect'");
	h.attempts = 3;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	outcome_release(&o);
}

static void agent_error_carries_its_words(void **state)
{
	struct attempt a = exited(0);
	struct attempt_history h = history(0, true);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	a.agent_failed = true;
	a.agent_reason = "API Error: 500 internal server error";
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_ESCALATED);
	assert_string_equal(o.reason.buf, "API Error: 500 internal server error");
	a.agent_reason = NULL;
	outcome_decide(&a, &h, &o);
	assert_string_equal(o.reason.buf, "the agent failed");
	/* a non-zero exit of an agent: its words, not "exit code" */
	a = exited(41);
	a.agent_reason = "authentication failed";
	outcome_decide(&a, &h, &o);
	assert_string_equal(o.reason.buf, "authentication failed");
	outcome_release(&o);
}

static void not_started_is_never_retried(void **state)
{
	struct attempt a = { .end = ATTEMPT_NOT_STARTED, .exit_code = -1,
			     .start_error = "command not found: nosuch" };
	struct attempt_history h = history(5, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	assert_string_equal(o.reason.buf, "command not found: nosuch");
	h.escalate = true;
	a.start_error = "budget exhausted: worker 'qwen' has used 10 of its daily_limit";
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_ESCALATED);
	outcome_release(&o);
}

static void interrupted_is_not_a_failure_to_escalate(void **state)
{
	struct attempt a = { .end = ATTEMPT_INTERRUPTED, .exit_code = -1, .term_signal = SIGINT };
	struct attempt_history h = history(3, true);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_INTERRUPTED);
	outcome_release(&o);
}

static void stopping_means_no_retry(void **state)
{
	struct attempt a = exited(1);
	struct attempt_history h = history(3, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	h.stopping = true;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	a.rate_limited = true;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	outcome_release(&o);
}

/* The bug this replaced: after the back-off gave up, `retries` started
 * the task again at once, for ever. Now a rate limit waits 1, 2, 4, 8,
 * 16 s, not counted against retries, and then the task fails as rate
 * limited, escalated, with no retry. */
static void rate_limit_backs_off_then_gives_up(void **state)
{
	struct attempt a = exited(0);
	struct attempt_history h = history(2, true);
	struct outcome o = OUTCOME_INIT;
	long waits[] = { 1000, 2000, 4000, 8000, 16000 };

	(void)state;
	a.rate_limited = true;
	for (unsigned i = 0; i < OUTCOME_RATE_LIMIT_TRIES; i++) {
		h.attempts = i + 1;
		h.rate_limited = i;
		outcome_decide(&a, &h, &o);
		assert_int_equal(o.next, OUTCOME_BACK_OFF);
		assert_int_equal(o.delay_ms, waits[i]);
		assert_string_equal(o.reason.buf, "rate limited");
	}
	h.attempts = OUTCOME_RATE_LIMIT_TRIES + 1;
	h.rate_limited = OUTCOME_RATE_LIMIT_TRIES;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_ESCALATED);
	assert_non_null(strstr(o.reason.buf, "rate limited"));
	h.escalate = false;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_FAILED);
	outcome_release(&o);
}

static void rate_limit_never_waits_past_the_timeout(void **state)
{
	struct attempt a = exited(1);
	struct attempt_history h = history(0, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	a.rate_limited = true;
	h.timeout_ms = 10000;
	h.elapsed_ms = 8500;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_BACK_OFF);
	assert_int_equal(o.delay_ms, 1000);
	h.attempts = 2;
	h.rate_limited = 1;
	h.elapsed_ms = 9600; /* + 2 s would pass 10 s */
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	assert_non_null(strstr(o.reason.buf, "rate limited: the next try (in 2s) would pass its "
				    "timeout of 10.0s"));
	/* a timed-out attempt is a timeout, whatever its output said */
	a.end = ATTEMPT_TIMED_OUT;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_TIMED_OUT);
	outcome_release(&o);
}

/* Rate-limited attempts do not use up retries; real failures do. */
static void retries_count_only_real_failures(void **state)
{
	struct attempt a = exited(1);
	struct attempt_history h = history(1, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	h.attempts = 4;
	h.rate_limited = 3; /* 1 real attempt so far: 1 retry left */
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_RETRY);
	h.attempts = 5;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	outcome_release(&o);
}

static void reads_rate_limits(void **state)
{
	struct strbuf err = STRBUF_INIT;
	size_t off;
	struct regex *re = regex_compile(outcome_rate_limit_pattern, &err, &off);
	char long_answer[1024];

	(void)state;
	assert_non_null(re);
	/* a success whose short answer is a quota message */
	assert_true(outcome_reads_rate_limited(re, true, "Quota exceeded for today", NULL, 0));
	assert_false(outcome_reads_rate_limited(re, true, "The tests pass.", NULL, 0));
	/* a long answer may discuss rate limits: not one */
	memset(long_answer, 'a', sizeof(long_answer) - 1);
	long_answer[sizeof(long_answer) - 1] = '\0';
	memcpy(long_answer + 10, "429 too many requests", 21);
	assert_false(outcome_reads_rate_limited(re, true, long_answer, NULL, 0));
	/* a failure: its output is read too */
	assert_true(outcome_reads_rate_limited(re, false, NULL, "HTTP 429 Too Many Requests", 26));
	assert_false(outcome_reads_rate_limited(re, false, NULL, "segfault", 8));
	assert_false(outcome_reads_rate_limited(NULL, false, NULL, "429", 3));
	regex_free(re);
	strbuf_release(&err);
}

/* An isolated task whose change could not be taken: its work is lost,
 * so it failed, and another try meets the same repository. */
static void lost_change_fails_without_retry(void **state)
{
	struct attempt a = exited(0);
	struct attempt_history h = history(3, true);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	a.change_error = "cannot read the index";
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_ESCALATED);
	assert_non_null(strstr(o.reason.buf, "cannot read the index"));
	/* a failure of its own is judged first, and retried as always */
	a.exit_code = 1;
	h.escalate = false;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_RETRY);
	outcome_release(&o);
}

/* The fate of an isolated task's patch, row by row. */
/* An agent that ends its turn with no answer where one of its tool
 * calls was refused did not do the task: a failure, not retried (it
 * would ask for the same leave), escalated when the task says so. An
 * answer, or no refusal, and it is a success. */
static void refused_and_silent_fails_without_retry(void **state)
{
	struct attempt a = exited(0);
	struct attempt_history h = history(2, false);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	a.refused = "execute 'touch x': the task allows no commands";
	a.no_answer = true;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.next, OUTCOME_FINISH);
	assert_int_equal(o.status, TASK_FAILED);
	assert_string_equal(o.reason.buf, "the agent gave no answer after a tool call was "
			    "refused (execute 'touch x': the task allows no commands)");
	h.escalate = true;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_ESCALATED);
	a.no_answer = false;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_OK);
	a.no_answer = true;
	a.refused = NULL;
	outcome_decide(&a, &h, &o);
	assert_int_equal(o.status, TASK_OK);
	outcome_release(&o);
}

static void change_fates(void **state)
{
	(void)state;
	assert_int_equal(outcome_change(CHANGES_APPLY, TASK_OK, false), CHANGE_APPLY);
	assert_int_equal(outcome_change(CHANGES_APPLY, TASK_OK, true), CHANGE_REVIEW);
	assert_int_equal(outcome_change(CHANGES_REVIEW, TASK_OK, false), CHANGE_REVIEW);
	assert_int_equal(outcome_change(CHANGES_DISCARD, TASK_OK, false), CHANGE_DISCARD);
	assert_int_equal(outcome_change(CHANGES_APPLY, TASK_FAILED, false), CHANGE_KEEP);
	assert_int_equal(outcome_change(CHANGES_REVIEW, TASK_TIMED_OUT, false), CHANGE_KEEP);
	assert_int_equal(outcome_change(CHANGES_APPLY, TASK_INTERRUPTED, false), CHANGE_KEEP);
	assert_int_equal(outcome_change(CHANGES_DISCARD, TASK_FAILED, false), CHANGE_DISCARD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(success_finishes_ok),
		cmocka_unit_test(non_zero_exit_is_retried_then_fails),
		cmocka_unit_test(signal_and_timeout),
		cmocka_unit_test(expect_mismatch_is_retried),
		cmocka_unit_test(agent_error_carries_its_words),
		cmocka_unit_test(not_started_is_never_retried),
		cmocka_unit_test(interrupted_is_not_a_failure_to_escalate),
		cmocka_unit_test(stopping_means_no_retry),
		cmocka_unit_test(rate_limit_backs_off_then_gives_up),
		cmocka_unit_test(rate_limit_never_waits_past_the_timeout),
		cmocka_unit_test(retries_count_only_real_failures),
		cmocka_unit_test(reads_rate_limits),
		cmocka_unit_test(lost_change_fails_without_retry),
		cmocka_unit_test(refused_and_silent_fails_without_retry),
		cmocka_unit_test(change_fates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
