/* test_explain.c - `squad explain`'s verdicts and routes, from a real
 * Squadfile planned without a state (first run). A first cut: the
 * reasons behind an up-to-date or done verdict are covered end to end
 * in tests/e2e/explain.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "report/explain.h"
#include "plan/graph.h"
#include "plan/plan.h"
#include "model/route.h"
#include "model/squadfile.h"
#include "util/strbuf.h"

#include "scratch_tree.h"

static void test_first_run_verdicts(void **unused)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct skills skills = SKILLS_INIT;
	struct strvec targets = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	char path[512];

	(void)unused;
	assert_true(scratch_make("explain"));
	scratch_write_old("Squadfile",
			  "version: 1\n"
			  "default: all\n"
			  "tasks:\n"
			  "  build: { run: 'echo built', desc: compile }\n"
			  "  review: { skills: [review], prompt: check, needs: [build] }\n"
			  "  other: 'true'\n"
			  "  all: { needs: [review] }\n");
	snprintf(path, sizeof(path), "%s/Squadfile", root);
	assert_int_equal(squadfile_load(&sf, path, &diags), 0);
	assert_int_equal(graph_build(&g, &sf, &diags), 0);
	assert_int_equal(route_resolve_skills(&skills, &sf, NULL, false, &diags), 0);
	assert_int_equal(plan_build(&plan, &sf, &g, NULL, &targets, NULL, &err), 0);

	explain_task(&out, &plan, NULL, &skills, (size_t)squadfile_find_task(&sf, "build"), 4);
	assert_memory_equal(out.buf, "build: will run\n", 16);
	assert_non_null(strstr(out.buf, "route: worker shell"));
	assert_non_null(strstr(out.buf, "limit: at most 4 of worker shell's tasks at once"));
	if (!strstr(out.buf, "why: it has no inputs, so it runs every time"))
		fail_msg("%s", out.buf);
	strbuf_reset(&out);
	explain_task(&out, &plan, NULL, &skills, (size_t)squadfile_find_task(&sf, "review"), 4);
	assert_memory_equal(out.buf, "review: waits for the tactician\n", 32);
	assert_non_null(strstr(out.buf, "skill review, written on the task; no SKILL.md found"));
	strbuf_reset(&out);
	explain_task(&out, &plan, NULL, &skills, (size_t)squadfile_find_task(&sf, "all"), 4);
	assert_memory_equal(out.buf, "all: a group: done when its needs are\n", 38);
	strbuf_reset(&out);
	explain_task(&out, &plan, NULL, &skills, (size_t)squadfile_find_task(&sf, "other"), 4);
	assert_memory_equal(out.buf, "other: not selected\n", 20);

	strbuf_release(&out);
	strbuf_release(&err);
	plan_release(&plan);
	route_skills_release(&skills);
	graph_release(&g);
	squadfile_release(&sf);
	diag_list_release(&diags);
	assert_int_equal(scratch_remove(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_run_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
