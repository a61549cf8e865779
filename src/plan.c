/* plan.c - targets, closure, order, actions; see plan.h. */
#include "plan.h"
#include "diag.h"
#include "gitinfo.h"
#include "worker.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static int resolve_targets(struct plan *plan, const struct squadfile *sf,
			   const struct strvec *targets, struct strbuf *err)
{
	const struct strvec *names = targets->nr ? targets : &sf->default_targets;

	if (!names->nr) {
		strbuf_addstr(err, "no target given and the Squadfile has no 'default:'");
		if (sf->nr_tasks) {
			strbuf_addstr(err, "; tasks:");
			for (size_t i = 0; i < sf->nr_tasks && i < 20; i++)
				strbuf_addf(err, " %s", sf->tasks[i].name);
			if (sf->nr_tasks > 20)
				strbuf_addstr(err, " ...");
		}
		return -1;
	}
	for (size_t i = 0; i < names->nr; i++) {
		if (squadfile_find_task(sf, names->v[i]) < 0) {
			const char **all = xcalloc(sf->nr_tasks + 1, sizeof(char *));

			for (size_t j = 0; j < sf->nr_tasks; j++)
				all[j] = sf->tasks[j].name;
			strbuf_addf(err, "unknown target '%s'", names->v[i]);
			diag_add_suggestion(err, names->v[i], all, (long)sf->nr_tasks);
			if (!diag_suggest(names->v[i], all, (long)sf->nr_tasks))
				strbuf_addstr(err, " (see 'squad list')");
			free(all);
			return -1;
		}
		if (strvec_find(&plan->targets, names->v[i]) < 0)
			strvec_push(&plan->targets, names->v[i]);
	}
	return 0;
}

static void compute_fingerprints(struct plan *plan)
{
	const struct squadfile *sf = plan->sf;
	const struct graph *g = plan->graph;
	struct strbuf text = STRBUF_INIT;

	/* dependencies first, so each one's fingerprint is ready */
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];

		strbuf_reset(&text);
		worker_describe(sf, t, &sf->workers[t->worker], &text);
		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
			strbuf_addf(&text, "need=%s%c", plan_fingerprint(plan, (size_t)g->deps[e]), 0);
		gitinfo_hash(text.buf, text.len, plan->fingerprints + 41 * (size_t)n);
	}
	strbuf_release(&text);
}

int plan_build(struct plan *plan, const struct squadfile *sf, const struct graph *g,
	       const struct state *st, const struct strvec *targets, struct strbuf *err)
{
	size_t nr = sf->nr_tasks;
	int *target_ids;
	double *weight;
	double known_total = 0;
	size_t known = 0;

	memset(plan, 0, sizeof(*plan));
	plan->sf = sf;
	plan->graph = g;
	strvec_init(&plan->targets);
	plan->in = xcalloc(nr + 1, sizeof(bool));
	plan->order = xmalloc((nr + 1) * sizeof(int));
	plan->priority = xcalloc(nr + 1, sizeof(double));
	plan->action = xcalloc(nr + 1, sizeof(enum plan_action));
	plan->fingerprints = xcalloc(nr + 1, 41);
	plan->stale_done = xcalloc(nr + 1, sizeof(bool));

	if (resolve_targets(plan, sf, targets, err) < 0)
		return -1;
	target_ids = xmalloc(plan->targets.nr * sizeof(int));
	for (size_t i = 0; i < plan->targets.nr; i++)
		target_ids[i] = (int)squadfile_find_task(sf, plan->targets.v[i]);
	graph_closure(g, target_ids, plan->targets.nr, plan->in);
	free(target_ids);
	plan->nr_order = graph_topo_order(g, plan->in, plan->order);

	/* Weights for the critical path: last durations where known; an
	 * unknown task weighs the mean of the known ones (1 when none is),
	 * so that on a first run the longest chain of tasks goes first. */
	weight = xmalloc((nr + 1) * sizeof(double));
	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task_record *rec = st ? state_get(st, sf->tasks[plan->order[i]].name) : NULL;

		weight[plan->order[i]] = -1;
		if (rec && (rec->status == RECORD_OK || rec->status == RECORD_FAILED)) {
			weight[plan->order[i]] = (double)rec->duration_ms + 1;
			known_total += (double)rec->duration_ms + 1;
			known++;
		}
	}
	for (size_t i = 0; i < plan->nr_order; i++)
		if (weight[plan->order[i]] < 0)
			weight[plan->order[i]] = known ? known_total / (double)known : 1;
	graph_critical_path(g, plan->in, plan->order, plan->nr_order, weight, plan->priority);
	free(weight);

	compute_fingerprints(plan);
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];
		const struct task_record *rec = st ? state_get(st, t->name) : NULL;
		bool marked = rec && (rec->status == RECORD_DONE ||
				      rec->status == RECORD_DONE_FAILED);

		plan->action[n] = t->skills.nr ? PLAN_HANDOFF : PLAN_RUN;
		if (!marked)
			continue;
		if (!rec->fingerprint || strcmp(rec->fingerprint, plan_fingerprint(plan, (size_t)n))) {
			plan->stale_done[n] = true;
			continue;
		}
		plan->action[n] = rec->status == RECORD_DONE ? PLAN_DONE : PLAN_DONE_FAILED;
	}
	return 0;
}


void plan_release(struct plan *plan)
{
	strvec_clear(&plan->targets);
	free(plan->in);
	free(plan->order);
	free(plan->priority);
	free(plan->action);
	free(plan->fingerprints);
	free(plan->stale_done);
	memset(plan, 0, sizeof(*plan));
}
