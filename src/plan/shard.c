/* shard.c - see shard.h. */
#include "plan/shard.h"

#include <errno.h>
#include <stdlib.h>

#include "util/xalloc.h"

int shard_parse(const char *s, unsigned *k, unsigned *n)
{
	char *end;
	unsigned long a, b;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || *end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end || a < 1 || b < 1 || a > b || b > 1000)
		return -1;
	*k = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

struct item {
	int task;
	double weight;
};

/* heaviest first; equal weights by task index, so the order of the input
 * never matters */
static int by_weight(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return (a->task > b->task) - (a->task < b->task);
}

void shard_split(const int *tasks, size_t nr, const double *weight, unsigned n,
		 unsigned *owner)
{
	struct item *items;
	double *load;

	if (!nr || !n)
		return;
	items = xmalloc(nr * sizeof(*items));
	load = xcalloc(n, sizeof(*load));
	for (size_t i = 0; i < nr; i++)
		items[i] = (struct item){ tasks[i], weight[tasks[i]] };
	qsort(items, nr, sizeof(*items), by_weight);
	for (size_t i = 0; i < nr; i++) {
		unsigned best = 0;

		/* n is small (a CI matrix): a linear scan beats a heap here */
		for (unsigned s = 1; s < n; s++)
			if (load[s] < load[best])
				best = s;
		owner[items[i].task] = best;
		load[best] += items[i].weight;
	}
	free(load);
	free(items);
}
