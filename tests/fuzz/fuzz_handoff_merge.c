/* fuzz_handoff_merge.c - `squad handoff --merge`: manifests from CI
 * artifacts, which anyone who can change a shard's job can write.
 *
 * The input is cut at NUL bytes into up to three manifests, each written
 * to a file of the scratch folder and given to handoff_merge() in that
 * order, against a fixed Squadfile (a small DAG with skill tasks and a
 * group, loaded once). Whatever the files hold, the merge returns -1 with
 * a reason, or the number of entries of a merged manifest that is JSON,
 * has that many entries, and names only tasks of the Squadfile; the
 * merge is deterministic (a second one gives the same bytes but for
 * nothing, as `created` comes from the inputs).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/diag.h"
#include "fuzz_common.h"
#include "plan/graph.h"
#include "report/handoff.h"
#include "model/squadfile.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static const char squadfile_text[] =
	"version: 1\n"
	"default: all\n"
	"tasks:\n"
	"  a: { run: \"true\" }\n"
	"  b: { run: \"true\", needs: [a] }\n"
	"  rev: { skills: [review], needs: [b] }\n"
	"  c: { run: \"true\", needs: [rev] }\n"
	"  grp: { needs: [c] }\n"
	"  esc: { run: \"false\", escalate: true, needs: [a] }\n"
	"  all: { needs: [grp, esc] }\n";

static struct squadfile sf;
static struct graph g;
static char squadfile_path[4200];

static void init(void)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");

	snprintf(squadfile_path, sizeof(squadfile_path), "%s/Squadfile", fuzz_dir());
	fuzz_write_file(squadfile_path, squadfile_text, strlen(squadfile_text));
	if (squadfile_load(&sf, squadfile_path, &diags) < 0 || graph_build(&g, &sf, &diags) < 0)
		abort();
	diag_list_release(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_parts fp;
	struct strvec paths = STRVEC_INIT;
	struct strbuf json = STRBUF_INIT, again = STRBUF_INIT, err = STRBUF_INIT;
	int n;

	if (!ready) {
		init();
		ready = true;
	}
	fuzz_parts_split(&fp, data, size, 3);
	for (size_t i = 0; i < fp.nr; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/shard%zu.json", fuzz_dir(), i);
		fuzz_write_file(path, fp.part[i], fp.len[i]);
		strvec_push(&paths, path);
	}
	n = handoff_merge(&sf, &g, squadfile_path, &paths, NULL, &json, &err);
	if (n < 0) {
		if (!err.len || json.len)
			abort(); /* a failure says why, and writes nothing */
	} else {
		json_error_t jerr;
		json_t *m = json_loadb(json.buf, json.len, 0, &jerr), *e;
		size_t i;

		if (!m || json_array_size(json_object_get(m, "tasks")) != (size_t)n)
			abort();
		json_array_foreach(json_object_get(m, "tasks"), i, e)
			if (squadfile_find_task(&sf, json_string_value(json_object_get(e, "name"))) < 0)
				abort();
		json_decref(m);
		strbuf_reset(&err);
		if (handoff_merge(&sf, &g, squadfile_path, &paths, NULL, &again, &err) != n ||
		    strcmp(again.buf, json.buf))
			abort();
	}
	strvec_clear(&paths);
	strbuf_release(&json);
	strbuf_release(&again);
	strbuf_release(&err);
	fuzz_parts_release(&fp);
	return 0;
}
