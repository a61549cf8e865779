/* agentpool.h - warm ACP agents for the scheduler: one process per slot.
 *
 * A worker with `protocol: acp` runs each task as a turn of an agent
 * process (acp.h) that outlives the task: a task goes to an idle agent
 * of its worker, or to a new one when none is idle, so an agent's
 * start-up is paid once per slot per run. An agent serves one task at a
 * time, each in a fresh session in the task's folder. One that crashes,
 * hangs past a cancel, or cannot start is killed with its process group
 * and forgotten; the next task of its worker starts a new one.
 *
 * The caller's steps (run.c):
 *   1. agent_pool_init() with the loop and callbacks;
 *   2. agent_pool_run() per attempt; `done` is called once per attempt
 *      with how it ended, as the facts of a struct attempt (outcome.h),
 *      which the caller hands to outcome_decide();
 *   3. agent_pool_reaped() for each child the caller reaps that is none
 *      of its own jobs;
 *   4. agent_pool_interrupt() on Ctrl-C; agent_pool_shutdown() once no
 *      task can come any more (agents stop; the loop can then end);
 *   5. after the loop: agent_pool_finish() (kills and reaps what is
 *      left), one more run of the loop for the close callbacks, then
 *      agent_pool_release().
 */
#ifndef SQUAD_AGENTPOOL_H
#define SQUAD_AGENTPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "agents/acp.h"
#include "job/guard.h"
#include "job/outcome.h"
#include "agents/policy.h"
#include "job/spawner.h"
#include "job/worker.h"

/* Between session/cancel and the group kill. */
#define AGENT_CANCEL_GRACE_MS 5000

/* One attempt for an agent. Strings are copied. */
struct agent_job {
	size_t task;
	size_t worker;               /* agents serve the tasks of one worker */
	const char *worker_name;
	const struct command *cmd;   /* starts an agent, when one must start */
	const char *program;         /* cmd's argv[0] as a file */
	const char *cwd;             /* the task's folder */
	const char *prompt;
	long timeout_ms;             /* 0 = none */
	struct task_policy policy;   /* borrowed: lives as long as the run */
	/* more tasks of the worker wait than its other agents will take:
	 * the agent opens its next session (in this folder) while this
	 * task's turn runs, so that the next task's prompt goes at once
	 * (acp_agent_preopen()) */
	bool preopen;
};

/* How an attempt ended. Strings valid during the call. */
struct agent_outcome {
	struct attempt attempt;      /* for outcome_decide(); its strings borrow from here */
	const char *answer;          /* the agent's final text ("" when none) */
	bool answered;               /* it ended its turn (end_turn) */
	const char *error;           /* the agent's or squad's words, or NULL */
	long input_tokens, output_tokens, total_tokens, requests; /* -1 = unknown */
	const struct acp_tool *tools;
	size_t nr_tools;
};

struct agent_pool_callbacks {
	/* a line for the task's log */
	void (*log)(void *data, size_t task, const char *line);
	/* a tool call of the task began or changed */
	void (*tool)(void *data, size_t task, const struct acp_tool *tool);
	void (*done)(void *data, size_t task, const struct agent_outcome *o);
	void *data;
};

struct pool_agent;

struct agent_pool {
	uv_loop_t *loop;
	struct agent_pool_callbacks cb;
	const struct spawner *spawner; /* set by agent_pool_run() */
	struct guard *guard;           /* or NULL */
	struct pool_agent *agents;
	bool closing;                  /* shut down: no new agent */
	bool interrupted;
	unsigned started;              /* agents started this run */
};

void agent_pool_init(struct agent_pool *pool, uv_loop_t *loop, struct guard *guard,
		     const struct agent_pool_callbacks *cb);

/* Run `job` on an idle agent of its worker, or a new one. Returns 0, or
 * an errno when no agent could be spawned (nothing running; the step in
 * *failed). */
int agent_pool_run(struct agent_pool *pool, const struct spawner *sp,
		   const struct agent_job *job, enum spawn_step *failed);

/* The caller reaped `pid`: returns whether it was one of the pool's. */
bool agent_pool_reaped(struct agent_pool *pool, pid_t pid, int exit_code, int term_signal);

/* Ctrl-C: every turn is cancelled (the group killed after the grace),
 * and every idle agent stopped. */
void agent_pool_interrupt(struct agent_pool *pool);

/* No task will come: stop the idle agents, and each busy one when its
 * turn ends. */
void agent_pool_shutdown(struct agent_pool *pool);

/* After the loop: kill and reap every agent still there. */
void agent_pool_finish(struct agent_pool *pool);
void agent_pool_release(struct agent_pool *pool);

#endif
