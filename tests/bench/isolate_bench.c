/* isolate_bench.c - the cost of one isolated task's worktree on a real
 * repository: isolate_create(), then (after one file is changed in it)
 * isolate_change() and isolate_remove(), then isolate_apply() of the
 * patch to the user's tree (undone after). Prints the best of RUNS in ms:
 * "create MS change MS remove MS apply MS". Built as bench_isolate (not part of
 * the test suite); tests/bench/worktree.sh runs it beside git's own
 * commands. Usage: bench_isolate REPO STATE_DIR RUNS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "files/gitinfo.h"
#include "files/isolate.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	double best[4] = { 1e18, 1e18, 1e18, 1e18 };
	int runs;

	if (argc != 4 || (runs = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: bench_isolate REPO STATE_DIR RUNS\n");
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		struct isolate iso = ISOLATE_INIT;
		struct strbuf err = STRBUF_INIT, patch = STRBUF_INIT;
		double t0, t1, t1b, t2, t3, t4;
		char path[4096];
		FILE *f;

		t0 = now_ms();
		if (isolate_create(&iso, argv[1], argv[2], &err) < 0) {
			fprintf(stderr, "bench_isolate: %s\n", err.buf);
			return 1;
		}
		t1 = now_ms();
		snprintf(path, sizeof(path), "%schanged.txt", iso.dir);
		f = fopen(path, "w");
		if (!f)
			return 1;
		fputs("changed\n", f);
		fclose(f);
		t1b = now_ms(); /* the task's own write is not squad's cost */
		if (isolate_change(&iso, &patch, NULL, &err) != 1) {
			fprintf(stderr, "bench_isolate: no change seen: %s\n", err.buf);
			return 1;
		}
		t2 = now_ms();
		isolate_remove(&iso, &err);
		t3 = now_ms();
		if (isolate_apply(argv[1], argv[2], NULL, patch.buf, patch.len, NULL, NULL, &err) != 0) {
			fprintf(stderr, "bench_isolate: the patch does not apply: %s\n", err.buf);
			return 1;
		}
		t4 = now_ms();
		snprintf(path, sizeof(path), "%s/changed.txt", argv[1]);
		unlink(path);
		if (t1 - t0 < best[0])
			best[0] = t1 - t0;
		if (t2 - t1b < best[1])
			best[1] = t2 - t1b;
		if (t3 - t2 < best[2])
			best[2] = t3 - t2;
		if (t4 - t3 < best[3])
			best[3] = t4 - t3;
		strbuf_release(&err);
		strbuf_release(&patch);
	}
	printf("create %.1f change %.1f remove %.1f apply %.1f\n", best[0], best[1], best[2],
	       best[3]);
	gitinfo_global_shutdown();
	return 0;
}
