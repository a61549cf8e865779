/* test_plan.c - what a run will do: the targets it selects, their
 * closure in dependency order, and per task the action (run, hand off,
 * done, done-failed, up to date), from a real Squadfile, real files and
 * a real state in a scratch folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "plan/graph.h"
#include "files/inputs.h"
#include "plan/plan.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include "scratch_tree.h"

struct fixture {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct inputs in;
	bool listed;
	struct state st;
	bool have_state;
	struct strbuf err;
};

static const char squadfile_text[] =
	"version: 1\n"
	"default: all\n"
	"workers:\n"
	"  helper: { command: [echo, \"{prompt}\"], output: text }\n"
	"tasks:\n"
	"  gen: { run: 'echo gen > out/gen.txt', inputs: ['src/*.c'], outputs: [out/gen.txt] }\n"
	"  build: { run: 'echo build', needs: [gen], inputs: ['src/*.c', 'inc/*.h'] }\n"
	"  test: { run: 'echo test', needs: [build] }\n"
	"  review: { skills: [code-review], prompt: 'review it', needs: [test] }\n"
	"  ask: { prompt: 'say ok', worker: helper, expect: '^ok' }\n"
	"  lint: { run: 'echo lint', inputs: ['docs/*.md'] }\n"
	"  other: { run: 'echo other' }\n"
	"  all: { needs: [review, ask, lint] }\n";

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[512];

	assert_non_null(fx);
	assert_true(scratch_make("plan"));
	snprintf(path, sizeof(path), "%s/src", root);
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/inc", root);
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/out", root);
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/docs", root);
	assert_int_equal(mkdir(path, 0777), 0);
	scratch_write_old("src/a.c", "a\n");
	scratch_write_old("src/b.c", "b\n");
	scratch_write_old("inc/a.h", "h\n");
	scratch_write_old("docs/x.md", "doc\n");
	scratch_model(&fx->sf, &fx->g, squadfile_text);
	strbuf_init(&fx->err, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	plan_release(&fx->plan);
	if (fx->listed)
		inputs_release(&fx->in);
	if (fx->have_state)
		state_close(&fx->st);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
	strbuf_release(&fx->err);
	free(fx);
	return scratch_remove();
}

static size_t task(struct fixture *fx, const char *name)
{
	long n = squadfile_find_task(&fx->sf, name);

	assert_true(n >= 0);
	return (size_t)n;
}

static void open_state(struct fixture *fx)
{
	assert_int_equal(state_open(&fx->st, root, &fx->err), 0);
	assert_int_equal(state_lock(&fx->st, true, &fx->err), 0);
	assert_int_equal(state_load(&fx->st, &fx->err), 0);
	fx->have_state = true;
}

/* List the files again (they may have changed) and plan `targets`
 * (comma-separated, "" for the default) with them and the state. */
static void replan(struct fixture *fx, const char *targets, bool force)
{
	struct strvec t = STRVEC_INIT;
	struct plan_options opts = { .files_prefix = "", .force = force };

	for (const char *p = targets, *c; *p; p = *c ? c + 1 : c) {
		c = strchrnul(p, ',');
		strvec_pushf(&t, "%.*s", (int)(c - p), p);
	}
	if (fx->listed)
		inputs_release(&fx->in);
	assert_int_equal(inputs_list(&fx->in, root, NULL, NULL, &fx->err), 0);
	fx->listed = true;
	opts.files = &fx->in.files;
	plan_release(&fx->plan);
	if (plan_build(&fx->plan, &fx->sf, &fx->g, fx->have_state ? &fx->st : NULL, &t, &opts,
		       &fx->err) < 0)
		fail_msg("plan_build: %s", fx->err.buf);
	strvec_clear(&t);
}

/* The order as "a b c". */
static void order_text(const struct fixture *fx, struct strbuf *out)
{
	for (size_t i = 0; i < fx->plan.nr_order; i++)
		strbuf_addf(out, "%s%s", i ? " " : "",
			    fx->sf.tasks[fx->plan.order[i]].name);
}

static void put(struct fixture *fx, const char *name, enum record_status status,
		const char *fingerprint, const char *note)
{
	struct task_record rec = {
		.task = (char *)name, .status = status, .duration_ms = 10,
		.finished = 1764028800LL, .attempts = 1,
		.fingerprint = (char *)fingerprint, .note = (char *)note,
	};

	assert_int_equal(state_put(&fx->st, &rec, &fx->err), 0);
}

static void record_fingerprint(struct fixture *fx, const char *name,
			       enum record_status status, const char *note)
{
	char fp[41];

	memcpy(fp, plan_fingerprint(&fx->plan, task(fx, name)), 41);
	put(fx, name, status, fp, note);
}

/* --- selection and order */

static void test_default_target_closure_in_order(void **state)
{
	struct fixture *fx = *state;
	struct strvec none = STRVEC_INIT;
	struct strbuf order = STRBUF_INIT;

	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &none, NULL, &fx->err), 0);
	assert_int_equal(fx->plan.targets.nr, 1);
	assert_string_equal(fx->plan.targets.v[0], "all");
	/* 'other' is in no target's closure */
	assert_false(fx->plan.in[task(fx, "other")]);
	assert_true(fx->plan.in[task(fx, "gen")]);
	assert_int_equal(fx->plan.nr_order, fx->sf.nr_tasks - 1);
	/* dependencies first: each task after everything it needs */
	for (size_t i = 0; i < fx->plan.nr_order; i++) {
		int n = fx->plan.order[i];

		for (size_t e = fx->g.dep_start[n]; e < fx->g.dep_start[n + 1]; e++) {
			size_t j;

			for (j = 0; j < i; j++)
				if (fx->plan.order[j] == fx->g.deps[e])
					break;
			assert_true(j < i);
		}
	}
	order_text(fx, &order);
	assert_string_equal(order.buf + order.len - 3, "all");
	/* the longest chain goes first: gen is on it, and weighs most */
	assert_true(fx->plan.priority[task(fx, "gen")] > fx->plan.priority[task(fx, "lint")]);
	assert_true(fx->plan.priority[task(fx, "gen")] > fx->plan.priority[task(fx, "review")]);
	strbuf_release(&order);
}

static void test_explicit_targets_once_each(void **state)
{
	struct fixture *fx = *state;
	struct strvec targets = STRVEC_INIT;
	struct strbuf order = STRBUF_INIT;

	strvec_push(&targets, "build");
	strvec_push(&targets, "lint");
	strvec_push(&targets, "build");
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &fx->err), 0);
	assert_int_equal(fx->plan.targets.nr, 2);
	order_text(fx, &order);
	/* gen before build; lint anywhere; nothing else */
	assert_int_equal(fx->plan.nr_order, 3);
	assert_non_null(strstr(order.buf, "gen"));
	assert_true(strstr(order.buf, "gen") < strstr(order.buf, "build"));
	assert_non_null(strstr(order.buf, "lint"));
	assert_false(fx->plan.in[task(fx, "test")]);
	/* a bare plan (no state, no options) has no action but run/hand-off */
	assert_int_equal(fx->plan.action[task(fx, "build")], PLAN_RUN);
	strvec_clear(&targets);
	strbuf_release(&order);
}

static void test_unknown_target_suggests(void **state)
{
	struct fixture *fx = *state;
	struct strvec targets = STRVEC_INIT;

	strvec_push(&targets, "buidl");
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &fx->err), -1);
	assert_non_null(strstr(fx->err.buf, "unknown target 'buidl'"));
	assert_non_null(strstr(fx->err.buf, "build"));
	strvec_clear(&targets);
	/* a hostile name is shown escaped, never raw */
	plan_release(&fx->plan);
	strbuf_reset(&fx->err);
	strvec_push(&targets, "x\x1b[2Jy");
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &fx->err), -1);
	assert_null(strchr(fx->err.buf, '\x1b'));
	strvec_clear(&targets);
}

static void test_no_default_lists_tasks(void **state)
{
	struct fixture *fx = *state;
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strvec none = STRVEC_INIT;
	char path[512];

	scratch_write_old("nodefault", "version: 1\ntasks:\n  a: 'true'\n  b: 'true'\n");
	snprintf(path, sizeof(path), "%s/nodefault", root);
	assert_int_equal(squadfile_load(&sf, path, &diags), 0);
	assert_int_equal(graph_build(&g, &sf, &diags), 0);
	assert_int_equal(plan_build(&plan, &sf, &g, NULL, &none, NULL, &fx->err), -1);
	assert_non_null(strstr(fx->err.buf, "no 'default:'"));
	assert_non_null(strstr(fx->err.buf, "tasks: a b"));
	plan_release(&plan);
	graph_release(&g);
	squadfile_release(&sf);
	diag_list_release(&diags);
}

/* --- actions */

static void test_fresh_actions(void **state)
{
	struct fixture *fx = *state;

	open_state(fx);
	replan(fx, "", false);
	assert_int_equal(fx->plan.action[task(fx, "gen")], PLAN_RUN);
	assert_int_equal(fx->plan.action[task(fx, "review")], PLAN_HANDOFF);
	assert_int_equal(fx->plan.action[task(fx, "ask")], PLAN_RUN);
	for (size_t i = 0; i < fx->sf.nr_tasks; i++) {
		assert_false(fx->plan.stale_done[i]);
		assert_false(fx->plan.recheck[i]);
	}
	/* the inputs seen, for the state and for explain */
	assert_int_equal(fx->plan.inputs[task(fx, "lint")].len, strlen("docs/x.md\t") + 41);
	assert_memory_equal(fx->plan.inputs[task(fx, "lint")].buf, "docs/x.md\t", 10);
}

static void test_up_to_date_needs_outputs_and_yields_to_force(void **state)
{
	struct fixture *fx = *state;
	size_t gen = task(fx, "gen"), lint = task(fx, "lint"), test = task(fx, "test");

	open_state(fx);
	replan(fx, "", false);
	record_fingerprint(fx, "gen", RECORD_OK, NULL);
	record_fingerprint(fx, "lint", RECORD_OK, NULL);
	record_fingerprint(fx, "test", RECORD_OK, NULL);
	replan(fx, "", false);
	/* gen's output is missing: it runs, and the plan says which one */
	assert_int_equal(fx->plan.action[gen], PLAN_RUN);
	assert_int_equal(fx->plan.missing_output[gen], 0);
	/* lint has no outputs: its inputs are enough */
	assert_int_equal(fx->plan.action[lint], PLAN_UP_TO_DATE);
	/* test has no inputs: never known up to date */
	assert_int_equal(fx->plan.action[test], PLAN_RUN);

	scratch_write_old("out/gen.txt", "gen\n");
	replan(fx, "", false);
	assert_int_equal(fx->plan.action[gen], PLAN_UP_TO_DATE);
	assert_int_equal(fx->plan.missing_output[gen], -1);

	replan(fx, "", true);
	assert_int_equal(fx->plan.action[gen], PLAN_RUN);
	assert_int_equal(fx->plan.action[lint], PLAN_RUN);

	/* a failure is never up to date, whatever its fingerprint */
	replan(fx, "", false);
	record_fingerprint(fx, "lint", RECORD_FAILED, NULL);
	replan(fx, "", false);
	assert_int_equal(fx->plan.action[lint], PLAN_RUN);
}

static void test_done_marks(void **state)
{
	struct fixture *fx = *state;
	size_t review = task(fx, "review"), ask = task(fx, "ask"), test = task(fx, "test");

	open_state(fx);
	replan(fx, "", false);
	/* a skill task is settled by the tactician's word */
	record_fingerprint(fx, "review", RECORD_DONE, "looks fine");
	/* a command is sent back to be checked */
	record_fingerprint(fx, "test", RECORD_DONE, "fixed it");
	/* a prompt's note that meets its expect is its answer */
	record_fingerprint(fx, "ask", RECORD_DONE, "ok, done");
	replan(fx, "", false);
	assert_int_equal(fx->plan.action[review], PLAN_DONE);
	assert_false(fx->plan.recheck[review]);
	assert_int_equal(fx->plan.action[test], PLAN_RUN);
	assert_true(fx->plan.recheck[test]);
	assert_false(fx->plan.stale_done[test]);
	assert_int_equal(fx->plan.action[ask], PLAN_DONE);

	/* a note that does not meet expect: the prompt runs again */
	record_fingerprint(fx, "ask", RECORD_DONE, "no way");
	record_fingerprint(fx, "review", RECORD_DONE_FAILED, "bad");
	replan(fx, "", false);
	assert_int_equal(fx->plan.action[ask], PLAN_RUN);
	assert_true(fx->plan.recheck[ask]);
	assert_int_equal(fx->plan.action[review], PLAN_DONE_FAILED);

	/* a failed mark never answers a prompt, even with a matching note */
	record_fingerprint(fx, "ask", RECORD_DONE_FAILED, "ok");
	replan(fx, "", false);
	assert_int_equal(fx->plan.action[ask], PLAN_RUN);
	assert_true(fx->plan.recheck[ask]);
}

static void test_stale_done_mark(void **state)
{
	struct fixture *fx = *state;
	size_t review = task(fx, "review");

	open_state(fx);
	replan(fx, "", false);
	record_fingerprint(fx, "review", RECORD_DONE, "looks fine");
	/* an input of a task it depends on changes: the mark no longer holds */
	scratch_write_old("src/a.c", "a changed\n");
	replan(fx, "", false);
	assert_true(fx->plan.stale_done[review]);
	assert_false(fx->plan.recheck[review]);
	assert_int_equal(fx->plan.action[review], PLAN_HANDOFF);
	/* a mark given without any fingerprint is stale too */
	put(fx, "review", RECORD_DONE, NULL, "x");
	replan(fx, "", false);
	assert_true(fx->plan.stale_done[review]);
}

/* --- fingerprints */

struct prints {
	char gen[41], build[41], test[41], lint[41], other[41];
};

static void take(struct fixture *fx, struct prints *p)
{
	memcpy(p->gen, plan_fingerprint(&fx->plan, task(fx, "gen")), 41);
	memcpy(p->build, plan_fingerprint(&fx->plan, task(fx, "build")), 41);
	memcpy(p->test, plan_fingerprint(&fx->plan, task(fx, "test")), 41);
	memcpy(p->lint, plan_fingerprint(&fx->plan, task(fx, "lint")), 41);
	memcpy(p->other, plan_fingerprint(&fx->plan, task(fx, "other")), 41);
	assert_int_equal(strlen(p->gen), 40);
}

static void test_fingerprints_follow_each_input(void **state)
{
	struct fixture *fx = *state;
	struct prints a, b;

	replan(fx, "all,other", false);
	take(fx, &a);
	/* nothing changed: the same */
	replan(fx, "all,other", false);
	take(fx, &b);
	assert_memory_equal(&a, &b, sizeof(a));

	/* inc/a.h is build's only: build and what is behind it change */
	scratch_write_old("inc/a.h", "h2\n");
	replan(fx, "all,other", false);
	take(fx, &b);
	assert_string_equal(a.gen, b.gen);
	assert_string_not_equal(a.build, b.build);
	assert_string_not_equal(a.test, b.test);
	assert_string_equal(a.lint, b.lint);
	assert_string_equal(a.other, b.other);

	/* src/b.c is gen's and build's */
	a = b;
	scratch_write_old("src/b.c", "b2\n");
	replan(fx, "all,other", false);
	take(fx, &b);
	assert_string_not_equal(a.gen, b.gen);
	assert_string_not_equal(a.build, b.build);
	assert_string_equal(a.lint, b.lint);

	/* a new file the glob matches counts, one it does not match does not */
	a = b;
	scratch_write_old("docs/y.md", "y\n");
	scratch_write_old("docs/y.txt", "y\n");
	replan(fx, "all,other", false);
	take(fx, &b);
	assert_string_not_equal(a.lint, b.lint);
	assert_string_equal(a.gen, b.gen);
	a = b;
	scratch_write_old("docs/z.txt", "z\n");
	replan(fx, "all,other", false);
	take(fx, &b);
	assert_memory_equal(&a, &b, sizeof(a));

	/* a removed input counts */
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/docs/x.md", root);
		assert_int_equal(unlink(path), 0);
	}
	replan(fx, "all,other", false);
	take(fx, &b);
	assert_string_not_equal(a.lint, b.lint);
}

static void test_fingerprint_follows_the_definition(void **state)
{
	struct fixture *fx = *state;
	struct squadfile sf2;
	struct graph g2;
	struct plan p2;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strvec none = STRVEC_INIT;
	struct plan_options opts = { .files_prefix = "" };
	struct strbuf text = STRBUF_INIT;
	char path[512];
	const char *at;

	replan(fx, "all,other", false);
	/* the same file but lint's command */
	strbuf_addstr(&text, squadfile_text);
	at = strstr(text.buf, "echo lint");
	assert_non_null(at);
	text.buf[at - text.buf + 5] = 'L';
	scratch_write_old("Squadfile2", text.buf);
	snprintf(path, sizeof(path), "%s/Squadfile2", root);
	assert_int_equal(squadfile_load(&sf2, path, &diags), 0);
	assert_int_equal(graph_build(&g2, &sf2, &diags), 0);
	opts.files = &fx->in.files;
	assert_int_equal(plan_build(&p2, &sf2, &g2, NULL, &none, &opts, &fx->err), 0);
	assert_string_not_equal(plan_fingerprint(&p2, (size_t)squadfile_find_task(&sf2, "lint")),
				plan_fingerprint(&fx->plan, task(fx, "lint")));
	assert_string_equal(plan_fingerprint(&p2, (size_t)squadfile_find_task(&sf2, "build")),
			    plan_fingerprint(&fx->plan, task(fx, "build")));
	plan_release(&p2);
	graph_release(&g2);
	squadfile_release(&sf2);
	diag_list_release(&diags);
	strbuf_release(&text);
}

/* --- selection by changed paths */

static void test_changed_paths_prune(void **state)
{
	struct fixture *fx = *state;
	struct strvec changed = STRVEC_INIT, none = STRVEC_INIT;
	struct plan_options opts = { .files_prefix = "", .changed = &changed };

	strvec_push(&changed, "docs/x.md");
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &none, &opts, &fx->err), 0);
	/* lint matches; gen and build have inputs that did not change, so
	 * they go, but test (no inputs) stays, with what it needs */
	assert_true(fx->plan.in[task(fx, "lint")]);
	assert_int_equal(fx->plan.changed_inputs[task(fx, "lint")].nr, 1);
	assert_true(fx->plan.in[task(fx, "test")]);
	assert_true(fx->plan.in[task(fx, "build")]);
	assert_true(fx->plan.in[task(fx, "all")]);
	assert_ptr_equal(fx->plan.changed, &changed);
	plan_release(&fx->plan);
	strvec_clear(&changed);

	/* a self-contained check: only lint's closure and a group above it */
	{
		struct strvec targets = STRVEC_INIT;

		strvec_push(&targets, "gen");
		strvec_push(&targets, "lint");
		strvec_push(&changed, "docs/x.md");
		assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, &opts,
					    &fx->err), 0);
		assert_int_equal(fx->plan.nr_order, 1);
		assert_int_equal(fx->plan.order[0], (int)task(fx, "lint"));
		plan_release(&fx->plan);
		strvec_clear(&changed);
		/* nothing changed that gen or lint reads: nothing to do */
		strvec_push(&changed, "README");
		assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, &opts,
					    &fx->err), 0);
		assert_int_equal(fx->plan.nr_order, 0);
		strvec_clear(&targets);
	}
	strvec_clear(&changed);
}

static void test_input_roots_and_base(void **state)
{
	struct fixture *fx = *state;
	struct strvec roots = STRVEC_INIT;
	struct strbuf base = STRBUF_INIT;
	struct task t = { .dir = "./sub" };

	plan_input_roots(&fx->sf, "", &roots);
	assert_int_equal(roots.nr, 3);
	assert_string_equal(roots.v[0], "");  /* build: src/ and inc/ */
	assert_string_equal(roots.v[1], "docs/");
	assert_string_equal(roots.v[2], "src/");
	strvec_clear(&roots);
	plan_input_roots(&fx->sf, "p/", &roots);
	assert_string_equal(roots.v[1], "p/docs/");
	strvec_clear(&roots);

	plan_task_base(&fx->sf, &t, "p/", &base);
	assert_string_equal(base.buf, "p/sub/");
	strbuf_reset(&base);
	t.dir = ".";
	plan_task_base(&fx->sf, &t, "", &base);
	assert_string_equal(base.buf, "");
	strbuf_release(&base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_target_closure_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit_targets_once_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_target_suggests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_default_lists_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_to_date_needs_outputs_and_yields_to_force,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_done_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprints_follow_each_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_follows_the_definition, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changed_paths_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_roots_and_base, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
