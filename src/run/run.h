/* run.h - the scheduler: runs a plan on the worker pool with libuv.
 *
 * The caller's steps:
 *   1. plan_build() the run, state_lock() + state_load() the state;
 *   2. fill a run_options and a run_observer (report.h has one);
 *   3. run_plan(): it returns when every task of the plan has a final
 *      status in `results` (one per task of the Squadfile, zeroed by the
 *      caller, released with run_results_release()).
 *
 * Ready tasks start in critical-path order (longest remaining path
 * first), up to `jobs` at once and each worker's `slots`. Each attempt
 * runs in its own process group (spawner.h), its stdout and stderr going
 * through one pipe, in order, to its log file, which is created on the
 * first byte: a silent task costs no file. One attempt's process, pipe
 * and timeout are a job (job.h): over when both its exit and EOF are
 * seen; a timeout sends SIGTERM to the group, then SIGKILL 5 s later;
 * when a task's process exits, whatever it left in its group is killed:
 * no task outlives its run, or squad. This loop judges each attempt
 * (outcome.h) and starts the next. If squad
 * is killed (SIGKILL, a crash), a guard process (guard.h), started with
 * the first task, ends the groups still running. A guard that cannot start
 * is not an error: the run goes on unguarded, as it would have before.
 *
 * The loop runs on a thread of its own (run.c says why): the observer is
 * called there, while the caller's thread waits with every signal
 * blocked.
 *
 * run knows nothing of YAML and prints nothing: it reports through the
 * observer.
 */
#ifndef SQUAD_RUN_H
#define SQUAD_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"
#include "job/result.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "job/worker.h"

struct run_options {
	unsigned jobs;          /* at most this many tasks at once (>= 1) */
	bool keep_going;        /* after a failure, run what is not behind it */
	long worker_override;   /* run every skill-free task here; -1 = no */
	bool verbose;           /* observer gets commands at start */
	const char *changed_file; /* $SQUAD_CHANGED: the changed paths, or NULL */
	bool replay;            /* up-to-date tasks: find their last log */
	/* start a guard with the first task (guard.h): the guard is this
	 * very program run as "squad __guard", so only squad's main() may
	 * ask for one, never a test program that links run.c */
	bool guard;
	/* the result cache (cachestep.h), keys planned, or NULL: a task it
	 * serves is looked up before it would run, and a success stored;
	 * what it has to say goes to cache_notice */
	struct cachestep *cache;
	void (*cache_notice)(void *data, const char *lines);
	void *cache_notice_data;
};

struct run_observer {
	void (*started)(void *data, size_t task, unsigned attempt,
			const struct command *cmd);
	/* called once per task of the plan, with its final result */
	void (*finished)(void *data, size_t task, const struct task_result *res);
	/* when not NULL: called every 100 ms while tasks run (live status,
	 * streamed output) */
	void (*tick)(void *data);
	void *data;
	/* when not NULL: an agent's tool call for `task` began or changed
	 * (the same id may come again, the last time in its final state) */
	void (*tool)(void *data, size_t task, const struct task_tool *tool);
};

/* Run `plan`. `st` gets a record per finished task (journal appends);
 * may be NULL. Returns 0, or -1 if squad itself failed to keep what the
 * run made: a state record or a log could not be written (a full disk,
 * a symlink in the place of a log). The first reason is in err; every
 * task still ran to its end and its result is final. `*interrupted`
 * tells whether a signal stopped the run. */
int run_plan(const struct plan *plan, struct state *st, const struct run_options *opts,
	     const struct run_observer *obs, struct task_result *results,
	     bool *interrupted, struct strbuf *err);

void run_results_release(struct task_result *results, size_t nr);

/* How many tasks of worker `w` may run at once when -j is `jobs`. An
 * agent worker with `slots` is bounded by its slots alone (`*own` set):
 * agents wait on the network, not on a CPU. Any other worker (the shell,
 * an agent worker without slots) shares -j with every local process,
 * within its slots if it has them (`*own` cleared). `own` may be NULL. */
unsigned run_worker_limit(const struct worker *w, unsigned jobs, bool *own);

#endif
