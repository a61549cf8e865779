/* fuzz_init.c - `squad init`'s readers of a project's files, and what it writes.
 *
 * The input is cut at NUL bytes into a package.json, a Makefile and a
 * tsconfig.json, written into a scratch project folder (a part that is
 * missing leaves its file out). init_generate() reads them: jansson for
 * package.json and the scripts' commands (an install task, build
 * outputs from --outDir and the like), the Makefile's rules, the loose
 * reader of tsconfig.json's outDir. Nothing is spawned: there are no
 * Python files, so no `python3 -c 'import ...'` check runs. Besides
 * crashes, leaks and time, it checks the promise of init.h: what it
 * writes loads with squadfile_load() and builds a graph without a
 * single diagnostic, whatever the project's files hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/diag.h"
#include "fuzz_common.h"
#include "plan/graph.h"
#include "cmd/init.h"
#include "model/squadfile.h"
#include "util/strbuf.h"

static char project[4200], squadfile[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_fixed_environ();
	snprintf(project, sizeof(project), "%s/project", fuzz_dir());
	snprintf(squadfile, sizeof(squadfile), "%s/Squadfile", fuzz_dir());
	if (mkdir(project, 0777) < 0) {
		perror(project);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "package.json", "Makefile", "tsconfig.json" };
	struct strbuf text = STRBUF_INIT, summary = STRBUF_INIT, path = STRBUF_INIT;
	struct strbuf out = STRBUF_INIT;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct fuzz_parts fp;
	struct squadfile sf;
	struct graph g;
	int ret;

	fuzz_parts_split(&fp, data, size, 3);
	for (size_t i = 0; i < 3; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", project, names[i]);
		if (i < fp.nr)
			fuzz_write_file(path.buf, fp.part[i], fp.len[i]);
		else
			unlink(path.buf);
	}
	init_generate(project, &text, &summary);
	if (!summary.len || summary.buf[summary.len - 1] != '\n')
		abort(); /* one line each, every line ends in '\n' */
	fuzz_write_file(squadfile, text.buf, text.len);
	ret = squadfile_load(&sf, squadfile, &diags);
	if (ret == 0) {
		ret = graph_build(&g, &sf, &diags);
		graph_release(&g);
	}
	squadfile_release(&sf);
	diag_format(&diags, &out);
	if (ret < 0 || out.len) {
		fprintf(stderr, "fuzz_init: what init wrote does not load cleanly:\n%s\n%s\n", out.buf,
			text.buf);
		abort();
	}
	diag_list_release(&diags);
	fuzz_parts_release(&fp);
	strbuf_release(&text);
	strbuf_release(&summary);
	strbuf_release(&path);
	strbuf_release(&out);
	return 0;
}
