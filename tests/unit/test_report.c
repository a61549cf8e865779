/* test_report.c - what a person reads of a run's usage: one line per
 * worker, unknown numbers left out, never shown as 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "report.h"
#include "result.h"
#include "util/strbuf.h"

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
	nr = result_usage_by_worker(res, order, 4, names, sums);
	assert_int_equal(nr, 2);
	assert_string_equal(names[0], "qwen");
	assert_int_equal(sums[0].requests, 5);
	/* a part nobody else said stays what the one that said gave */
	assert_int_equal(sums[0].input_tokens, 100);
	assert_int_equal(sums[0].output_tokens, 15);
	assert_false(sums[0].known & USAGE_TOTAL);
	assert_string_equal(names[1], "opencode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usage_reads_short),
		cmocka_unit_test(unknown_is_never_zero),
		cmocka_unit_test(workers_sum_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
