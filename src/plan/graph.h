/* graph.h - the task DAG: edges, cycles, closure, order, critical path.
 *
 * Nodes are the Squadfile's tasks, with the same indices. Edges are kept
 * in compressed rows (one array of all dependencies, one of offsets), so
 * a 100,000-task graph is a few flat arrays and every walk here is
 * iterative and linear in nodes + edges.
 *
 * graph knows nothing of processes or YAML.
 */
#ifndef SQUAD_GRAPH_H
#define SQUAD_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "model/diag.h"
#include "model/squadfile.h"

struct graph {
	size_t nr;         /* nodes */
	size_t *dep_start; /* deps of n: deps[dep_start[n] .. dep_start[n+1]) */
	int *deps;
	size_t *rdep_start; /* dependents of n, likewise */
	int *rdeps;
};

/* Build the graph of `sf` (unknown names are skipped: the loader reported
 * them; a repeated need counts once). Every cycle found is reported into
 * `diags` as "cycle: a -> b -> a" at the mark of one of its edges.
 * Returns 0, or -1 when there is a cycle. graph_release() in both cases. */
int graph_build(struct graph *g, const struct squadfile *sf, struct diag_list *diags);
void graph_release(struct graph *g);

static inline size_t graph_nr_deps(const struct graph *g, size_t n)
{
	return g->dep_start[n + 1] - g->dep_start[n];
}

/* Mark in `in` (nr bools, cleared by the caller) every node that one of
 * `targets` needs, directly or not, the targets included. */
void graph_closure(const struct graph *g, const int *targets, size_t nr_targets, bool *in);

/* Write the nodes marked in `in` into `order`, dependencies first, and
 * return how many. Among nodes that are ready together, lower indices
 * (earlier in the Squadfile) come first. */
size_t graph_topo_order(const struct graph *g, const bool *in, int *order);

/* For each node in `order` (from graph_topo_order), the length of the
 * longest path from it to the end of the graph, itself included, where
 * a node costs weight[n] and only nodes in `in` count: the critical path
 * priority of each task. */
void graph_critical_path(const struct graph *g, const bool *in, const int *order,
			 size_t nr_order, const double *weight, double *remaining);

#endif
