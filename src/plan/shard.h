/* shard.h - a deterministic split of selected tasks into N shards.
 *
 * Each task of the selection gets exactly one shard as its owner. The
 * split is a longest-first greedy one: tasks by weight (a recorded
 * duration), heaviest first, ties by task index; each goes to the least
 * loaded shard, ties to the lowest. The same input always gives the same
 * split, on any machine, whatever the order of `tasks`.
 *
 * Balance bound (list scheduling): every shard's load is at most
 * total / n + max_weight, where total is the sum of the weights and
 * max_weight the heaviest task's weight.
 *
 * The DAG is respected by the caller, not here: a shard runs the closure
 * of its own tasks (their needs too, which other shards own). shard is
 * pure: no I/O, no globals.
 */
#ifndef SQUAD_SHARD_H
#define SQUAD_SHARD_H

#include <stddef.h>

/* Parse "K/N" (1 <= K <= N <= 1000) into *k (1-based) and *n.
 * Returns 0, or -1 when `s` is not of that form. */
int shard_parse(const char *s, unsigned *k, unsigned *n);

/* Split `tasks` (nr distinct task indices below nr_all) among n >= 1
 * shards: owner[tasks[i]] becomes a shard number in 0..n-1; entries of
 * owner for tasks not listed are left alone. weight is indexed by task
 * (nr_all entries), each > 0. */
void shard_split(const int *tasks, size_t nr, const double *weight, unsigned n,
		 unsigned *owner);

#endif
