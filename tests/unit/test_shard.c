/* test_shard.c - the split of a selection into N shards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/graph.h"
#include "plan/shard.h"
#include "util/xalloc.h"

/* a fixed generator: the same DAGs on every machine */
static uint32_t rng = 12345;
static uint32_t next(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) & 0xffffff;
}

/* A random DAG of nr tasks "tI": task i needs up to 3 tasks below i. */
static void gen_sf(struct squadfile *sf, size_t nr)
{
	memset(sf, 0, sizeof(*sf));
	strvec_init(&sf->vars);
	strvec_init(&sf->default_targets);
	sf->tasks = xcalloc(nr, sizeof(*sf->tasks));
	for (size_t i = 0; i < nr; i++) {
		struct task *t = &sf->tasks[i];
		char name[32];
		size_t nr_needs = i ? next() % 4 : 0;

		snprintf(name, sizeof(name), "t%zu", i);
		t->name = xstrdup(name);
		strvec_init(&t->needs);
		t->need_marks = xcalloc(4, sizeof(struct mark));
		for (size_t j = 0; j < nr_needs; j++) {
			snprintf(name, sizeof(name), "t%u", (unsigned)(next() % i));
			strvec_push(&t->needs, name);
		}
		strmap_put(&sf->task_index, t->name, (int)i);
		sf->nr_tasks++;
	}
}

static void check_split(const struct graph *g, const int *order, size_t nr,
			const double *w, unsigned n)
{
	unsigned *owner = xcalloc(nr, sizeof(unsigned));
	unsigned *again = xcalloc(nr, sizeof(unsigned));
	int *shuffled = xmalloc(nr * sizeof(int));
	double *load = xcalloc(n, sizeof(double));
	size_t *count = xcalloc(nr, sizeof(size_t));
	double total = 0, max_w = 0;

	for (size_t i = 0; i < nr; i++)
		owner[i] = again[i] = (unsigned)-1;
	shard_split(order, nr, w, n, owner);
	/* deterministic: the same split from the tasks in another order */
	for (size_t i = 0; i < nr; i++)
		shuffled[i] = order[nr - 1 - i];
	shard_split(shuffled, nr, w, n, again);
	for (size_t i = 0; i < nr; i++) {
		assert_true(owner[i] < n);
		assert_int_equal(owner[i], again[i]);
		load[owner[i]] += w[i];
		total += w[i];
		if (w[i] > max_w)
			max_w = w[i];
	}
	/* every task exactly once as an own task across shards 1..n, and a
	 * shard's run (the closure of its own tasks) holds all their needs */
	for (unsigned s = 0; s < n; s++) {
		int *own = xmalloc((nr + 1) * sizeof(int));
		bool *in = xcalloc(nr, sizeof(bool));
		size_t nr_own = 0;

		for (size_t i = 0; i < nr; i++)
			if (owner[i] == s) {
				own[nr_own++] = (int)i;
				count[i]++;
			}
		graph_closure(g, own, nr_own, in);
		for (size_t i = 0; i < nr_own; i++)
			for (size_t d = g->dep_start[own[i]]; d < g->dep_start[own[i] + 1]; d++)
				assert_true(in[g->deps[d]]);
		/* the stated bound */
		assert_true(load[s] <= total / n + max_w + 1e-9);
		free(in);
		free(own);
	}
	for (size_t i = 0; i < nr; i++)
		assert_int_equal(count[i], 1);
	free(count);
	free(load);
	free(shuffled);
	free(again);
	free(owner);
}

static void generated_dags(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		size_t nr = 1 + next() % 60;
		struct squadfile sf;
		struct graph g;
		struct diag_list dl = DIAG_LIST_INIT("S");
		bool *all = xcalloc(nr, sizeof(bool));
		int *order = xmalloc(nr * sizeof(int));
		double *w = xmalloc(nr * sizeof(double));

		gen_sf(&sf, nr);
		assert_int_equal(graph_build(&g, &sf, &dl), 0);
		for (size_t i = 0; i < nr; i++) {
			all[i] = true;
			/* some equal weights, to exercise the tie-breaks */
			w[i] = 1 + (double)(next() % 5) * (double)(next() % 200);
		}
		assert_int_equal(graph_topo_order(&g, all, order), nr);
		for (unsigned n = 1; n <= 5; n++)
			check_split(&g, order, nr, w, n);
		graph_release(&g);
		diag_list_release(&dl);
		squadfile_release(&sf);
		free(w);
		free(order);
		free(all);
	}
}

static void one_shard_owns_all(void **state)
{
	int tasks[] = { 2, 0, 1 };
	double w[] = { 5, 1, 9 };
	unsigned owner[3] = { 7, 7, 7 };

	(void)state;
	shard_split(tasks, 3, w, 1, owner);
	assert_int_equal(owner[0], 0);
	assert_int_equal(owner[1], 0);
	assert_int_equal(owner[2], 0);
}

static void heaviest_first(void **state)
{
	/* 9 -> shard 0, 5 -> 1, 4 -> 1 (5 < 9), 1 -> 0 (9 = 9: the lowest wins) */
	int tasks[] = { 0, 1, 2, 3 };
	double w[] = { 5, 9, 4, 1 };
	unsigned owner[4];

	(void)state;
	shard_split(tasks, 4, w, 2, owner);
	assert_int_equal(owner[1], 0);
	assert_int_equal(owner[0], 1);
	assert_int_equal(owner[2], 1);
	assert_int_equal(owner[3], 0);
}

static void more_shards_than_tasks(void **state)
{
	int tasks[] = { 0, 1 };
	double w[] = { 1, 1 };
	unsigned owner[2];

	(void)state;
	shard_split(tasks, 2, w, 5, owner);
	assert_int_equal(owner[0], 0);
	assert_int_equal(owner[1], 1);
}

static void parse(void **state)
{
	unsigned k = 0, n = 0;

	(void)state;
	assert_int_equal(shard_parse("2/3", &k, &n), 0);
	assert_int_equal(k, 2);
	assert_int_equal(n, 3);
	assert_int_equal(shard_parse("1/1", &k, &n), 0);
	assert_int_equal(shard_parse("0/3", &k, &n), -1);
	assert_int_equal(shard_parse("4/3", &k, &n), -1);
	assert_int_equal(shard_parse("1/0", &k, &n), -1);
	assert_int_equal(shard_parse("1/3x", &k, &n), -1);
	assert_int_equal(shard_parse("-1/3", &k, &n), -1);
	assert_int_equal(shard_parse("1/-3", &k, &n), -1);
	assert_int_equal(shard_parse("1/1001", &k, &n), -1);
	assert_int_equal(shard_parse("", &k, &n), -1);
	assert_int_equal(shard_parse("3", &k, &n), -1);
	assert_int_equal(shard_parse(NULL, &k, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated_dags),
		cmocka_unit_test(one_shard_owns_all),
		cmocka_unit_test(heaviest_first),
		cmocka_unit_test(more_shards_than_tasks),
		cmocka_unit_test(parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
