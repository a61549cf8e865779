/* fuzz_artifact.c - a cached result's bytes, as a cache server could
 * send them, unpacked (artifact_unpack()).
 *
 * Besides crashes, leaks and time, it checks what the unpacker must
 * hold to whatever the bytes: nothing appears beside the folder it
 * unpacks into (no escape by name, by "..", by a link planted and
 * written through), and on success the result entry was read. The
 * entry's metadata then goes through cache_meta_read(), as a hit's does.
 * The same bytes also go, as they are, through cache_meta_read() (an
 * entry's metadata: the result, tool calls, usage) and through
 * cache_http_query_read() (a server's answer to the batch query).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/artifact.h"
#include "cache/cache_http.h"
#include "cache/cachestep.h"
#include "fuzz_common.h"
#include "util/strbuf.h"

static char box[4200], into[4200];

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_artifact: %s: '%s'\n", what, detail);
	abort();
}

/* The box holds `into` and nothing else. */
static void check_box(void)
{
	DIR *d = opendir(box);
	struct dirent *de;

	if (!d)
		fail("the box is gone", box);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "into"))
			fail("something escaped the folder", de->d_name);
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf meta = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	if (!box[0]) {
		snprintf(box, sizeof(box), "%s/box", fuzz_dir());
		snprintf(into, sizeof(into), "%s/into", box);
		mkdir(box, 0700);
	}
	nftw(into, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(into, 0700) < 0)
		fail("cannot make the folder", into);
	rc = artifact_unpack(data, size, into, 1 << 20, &meta, &err);
	if (rc < 0 && !err.len)
		fail("refused without a reason", "");
	if (rc == 0 && err.len)
		fail("unpacked with an error", err.buf);
	check_box();
	if (rc == 0) {
		struct cache_hit hit = CACHE_HIT_INIT;
		struct strbuf why = STRBUF_INIT;

		if (cache_meta_read(meta.buf, meta.len, "k", &hit, &why) < 0 && !why.len)
			fail("metadata refused without a reason", "");
		cache_hit_release(&hit);
		strbuf_release(&why);
	}
	{
		static const char *const hashes[] = { "k", "abc", "0123456789abcdef" };
		struct cache_hit hit = CACHE_HIT_INIT;
		struct strbuf why = STRBUF_INIT;
		bool have[3];

		if (cache_meta_read((const char *)data, size, "k", &hit, &why) < 0 && !why.len)
			fail("metadata refused without a reason", "");
		if (hit.nr_tools > 50)
			fail("more tool calls than a result keeps", "");
		cache_hit_release(&hit);
		strbuf_release(&why);
		if (cache_http_query_read((const char *)data, size, hashes, 3, have) < 0 &&
		    (have[0] || have[1] || have[2]))
			fail("a refused answer says an artifact is there", "");
	}
	strbuf_release(&meta);
	strbuf_release(&err);
	return 0;
}
