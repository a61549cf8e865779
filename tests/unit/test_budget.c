/* test_budget.c - request budgets read back from a budget.json that a
 * person may have edited: numbers of any size or sign are kept in range
 * (no overflow, and a huge count exhausts the budget rather than wrapping
 * round to a fresh one), and a file that is not a budget is an error,
 * never a silent fresh start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "util/strbuf.h"

static char root[64];
static char file[128];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-budget.XXXXXX");
	assert_non_null(mkdtemp(root));
	setenv("XDG_STATE_HOME", root, 1);
	snprintf(file, sizeof(file), "%s/squad/budget.json", root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* The day budget.c files counts under. A test that straddles midnight
 * would see its entry as yesterday's: none of these runs that long. */
static void today(char day[16])
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
}

static void write_raw(const char *text)
{
	char dir[160];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/squad", root);
	mkdir(dir, 0700);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* budget.json holding one worker "w" with `requests` and `recent` as
 * written (raw JSON text, so that any number can be put in). */
static void write_budget(const char *requests, const char *recent)
{
	struct strbuf text = STRBUF_INIT;
	char day[16];

	today(day);
	strbuf_addf(&text, "{\"w\": {\"day\": \"%s\", \"requests\": %s, \"recent\": %s}}\n",
		    day, requests, recent);
	write_raw(text.buf);
	strbuf_release(&text);
}

/* What the file says of worker "w" now. */
static json_t *entry_now(void)
{
	json_t *all = json_load_file(file, 0, NULL), *w;

	assert_non_null(all);
	w = json_incref(json_object_get(all, "w"));
	json_decref(all);
	assert_non_null(w);
	return w;
}

static json_int_t requests_now(void)
{
	json_t *w = entry_now();
	json_int_t n;

	assert_true(json_is_integer(json_object_get(w, "requests")));
	n = json_integer_value(json_object_get(w, "requests"));
	json_decref(w);
	return n;
}

static enum budget_answer reserve(long daily_limit, long per_minute, long *wait_ms, long *used,
				  struct strbuf *err)
{
	*wait_ms = *used = -1;
	strbuf_reset(err);
	return budget_reserve("w", daily_limit, per_minute, wait_ms, used, err);
}

/* Counts far past a long: the budget is spent, and the count reported is
 * the largest a long holds. */
static void test_huge_count_exhausts(void **state)
{
	static const char *const huge[] = {
		"1e300", "9223372036854775808", "18446744073709551616",
		"123456789012345678901234567890",
	};
	struct strbuf err = STRBUF_INIT;
	long wait_ms, used;

	(void)state;
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		write_budget(huge[i], "[]");
		assert_int_equal(reserve(100, 0, &wait_ms, &used, &err), BUDGET_EXHAUSTED);
		assert_true(used == LONG_MAX);
		assert_int_equal(err.len, 0);
	}
	strbuf_release(&err);
}

/* At the top of the range with no daily_limit: granted, and the count
 * stays at the top instead of wrapping round to a negative one. */
static void test_count_at_the_top_stays_there(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long wait_ms, used;

	(void)state;
	write_budget("9223372036854775807", "[]");
	assert_int_equal(reserve(0, 1000, &wait_ms, &used, &err), BUDGET_GRANTED);
	assert_true(requests_now() == LLONG_MAX);
	/* what a call used beyond its reservation adds up to the top too */
	write_budget("5", "[]");
	assert_int_equal(budget_settle("w", LONG_MAX, &err), 0);
	assert_true(requests_now() == LLONG_MAX);
	assert_int_equal(budget_settle("w", LONG_MAX, &err), 0);
	assert_true(requests_now() == LLONG_MAX);
	strbuf_release(&err);
}

static void test_negative_count_is_zero(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long wait_ms, used;

	(void)state;
	write_budget("-1e300", "[]");
	assert_int_equal(reserve(3, 0, &wait_ms, &used, &err), BUDGET_GRANTED);
	assert_int_equal(used, 0);
	assert_int_equal(requests_now(), 1);
	write_budget("-9223372036854775809", "[]");
	assert_int_equal(reserve(3, 0, &wait_ms, &used, &err), BUDGET_GRANTED);
	assert_int_equal(requests_now(), 1);
	strbuf_release(&err);
}

/* Start times of any size: one in the future counts as now (so it runs
 * out within a minute), one before 1970 is long gone. */
static void test_recent_times_of_any_size(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long wait_ms, used;
	json_t *w;

	(void)state;
	write_budget("0", "[1e300, 9223372036854775808, -1e300, -9223372036854775809]");
	assert_int_equal(reserve(0, 2, &wait_ms, &used, &err), BUDGET_WAIT);
	assert_true(wait_ms > 0 && wait_ms <= 60010);
	/* written back as whole numbers within range */
	w = entry_now();
	assert_int_equal(json_array_size(json_object_get(w, "recent")), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *t = json_array_get(json_object_get(w, "recent"), i);

		assert_true(json_is_integer(t));
		assert_true(json_integer_value(t) > 0);
		assert_true(json_integer_value(t) <= (json_int_t)time(NULL) * 1000 + 1000);
	}
	json_decref(w);
	/* one a minute allows a third now */
	write_budget("0", "[-1e300, -9223372036854775809]");
	assert_int_equal(reserve(0, 1, &wait_ms, &used, &err), BUDGET_GRANTED);
	strbuf_release(&err);
}

/* Not a budget file: an error that says so and where, the file kept. */
static void test_not_a_budget_file_is_an_error(void **state)
{
	static const char *const bad[] = {
		"{\"w\": {\"requests\": 1e400}}", /* past a double */
		"garbage\n", "[1, 2]\n", "{\"w\": {\"requests\": 1,", "\xff\xfe",
	};
	struct strbuf err = STRBUF_INIT, kept = STRBUF_INIT;
	long wait_ms, used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_raw(bad[i]);
		assert_int_equal(reserve(100, 0, &wait_ms, &used, &err), BUDGET_ERROR);
		assert_non_null(strstr(err.buf, "is not a budget file"));
		assert_non_null(strstr(err.buf, file));
		strbuf_reset(&err);
		assert_int_equal(budget_settle("w", 3, &err), -1);
		assert_non_null(strstr(err.buf, "is not a budget file"));
		strbuf_reset(&kept);
		assert_int_equal(strbuf_read_file(&kept, file), 0);
		assert_string_equal(kept.buf, bad[i]);
	}
	/* an empty file has counted nothing yet */
	write_raw("");
	assert_int_equal(reserve(100, 0, &wait_ms, &used, &err), BUDGET_GRANTED);
	assert_int_equal(used, 0);
	assert_int_equal(requests_now(), 1);
	strbuf_release(&err);
	strbuf_release(&kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huge_count_exhausts),
		cmocka_unit_test(test_count_at_the_top_stays_there),
		cmocka_unit_test(test_negative_count_is_zero),
		cmocka_unit_test(test_recent_times_of_any_size),
		cmocka_unit_test(test_not_a_budget_file_is_an_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
