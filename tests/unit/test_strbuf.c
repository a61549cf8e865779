/* test_strbuf.c - the growable string: formatting, and the escapes that
 * keep text from a file or a task from acting on a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/strbuf.h"

/* strbuf_add_printable(s), as a string to compare (static: one at a time) */
static const char *printable(const char *s)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	strbuf_add_printable(&sb, s);
	return sb.buf;
}

static void test_control_characters_escaped(void **state)
{
	(void)state;
	assert_string_equal(printable("a\033[31mred"), "a\\x1b[31mred");
	assert_string_equal(printable("a\nb\tc\x7f"), "a\\nb\\tc\\x7f");
	/* C1 CSI, as UTF-8 */
	assert_string_equal(printable("a\xc2\x9b" "2J"), "a\\u009b2J");
}

/* Trojan Source (CVE-2021-42574): each bidirectional control and
 * invisible formatting character comes out as a \u escape, never raw. */
static void test_bidi_and_invisible_characters_escaped(void **state)
{
	static const struct { const char *utf8, *escaped; } cases[] = {
		{ "\xd8\x9c", "\\u061c" },     /* ARABIC LETTER MARK */
		{ "\xe2\x80\x8b", "\\u200b" }, /* ZERO WIDTH SPACE */
		{ "\xe2\x80\x8e", "\\u200e" }, /* LEFT-TO-RIGHT MARK */
		{ "\xe2\x80\x8f", "\\u200f" }, /* RIGHT-TO-LEFT MARK */
		{ "\xe2\x80\xa8", "\\u2028" }, /* LINE SEPARATOR */
		{ "\xe2\x80\xa9", "\\u2029" }, /* PARAGRAPH SEPARATOR */
		{ "\xe2\x80\xaa", "\\u202a" }, /* LRE */
		{ "\xe2\x80\xab", "\\u202b" }, /* RLE */
		{ "\xe2\x80\xac", "\\u202c" }, /* PDF */
		{ "\xe2\x80\xad", "\\u202d" }, /* LRO */
		{ "\xe2\x80\xae", "\\u202e" }, /* RLO */
		{ "\xe2\x81\xa0", "\\u2060" }, /* WORD JOINER */
		{ "\xe2\x81\xa6", "\\u2066" }, /* LRI */
		{ "\xe2\x81\xa7", "\\u2067" }, /* RLI */
		{ "\xe2\x81\xa8", "\\u2068" }, /* FSI */
		{ "\xe2\x81\xa9", "\\u2069" }, /* PDI */
		{ "\xe2\x81\xaf", "\\u206f" }, /* NOMINAL DIGIT SHAPES */
		{ "\xef\xbb\xbf", "\\ufeff" }, /* ZERO WIDTH NO-BREAK SPACE */
	};
	struct strbuf want = STRBUF_INIT, in = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&in);
		strbuf_reset(&want);
		strbuf_addf(&in, "ok%sko", cases[i].utf8);
		strbuf_addf(&want, "ok%sko", cases[i].escaped);
		assert_string_equal(printable(in.buf), want.buf);
	}
	/* the classic: an "admin" check that reads backwards on screen */
	assert_string_equal(printable("user\xe2\x80\xae\xe2\x81\xa6nimda\xe2\x81\xa9\xe2\x81\xa6"),
			    "user\\u202e\\u2066nimda\\u2069\\u2066");
	strbuf_release(&want);
	strbuf_release(&in);
}

static void test_ordinary_unicode_kept(void **state)
{
	(void)state;
	/* letters, CJK, an emoji, a ZWJ sequence, Persian with ZWNJ, and
	 * neighbours of the escaped ranges */
	static const char *const kept[] = {
		"ünï/cödé", "日本語🚀",
		"\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", /* woman, ZWJ, laptop */
		"\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xb1\xd9\x88\xd9\x85", /* mi-ravam */
		"\xe2\x80\x94\xe2\x80\xa6\xe2\x80\xaf\xe2\x81\x9f\xe2\x82\xac", /* — … NNBSP MMSP € */
		"\xd8\x9b\xd8\x9f", /* Arabic semicolon, question mark */
		"\xef\xbb\xbe\xef\xbc\xa1", "\xc2\xa0\xc2\xa9", /* U+FEFE, U+FF21; NBSP, © */
	};

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_string_equal(printable(kept[i]), kept[i]);
}

static void test_printable_len_stops_at_len(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* a sequence cut by len is not read past its end */
	strbuf_add_printable_len(&sb, "a\xe2\x80\xae", 3);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.buf, "a\xe2\x80", 3);
	strbuf_reset(&sb);
	strbuf_add_printable_len(&sb, "a\xc2\x9b", 2);
	assert_memory_equal(sb.buf, "a\xc2", 2);
	/* a NUL inside len is escaped like any control character */
	strbuf_reset(&sb);
	strbuf_add_printable_len(&sb, "a\0b", 3);
	assert_string_equal(sb.buf, "a\\x00b");
	strbuf_release(&sb);
}

static void test_addf_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addf(&sb, "%s-%d", "x", 42);
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%05d", i);
	assert_int_equal(sb.len, 4 + 5000);
	assert_memory_equal(sb.buf, "x-4200000", 9);
	assert_string_equal(sb.buf + sb.len - 5, "00999");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_characters_escaped),
		cmocka_unit_test(test_bidi_and_invisible_characters_escaped),
		cmocka_unit_test(test_ordinary_unicode_kept),
		cmocka_unit_test(test_printable_len_stops_at_len),
		cmocka_unit_test(test_addf_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
