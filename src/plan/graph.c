/* graph.c - DAG build, cycles, closure, order; see graph.h. */
#include "plan/graph.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Only so many cycles are worth printing; the first ones show the way. */
#define MAX_CYCLES_REPORTED 10

static void report_cycle(const struct squadfile *sf, struct diag_list *diags,
			 const int *stack, size_t from, size_t top, int back_to,
			 struct mark at)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_addstr(&msg, "cycle: ");
	for (size_t i = from; i <= top; i++)
		strbuf_addf(&msg, "%s -> ", sf->tasks[stack[i]].name);
	strbuf_addstr(&msg, sf->tasks[back_to].name);
	diag_error(diags, at, "%s", msg.buf);
	strbuf_release(&msg);
}

/* Depth-first search with an explicit stack (a 100,000-long chain must
 * not overflow the C stack). A grey node met again closes a cycle. */
static int find_cycles(const struct graph *g, const struct squadfile *sf,
		       struct diag_list *diags)
{
	enum { WHITE, GREY, BLACK };
	unsigned char *color = xcalloc(g->nr, 1);
	int *stack = xmalloc(g->nr * sizeof(int));
	size_t *next = xmalloc(g->nr * sizeof(size_t)); /* next edge to try */
	size_t *pos = xmalloc(g->nr * sizeof(size_t));  /* where on the stack */
	int found = 0;

	for (size_t root = 0; root < g->nr; root++) {
		size_t top = 0;

		if (color[root] != WHITE)
			continue;
		stack[0] = (int)root;
		next[root] = g->dep_start[root];
		pos[root] = 0;
		color[root] = GREY;
		while (1) {
			int n = stack[top];

			if (next[n] < g->dep_start[n + 1]) {
				size_t edge = next[n]++;
				int d = g->deps[edge];

				if (color[d] == WHITE) {
					color[d] = GREY;
					next[d] = g->dep_start[d];
					pos[d] = ++top;
					stack[top] = d;
				} else if (color[d] == GREY) {
					if (found++ < MAX_CYCLES_REPORTED) {
						const struct task *t = &sf->tasks[n];
						long k = strvec_find(&t->needs, sf->tasks[d].name);

						report_cycle(sf, diags, stack, pos[d], top, d,
							     k >= 0 ? t->need_marks[k] : t->mark);
					}
				}
				continue;
			}
			color[n] = BLACK;
			if (!top)
				break;
			top--;
		}
	}
	free(color);
	free(stack);
	free(next);
	free(pos);
	return found ? -1 : 0;
}

int graph_build(struct graph *g, const struct squadfile *sf, struct diag_list *diags)
{
	size_t nr = sf->nr_tasks, edges = 0;
	size_t *fill;
	long *seen_by; /* dedup repeated needs: last node that listed it */

	memset(g, 0, sizeof(*g));
	g->nr = nr;
	g->dep_start = xcalloc(nr + 1, sizeof(size_t));
	g->rdep_start = xcalloc(nr + 1, sizeof(size_t));
	seen_by = xmalloc((nr ? nr : 1) * sizeof(long));
	for (size_t i = 0; i < nr; i++)
		seen_by[i] = -1;
	for (size_t i = 0; i < nr; i++)
		edges += sf->tasks[i].needs.nr;
	g->deps = xmalloc((edges ? edges : 1) * sizeof(int));
	g->rdeps = xmalloc((edges ? edges : 1) * sizeof(int));

	edges = 0;
	for (size_t i = 0; i < nr; i++) {
		const struct task *t = &sf->tasks[i];

		g->dep_start[i] = edges;
		for (size_t j = 0; j < t->needs.nr; j++) {
			long d = squadfile_find_task(sf, t->needs.v[j]);

			if (d < 0 || seen_by[d] == (long)i)
				continue;
			seen_by[d] = (long)i;
			g->deps[edges++] = (int)d;
			g->rdep_start[d + 1]++;
		}
	}
	g->dep_start[nr] = edges;
	free(seen_by);

	for (size_t i = 0; i < nr; i++)
		g->rdep_start[i + 1] += g->rdep_start[i];
	fill = xmalloc((nr ? nr : 1) * sizeof(size_t));
	memcpy(fill, g->rdep_start, nr * sizeof(size_t));
	for (size_t i = 0; i < nr; i++)
		for (size_t e = g->dep_start[i]; e < g->dep_start[i + 1]; e++)
			g->rdeps[fill[g->deps[e]]++] = (int)i;
	free(fill);

	return find_cycles(g, sf, diags);
}

void graph_release(struct graph *g)
{
	free(g->dep_start);
	free(g->deps);
	free(g->rdep_start);
	free(g->rdeps);
	memset(g, 0, sizeof(*g));
}

void graph_closure(const struct graph *g, const int *targets, size_t nr_targets, bool *in)
{
	int *queue = xmalloc((g->nr ? g->nr : 1) * sizeof(int));
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < nr_targets; i++)
		if (!in[targets[i]]) {
			in[targets[i]] = true;
			queue[tail++] = targets[i];
		}
	while (head < tail) {
		int n = queue[head++];

		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
			if (!in[g->deps[e]]) {
				in[g->deps[e]] = true;
				queue[tail++] = g->deps[e];
			}
	}
	free(queue);
}

size_t graph_topo_order(const struct graph *g, const bool *in, int *order)
{
	size_t *pending = xcalloc(g->nr ? g->nr : 1, sizeof(size_t));
	size_t head = 0, tail = 0;

	/* Kahn's algorithm; `order` doubles as the queue. */
	for (size_t n = 0; n < g->nr; n++) {
		if (!in[n])
			continue;
		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
			pending[n] += in[g->deps[e]];
		if (!pending[n])
			order[tail++] = (int)n;
	}
	while (head < tail) {
		int n = order[head++];

		for (size_t e = g->rdep_start[n]; e < g->rdep_start[n + 1]; e++) {
			int r = g->rdeps[e];

			if (in[r] && !--pending[r])
				order[tail++] = r;
		}
	}
	free(pending);
	return tail;
}

void graph_critical_path(const struct graph *g, const bool *in, const int *order,
			 size_t nr_order, const double *weight, double *remaining)
{
	for (size_t i = nr_order; i-- > 0;) {
		int n = order[i];
		double longest = 0;

		for (size_t e = g->rdep_start[n]; e < g->rdep_start[n + 1]; e++) {
			int r = g->rdeps[e];

			if (in[r] && remaining[r] > longest)
				longest = remaining[r];
		}
		remaining[n] = weight[n] + longest;
	}
}
