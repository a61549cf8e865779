/* fuzz_squadfile.c - the Squadfile reader and what works from its model.
 *
 * The input is a Squadfile, byte for byte. It goes through what every
 * squad command does before it runs anything: squadfile_load(), the
 * diagnostics, route_apply() and route_resolve_skills(), graph_build(),
 * then plan_build() of the default target and of every task, and for
 * each planned task worker_build_command() and worker_describe() (the
 * expansion of its command, env, prompt and worker template). Nothing is
 * spawned. Everything is released: a leak is a finding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/diag.h"
#include "fuzz_common.h"
#include "plan/graph.h"
#include "plan/plan.h"
#include "model/route.h"
#include "model/squadfile.h"
#include "job/worker.h"
#include "util/strbuf.h"
#include "util/strvec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_fixed_environ();
	return 0;
}

static void commands_of(const struct squadfile *sf, const struct plan *plan)
{
	struct strvec changed = STRVEC_INIT;
	struct strbuf desc = STRBUF_INIT;

	strvec_push(&changed, "src/a.c");
	strvec_push(&changed, "dir with space/b");
	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task *t = &sf->tasks[plan->order[i]];
		const struct worker *w = &sf->workers[t->worker];
		struct command cmd = COMMAND_INIT;
		struct strbuf err = STRBUF_INIT;

		worker_build_command(&cmd, sf, t, w, &changed, "/dev/null", &err);
		command_release(&cmd);
		strbuf_release(&err);
		strbuf_reset(&desc);
		worker_describe(sf, t, w, &desc);
	}
	strbuf_release(&desc);
	strvec_clear(&changed);
}

static void plan_of(const struct squadfile *sf, const struct graph *g,
		    const struct strvec *targets, bool commands)
{
	struct plan plan;
	struct strbuf err = STRBUF_INIT;

	if (plan_build(&plan, sf, g, NULL, targets, NULL, &err) == 0 && commands)
		commands_of(sf, &plan);
	plan_release(&plan);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4200];
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strbuf out = STRBUF_INIT;
	int rc;

	if (!path[0])
		snprintf(path, sizeof(path), "%s/Squadfile", fuzz_dir());
	fuzz_write_file(path, data, size);

	rc = squadfile_load(&sf, path, &diags);
	if ((rc < 0) != (diags.errors > 0))
		abort(); /* -1 exactly when an error was reported */
	if (rc == 0) {
		struct skills skills = SKILLS_INIT;
		struct graph g;
		size_t errors = diags.errors;

		route_apply(&sf);
		route_resolve_skills(&skills, &sf, NULL, false, &diags);
		if (diags.errors != errors)
			abort(); /* not strict: an unknown skill is a warning */
		rc = graph_build(&g, &sf, &diags);
		if ((rc < 0) != (diags.errors > errors))
			abort(); /* a cycle is reported */
		if (rc == 0) {
			struct strvec none = STRVEC_INIT, all = STRVEC_INIT;

			for (size_t i = 0; i < sf.nr_tasks; i++)
				strvec_push(&all, sf.tasks[i].name);
			plan_of(&sf, &g, &none, false);
			plan_of(&sf, &g, &all, true);
			strvec_clear(&all);
		}
		graph_release(&g);
		route_skills_release(&skills);
	}
	diag_format(&diags, &out);
	strbuf_release(&out);
	diag_list_release(&diags);
	squadfile_release(&sf);
	return 0;
}
