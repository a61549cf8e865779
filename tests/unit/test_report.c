/* test_report.c - what a person reads of a run, through report.h: the
 * line each finished task gets, its output in one piece, the summary's
 * counts, slowest tasks and failed logs, for results made by hand; and
 * its usage, one line per worker, unknown numbers left out, never 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plan/graph.h"
#include "plan/plan.h"
#include "report/report.h"
#include "job/result.h"
#include "model/squadfile.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include "scratch_tree.h"

struct fixture {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct task_result *results;
	struct report rep;
	struct run_observer obs;
	char *text;          /* what the report wrote */
	size_t len;
	FILE *out;
};

static const char squadfile_text[] =
	"version: 1\n"
	"default: all\n"
	"tasks:\n"
	"  build: { run: 'make' }\n"
	"  test: { run: 'make test', needs: [build] }\n"
	"  docs: { run: 'make docs', needs: [test] }\n"
	"  slow: { run: 'sleep 9', timeout: 1s }\n"
	"  review: { skills: [code-review], prompt: 'review it', needs: [build] }\n"
	"  all: { needs: [docs, slow, review] }\n";

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct strvec targets = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_non_null(fx);
	assert_true(scratch_make("report"));
	scratch_model(&fx->sf, &fx->g, squadfile_text);
	strvec_push(&targets, "all");
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &err), 0);
	strvec_clear(&targets);
	strbuf_release(&err);
	fx->results = calloc(fx->sf.nr_tasks + 1, sizeof(*fx->results));
	assert_non_null(fx->results);
	for (size_t i = 0; i < fx->sf.nr_tasks; i++)
		fx->results[i].cause = -1;
	fx->out = open_memstream(&fx->text, &fx->len);
	assert_non_null(fx->out);
	report_init(&fx->rep, fx->out, &fx->sf, &fx->plan, REPORT_NORMAL, false);
	fx->rep.results = fx->results;
	fx->rep.output = OUTPUT_QUIET;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	report_release(&fx->rep);
	fclose(fx->out);
	free(fx->text);
	free(fx->results);
	plan_release(&fx->plan);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
	free(fx);
	return scratch_remove();
}

static size_t task(struct fixture *fx, const char *name)
{
	return scratch_task(&fx->sf, name);
}

/* Tell the report that `name` finished with `res`; return everything
 * it has written so far. */
static const char *finish(struct fixture *fx, const char *name, const struct task_result *res)
{
	fx->results[task(fx, name)] = *res;
	fx->obs = report_observer(&fx->rep);
	fx->obs.finished(fx->obs.data, task(fx, name), &fx->results[task(fx, name)]);
	fflush(fx->out);
	return fx->text;
}

static void assert_has_line(const char *text, const char *line)
{
	struct strbuf want = STRBUF_INIT;

	strbuf_addf(&want, "%s\n", line);
	if (!strstr(text, want.buf))
		fail_msg("no line '%s' in:\n%s", line, text);
	strbuf_release(&want);
}

/* Each finished task gets one line: its place, its status, its name and
 * what explains it (time, exit code, reason, what it needs, skills). */
static void test_finished_lines(void **state)
{
	struct fixture *fx = *state;
	struct task_result ok = { .status = TASK_OK, .duration_ms = 1500, .attempts = 1 };
	struct task_result bad = { .status = TASK_FAILED, .exit_code = 2, .duration_ms = 250,
				   .attempts = 2, .reason = "exit 2" };
	struct task_result skipped = { .status = TASK_SKIPPED, .cause = (long)task(fx, "test") };
	struct task_result late = { .status = TASK_TIMED_OUT, .exit_code = -1,
				    .duration_ms = 12345, .attempts = 1 };
	struct task_result handoff = { .status = TASK_HANDOFF, .cause = -1 };
	const char *text;

	finish(fx, "build", &ok);
	finish(fx, "test", &bad);
	finish(fx, "docs", &skipped);
	finish(fx, "slow", &late);
	text = finish(fx, "review", &handoff);
	assert_has_line(text, "[1/6] ok build (1.50s)");
	assert_has_line(text, "[2/6] FAILED test (0.25s, exit 2, 2 attempts): exit 2");
	assert_has_line(text, "[3/6] skipped docs (needs test)");
	assert_has_line(text, "[4/6] TIMED OUT slow (12.3s)");
	assert_has_line(text, "[5/6] hand-off review (for the tactician; skills: code-review)");
}

/* -q: a task that went well prints nothing; a failure still does. */
static void test_quiet_shows_failures_only(void **state)
{
	struct fixture *fx = *state;
	struct task_result ok = { .status = TASK_OK, .duration_ms = 10, .attempts = 1 };
	struct task_result bad = { .status = TASK_FAILED, .exit_code = 1, .duration_ms = 10,
				   .attempts = 1 };
	const char *text;

	fx->rep.level = REPORT_QUIET;
	text = finish(fx, "build", &ok);
	assert_string_equal(text, "");
	text = finish(fx, "test", &bad);
	assert_has_line(text, "[2/6] FAILED test (0.01s, exit 1)");
}

/* Grouped output: a task's log follows its line in one piece, with a
 * newline added when the output lacks its last. */
static void test_grouped_output(void **state)
{
	struct fixture *fx = *state;
	char log[512];
	struct task_result ok = { .status = TASK_OK, .duration_ms = 10, .attempts = 1,
				  .output_bytes = 12 };
	const char *text;

	snprintf(log, sizeof(log), "%s/build.log", root);
	scratch_write_old("build.log", "line 1\nlast");
	ok.log_path = log;
	fx->rep.output = OUTPUT_GROUPED;
	text = finish(fx, "build", &ok);
	assert_string_equal(text, "[1/6] ok build (0.01s)\nline 1\nlast\n");
}

/* The summary counts each status in a fixed order, names the slowest
 * tasks and each failed task's log. */
static void test_summary(void **state)
{
	struct fixture *fx = *state;
	struct task_result *r = fx->results;

	r[task(fx, "build")] = (struct task_result){ .status = TASK_OK, .duration_ms = 3000,
						     .attempts = 1, .worker = "shell" };
	r[task(fx, "test")] = (struct task_result){ .status = TASK_FAILED, .exit_code = 1,
						    .duration_ms = 500, .attempts = 1,
						    .log_path = "/p/.squad/logs/test.log",
						    .reason = "exit 1", .worker = "shell" };
	r[task(fx, "docs")] = (struct task_result){ .status = TASK_SKIPPED,
						    .cause = (long)task(fx, "test") };
	r[task(fx, "slow")] = (struct task_result){ .status = TASK_OK, .duration_ms = 100,
						    .attempts = 1, .worker = "shell" };
	r[task(fx, "review")] = (struct task_result){ .status = TASK_HANDOFF, .cause = -1 };
	r[task(fx, "all")] = (struct task_result){ .status = TASK_BLOCKED,
						   .cause = (long)task(fx, "review") };
	report_summary(&fx->rep, fx->results, 3.5, false);
	fflush(fx->out);
	assert_has_line(fx->text, "squad: 2 ok, 1 failed, 1 skipped, 1 for the tactician, "
			"1 waiting behind a hand-off in 3.50s");
	assert_has_line(fx->text, "slowest: build 3.00s, test 0.50s, slow 0.10s");
	assert_has_line(fx->text, "failed test: log /p/.squad/logs/test.log");
	/* the table: a row a task, in the plan's order, the failure's
	 * reason as its note, "-" for what never ran */
	assert_has_line(fx->text, "  test    failed    shell   0.50s  exit 1");
	assert_has_line(fx->text, "  review  hand-off  -       -");
	assert_has_line(fx->text, "  all     waiting   -       -");
}

/* An interrupted run says so first; nothing selected is "nothing to do". */
static void test_summary_interrupted_and_empty(void **state)
{
	struct fixture *fx = *state;

	fx->rep.level = REPORT_QUIET;
	fx->results[task(fx, "build")] = (struct task_result){ .status = TASK_INTERRUPTED,
							       .duration_ms = 20, .attempts = 1 };
	fx->results[task(fx, "test")] = (struct task_result){ .status = TASK_NOT_STARTED };
	report_summary(&fx->rep, fx->results, 0.25, true);
	fflush(fx->out);
	assert_non_null(strstr(fx->text, "squad: interrupted: "));
	assert_non_null(strstr(fx->text, "1 interrupted, 1 not started"));
	fx->plan.nr_order = 0;
	report_summary(&fx->rep, fx->results, 0, false);
	fflush(fx->out);
	assert_has_line(fx->text, "squad: nothing to do in 0.00s");
}

/* usage */

static const char *line(const struct task_usage *u)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	report_usage_text(&sb, "qwen", u);
	return sb.buf;
}

static void usage_reads_short(void **state)
{
	struct task_usage u = { 0 };

	(void)state;
	task_usage_add(&u, 8, 12345, 1100, -1);
	assert_string_equal(line(&u), "qwen: 8 requests, 12.3k tokens in, 1.1k out");
	u = (struct task_usage){ 0 };
	task_usage_add(&u, 1, 999, 2500000, -1);
	assert_string_equal(line(&u), "qwen: 1 request, 999 tokens in, 2.5M out");
	/* only a total: that */
	u = (struct task_usage){ 0 };
	task_usage_add(&u, 3, -1, -1, 1234);
	assert_string_equal(line(&u), "qwen: 3 requests, 1.2k tokens");
}

static void unknown_is_never_zero(void **state)
{
	struct task_usage u = { 0 };

	(void)state;
	task_usage_add(&u, 2, -1, -1, -1);
	assert_string_equal(line(&u), "qwen: 2 requests, tokens unknown");
	u = (struct task_usage){ 0 };
	task_usage_add(&u, -1, 10, -1, -1);
	assert_string_equal(line(&u), "qwen: requests unknown, 10 tokens in");
	u = (struct task_usage){ 0 };
	task_usage_add(&u, 0, 0, 0, 0);
	assert_string_equal(line(&u), "qwen: 0 requests, 0 tokens in, 0 out");
}

static void workers_sum_apart(void **state)
{
	struct task_result res[4] = { 0 };
	const int order[] = { 0, 1, 2, 3 };
	const char *names[4];
	struct task_usage sums[4] = { 0 };
	size_t nr;

	(void)state;
	res[0].worker = "qwen";
	task_usage_add(&res[0].usage, 2, 100, 10, -1);
	res[1].worker = "shell"; /* no usage: no line */
	res[2].worker = "opencode";
	task_usage_add(&res[2].usage, 1, -1, -1, -1);
	res[3].worker = "qwen";
	task_usage_add(&res[3].usage, 3, -1, 5, -1);
	nr = result_usage_by_worker(res, order, 4, false, names, sums);
	assert_int_equal(nr, 2);
	assert_string_equal(names[0], "qwen");
	assert_int_equal(sums[0].requests, 5);
	/* a part nobody else said stays what the one that said gave */
	assert_int_equal(sums[0].input_tokens, 100);
	assert_int_equal(sums[0].output_tokens, 15);
	assert_false(sums[0].known & USAGE_TOTAL);
	assert_string_equal(names[1], "opencode");
}

/* A task restored from the cache spent nothing in this run: its stored
 * usage is summed apart, never with what was spent. */
static void cached_usage_apart(void **state)
{
	struct task_result res[3] = { 0 };
	const int order[] = { 0, 1, 2 };
	const char *names[3];
	struct task_usage spent[3] = { 0 }, stored[3] = { 0 };

	(void)state;
	res[0].worker = "qwen";
	task_usage_add(&res[0].usage, 2, 100, 10, 110);
	res[1].worker = "qwen";
	res[1].cached = "remote";
	task_usage_add(&res[1].usage, 4, 300, 30, 330);
	res[2].worker = "opencode";
	res[2].cached = "local";
	task_usage_add(&res[2].usage, 1, -1, -1, 7);
	assert_int_equal(result_usage_by_worker(res, order, 3, false, names, spent), 1);
	assert_string_equal(names[0], "qwen");
	assert_int_equal(spent[0].requests, 2);
	assert_int_equal(spent[0].total_tokens, 110);
	assert_int_equal(result_usage_by_worker(res, order, 3, true, names, stored), 2);
	assert_string_equal(names[0], "qwen");
	assert_int_equal(stored[0].requests, 4);
	assert_int_equal(stored[0].total_tokens, 330);
	assert_string_equal(names[1], "opencode");
	assert_int_equal(stored[1].total_tokens, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usage_reads_short),
		cmocka_unit_test(unknown_is_never_zero),
		cmocka_unit_test(workers_sum_apart),
		cmocka_unit_test(cached_usage_apart),
		cmocka_unit_test_setup_teardown(test_finished_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_shows_failures_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grouped_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_interrupted_and_empty, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
