/* plan.h - what a run will do: targets, closure, order, and per task
 * whether squad runs it, hands it off, or already has its result.
 *
 * With a file list (inputs_list()), a task with `inputs` gets a
 * fingerprint that covers the contents of every file its globs match;
 * when it equals the one recorded at its last success and its outputs
 * exist, the task is up to date. With changed paths (--staged,
 * --changed), the closure is pruned to the tasks whose inputs match one
 * of them, plus what they need; a task without inputs always stays.
 *
 * plan knows nothing of processes; it reads the model, the graph, the
 * files and the state, and decides.
 */
#ifndef SQUAD_PLAN_H
#define SQUAD_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "files/files.h"
#include "plan/graph.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

enum plan_action {
	PLAN_RUN,          /* squad runs it on its worker */
	PLAN_HANDOFF,      /* skill-tagged: the tactician's, never run */
	PLAN_DONE,         /* the tactician reported it done: a success */
	PLAN_DONE_FAILED,  /* the tactician reported it failed */
	PLAN_UP_TO_DATE,   /* inputs and definition as at its last success */
	/* A done mark holds while its fingerprint does, and settles a task
	 * only when the tactician's word can: a skill-tagged task (done or
	 * failed), or a prompt whose note meets its `expect` (the note is
	 * its answer). Any other marked task (a command, a prompt whose
	 * note does not answer) runs again, marked in `recheck`: "done"
	 * means "fixed, check again", and only its real result counts. */
};

struct plan {
	const struct squadfile *sf;
	const struct graph *graph;
	struct strvec targets;
	bool *in;                 /* sf->nr_tasks: in the targets' closure */
	int *order;               /* the closure, dependencies first */
	size_t nr_order;
	double *priority;         /* critical path from each task to the end */
	enum plan_action *action; /* sf->nr_tasks */
	char *fingerprints;       /* 41 bytes per task: see plan_fingerprint() */
	bool *stale_done;         /* a done mark exists but no longer applies */
	bool *recheck;            /* a done mark holds, but the task runs again */
	struct strvec *changed_inputs; /* per task: changed paths its inputs match */
	const struct strvec *changed;  /* all changed paths, or NULL */
	long *missing_output;     /* per task: index of an output not found, or -1 */
	struct strbuf *inputs;    /* per task with inputs: "PATH\tOID\n" per file */
};

struct plan_options {
	struct file_list *files;       /* NULL: inputs are not hashed */
	const char *files_prefix;      /* the Squadfile's folder in files: "" or "sub/" */
	const struct strvec *changed;  /* select by these paths (as in files), or NULL */
	bool force;                    /* -B: nothing is up to date */
	bool dry_run;                  /* -n: fingerprints are only compared with
					* the state, so only those a record needs */
};

/* The fingerprint of task n (in the closure): a hash of what the task
 * does (worker_describe()) and of its dependencies' fingerprints. A done
 * mark applies only while the fingerprint it was given for is current. */
static inline const char *plan_fingerprint(const struct plan *plan, size_t n)
{
	return plan->fingerprints + 41 * n;
}

/* Plan a run of `targets` (the Squadfile's default when empty). `st` may
 * be NULL (no previous durations, no done marks), and so may `opts` (no
 * inputs hashed, no selection). Returns 0, or -1 with the reason in err
 * (an unknown target, no target at all, an invalid glob). */
int plan_build(struct plan *plan, const struct squadfile *sf, const struct graph *g,
	       const struct state *st, const struct strvec *targets,
	       const struct plan_options *opts, struct strbuf *err);

/* The folders (relative to the files' root, "" or ending in '/') under
 * which the inputs and outputs of sf's tasks can match, sorted and
 * unique: what inputs_list() must list. `prefix` is the Squadfile's
 * folder relative to that root. */
void plan_input_roots(const struct squadfile *sf, const char *prefix, struct strvec *roots);

/* The folder of task t relative to the files' root, with a trailing '/'
 * (or ""): where its inputs and outputs are looked up. */
void plan_task_base(const struct squadfile *sf, const struct task *t, const char *prefix,
		    struct strbuf *base);
/* What each task of the plan weighs, for the critical path and the
 * shards: its last recorded duration (+1 ms), or the mean of the known
 * ones when it has none (1 when no task has one). `weight` has room for
 * sf->nr_tasks; only the plan's tasks are set. `st` may be NULL. */
void plan_task_weights(const struct plan *plan, const struct state *st, double *weight);

void plan_release(struct plan *plan);

#endif
