/* plan.h - what a run will do: targets, closure, order, and per task
 * whether squad runs it, hands it off, or already has its result.
 *
 * plan knows nothing of processes; it reads the model, the graph and the
 * state, and decides.
 */
#ifndef SQUAD_PLAN_H
#define SQUAD_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "graph.h"
#include "squadfile.h"
#include "state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

enum plan_action {
	PLAN_RUN,          /* squad runs it on its worker */
	PLAN_HANDOFF,      /* skill-tagged: the tactician's, never run */
	PLAN_DONE,         /* the tactician reported it done: a success */
	PLAN_DONE_FAILED,  /* the tactician reported it failed */
	/* A done mark is honoured for a skill-tagged task and for one that
	 * was escalated, while its fingerprint holds. */
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
};

/* The fingerprint of task n (in the closure): a hash of what the task
 * does (worker_describe()) and of its dependencies' fingerprints. A done
 * mark applies only while the fingerprint it was given for is current. */
static inline const char *plan_fingerprint(const struct plan *plan, size_t n)
{
	return plan->fingerprints + 41 * n;
}

/* Plan a run of `targets` (the Squadfile's default when empty). `st` may
 * be NULL (no previous durations, no done marks). Returns 0, or -1 with
 * the reason in err (an unknown target, no target at all). */
int plan_build(struct plan *plan, const struct squadfile *sf, const struct graph *g,
	       const struct state *st, const struct strvec *targets, struct strbuf *err);
void plan_release(struct plan *plan);

#endif
