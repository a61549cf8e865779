/* fuzz_gitstamp.c - .squad/git read back, and written again.
 *
 * The input follows the stamp's header as it is (lines of any bytes).
 * Besides crashes, leaks and time, it checks what a reader of a stamp
 * must hold to:
 *
 *  - gitstamp_read() either fails and leaves the stamp empty, or gives
 *    a workdir, one kind per watched path (each absolute, each found in
 *    the index at its own slot) and one decision per root;
 *  - a stamp that read back whole is written again whole (all its files
 *    are settled against a moment far in the future), and that reads
 *    back with the same workdir, the same roots and decisions in the
 *    same order, every watched path it had (the cache file's own line
 *    replaced by the new cache file's).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "files/gitstamp.h"
#include "util/strbuf.h"

static char stamp_path[4200], out_path[4200], cache_path[4200];

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_gitstamp: %s: '%s'\n", what, detail);
	abort();
}

static void check_shape(const struct gitstamp *gs)
{
	if (!gs->workdir)
		fail("read back without a workdir", "");
	if (gs->kinds.len != gs->paths.nr)
		fail("kinds and paths differ in number", gs->kinds.buf);
	if (gs->skipped.len != gs->roots.nr)
		fail("decisions and roots differ in number", gs->skipped.buf);
	for (size_t i = 0; i < gs->paths.nr; i++) {
		if (gs->paths.v[i][0] != '/')
			fail("a watched path that is not absolute", gs->paths.v[i]);
		if (!strchr("fd-c", gs->kinds.buf[i]) || !gs->kinds.buf[i])
			fail("a kind the format has not", gs->paths.v[i]);
		if (strmap_get(&gs->watched, gs->paths.v[i]) != (int)i)
			fail("a path not at its own slot", gs->paths.v[i]);
	}
	for (size_t i = 0; i < gs->roots.nr; i++)
		if (gitstamp_root_skipped(gs, gs->roots.v[i]) != (gs->skipped.buf[i] == '1'))
			fail("a root's decision read back wrong", gs->roots.v[i]);
}

static void check_round_trip(const struct gitstamp *gs)
{
	struct gitstamp again = GITSTAMP_INIT;
	struct timespec future = { .tv_sec = (time_t)1 << 40, .tv_nsec = 0 };
	struct strbuf err = STRBUF_INIT;
	int rc = gitstamp_write(gs, out_path, cache_path, &future, &err);

	if (rc != 1)
		fail("a stamp that read whole was not written again", err.buf);
	if (gitstamp_read(&again, out_path) < 0)
		fail("a stamp written by squad does not read back", out_path);
	check_shape(&again);
	if (strcmp(again.workdir, gs->workdir))
		fail("the workdir changed", again.workdir);
	if (again.roots.nr != gs->roots.nr)
		fail("roots lost or gained", gs->workdir);
	for (size_t i = 0; i < gs->roots.nr; i++)
		if (strcmp(again.roots.v[i], gs->roots.v[i]) ||
		    again.skipped.buf[i] != gs->skipped.buf[i])
			fail("a root changed", gs->roots.v[i]);
	for (size_t i = 0; i < gs->paths.nr; i++)
		if (gs->kinds.buf[i] != 'c' && strmap_get(&again.watched, gs->paths.v[i]) < 0)
			fail("a watched path was lost", gs->paths.v[i]);
	if (strmap_get(&again.watched, cache_path) < 0)
		fail("the cache file is not watched", cache_path);
	gitstamp_release(&again);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct gitstamp gs = GITSTAMP_INIT;
	struct strbuf text = STRBUF_INIT;

	if (!ready) {
		snprintf(stamp_path, sizeof(stamp_path), "%s/git", fuzz_dir());
		snprintf(out_path, sizeof(out_path), "%s/git.out", fuzz_dir());
		snprintf(cache_path, sizeof(cache_path), "%s/files", fuzz_dir());
		fuzz_write_file(cache_path, "squad-files 3\n", 14);
		ready = true;
	}
	strbuf_addstr(&text, "squad-git 1\n");
	strbuf_add(&text, data, size);
	fuzz_write_file(stamp_path, text.buf, text.len);

	if (gitstamp_read(&gs, stamp_path) < 0) {
		if (gs.workdir || gs.paths.nr || gs.roots.nr || gs.stats)
			fail("a stamp that failed to read is not empty", stamp_path);
	} else {
		check_shape(&gs);
		gitstamp_holds(&gs);
		check_round_trip(&gs);
	}
	gitstamp_release(&gs);
	strbuf_release(&text);
	return 0;
}
