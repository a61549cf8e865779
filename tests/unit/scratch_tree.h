/* scratch_tree.h - a throw-away folder for the unit tests of the
 * git/files layer (test_files.c, test_gitinfo.c, test_inputs.c) and of
 * the run (test_run.c, test_report.c): each test file keeps its folder's
 * path in `root`. Include after cmocka.h. */
#ifndef SQUAD_TEST_SCRATCH_TREE_H
#define SQUAD_TEST_SCRATCH_TREE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "model/diag.h"
#include "plan/graph.h"
#include "model/squadfile.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static char root[256];

/* A new folder TMPDIR/squad-NAME-XXXXXX, into root; false on failure. */
static inline bool scratch_make(const char *name)
{
	snprintf(root, sizeof(root), "%s/squad-%s-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	return mkdtemp(root) != NULL;
}

/* root/PATH holding `text`, last changed an hour ago: older than any
 * index or listing made now, so never racily clean. */
static inline void scratch_write_old(const char *path, const char *text)
{
	char full[1024];
	struct timespec t[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(utimensat(AT_FDCWD, full, t, 0), 0);
}

/* A new scratch folder (scratch_make()) with `nr` folders d00/, d01/
 * ..., each holding f.c ("NN\n") and x.log; the roots that name them
 * into `roots` (when not NULL). */
static inline void scratch_folders(const char *name, int nr, struct strvec *roots)
{
	char path[sizeof(root) + 32], text[16];

	assert_true(scratch_make(name));
	for (int i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/d%02d", root, i);
		assert_int_equal(mkdir(path, 0777), 0);
		snprintf(path, sizeof(path), "d%02d/f.c", i);
		snprintf(text, sizeof(text), "%02d\n", i);
		scratch_write_old(path, text);
		snprintf(path, sizeof(path), "d%02d/x.log", i);
		scratch_write_old(path, "log\n");
		snprintf(path, sizeof(path), "d%02d/", i);
		if (roots)
			strvec_push(roots, path);
	}
}

/* root/Squadfile holding `text`, loaded into `sf` and graphed into `g`:
 * a Squadfile that does not load fails the test, with its diagnostics. */
static inline void scratch_model(struct squadfile *sf, struct graph *g, const char *text)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	char path[sizeof(root) + 16];

	scratch_write_old("Squadfile", text);
	snprintf(path, sizeof(path), "%s/Squadfile", root);
	if (squadfile_load(sf, path, &diags) < 0 || graph_build(g, sf, &diags) < 0) {
		struct strbuf out = STRBUF_INIT;

		diag_format(&diags, &out);
		fail_msg("%s", out.buf);
	}
	diag_list_release(&diags);
}

/* The index of the task `name` of `sf`; the test fails without one. */
static inline size_t scratch_task(const struct squadfile *sf, const char *name)
{
	long n = squadfile_find_task(sf, name);

	if (n < 0)
		fail_msg("no task '%s'", name);
	return (size_t)n;
}

static inline int scratch_remove(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

#endif
