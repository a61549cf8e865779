/* test_graph.c - the task DAG: edges, cycles, closure, order, critical path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/graph.h"
#include "util/xalloc.h"

/* A squadfile made in memory: only what graph reads (names, needs and
 * their marks, the name index). Task i is defined on line 10 * (i + 1);
 * its j-th need is on the next line, column 10 + j. */
static void sf_init(struct squadfile *sf, size_t nr)
{
	memset(sf, 0, sizeof(*sf));
	strvec_init(&sf->vars);
	strvec_init(&sf->default_targets);
	sf->tasks = xcalloc(nr ? nr : 1, sizeof(*sf->tasks));
}

/* Add task `name` needing the NULL-terminated names that follow. */
static size_t sf_add(struct squadfile *sf, const char *name, ...)
{
	struct task *t = &sf->tasks[sf->nr_tasks];
	const char *dep;
	va_list ap;

	t->name = xstrdup(name);
	t->mark = (struct mark){ (unsigned)(10 * (sf->nr_tasks + 1)), 3 };
	strvec_init(&t->needs);
	va_start(ap, name);
	while ((dep = va_arg(ap, const char *))) {
		strvec_push(&t->needs, dep);
		t->need_marks = xrealloc(t->need_marks, t->needs.nr * sizeof(struct mark));
		t->need_marks[t->needs.nr - 1] = (struct mark){
			(unsigned)(10 * (sf->nr_tasks + 1) + 1), (unsigned)(9 + t->needs.nr) };
	}
	va_end(ap);
	strmap_put(&sf->task_index, t->name, (int)sf->nr_tasks);
	return sf->nr_tasks++;
}

static char *format(struct diag_list *dl)
{
	struct strbuf out = STRBUF_INIT;

	diag_format(dl, &out);
	return strbuf_detach(&out, NULL);
}

static void edges_both_ways(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");

	(void)state;
	sf_init(&sf, 4);
	sf_add(&sf, "a", NULL);
	sf_add(&sf, "b", "a", NULL);
	sf_add(&sf, "c", "a", "b", NULL);
	sf_add(&sf, "d", "c", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	assert_int_equal(dl.nr, 0);
	assert_int_equal(g.nr, 4);
	assert_int_equal(graph_nr_deps(&g, 0), 0);
	assert_int_equal(graph_nr_deps(&g, 2), 2);
	assert_int_equal(g.deps[g.dep_start[2]], 0);
	assert_int_equal(g.deps[g.dep_start[2] + 1], 1);
	/* a is needed by b and c, in that order */
	assert_int_equal(g.rdep_start[1] - g.rdep_start[0], 2);
	assert_int_equal(g.rdeps[g.rdep_start[0]], 1);
	assert_int_equal(g.rdeps[g.rdep_start[0] + 1], 2);
	assert_int_equal(g.rdep_start[4] - g.rdep_start[3], 0);
	graph_release(&g);
	squadfile_release(&sf);
}

static void repeated_and_unknown_needs(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");

	(void)state;
	sf_init(&sf, 3);
	sf_add(&sf, "a", NULL);
	sf_add(&sf, "b", NULL);
	sf_add(&sf, "c", "a", "a", "ghost", "b", "a", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	assert_int_equal(graph_nr_deps(&g, 2), 2); /* a once, b; no ghost */
	assert_int_equal(g.deps[g.dep_start[2]], 0);
	assert_int_equal(g.deps[g.dep_start[2] + 1], 1);
	assert_int_equal(g.rdep_start[1] - g.rdep_start[0], 1);
	graph_release(&g);
	squadfile_release(&sf);
}

static void two_task_cycle_at_the_mark_of_an_edge(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	char *out;

	(void)state;
	sf_init(&sf, 2);
	sf_add(&sf, "a", "b", NULL);
	sf_add(&sf, "b", "a", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), -1);
	assert_int_equal(dl.errors, 1);
	out = format(&dl);
	/* found from a: the edge that closes it is b's need of a (line 21) */
	assert_string_equal(out, "S:21:10: error: cycle: a -> b -> a\n");
	free(out);
	diag_list_release(&dl);
	graph_release(&g);
	squadfile_release(&sf);
}

static void self_loop(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	char *out;

	(void)state;
	sf_init(&sf, 2);
	sf_add(&sf, "ok", NULL);
	sf_add(&sf, "me", "ok", "me", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), -1);
	out = format(&dl);
	assert_string_equal(out, "S:21:11: error: cycle: me -> me\n");
	free(out);
	diag_list_release(&dl);
	graph_release(&g);
	squadfile_release(&sf);
}

static void three_task_cycle_behind_a_chain(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	char *out;

	(void)state;
	sf_init(&sf, 5);
	sf_add(&sf, "top", "a", NULL);
	sf_add(&sf, "a", "b", NULL);
	sf_add(&sf, "b", "c", NULL);
	sf_add(&sf, "c", "leaf", "a", NULL);
	sf_add(&sf, "leaf", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), -1);
	out = format(&dl);
	/* the path to the cycle (top) is not part of it */
	assert_string_equal(out, "S:41:11: error: cycle: a -> b -> c -> a\n");
	free(out);
	diag_list_release(&dl);
	graph_release(&g);
	squadfile_release(&sf);
}

static void several_cycles_each_reported_up_to_a_bound(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	char name[16], other[16];

	(void)state;
	/* 30 separate two-task cycles */
	sf_init(&sf, 60);
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		snprintf(other, sizeof(other), "y%d", i);
		sf_add(&sf, name, other, NULL);
		sf_add(&sf, other, name, NULL);
	}
	assert_int_equal(graph_build(&g, &sf, &dl), -1);
	assert_true(dl.errors >= 2);
	assert_true(dl.errors <= 10);
	assert_string_equal(dl.items[0].message, "cycle: x0 -> y0 -> x0");
	assert_string_equal(dl.items[1].message, "cycle: x1 -> y1 -> x1");
	diag_list_release(&dl);
	graph_release(&g);
	squadfile_release(&sf);
}

static void closure_takes_what_targets_need(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	bool in[6] = { false };
	int targets[2];

	(void)state;
	sf_init(&sf, 6);
	sf_add(&sf, "a", NULL);
	sf_add(&sf, "b", "a", NULL);
	sf_add(&sf, "c", "b", NULL);
	sf_add(&sf, "lone", NULL);
	sf_add(&sf, "d", "a", NULL);
	sf_add(&sf, "e", "c", "d", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	targets[0] = 2;
	graph_closure(&g, targets, 1, in);
	assert_true(in[0] && in[1] && in[2]);
	assert_false(in[3] || in[4] || in[5]);
	/* more targets, one given twice, one already in */
	targets[0] = 4;
	targets[1] = 4;
	graph_closure(&g, targets, 2, in);
	assert_true(in[0] && in[1] && in[2] && in[4]);
	assert_false(in[3] || in[5]);
	memset(in, 0, sizeof(in));
	targets[0] = 5;
	graph_closure(&g, targets, 1, in);
	assert_true(in[0] && in[1] && in[2] && in[4] && in[5]);
	assert_false(in[3]);
	graph_release(&g);
	squadfile_release(&sf);
}

static void topological_order_puts_dependencies_first(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	bool in[6];
	int order[6];
	size_t nr;

	(void)state;
	/* defined in reverse: the order must still follow the edges */
	sf_init(&sf, 6);
	sf_add(&sf, "deploy", "test", "package", NULL); /* 0 */
	sf_add(&sf, "test", "build", NULL);             /* 1 */
	sf_add(&sf, "package", "build", NULL);          /* 2 */
	sf_add(&sf, "build", "fetch", NULL);            /* 3 */
	sf_add(&sf, "docs", NULL);                      /* 4 */
	sf_add(&sf, "fetch", NULL);                     /* 5 */
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	for (int i = 0; i < 6; i++)
		in[i] = true;
	nr = graph_topo_order(&g, in, order);
	assert_int_equal(nr, 6);
	/* ready together: lower index first */
	assert_int_equal(order[0], 4); /* docs */
	assert_int_equal(order[1], 5); /* fetch */
	assert_int_equal(order[2], 3); /* build */
	assert_int_equal(order[3], 1); /* test */
	assert_int_equal(order[4], 2); /* package */
	assert_int_equal(order[5], 0); /* deploy */

	/* only what is in counts; an edge to a node left out does not hold */
	memset(in, 0, sizeof(in));
	in[0] = in[1] = true;
	nr = graph_topo_order(&g, in, order);
	assert_int_equal(nr, 2);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	graph_release(&g);
	squadfile_release(&sf);
}

static void critical_path_is_the_longest_way_to_the_end(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	/* a <- b <- d, a <- c <- d, d <- e; f alone */
	const double weight[6] = { 1, 2, 5, 1, 10, 7 };
	double remaining[6] = { 0 };
	bool in[6];
	int order[6];
	size_t nr;

	(void)state;
	sf_init(&sf, 6);
	sf_add(&sf, "a", NULL);
	sf_add(&sf, "b", "a", NULL);
	sf_add(&sf, "c", "a", NULL);
	sf_add(&sf, "d", "b", "c", NULL);
	sf_add(&sf, "e", "d", NULL);
	sf_add(&sf, "f", NULL);
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	for (int i = 0; i < 6; i++)
		in[i] = true;
	nr = graph_topo_order(&g, in, order);
	graph_critical_path(&g, in, order, nr, weight, remaining);
	assert_true(remaining[4] == 10);          /* e */
	assert_true(remaining[3] == 11);          /* d + e */
	assert_true(remaining[2] == 16);          /* c + d + e */
	assert_true(remaining[1] == 13);          /* b + d + e */
	assert_true(remaining[0] == 17);          /* a + the longer of b, c */
	assert_true(remaining[5] == 7);           /* f */

	/* without e (not a target), paths end at d */
	in[4] = false;
	nr = graph_topo_order(&g, in, order);
	assert_int_equal(nr, 5);
	graph_critical_path(&g, in, order, nr, weight, remaining);
	assert_true(remaining[3] == 1);
	assert_true(remaining[2] == 6);
	assert_true(remaining[0] == 7);
	graph_release(&g);
	squadfile_release(&sf);
}

static void empty_graph(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	bool in[1] = { false };
	int order[1];

	(void)state;
	sf_init(&sf, 0);
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	assert_int_equal(g.nr, 0);
	assert_int_equal(graph_topo_order(&g, in, order), 0);
	graph_closure(&g, NULL, 0, in);
	graph_release(&g);
	squadfile_release(&sf);
}

#define LONG_CHAIN 100000

/* t0 <- t1 <- ... : every walk here must be iterative. */
static void long_chain_without_stack_overflow(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	char name[16], dep[16];
	bool *in = xcalloc(LONG_CHAIN, sizeof(bool));
	int *order = xmalloc(LONG_CHAIN * sizeof(int));
	double *weight = xmalloc(LONG_CHAIN * sizeof(double));
	double *remaining = xcalloc(LONG_CHAIN, sizeof(double));
	int target = LONG_CHAIN - 1;

	(void)state;
	sf_init(&sf, LONG_CHAIN);
	sf_add(&sf, "t0", NULL);
	for (int i = 1; i < LONG_CHAIN; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		snprintf(dep, sizeof(dep), "t%d", i - 1);
		sf_add(&sf, name, dep, NULL);
	}
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	graph_closure(&g, &target, 1, in);
	for (int i = 0; i < LONG_CHAIN; i++)
		assert_true(in[i]);
	assert_int_equal(graph_topo_order(&g, in, order), LONG_CHAIN);
	for (int i = 0; i < LONG_CHAIN; i++) {
		assert_int_equal(order[i], i);
		weight[i] = 1;
	}
	graph_critical_path(&g, in, order, LONG_CHAIN, weight, remaining);
	assert_true(remaining[0] == LONG_CHAIN);
	assert_true(remaining[LONG_CHAIN - 1] == 1);
	graph_release(&g);
	squadfile_release(&sf);
	free(in);
	free(order);
	free(weight);
	free(remaining);
}

/* The other way round, so that the depth-first search from the first
 * task goes 100,000 deep; and closed into a cycle at the end. */
static void long_chain_walked_from_its_head_and_a_long_cycle(void **state)
{
	struct squadfile sf;
	struct graph g;
	struct diag_list dl = DIAG_LIST_INIT("S");
	char name[16], dep[16];
	const char *msg;

	(void)state;
	sf_init(&sf, LONG_CHAIN);
	for (int i = 0; i < LONG_CHAIN; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		snprintf(dep, sizeof(dep), "t%d", i + 1);
		if (i + 1 < LONG_CHAIN)
			sf_add(&sf, name, dep, NULL);
		else
			sf_add(&sf, name, NULL);
	}
	assert_int_equal(graph_build(&g, &sf, &dl), 0);
	graph_release(&g);

	/* the last task now needs the first: one cycle through them all */
	strvec_push(&sf.tasks[LONG_CHAIN - 1].needs, "t0");
	sf.tasks[LONG_CHAIN - 1].need_marks = xrealloc(NULL, sizeof(struct mark));
	sf.tasks[LONG_CHAIN - 1].need_marks[0] = (struct mark){ 7, 7 };
	assert_int_equal(graph_build(&g, &sf, &dl), -1);
	assert_int_equal(dl.errors, 1);
	msg = dl.items[0].message;
	assert_int_equal(dl.items[0].mark.line, 7);
	assert_int_equal(strncmp(msg, "cycle: t0 -> t1 -> t2 -> ", 25), 0);
	assert_non_null(strstr(msg, "-> t99999 -> t0"));
	assert_int_equal(strcmp(msg + strlen(msg) - 15, "-> t99999 -> t0"), 0);
	diag_list_release(&dl);
	graph_release(&g);
	squadfile_release(&sf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edges_both_ways),
		cmocka_unit_test(repeated_and_unknown_needs),
		cmocka_unit_test(two_task_cycle_at_the_mark_of_an_edge),
		cmocka_unit_test(self_loop),
		cmocka_unit_test(three_task_cycle_behind_a_chain),
		cmocka_unit_test(several_cycles_each_reported_up_to_a_bound),
		cmocka_unit_test(closure_takes_what_targets_need),
		cmocka_unit_test(topological_order_puts_dependencies_first),
		cmocka_unit_test(critical_path_is_the_longest_way_to_the_end),
		cmocka_unit_test(empty_graph),
		cmocka_unit_test(long_chain_without_stack_overflow),
		cmocka_unit_test(long_chain_walked_from_its_head_and_a_long_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
