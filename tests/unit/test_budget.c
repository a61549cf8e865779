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

#include "job/budget.h"
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
	long count = 1;

	*wait_ms = *used = -1;
	strbuf_reset(err);
	return budget_reserve("w", daily_limit, per_minute, &count, wait_ms, used, err);
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
		assert_non_null(strstr(err.buf, "budget exhausted: worker 'w' has used "
					   "9223372036854775807 of its daily_limit of 100 requests today"));
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

/* reserve `count` for worker "w"; returns the answer, *count the charge */
static enum budget_answer reserve_n(long daily_limit, long per_minute, long *count,
				    struct strbuf *err)
{
	long wait_ms = -1, used = -1;

	strbuf_reset(err);
	return budget_reserve("w", daily_limit, per_minute, count, &wait_ms, &used, err);
}

/* A call is admitted only when its whole estimate fits: 9 of 10 used
 * leaves no room for a call estimated at 2, and nothing is charged. */
static void test_call_it_cannot_afford_is_refused(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long count = 2;

	(void)state;
	write_budget("8", "[]");
	assert_int_equal(reserve_n(10, 0, &count, &err), BUDGET_GRANTED);
	assert_int_equal(count, 2);
	assert_int_equal(requests_now(), 10);
	write_budget("9", "[]");
	count = 2;
	assert_int_equal(reserve_n(10, 0, &count, &err), BUDGET_EXHAUSTED);
	assert_int_equal(requests_now(), 9);
	assert_non_null(strstr(err.buf, "has used 9 of its daily_limit of 10 requests today, "
				   "and a call is charged 2"));
	strbuf_release(&err);
}

/* The message says when the count starts over and where it is kept. */
static void test_exhausted_says_when_and_where(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char where[200];
	long count = 1;

	(void)state;
	write_budget("5", "[]");
	assert_int_equal(reserve_n(5, 0, &count, &err), BUDGET_EXHAUSTED);
	assert_non_null(strstr(err.buf, "it resets at midnight, local time (in "));
	snprintf(where, sizeof(where), "the count is kept in '%s'", file);
	assert_non_null(strstr(err.buf, where));
	/* a spent budget is not charged again */
	assert_int_equal(requests_now(), 5);
	strbuf_release(&err);
}

/* A limit below one call's estimate still admits a call: the charge is
 * cut to the limit. */
static void test_estimate_above_the_limit_is_cut(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long count = 2;

	(void)state;
	write_budget("0", "[]");
	assert_int_equal(reserve_n(1, 0, &count, &err), BUDGET_GRANTED);
	assert_int_equal(count, 1);
	assert_int_equal(requests_now(), 1);
	count = 2;
	assert_int_equal(reserve_n(1, 0, &count, &err), BUDGET_EXHAUSTED);
	write_budget("0", "[]");
	count = 5;
	assert_int_equal(reserve_n(0, 3, &count, &err), BUDGET_GRANTED);
	assert_int_equal(count, 3);
	strbuf_release(&err);
}

/* Settling against the estimate: more adds, less gives back, never
 * below zero; a count stuck at the top stays spent. */
static void test_settle_up_and_down(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long count = 2;
	json_t *w;

	(void)state;
	write_budget("0", "[]");
	assert_int_equal(reserve_n(100, 0, &count, &err), BUDGET_GRANTED);
	assert_int_equal(requests_now(), 2);
	/* the call made 7 requests (a 429 retried inside the agent) */
	assert_int_equal(budget_settle("w", 7 - 2, &err), 0);
	assert_int_equal(requests_now(), 7);
	/* they count in this minute too: 7 start times */
	w = entry_now();
	assert_int_equal(json_array_size(json_object_get(w, "recent")), 7);
	json_decref(w);
	/* one that made a single request gives one back */
	assert_int_equal(budget_settle("w", -1, &err), 0);
	assert_int_equal(requests_now(), 6);
	assert_int_equal(budget_settle("w", -100, &err), 0);
	assert_int_equal(requests_now(), 0);
	assert_int_equal(budget_settle("w", LONG_MIN, &err), 0);
	assert_int_equal(requests_now(), 0);
	write_budget("9223372036854775807", "[]");
	assert_int_equal(budget_settle("w", -5, &err), 0);
	assert_true(requests_now() == LLONG_MAX);
	strbuf_release(&err);
}

/* per_minute counts requests, not calls: two calls of 2 fill a limit
 * of 4, and the next one waits, without being charged. */
static void test_per_minute_counts_requests(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long count, wait_ms = -1, used = -1;

	(void)state;
	write_budget("0", "[]");
	for (int i = 0; i < 2; i++) {
		count = 2;
		assert_int_equal(reserve_n(0, 4, &count, &err), BUDGET_GRANTED);
	}
	count = 2;
	assert_int_equal(budget_reserve("w", 0, 4, &count, &wait_ms, &used, &err), BUDGET_WAIT);
	assert_true(wait_ms > 0 && wait_ms <= 60010);
	assert_int_equal(requests_now(), 4);
	/* what a call used beyond its charge fills the minute as well */
	write_budget("0", "[]");
	count = 2;
	assert_int_equal(reserve_n(0, 4, &count, &err), BUDGET_GRANTED);
	assert_int_equal(budget_settle("w", 2, &err), 0);
	count = 1;
	assert_int_equal(reserve_n(0, 4, &count, &err), BUDGET_WAIT);
	strbuf_release(&err);
}

/* Yesterday's count does not hold today. */
static void test_another_day_starts_over(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long count = 2;

	(void)state;
	write_raw("{\"w\": {\"day\": \"2001-01-01\", \"requests\": 500, \"recent\": []}}\n");
	assert_int_equal(reserve_n(10, 0, &count, &err), BUDGET_GRANTED);
	assert_int_equal(requests_now(), 2);
	strbuf_release(&err);
}

/* daily_tokens: a call starts while today's tokens are under the limit;
 * what it used is added when it ends, beside the requests, which it
 * leaves as they were. */
static void test_tokens_counted_and_exhausted(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long used = -1;
	json_t *w;

	(void)state;
	/* nothing yet: granted */
	write_budget("0", "[]");
	assert_int_equal(budget_check_tokens("w", 1000, &used, &err), BUDGET_GRANTED);
	assert_int_equal(used, 0);
	assert_int_equal(budget_add_tokens("w", 600, &err), 0);
	assert_int_equal(budget_check_tokens("w", 1000, &used, &err), BUDGET_GRANTED);
	assert_int_equal(used, 600);
	/* the last call admitted may pass the limit; the next is refused */
	assert_int_equal(budget_add_tokens("w", 700, &err), 0);
	strbuf_reset(&err);
	assert_int_equal(budget_check_tokens("w", 1000, &used, &err), BUDGET_EXHAUSTED);
	assert_int_equal(used, 1300);
	assert_non_null(strstr(err.buf, "budget exhausted: worker 'w' has used 1300 of its "
				"daily_tokens of 1000 tokens today; it resets at midnight"));
	assert_non_null(strstr(err.buf, file));
	/* tokens and requests are apart */
	w = entry_now();
	assert_int_equal(json_integer_value(json_object_get(w, "tokens")), 1300);
	assert_int_equal(json_integer_value(json_object_get(w, "requests")), 0);
	json_decref(w);
	/* a request budget leaves the tokens whole */
	{
		long count = 1, wait_ms;

		assert_int_equal(budget_reserve("w", 10, 0, &count, &wait_ms, &used, &err),
				 BUDGET_GRANTED);
		assert_int_equal(requests_now(), 1);
		w = entry_now();
		assert_true(json_is_integer(json_object_get(w, "tokens")));
		assert_int_equal(json_integer_value(json_object_get(w, "tokens")), 1300);
		json_decref(w);
	}
	strbuf_release(&err);
}

/* A token count edited by hand is kept in range: past LONG_MAX spends
 * any limit, a negative one is 0; sums stop at the top. */
static void test_tokens_of_any_size(void **state)
{
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	char day[16];
	long used;

	(void)state;
	today(day);
	strbuf_addf(&text, "{\"w\": {\"day\": \"%s\", \"requests\": 0, \"tokens\": 1e300, "
		    "\"recent\": []}}", day);
	write_raw(text.buf);
	assert_int_equal(budget_check_tokens("w", 1000000, &used, &err), BUDGET_EXHAUSTED);
	assert_int_equal(used, LONG_MAX);
	assert_int_equal(budget_add_tokens("w", 5, &err), 0);
	assert_int_equal(budget_check_tokens("w", 1000000, &used, &err), BUDGET_EXHAUSTED);
	assert_int_equal(used, LONG_MAX);
	strbuf_reset(&text);
	strbuf_addf(&text, "{\"w\": {\"day\": \"%s\", \"requests\": 0, \"tokens\": -7, "
		    "\"recent\": []}}", day);
	write_raw(text.buf);
	assert_int_equal(budget_check_tokens("w", 1, &used, &err), BUDGET_GRANTED);
	assert_int_equal(used, 0);
	/* another day's tokens are not today's */
	write_raw("{\"w\": {\"day\": \"2001-01-01\", \"requests\": 5, \"tokens\": 99999, "
		  "\"recent\": []}}");
	assert_int_equal(budget_check_tokens("w", 100, &used, &err), BUDGET_GRANTED);
	assert_int_equal(used, 0);
	strbuf_release(&err);
	strbuf_release(&text);
}

static void test_call_tokens(void **state)
{
	(void)state;
	assert_int_equal(budget_call_tokens(10, 5, 20), 20);
	assert_int_equal(budget_call_tokens(10, 5, -1), 15);
	assert_int_equal(budget_call_tokens(-1, 5, -1), 5);
	assert_int_equal(budget_call_tokens(-1, -1, -1), -1);
	assert_int_equal(budget_call_tokens(LONG_MAX, 5, -1), LONG_MAX);
}

/* What -n and explain show: the budgets a worker has, today's use, and
 * "spent" once one is reached; nothing for a worker with none; a count
 * past every limit (1e300) read as a whole number; reading never writes
 * the file. */
static void test_describe(void **state)
{
	struct strbuf out = STRBUF_INIT, text = STRBUF_INIT;
	struct stat before, after;
	char day[16];

	(void)state;
	today(day);
	assert_false(budget_describe("w", 0, 0, 0, &out));
	assert_int_equal(out.len, 0);
	strbuf_addf(&text, "{\"w\": {\"day\": \"%s\", \"requests\": 3, \"tokens\": 1e300, "
		    "\"recent\": []}}", day);
	write_raw(text.buf);
	assert_int_equal(stat(file, &before), 0);
	assert_true(budget_describe("w", 10, 0, 0, &out));
	assert_non_null(strstr(out.buf, "3 of its daily_limit of 10 requests used today; it resets"));
	assert_null(strstr(out.buf, "spent"));
	strbuf_reset(&out);
	assert_true(budget_describe("w", 0, 5, 100, &out));
	assert_non_null(strstr(out.buf, "9223372036854775807 of its daily_tokens of 100 tokens used "
				      "today, at most 5 requests a minute (per_minute)"));
	assert_non_null(strstr(out.buf, "; spent: "));
	strbuf_reset(&out);
	/* per_minute alone: no day to reset */
	assert_true(budget_describe("w", 0, 5, 0, &out));
	assert_string_equal(out.buf, "at most 5 requests a minute (per_minute)");
	assert_int_equal(stat(file, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtime, after.st_mtime);
	strbuf_release(&out);
	strbuf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huge_count_exhausts),
		cmocka_unit_test(test_count_at_the_top_stays_there),
		cmocka_unit_test(test_negative_count_is_zero),
		cmocka_unit_test(test_recent_times_of_any_size),
		cmocka_unit_test(test_not_a_budget_file_is_an_error),
		cmocka_unit_test(test_call_it_cannot_afford_is_refused),
		cmocka_unit_test(test_exhausted_says_when_and_where),
		cmocka_unit_test(test_estimate_above_the_limit_is_cut),
		cmocka_unit_test(test_settle_up_and_down),
		cmocka_unit_test(test_per_minute_counts_requests),
		cmocka_unit_test(test_another_day_starts_over),
		cmocka_unit_test(test_tokens_counted_and_exhausted),
		cmocka_unit_test(test_tokens_of_any_size),
		cmocka_unit_test(test_call_tokens),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
