/* budget.h - request budgets of agent workers, shared by every squad.
 *
 * A worker's `daily_limit` and `per_minute` count model requests, per
 * worker name, in $XDG_STATE_HOME/squad/budget.json (default
 * ~/.local/state/squad/): one file for all repositories and all squad
 * processes, read and written under a file lock, replaced atomically.
 * A call reserves one request before it starts; when it ends, what it
 * really used (qwen reports its requests) is settled.
 *
 * The file may have been edited by hand. A number in it of any size is
 * kept within range: a count past LONG_MAX (1e300, 2^63) is LONG_MAX, so
 * it exhausts any daily_limit, and sums stop there; a negative count is
 * 0; a start time in the future is now. A file that is not a JSON object
 * is an error (BUDGET_ERROR, saying so), never a silent fresh start.
 */
#ifndef SQUAD_BUDGET_H
#define SQUAD_BUDGET_H

#include "util/strbuf.h"

enum budget_answer {
	BUDGET_GRANTED,   /* one request reserved: go */
	BUDGET_WAIT,      /* per_minute is spent: try again in *wait_ms */
	BUDGET_EXHAUSTED, /* daily_limit is spent for today */
	BUDGET_ERROR,     /* the file could not be used; reason in err */
};

/* Path of the budget file, appended to `path`. */
void budget_path(struct strbuf *path);

/* Reserve one request of `worker` (limits of 0 are unlimited). On
 * BUDGET_EXHAUSTED, `*used` is today's count. */
enum budget_answer budget_reserve(const char *worker, long daily_limit, long per_minute,
				  long *wait_ms, long *used, struct strbuf *err);

/* Add `extra` requests (what a call used beyond its reservation). */
int budget_settle(const char *worker, long extra, struct strbuf *err);

#endif
