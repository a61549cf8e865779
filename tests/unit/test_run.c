/* test_run.c - the scheduler through run.h: a small graph of real shell
 * tasks run in a scratch folder with a real state, and what each task's
 * result, log and journal record say after success, failure, -k and a
 * timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "plan/graph.h"
#include "files/fileio.h"
#include "plan/plan.h"
#include "run/run.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include "scratch_tree.h"

struct fixture {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct state st;
	struct task_result *results;
	bool interrupted;
	struct strbuf err;
	/* what the observer saw */
	unsigned started, finished;
};

static const char squadfile_text[] =
	"version: 1\n"
	"default: all\n"
	"tasks:\n"
	"  make: { run: 'echo made > made.txt; echo making' }\n"
	"  check: { run: 'test -f made.txt && echo checked', needs: [make] }\n"
	"  broken: { run: 'echo broke >&2; exit 3' }\n"
	"  behind: { run: 'echo never > behind.txt', needs: [broken] }\n"
	"  beside: { run: 'echo beside' }\n"
	"  slow: { run: 'sleep 30', timeout: 1s }\n"
	"  all: { needs: [check] }\n";

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(scratch_make("run"));
	scratch_model(&fx->sf, &fx->g, squadfile_text);
	strbuf_init(&fx->err, 0);
	assert_int_equal(state_open(&fx->st, root, &fx->err), 0);
	assert_int_equal(state_lock(&fx->st, true, &fx->err), 0);
	assert_int_equal(state_load(&fx->st, &fx->err), 0);
	fx->results = calloc(fx->sf.nr_tasks + 1, sizeof(*fx->results));
	assert_non_null(fx->results);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	run_results_release(fx->results, fx->sf.nr_tasks);
	free(fx->results);
	plan_release(&fx->plan);
	state_close(&fx->st);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
	strbuf_release(&fx->err);
	free(fx);
	return scratch_remove();
}

static void on_started(void *data, size_t task, unsigned attempt, const struct command *cmd)
{
	struct fixture *fx = data;

	(void)task;
	(void)attempt;
	(void)cmd;
	fx->started++;
}

static void on_finished(void *data, size_t task, const struct task_result *res)
{
	struct fixture *fx = data;

	(void)task;
	assert_int_not_equal(res->status, TASK_PENDING);
	fx->finished++;
}

static const struct task_result *result(struct fixture *fx, const char *name)
{
	return &fx->results[scratch_task(&fx->sf, name)];
}

/* Plan `targets` (comma-separated) and run them, from the scratch
 * folder as squad would be; returns run_plan()'s value. */
static int run(struct fixture *fx, const char *targets, bool keep_going)
{
	struct strvec t = STRVEC_INIT;
	struct run_options ro = { .jobs = 2, .keep_going = keep_going, .worker_override = -1 };
	struct run_observer obs = { .started = on_started, .finished = on_finished, .data = fx };
	char cwd[1024];
	int ret;

	for (const char *p = targets, *c; *p; p = *c ? c + 1 : c) {
		c = strchrnul(p, ',');
		strvec_pushf(&t, "%.*s", (int)(c - p), p);
	}
	if (plan_build(&fx->plan, &fx->sf, &fx->g, &fx->st, &t, NULL, &fx->err) < 0)
		fail_msg("plan_build: %s", fx->err.buf);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(root), 0);
	ret = run_plan(&fx->plan, &fx->st, &ro, &obs, fx->results, &fx->interrupted, &fx->err);
	assert_int_equal(chdir(cwd), 0);
	strvec_clear(&t);
	return ret;
}

static void assert_file_holds(const char *path, const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(file_read(path, &sb), 0);
	assert_non_null(strstr(sb.buf, text));
	strbuf_release(&sb);
}

/* A task and the one that needs it both run, in order, and each leaves
 * its output in its log and a record in the journal. */
static void test_success_in_order(void **state)
{
	struct fixture *fx = *state;
	const struct task_record *rec;

	assert_int_equal(run(fx, "all", false), 0);
	assert_false(fx->interrupted);
	assert_int_equal(result(fx, "make")->status, TASK_OK);
	assert_int_equal(result(fx, "check")->status, TASK_OK);
	assert_int_equal(result(fx, "check")->exit_code, 0);
	assert_int_equal(result(fx, "check")->attempts, 1);
	assert_file_holds(result(fx, "check")->log_path, "checked");
	assert_file_holds(result(fx, "make")->log_path, "making");
	/* a group runs nothing, and still gets its final status */
	assert_int_equal(result(fx, "all")->status, TASK_OK);
	assert_int_equal(fx->started, 2);
	assert_int_equal(fx->finished, 3);
	rec = state_get(&fx->st, "check");
	assert_non_null(rec);
	assert_int_equal(rec->status, RECORD_OK);
	assert_int_equal(result_exit_code(fx->results, fx->plan.order, fx->plan.nr_order, 0,
					  fx->interrupted, false), 0);
	/* a change waiting for review: the run is not green, nor a failure */
	assert_int_equal(result_exit_code(fx->results, fx->plan.order, fx->plan.nr_order, 1,
					  fx->interrupted, false), 3);
	assert_int_equal(result_exit_code(fx->results, fx->plan.order, fx->plan.nr_order, 1,
					  fx->interrupted, true), 1);
}

/* A failure ends in its exit code and its output; what needs it is
 * skipped, naming it as the cause; the run's exit code is 1. */
static void test_failure_skips_what_needs_it(void **state)
{
	struct fixture *fx = *state;
	const struct task_result *bad, *behind;
	char path[512];

	assert_int_equal(run(fx, "behind", false), 0);
	bad = result(fx, "broken");
	behind = result(fx, "behind");
	assert_int_equal(bad->status, TASK_FAILED);
	assert_int_equal(bad->exit_code, 3);
	assert_file_holds(bad->log_path, "broke");
	assert_int_equal(behind->status, TASK_SKIPPED);
	assert_int_equal(behind->cause, squadfile_find_task(&fx->sf, "broken"));
	assert_null(behind->log_path);
	snprintf(path, sizeof(path), "%s/behind.txt", root);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(state_get(&fx->st, "broken")->status, RECORD_FAILED);
	assert_int_equal(result_exit_code(fx->results, fx->plan.order, fx->plan.nr_order, 0,
					  fx->interrupted, false), 1);
}

/* With keep-going, a task beside the failure runs to its end; the one
 * behind it is still skipped. */
static void test_keep_going_runs_the_rest(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run(fx, "behind,beside,check", true), 0);
	assert_int_equal(result(fx, "broken")->status, TASK_FAILED);
	assert_int_equal(result(fx, "behind")->status, TASK_SKIPPED);
	assert_int_equal(result(fx, "beside")->status, TASK_OK);
	assert_int_equal(result(fx, "make")->status, TASK_OK);
	assert_int_equal(result(fx, "check")->status, TASK_OK);
	assert_file_holds(result(fx, "beside")->log_path, "beside");
}

/* A task past its timeout is stopped (TERM to its group) and reported
 * as timed out, once, with no exit code of its own. */
static void test_timeout(void **state)
{
	struct fixture *fx = *state;
	const struct task_result *slow;

	assert_int_equal(run(fx, "slow", false), 0);
	slow = result(fx, "slow");
	assert_int_equal(slow->status, TASK_TIMED_OUT);
	assert_int_equal(slow->attempts, 1);
	assert_int_equal(slow->exit_code, -1);
	assert_true(slow->duration_ms >= 1000);
	/* well short of the 30 s it would sleep: the guard of a hang, not a
	 * measure of speed */
	assert_true(slow->duration_ms < 25000);
	assert_int_equal(fx->finished, 1);
	assert_int_equal(result_exit_code(fx->results, fx->plan.order, fx->plan.nr_order, 0,
					  fx->interrupted, false), 1);
}

/* The largest number of tasks a worker may run at once: agents by their
 * slots alone, the shell within -j. */
static void test_worker_limit(void **state)
{
	struct worker shell = { .name = "shell", .is_shell = true };
	struct worker narrow = { .name = "shell", .is_shell = true, .slots = 2 };
	struct worker agent = { .name = "a", .slots = 7 };
	bool own = true;

	(void)state;
	assert_int_equal(run_worker_limit(&shell, 4, &own), 4);
	assert_false(own);
	assert_int_equal(run_worker_limit(&narrow, 4, &own), 2);
	assert_false(own);
	assert_int_equal(run_worker_limit(&agent, 4, &own), 7);
	assert_true(own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_skips_what_needs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_going_runs_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test(test_worker_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
