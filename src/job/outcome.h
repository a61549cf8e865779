/* outcome.h - the failure model in code: what one finished attempt of a
 * task means, and what comes next.
 *
 * README's "When things fail" is the table; this is the one place that
 * decides it. The scheduler (run.c) gathers the facts of an attempt (how
 * its process ended, whether its output met `expect`, the agent's
 * verdict, whether its output reads as a rate limit) into a struct
 * attempt, with the task's history in a struct attempt_history, calls
 * outcome_decide() and does what it is told: finish the task with a
 * status, start another attempt at once, or wait and start one.
 *
 * Pure: no libuv, no I/O, no clock; the caller measures.
 */
#ifndef SQUAD_OUTCOME_H
#define SQUAD_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

#include "model/regex.h"
#include "job/result.h"
#include "model/squadfile.h"
#include "util/strbuf.h"

/* Rate-limited attempts are not counted against `retries`; they wait
 * 1 s, 2 s, 4 s ... (at most OUTCOME_BACKOFF_MAX_MS), and after this
 * many waits, or when the next wait would pass the task's timeout, the
 * task fails as rate limited. */
#define OUTCOME_RATE_LIMIT_TRIES 5
#define OUTCOME_BACKOFF_MAX_MS 60000L
/* On success, only an answer this short can be a quota message: a long
 * answer may well discuss rate limits. */
#define OUTCOME_RATE_LIMIT_ANSWER_MAX 512

/* What a 429 or a spent quota looks like, from qwen and OpenAI-style
 * APIs: the pattern for workers without `rate_limit_pattern`. */
extern const char outcome_rate_limit_pattern[];

enum attempt_end {
	ATTEMPT_EXITED,      /* the process exited: exit_code */
	ATTEMPT_SIGNALED,    /* a signal ended it: term_signal */
	ATTEMPT_TIMED_OUT,   /* squad killed it at its timeout */
	ATTEMPT_INTERRUPTED, /* squad was interrupted (SIGINT, SIGTERM) while it ran */
	ATTEMPT_NOT_STARTED, /* no process: program not found, cannot spawn,
			      * budget exhausted; why in start_error */
};

enum expect_verdict {
	EXPECT_NONE,    /* no `expect`, or not checked (the attempt failed) */
	EXPECT_MATCHED,
	EXPECT_MISSED,
};

/* The facts of one attempt. Strings are borrowed. */
struct attempt {
	enum attempt_end end;
	int exit_code;
	int term_signal;
	long timeout_ms;           /* the effective timeout, for the reason */
	enum expect_verdict expect;
	bool agent_failed;         /* an agent said is_error, or its output
				    * was not the document it should be */
	const char *agent_reason;  /* the agent's own words (an API error), or NULL;
				    * for a timed-out attempt, what its provider
				    * answered until then, when known */
	bool rate_limited;         /* its output reads as a rate limit */
	const char *start_error;   /* ATTEMPT_NOT_STARTED: why, or NULL */
	const char *change_error;  /* an isolated task whose change could not
				    * be taken (isolate.h): why, or NULL */	const char *refused;       /* an agent's tool call refused in this attempt
				    * (squad's policy, or the CLI's own approval
				    * mode), in words, or NULL */
	bool no_answer;            /* an agent ended with no answer text */
};

/* The task's side: its policy and what came before. */
struct attempt_history {
	unsigned retries;       /* the task's `retries` */
	bool escalate;          /* the task's `escalate` */
	long timeout_ms;        /* effective timeout, 0 = none */
	unsigned attempts;      /* started so far, this one included */
	unsigned rate_limited;  /* of those, rate limited before this one */
	long elapsed_ms;        /* since its first attempt started */
	bool stopping;          /* squad is stopping: no new attempt */
};

enum outcome_next {
	OUTCOME_FINISH,   /* the task is over with `status` */
	OUTCOME_RETRY,    /* start another attempt now (counted against retries) */
	OUTCOME_BACK_OFF, /* rate limited: start another after delay_ms, not counted */
};

struct outcome {
	enum outcome_next next;
	/* OUTCOME_FINISH: TASK_OK, TASK_FAILED, TASK_TIMED_OUT,
	 * TASK_INTERRUPTED or TASK_ESCALATED; otherwise how this attempt
	 * ended (TASK_FAILED, TASK_TIMED_OUT) */
	enum task_status status;
	long delay_ms;          /* OUTCOME_BACK_OFF */
	struct strbuf reason;   /* why it failed, in words; empty when it did
				 * not, or when the exit code says it all */
};

#define OUTCOME_INIT { OUTCOME_FINISH, TASK_PENDING, 0, STRBUF_INIT }

/* Judge attempt `a` of a task with history `h` into `o` (its reason
 * reset first). Never fails. */
void outcome_decide(const struct attempt *a, const struct attempt_history *h,
		    struct outcome *o);

void outcome_release(struct outcome *o);

/* What becomes of the patch of an isolated task (changes.h). */
enum change_fate {
	CHANGE_APPLY,   /* applied to the user's tree */
	CHANGE_REVIEW,  /* kept, with a review entry for the tactician */
	CHANGE_KEEP,    /* kept (squad diff, squad apply), nothing else */
	CHANGE_DISCARD, /* thrown away */
};

/* The fate of the patch of a task that finished with `status` and
 * wants `wanted` (changes:). `conflicted`: an apply was tried and the
 * patch did not apply to the user's tree as it is (or could not be
 * written); it never overwrites, it turns into a review. A failed,
 * timed out or interrupted task's patch is kept, never applied. */
enum change_fate outcome_change(enum task_changes wanted, enum task_status status,
				bool conflicted);

/* Does an attempt's output read as a rate limit by `re`? `answer` is an
 * agent's final text (or NULL), `output` its other output. When the
 * attempt otherwise succeeded only a short answer counts. */
bool outcome_reads_rate_limited(const struct regex *re, bool succeeded, const char *answer,
				const char *output, size_t output_len);

#endif
