/* test_diag.c - positioned diagnostics and "did you mean" suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "model/diag.h"

static const char *const task_keys[] = {
	"desc", "run", "prompt", "needs", "skills", "worker", "dir", "env",
	"timeout", "retries", "escalate", "expect", "inputs", "outputs", NULL,
};

static void suggest_finds_one_edit_typos(void **state)
{
	(void)state;
	assert_string_equal(diag_suggest("neds", task_keys, -1), "needs");    /* deletion */
	assert_string_equal(diag_suggest("needss", task_keys, -1), "needs");  /* insertion */
	assert_string_equal(diag_suggest("worder", task_keys, -1), "worker"); /* substitution */
	assert_string_equal(diag_suggest("timeuot", task_keys, -1), "timeout");
}

/* An adjacent swap is one edit: plain Levenshtein would count two and,
 * with a limit of one edit for short words, suggest nothing. */
static void suggest_counts_a_transposition_as_one_edit(void **state)
{
	static const char *const words[] = { "run", "needs", "tasks", NULL };

	(void)state;
	assert_string_equal(diag_suggest("rnu", words, -1), "run");
	assert_string_equal(diag_suggest("nedes", words, -1), "needs");
	assert_string_equal(diag_suggest("taks", words, -1), "tasks");
	assert_string_equal(diag_suggest("atsks", words, -1), "tasks");
}

static void suggest_nothing_when_far_or_exact(void **state)
{
	static const char *const words[] = { "build", "test", NULL };

	(void)state;
	assert_null(diag_suggest("banana", task_keys, -1));
	assert_null(diag_suggest("deploy", words, -1));
	/* two edits in a five-letter word is not a typo */
	assert_null(diag_suggest("bxxld", words, -1));
	/* a word that is there needs no suggestion */
	assert_null(diag_suggest("needs", task_keys, -1));
	/* nothing to choose from */
	assert_null(diag_suggest("needs", words + 2, -1));
	assert_null(diag_suggest("needs", task_keys, 0));
}

static void suggest_limit_grows_with_the_word_and_stops_at_three(void **state)
{
	static const char *const long_word[] = { "abcdefghijklmnopqrst", NULL };
	static const char *const six[] = { "abcdef", NULL };

	(void)state;
	/* six letters: two edits allowed, not three */
	assert_string_equal(diag_suggest("abcdXY", six, -1), "abcdef");
	assert_null(diag_suggest("abcXYZ", six, -1));
	/* twenty letters: a third would be six, but three is the most */
	assert_string_equal(diag_suggest("abcdefghijklmnopqXYZ", long_word, -1),
			    "abcdefghijklmnopqrst");
	assert_null(diag_suggest("abcdefghijklmnopWXYZ", long_word, -1));
}

static void suggest_picks_the_closest(void **state)
{
	static const char *const words[] = { "tests", "test", "text", NULL };

	(void)state;
	assert_string_equal(diag_suggest("testss", words, -1), "tests");
	assert_string_equal(diag_suggest("tset", words, -1), "test");
}

static void suggest_honours_nr(void **state)
{
	/* no NULL at the end: nr must bound the walk */
	static const char *const words[3] = { "alpha", "build", "gamma" };

	(void)state;
	assert_string_equal(diag_suggest("biuld", words, 3), "build");
	assert_null(diag_suggest("biuld", words, 1));
}

static void suggest_skips_very_long_words(void **state)
{
	char word[400], other[400];
	const char *words[] = { other, NULL };

	(void)state;
	memset(word, 'a', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	memcpy(other, word, sizeof(other));
	other[10] = 'b';
	assert_null(diag_suggest(word, words, -1));
}

static void add_suggestion_appends_did_you_mean(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "unknown key 'neds'");
	diag_add_suggestion(&sb, "neds", task_keys, -1);
	assert_string_equal(sb.buf, "unknown key 'neds'; did you mean 'needs'?");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "unknown key 'zzzzzz'");
	diag_add_suggestion(&sb, "zzzzzz", task_keys, -1);
	assert_string_equal(sb.buf, "unknown key 'zzzzzz'");
	strbuf_release(&sb);
}

static void format_sorts_by_position_and_keeps_order_of_discovery(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT("Squadfile");
	struct strbuf out = STRBUF_INIT;

	(void)state;
	diag_error(&dl, (struct mark){ 10, 3 }, "ten three");
	diag_error(&dl, (struct mark){ 2, 7 }, "two seven, first");
	diag_warning(&dl, (struct mark){ 2, 7 }, "two seven, second");
	diag_error(&dl, (struct mark){ 2, 1 }, "two one");
	diag_error(&dl, (struct mark){ 9, 30 }, "nine thirty");
	diag_error(&dl, (struct mark){ 2, 7 }, "two seven, third");
	assert_int_equal(dl.nr, 6);
	assert_int_equal(dl.errors, 5);
	diag_format(&dl, &out);
	assert_string_equal(out.buf,
			    "Squadfile:2:1: error: two one\n"
			    "Squadfile:2:7: error: two seven, first\n"
			    "Squadfile:2:7: warning: two seven, second\n"
			    "Squadfile:2:7: error: two seven, third\n"
			    "Squadfile:9:30: error: nine thirty\n"
			    "Squadfile:10:3: error: ten three\n");
	strbuf_release(&out);
	diag_list_release(&dl);
	assert_int_equal(dl.nr, 0);
	assert_int_equal(dl.errors, 0);
	assert_null(dl.items);
}

/* Many equal positions: the order of discovery survives qsort. */
static void format_is_stable_for_many_equal_marks(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT("f");
	struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;

	(void)state;
	for (int i = 0; i < 200; i++)
		diag_error(&dl, (struct mark){ 1 + (i % 2), 1 }, "%03d", i);
	for (int i = 0; i < 200; i += 2)
		strbuf_addf(&want, "f:1:1: error: %03d\n", i);
	for (int i = 1; i < 200; i += 2)
		strbuf_addf(&want, "f:2:1: error: %03d\n", i);
	diag_format(&dl, &out);
	assert_string_equal(out.buf, want.buf);
	strbuf_release(&out);
	strbuf_release(&want);
	diag_list_release(&dl);
}

/* An aliased YAML node is visited once per alias: its problems are said
 * once, but the same words elsewhere, or another level, still count. */
static void a_repeat_at_the_same_place_is_said_once(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT("Squadfile");
	struct strbuf out = STRBUF_INIT;

	(void)state;
	for (int i = 0; i < 3; i++)
		diag_error(&dl, (struct mark){ 5, 7 }, "bad key '%s'", "x");
	diag_error(&dl, (struct mark){ 5, 8 }, "bad key '%s'", "x");
	diag_warning(&dl, (struct mark){ 5, 7 }, "bad key '%s'", "x");
	diag_error(&dl, (struct mark){ 5, 7 }, "bad key '%s'", "y");
	assert_int_equal(dl.nr, 4);
	assert_int_equal(dl.errors, 3);
	diag_format(&dl, &out);
	/* sorting keeps the list whole for what comes after */
	diag_error(&dl, (struct mark){ 5, 8 }, "bad key '%s'", "x");
	assert_int_equal(dl.nr, 4);
	strbuf_release(&out);
	diag_list_release(&dl);
}

static void format_without_line_names_only_the_file(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT("dir/Squadfile");
	struct strbuf out = STRBUF_INIT;

	(void)state;
	diag_error(&dl, (struct mark){ 3, 4 }, "value %d is %s", 42, "wrong");
	diag_error(&dl, (struct mark){ 0, 0 }, "cannot open: %s", "No such file or directory");
	diag_format(&dl, &out);
	/* line 0 sorts first: the file as a whole */
	assert_string_equal(out.buf,
			    "dir/Squadfile: error: cannot open: No such file or directory\n"
			    "dir/Squadfile:3:4: error: value 42 is wrong\n");
	strbuf_release(&out);
	diag_list_release(&dl);
}

static void format_appends_to_what_is_there(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT("S");
	struct strbuf out = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&out, "before\n");
	diag_warning(&dl, (struct mark){ 1, 1 }, "w");
	diag_format(&dl, &out);
	assert_string_equal(out.buf, "before\nS:1:1: warning: w\n");
	assert_int_equal(dl.errors, 0);
	strbuf_release(&out);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suggest_finds_one_edit_typos),
		cmocka_unit_test(suggest_counts_a_transposition_as_one_edit),
		cmocka_unit_test(suggest_nothing_when_far_or_exact),
		cmocka_unit_test(suggest_limit_grows_with_the_word_and_stops_at_three),
		cmocka_unit_test(suggest_picks_the_closest),
		cmocka_unit_test(suggest_honours_nr),
		cmocka_unit_test(suggest_skips_very_long_words),
		cmocka_unit_test(add_suggestion_appends_did_you_mean),
		cmocka_unit_test(format_sorts_by_position_and_keeps_order_of_discovery),
		cmocka_unit_test(format_is_stable_for_many_equal_marks),
		cmocka_unit_test(format_without_line_names_only_the_file),
		cmocka_unit_test(format_appends_to_what_is_there),
		cmocka_unit_test(a_repeat_at_the_same_place_is_said_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
