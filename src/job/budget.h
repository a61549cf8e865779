/* budget.h - request (and token) budgets of agent workers, shared by
 * every squad.
 *
 * A worker's `daily_limit` and `per_minute` count model requests, per
 * worker name, in $XDG_STATE_HOME/squad/budget.json (default
 * ~/.local/state/squad/): one file for all repositories and all squad
 * processes, read and written under a file lock, replaced atomically.
 * A call reserves an estimate of its requests before it starts (qwen:
 * 2, its turn and its memory extractor) and is admitted only when that
 * estimate fits in what is left: a call the budget cannot afford never
 * starts. When it ends, what it really used (qwen reports its requests;
 * for a call that was killed, the model calls it logged) is settled
 * against the estimate, up or down. An attempt that never reports keeps
 * its estimate: every call is charged. The day is the local calendar
 * day: the count starts again at local midnight.
 *
 * The file may have been edited by hand. A number in it of any size is
 * kept within range: a count past LONG_MAX (1e300, 2^63) is LONG_MAX, so
 * it exhausts any daily_limit, and sums stop there; a negative count is
 * 0; a start time in the future is now. A file that is not a JSON object
 * is an error (BUDGET_ERROR, saying so), never a silent fresh start.
 */
#ifndef SQUAD_BUDGET_H
#define SQUAD_BUDGET_H

#include <stdbool.h>

#include "util/strbuf.h"

enum budget_answer {
	BUDGET_GRANTED,   /* one request reserved: go */
	BUDGET_WAIT,      /* per_minute is spent: try again in *wait_ms */
	BUDGET_EXHAUSTED, /* daily_limit is spent for today */
	BUDGET_ERROR,     /* the file could not be used; reason in err */
};

/* Path of the budget file, appended to `path`. */
void budget_path(struct strbuf *path);

/* Reserve *count requests (at least 1, at most the limits themselves, so
 * that a limit below one call's estimate still admits a call; *count is
 * set to what was reserved) of `worker` (limits of 0 are unlimited). On BUDGET_EXHAUSTED, `*used` is today's
 * count and err holds the whole message: "budget exhausted: worker 'W'
 * has used N of its daily_limit of M requests today", when it resets
 * and the path of the file that keeps it. On BUDGET_WAIT, *wait_ms is
 * how long until the last minute has room. */
enum budget_answer budget_reserve(const char *worker, long daily_limit, long per_minute,
				  long *count, long *wait_ms, long *used, struct strbuf *err);

/* A worker's `daily_tokens` caps the model tokens its calls use in a
 * day, kept in the same file beside the requests. A call's tokens are
 * known only when it ends, so none are reserved: a call is admitted while
 * today's count is under the limit, and what it used is added when it
 * ends (budget_add_tokens()). The last call admitted may pass the limit;
 * the next is refused. */

/* May a call of `worker` start under `daily_tokens` (> 0)? BUDGET_GRANTED
 * or BUDGET_EXHAUSTED (then `*used` is today's count, and err holds the
 * whole message: "budget exhausted: worker 'W' has used N of its
 * daily_tokens of M tokens today", when it resets and the file's path),
 * or BUDGET_ERROR with the reason in err. */
enum budget_answer budget_check_tokens(const char *worker, long daily_tokens, long *used,
				       struct strbuf *err);

/* Add `tokens` (> 0) a call of `worker` used to today's count. Returns
 * 0, or -1 with the reason in err. */
int budget_add_tokens(const char *worker, long tokens, struct strbuf *err);

/* The tokens a call is charged from what it reported (each -1 when
 * unknown): its total, else its input plus its output, else -1. */
long budget_call_tokens(long input, long output, long total);

/* Today's counts of `worker` as the file has them, read without taking
 * its lock (it is replaced whole): *requests and *tokens, 0 when it has
 * none for today. Returns 0, or -1 with the reason in err. */
int budget_used_today(const char *worker, long *requests, long *tokens, struct strbuf *err);

/* Append, for `squad -n` and `squad explain`, a worker's budgets (each
 * limit 0 = none) with today's use: "12 of its daily_limit of 100
 * requests and 340 of its daily_tokens of 5000 tokens used today, at
 * most 10 requests a minute (per_minute); it resets at midnight ...",
 * "spent" when a limit is reached, and today's use unknown (with why)
 * when the file cannot be read. Returns false, appending nothing, when
 * the worker has no budget. */
bool budget_describe(const char *worker, long daily_limit, long per_minute, long daily_tokens,
		     struct strbuf *out);

/* Settle a call: add `delta` requests (what it used beyond its
 * reservation), or give back -delta when it used less; the count never
 * goes below 0. Returns 0, or -1 with the reason in err. */
int budget_settle(const char *worker, long delta, struct strbuf *err);

#endif
