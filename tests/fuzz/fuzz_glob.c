/* fuzz_glob.c - git ':(glob)' pathspec patterns and sets.
 *
 * The input is cut at NUL bytes: part 0 holds the patterns (one per
 * line), part 1 the paths (one per line), and part 2, when present, the
 * base folder of the set (absent: NULL). Besides crashes, leaks and time
 * (the NFA must stay linear), it checks what glob.h promises:
 *
 *  - every path globset_match() accepts starts with globset_prefix(),
 *    and the prefix is "" or ends with '/';
 *  - for a pattern P without a leading '!', a set of P alone (base NULL)
 *    answers exactly as glob_match(P, path); an invalid P matches nothing;
 *  - a set of valid positive patterns (base NULL) holds a path exactly
 *    when one of them matches it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "model/glob.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static void fail(const char *what, const char *pattern, const char *path)
{
	fprintf(stderr, "fuzz_glob: %s: pattern '%s', path '%s'\n", what, pattern, path);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts fp;
	struct strvec patterns = STRVEC_INIT, paths = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct globset *gs;
	const char *base;
	bool all_valid_positive = true;

	fuzz_parts_split(&fp, data, size, 3);
	fuzz_push_lines(&patterns, fuzz_part(&fp, 0, ""), 32);
	fuzz_push_lines(&paths, fuzz_part(&fp, 1, ""), 32);
	base = fuzz_part(&fp, 2, NULL);

	gs = globset_new(&patterns, base, &err);
	if (gs) {
		const char *prefix = globset_prefix(gs);
		size_t plen = strlen(prefix);

		if (plen && prefix[plen - 1] != '/')
			fail("prefix does not end with '/'", prefix, "");
		for (size_t i = 0; i < paths.nr; i++)
			if (globset_match(gs, paths.v[i]) && strncmp(paths.v[i], prefix, plen))
				fail("a match outside the prefix", prefix, paths.v[i]);
		globset_free(gs);
	} else if (!err.len) {
		fail("globset_new failed without a reason", "", "");
	}
	strbuf_reset(&err);

	/* each pattern alone: the set and glob_match() agree */
	for (size_t i = 0; i < patterns.nr; i++) {
		struct strvec one = STRVEC_INIT;
		const char *pat = patterns.v[i];

		if (pat[0] == '!') {
			all_valid_positive = false;
			continue;
		}
		strvec_push(&one, pat);
		gs = globset_new(&one, NULL, &err);
		strbuf_reset(&err);
		if (!gs)
			all_valid_positive = false;
		for (size_t j = 0; j < paths.nr; j++) {
			bool alone = glob_match(pat, paths.v[j]);

			if (alone != (gs ? globset_match(gs, paths.v[j]) : false))
				fail("glob_match and a set of one disagree", pat, paths.v[j]);
		}
		globset_free(gs);
		strvec_clear(&one);
	}

	/* a set of positive patterns is their union */
	if (all_valid_positive && patterns.nr) {
		gs = globset_new(&patterns, NULL, &err);
		if (!gs)
			fail("valid patterns make an invalid set", patterns.v[0], "");
		for (size_t j = 0; j < paths.nr; j++) {
			bool any = false;

			for (size_t i = 0; i < patterns.nr && !any; i++)
				any = glob_match(patterns.v[i], paths.v[j]);
			if (any != globset_match(gs, paths.v[j]))
				fail("a set is not the union of its patterns", patterns.v[0],
				     paths.v[j]);
		}
		globset_free(gs);
	}

	strbuf_release(&err);
	strvec_clear(&patterns);
	strvec_clear(&paths);
	fuzz_parts_release(&fp);
	return 0;
}
