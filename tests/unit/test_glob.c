/* test_glob.c - git ':(glob)' pathspec semantics, sets, prefixes.
 *
 * The expectations come from `git ls-files -- ':(glob)P'` (git 2.39).
 * Run as `test_glob --match [--base DIR] PATTERN...` it is instead the
 * driver of tests/e2e/glob.bats: it prints the lines of stdin (paths) that
 * the set matches, and fails if one of them is outside globset_prefix().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/glob.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* ---- helpers ---- */

#define MATCH(pat, path) assert_true(glob_match((pat), (path)))
#define NO_MATCH(pat, path) assert_false(glob_match((pat), (path)))

/* A set from a NULL-terminated list; fails the test if it is invalid. */
static struct globset *set_of(const char *base, ...)
{
	struct strvec pats = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct globset *gs;
	const char *p;
	va_list ap;

	va_start(ap, base);
	while ((p = va_arg(ap, const char *)))
		strvec_push(&pats, p);
	va_end(ap);
	gs = globset_new(&pats, base, &err);
	if (!gs)
		fail_msg("unexpected error: %s", err.buf);
	strvec_clear(&pats);
	strbuf_release(&err);
	return gs;
}

/* The error for one pattern under `base`, or "" if it was accepted. */
static char errbuf[512];
static const char *error_of(const char *base, const char *pattern)
{
	struct strvec pats = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct globset *gs;

	strvec_push(&pats, pattern);
	gs = globset_new(&pats, base, &err);
	snprintf(errbuf, sizeof(errbuf), "%s", err.buf);
	if (gs)
		assert_string_equal(err.buf, "");
	globset_free(gs);
	strvec_clear(&pats);
	strbuf_release(&err);
	return errbuf;
}

static double seconds_since(clock_t start)
{
	return (double)(clock() - start) / CLOCKS_PER_SEC;
}

/* ---- the rules ---- */

static void star_and_question_stop_at_slash(void **state)
{
	(void)state;
	MATCH("*.c", "a.c");
	MATCH("*.c", ".c");
	MATCH("*", ".hidden");		/* no special case for dot files */
	MATCH("*.c", ".x.c");
	NO_MATCH("*.c", "src/a.c");
	NO_MATCH("*", "src/a.c");
	MATCH("*/*", "src/a.c");
	NO_MATCH("*/*", "src/t1/x.c");
	MATCH("src/*/*.c", "src/t1/x.c");
	NO_MATCH("src/*/*.c", "src/t2/deep/z.c");
	MATCH("*a*", "!bang");
	MATCH("a?c", "a.c");
	NO_MATCH("a?c", "a/c");
	NO_MATCH("a?c", "ac");
	MATCH("?.txt", "e.txt");
	/* bytes, not characters: "é" is two */
	NO_MATCH("?.txt", "\xc3\xa9.txt");
	MATCH("??.txt", "\xc3\xa9.txt");
	MATCH("a*b*c", "aXbYc");
	MATCH("a*b*c", "abc");
	NO_MATCH("a*b*c", "ab/c");
	MATCH("*x", "xx");
	MATCH("a*", "a");
}

static void double_star(void **state)
{
	(void)state;
	/* "**" alone: everything */
	MATCH("**", "a");
	MATCH("**", "src/t2/deep/z.c");
	MATCH("**", ".hidden/x");
	/* leading "**" "/": zero or more folders */
	MATCH("**/x.c", "x.c");
	MATCH("**/x.c", "src/t1/x.c");
	NO_MATCH("**/x.c", "src/t1/ax.c");
	MATCH("**/src", "lib/src");
	MATCH("**/src", "src");
	MATCH("**/src/**", "src/a.c");
	MATCH("**/src/**", "a/b/src/c/d");
	/* trailing "/" "**": everything inside, not the folder name itself */
	MATCH("src/**", "src/a.c");
	MATCH("src/**", "src/t2/deep/z.c");
	NO_MATCH("src/**", "srcx/y");
	NO_MATCH("x/**", "x");
	MATCH("src/*/**", "src/t1/x.c");
	NO_MATCH("src/*/**", "src/a.c");
	/* "/" "**" "/": zero or more folders in between */
	MATCH("a/**/b", "a/b");
	MATCH("a/**/b", "a/x/b");
	MATCH("a/**/b", "a/x/y/b");
	NO_MATCH("a/**/b", "a/xb");
	NO_MATCH("a/**/b", "ab");
	MATCH("src/**/*.c", "src/a.c");
	MATCH("src/**/**/z.c", "src/t2/deep/z.c");
	MATCH("**/**/x", "x");
	MATCH("**/**/x", "ab/c/x");
	MATCH("***/x", "a/b/x");	/* any run of stars is "**" */
	/* elsewhere "**" is "*" */
	MATCH("**.c", "a.c");
	NO_MATCH("**.c", "src/a.c");
	MATCH("x/a**b", "x/ab");
	NO_MATCH("x/a**b", "x/a/b");
	NO_MATCH("src/**z.c", "src/t2/deep/z.c");
	MATCH("x/**y", "x/ay");
	NO_MATCH("x/**y", "x/a/y");
	/* before an escaped slash: no "zero folders" shortcut */
	MATCH("**\\/x.c", "src/t1/x.c");
	NO_MATCH("**\\/x.c", "x.c");
	/* trailing slash: paths never end in one */
	NO_MATCH("**/", "a");
	NO_MATCH("src/**/", "src/a.c");
}

/* git tries wildcards only past the literal head of a pattern, so a "**"
 * right after it counts as a whole component. */
static void double_star_after_the_literal_head(void **state)
{
	(void)state;
	MATCH("src**", "src/a.c");
	MATCH("src**", "src/t2/deep/z.c");
	MATCH("src**", "srcx/y");
	MATCH("a**/x", "a/x");
	MATCH("a**/x", "ab/c/x");
	MATCH("a**/x", "ax");
	MATCH("x**/", "x");
	NO_MATCH("s*/**x", "s/a/b/x");		/* the head is "s": "**" follows '*' */
	MATCH("s*/**/x", "s/a/b/x");
}

static void bracket_sets(void **state)
{
	(void)state;
	MATCH("foo[1].txt", "foo1.txt");
	MATCH("foo[12].txt", "foo2.txt");
	NO_MATCH("foo[12].txt", "foo3.txt");
	MATCH("[a-c]x", "bx");
	NO_MATCH("[a-c]x", "dx");
	MATCH("[a-c-e]x", "-x");
	MATCH("[a-c-e]x", "ex");
	NO_MATCH("[a-c-e]x", "dx");
	MATCH("[z-a]", "z");			/* a backwards range: its start only */
	NO_MATCH("[z-a]", "m");
	NO_MATCH("[z-a]", "a");
	/* negation */
	MATCH("[!a-z]*", "E.txt");
	MATCH("[^a-z]*", "E.txt");
	NO_MATCH("[!a-z]*", "e.txt");
	MATCH("[!a-z]*", "\xc3\xa9.txt");
	/* ']' first is a member, '-' first or last is a member */
	MATCH("[]]x", "]x");
	MATCH("[!]]*", "a");
	NO_MATCH("[!]]*", "]x");
	MATCH("[]-a]*", "a.c");
	MATCH("[]-a]*", "^");
	MATCH("[-]*", "-x");
	MATCH("[a-]*", "-x");
	MATCH("[a-]*", "a.c");
	/* escapes inside */
	MATCH("[\\]]x", "]x");
	MATCH("[\\\\]x", "\\x");
	MATCH("[\\!]x", "!x");
	MATCH("[Z-\\]]x", "]x");		/* an escaped end of range */
	MATCH("[Z-\\]]x", "[x");
	/* classes */
	MATCH("[[:alpha:]].c", "a.c");
	NO_MATCH("[[:alpha:]].c", "1.c");
	MATCH("[[:digit:][:upper:]]x", "7x");
	MATCH("[[:digit:][:upper:]]x", "Qx");
	MATCH("[[:punct:]]*", ".hidden");
	MATCH("[[:space:]]x", " x");
	NO_MATCH("[[:space:]]x", "\vx");	/* git's own ctype */
	MATCH("[[:xdigit:]]", "F");
	NO_MATCH("[[:alpha:]]", "\xc3");	/* ASCII only */
	MATCH("[![:alpha:]]", "\xc3");
	MATCH("[[:alpha:]-z]", "-");		/* a class cannot start a range */
	/* "[:" without ":]" is a plain '[' */
	MATCH("[[:alph]*", "[]");
	MATCH("[[:alph]*", "a*");
	MATCH("[[:]x", ":x");
	/* no set matches '/', negated or not */
	NO_MATCH("a[!x]b", "a/b");
	NO_MATCH("a[/]b", "a/b");
	/* an escaped '[' opens no set */
	MATCH("\\[]", "[]");
}

static void escapes(void **state)
{
	(void)state;
	MATCH("a\\*", "a*");
	NO_MATCH("a\\*", "ab");
	MATCH("\\?", "?");
	NO_MATCH("\\?", "a");
	MATCH("foo\\[1].txt", "foo[1].txt");
	NO_MATCH("foo\\[1].txt", "foo1.txt");
	MATCH("back\\\\slash", "back\\slash");
	MATCH("back\\slash", "back\\slash");	/* literally equal */
	MATCH("back\\slash", "backslash");	/* "\s" is "s" */
	MATCH("\\a.c", "a.c");
	MATCH("\\!bang", "!bang");
	MATCH("!bang", "!bang");		/* no '!' handling in glob_match */
}

/* A pattern equal to a path or one of its leading folders matches, and
 * that comparison is literal. */
static void literal_folders(void **state)
{
	(void)state;
	MATCH("src", "src/a.c");
	MATCH("src", "src/t2/deep/z.c");
	MATCH("src/", "src/a.c");
	MATCH("src", "src");
	NO_MATCH("src/", "src");
	NO_MATCH("src", "srcx/y");
	MATCH("src/t1", "src/t1/x.c");
	NO_MATCH("src/t*", "src/t1/x.c");	/* only a literal one recurses */
	NO_MATCH("s*", "src/a.c");
	NO_MATCH("src/*", "src/t1/x.c");
	NO_MATCH("src/*/", "src/t1/x.c");
	NO_MATCH("*/", "src/a.c");
	NO_MATCH("**/t1", "src/t1/x.c");
	MATCH("**/t1/**", "src/t1/x.c");
	/* the literal comparison ignores wildcards */
	MATCH("d[x]", "d[x]/f");
	NO_MATCH("d[x]", "dx/f");
	MATCH("d[x]/f", "dx/f");
	MATCH("d[x]/f", "d[x]/f");
	MATCH("foo[1].txt", "foo[1].txt");
	MATCH("a*", "a*");
	/* a file is not a folder */
	NO_MATCH("lib/src/", "lib/src");
	NO_MATCH("a.c/", "a.c");
}

static void case_sensitive(void **state)
{
	(void)state;
	NO_MATCH("SRC", "src/a.c");
	NO_MATCH("*.C", "a.c");
	NO_MATCH("[A-Z].c", "a.c");
	MATCH("[A-Z].c", "A.c");
	NO_MATCH("[[:upper:]]*", "e.txt");
}

static void dots_and_slashes_are_normalised(void **state)
{
	(void)state;
	MATCH(".", "a");
	MATCH(".", "src/t2/deep/z.c");
	MATCH("./", "src/a.c");
	MATCH("./.", "src/a.c");
	MATCH("./src/a.c", "src/a.c");
	MATCH("src//a.c", "src/a.c");
	MATCH("src/./a.c", "src/a.c");
	MATCH(".//src/t1", "src/t1/x.c");
	MATCH("src/.", "src/a.c");
	NO_MATCH("src/.", "srcx/y");
	MATCH("src/./t*/x.c", "src/t1/x.c");
	NO_MATCH("*/.", "a");			/* "*" "/": a trailing slash */
	MATCH(".hidden", ".hidden");
	MATCH("...", "...");
}

static void invalid_patterns(void **state)
{
	(void)state;
	assert_string_equal(error_of("", ""),
			    "pattern '': empty pattern (use '.' to match everything)");
	assert_string_equal(error_of("", "!"),
			    "pattern '!': empty pattern (use '.' to match everything)");
	assert_string_equal(error_of("", "/src"),
			    "pattern '/src': absolute patterns are not allowed");
	assert_string_equal(error_of("", "!/src"),
			    "pattern '!/src': absolute patterns are not allowed");
	assert_string_equal(error_of("", "../x"), "pattern '../x': '..' is not allowed");
	assert_string_equal(error_of("sub", "a/../b"), "pattern 'a/../b': '..' is not allowed");
	assert_string_equal(error_of("", "src/.."), "pattern 'src/..': '..' is not allowed");
	assert_string_equal(error_of("", "foo["), "pattern 'foo[': unclosed '['");
	assert_string_equal(error_of("", "foo[1"), "pattern 'foo[1': unclosed '['");
	assert_string_equal(error_of("", "[]"), "pattern '[]': unclosed '['");
	assert_string_equal(error_of("", "[!]"), "pattern '[!]': unclosed '['");
	assert_string_equal(error_of("", "[a\\]"), "pattern '[a\\]': unclosed '['");
	assert_string_equal(error_of("", "[a\\"), "pattern '[a\\': unclosed '['");
	assert_string_equal(error_of("", "[[:alpha:]"), "pattern '[[:alpha:]': unclosed '['");
	assert_string_equal(error_of("", "[[:foo:]]"),
			    "pattern '[[:foo:]]': unknown character class '[:foo:]'");
	assert_string_equal(error_of("", "[[::]]"),
			    "pattern '[[::]]': unknown character class '[::]'");
	assert_string_equal(error_of("", "x\\"), "pattern 'x\\': trailing backslash");
	/* fine: ".." as part of a name, "[" escaped, "]" alone */
	assert_string_equal(error_of("", "a..b/...x"), "");
	assert_string_equal(error_of("", "\\["), "");
	assert_string_equal(error_of("", "]"), "");
	assert_string_equal(error_of("", "\\!x"), "");
	/* bad folders */
	assert_string_equal(error_of("/abs", "*"), "folder '/abs' is absolute");
	assert_string_equal(error_of("../x", "*"), "folder '../x': '..' is not allowed");
	/* glob_match: an invalid pattern matches nothing, not even literally */
	NO_MATCH("foo[", "foo[");
	NO_MATCH("x\\", "x\\");
	NO_MATCH("", "a");
	NO_MATCH("/a", "a");
	NO_MATCH("../a", "a");
}

/* The first error wins and is appended after what err held. */
static void error_names_the_first_bad_pattern(void **state)
{
	struct strvec pats = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&err, "Squadfile:3: ");
	strvec_push(&pats, "*.c");
	strvec_push(&pats, "!a[");
	strvec_push(&pats, "../b");
	assert_null(globset_new(&pats, "sub", &err));
	assert_string_equal(err.buf, "Squadfile:3: pattern '!a[': unclosed '['");
	strvec_clear(&pats);
	strbuf_release(&err);
}

/* ---- speed: no backtracking blow-up, no recursion ---- */

static void pathological_patterns(void **state)
{
	struct strbuf pat = STRBUF_INIT, path = STRBUF_INIT;
	clock_t start = clock();
	size_t i;

	(void)state;
	/* 4 KB of '*' */
	for (i = 0; i < 4096; i++)
		strbuf_addch(&pat, '*');
	for (i = 0; i < 4000; i++)
		strbuf_addch(&path, i % 100 == 99 ? '/' : 'a');
	MATCH(pat.buf, path.buf);
	MATCH(pat.buf, "a");
	strbuf_addch(&pat, 'b');
	NO_MATCH(pat.buf, path.buf);

	/* "*a*a*a...": exponential for git 2.39 against "aaa...b" */
	strbuf_reset(&pat);
	for (i = 0; i < 2048; i++)
		strbuf_addstr(&pat, "*a");
	strbuf_reset(&path);
	for (i = 0; i < 4096; i++)
		strbuf_addch(&path, 'a');
	strbuf_addch(&path, 'b');
	NO_MATCH(pat.buf, path.buf);
	strbuf_setlen(&path, path.len - 1);
	MATCH(pat.buf, path.buf);

	/* many folder wildcards against a deep path that fails at the end */
	strbuf_reset(&pat);
	for (i = 0; i < 1000; i++)
		strbuf_addstr(&pat, "**/a");
	strbuf_addstr(&pat, "/x");
	strbuf_reset(&path);
	for (i = 0; i < 2000; i++)
		strbuf_addstr(&path, "a/");
	strbuf_addch(&path, 'y');
	NO_MATCH(pat.buf, path.buf);
	strbuf_setlen(&path, path.len - 1);
	strbuf_addch(&path, 'x');
	MATCH(pat.buf, path.buf);

	/* 4 KB of '?' and of sets */
	strbuf_reset(&pat);
	for (i = 0; i < 1024; i++)
		strbuf_addstr(&pat, "?[a-z]");
	strbuf_reset(&path);
	for (i = 0; i < 2048; i++)
		strbuf_addch(&path, 'q');
	MATCH(pat.buf, path.buf);

	/* generous, also under the sanitizers: exponential would be years */
	assert_true(seconds_since(start) < 20.0);
	strbuf_release(&pat);
	strbuf_release(&path);
}

/* ---- sets ---- */

static void base_makes_patterns_relative(void **state)
{
	struct globset *gs;

	(void)state;
	gs = set_of("sub", "*.c", NULL);
	assert_true(globset_match(gs, "sub/x.c"));
	assert_false(globset_match(gs, "x.c"));
	assert_false(globset_match(gs, "sub/a/y.c"));
	assert_false(globset_match(gs, "subx/x.c"));
	assert_string_equal(globset_prefix(gs), "sub/");
	globset_free(gs);

	/* the same with "sub/", "./sub", "sub//" */
	gs = set_of("./sub//", "**/*.c", NULL);
	assert_true(globset_match(gs, "sub/x.c"));
	assert_true(globset_match(gs, "sub/a/b/z.c"));
	assert_false(globset_match(gs, "a/sub/x.c"));
	globset_free(gs);

	/* "." is everything under the base; a literal name recurses */
	gs = set_of("sub/", ".", NULL);
	assert_true(globset_match(gs, "sub/a/b/z.c"));
	assert_false(globset_match(gs, "sub"));
	assert_false(globset_match(gs, "x.c"));
	globset_free(gs);
	gs = set_of("sub", "a", NULL);
	assert_true(globset_match(gs, "sub/a/y.c"));
	assert_false(globset_match(gs, "a/x"));
	globset_free(gs);

	/* "" , "." and NULL are the root */
	gs = set_of(".", "*.c", NULL);
	assert_true(globset_match(gs, "a.c"));
	assert_string_equal(globset_prefix(gs), "");
	globset_free(gs);
	gs = set_of(NULL, "*.c", NULL);
	assert_true(globset_match(gs, "a.c"));
	globset_free(gs);

	/* the base is literal, wildcards and all */
	gs = set_of("a*b", "x", NULL);
	assert_true(globset_match(gs, "a*b/x"));
	assert_false(globset_match(gs, "aXb/x"));
	globset_free(gs);

	/* a "**" right after the base is a whole component, as in git */
	gs = set_of("src", "t1**", NULL);
	assert_true(globset_match(gs, "src/t1/x.c"));
	assert_true(globset_match(gs, "src/t1x/y/z"));
	assert_false(globset_match(gs, "src/t2/q.c"));
	globset_free(gs);
	gs = set_of("src", "**z.c", NULL);
	assert_false(globset_match(gs, "src/t2/deep/z.c"));
	assert_true(globset_match(gs, "src/z.c"));
	globset_free(gs);
}

static void negation(void **state)
{
	struct globset *gs;

	(void)state;
	/* order does not matter */
	gs = set_of("", "!src/t1/**", "src/**/*.c", NULL);
	assert_true(globset_match(gs, "src/a.c"));
	assert_true(globset_match(gs, "src/t2/deep/z.c"));
	assert_false(globset_match(gs, "src/t1/x.c"));
	assert_false(globset_match(gs, "src/t1/y.h"));
	assert_false(globset_match(gs, "a.c"));
	globset_free(gs);
	gs = set_of("", "src/**/*.c", "!src/t1/**", NULL);
	assert_false(globset_match(gs, "src/t1/x.c"));
	assert_true(globset_match(gs, "src/a.c"));
	globset_free(gs);

	/* an excluded literal folder takes everything in it */
	gs = set_of("", "**", "!src", NULL);
	assert_false(globset_match(gs, "src/t2/q.c"));
	assert_true(globset_match(gs, "srcx/y"));
	globset_free(gs);

	/* only exclusions: from everything under the base */
	gs = set_of("sub", "!x.c", NULL);
	assert_false(globset_match(gs, "sub/x.c"));
	assert_true(globset_match(gs, "sub/a/y.c"));
	assert_false(globset_match(gs, "a.c"));
	assert_string_equal(globset_prefix(gs), "sub/");
	globset_free(gs);
	gs = set_of("", "!*.c", "!*.h", NULL);
	assert_true(globset_match(gs, "x.txt"));
	assert_true(globset_match(gs, "src/a.c"));
	assert_false(globset_match(gs, "a.c"));
	assert_false(globset_match(gs, "b.h"));
	globset_free(gs);

	/* an empty list matches nothing */
	gs = set_of("", NULL);
	assert_false(globset_match(gs, "a.c"));
	assert_string_equal(globset_prefix(gs), "");
	globset_free(gs);

	/* "\!" is a literal '!' */
	gs = set_of("", "\\!bang", NULL);
	assert_true(globset_match(gs, "!bang"));
	assert_false(globset_match(gs, "bang"));
	globset_free(gs);

	/* an exclusion outside the positive patterns' folder excludes
	 * nothing there (git 2.39's ls-files gets this wrong) */
	gs = set_of("", "src/*.c", "!lib/a.c", NULL);
	assert_true(globset_match(gs, "src/a.c"));
	globset_free(gs);
}

static void prefix_extraction(void **state)
{
	static const struct {
		const char *base, *pattern, *prefix;
	} cases[] = {
		{ "", "src/t1/*.c", "src/t1/" },
		{ "", "src/t1/x.c", "src/t1/" },
		{ "", "src/t1", "src/" },
		{ "", "src/t1/", "src/t1/" },
		{ "", "src/t*/x.c", "src/" },
		{ "", "src**", "" },
		{ "", "*.c", "" },
		{ "", "**/x", "" },
		{ "", ".", "" },
		{ "", "./src//t1/./*.c", "src/t1/" },
		{ "", "a\\/b/c", "" },		/* stops at the backslash */
		{ "", "a/b\\[/c", "a/" },
		{ "", "a[/]b/c", "" },
		{ "sub", "*.c", "sub/" },
		{ "sub/", "a/**", "sub/a/" },
		{ "sub", ".", "sub/" },
		{ "sub", "!a", "sub/" },
		{ "a*b", "c/*", "a*b/" },	/* git's head stops at the first '*' */
		{ "a*b", "*", "a*b/" },
	};
	struct globset *gs;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		gs = set_of(cases[i].base, cases[i].pattern, NULL);
		if (strcmp(globset_prefix(gs), cases[i].prefix))
			fail_msg("base '%s' pattern '%s': prefix '%s', want '%s'",
				 cases[i].base, cases[i].pattern,
				 globset_prefix(gs), cases[i].prefix);
		globset_free(gs);
	}

	/* several patterns: the common folder; exclusions do not count */
	gs = set_of("", "src/t1/*.c", "src/t2/**", "!lib/**", NULL);
	assert_string_equal(globset_prefix(gs), "src/");
	globset_free(gs);
	gs = set_of("", "src/t1/*.c", "srcx/y", NULL);
	assert_string_equal(globset_prefix(gs), "");
	globset_free(gs);
	gs = set_of("", "!lib/**", "src/t1/a", "src/t1/b", NULL);
	assert_string_equal(globset_prefix(gs), "src/t1/");
	globset_free(gs);
}

/* ---- the driver for tests/e2e/glob.bats ---- */

static int driver(int argc, char **argv)
{
	struct strvec pats = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *base = "", *prefix;
	struct globset *gs;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int i = 2, ret = 0;

	if (i + 1 < argc && !strcmp(argv[i], "--base")) {
		base = argv[i + 1];
		i += 2;
	}
	for (; i < argc; i++)
		strvec_push(&pats, argv[i]);
	gs = globset_new(&pats, base, &err);
	if (!gs) {
		fprintf(stderr, "test_glob: %s\n", err.buf);
		ret = 2;
		goto done;
	}
	prefix = globset_prefix(gs);
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!globset_match(gs, line))
			continue;
		if (strncmp(line, prefix, strlen(prefix))) {
			fprintf(stderr, "test_glob: '%s' matches but is outside the prefix '%s'\n",
				line, prefix);
			ret = 3;
		}
		puts(line);
	}
done:
	free(line);
	globset_free(gs);
	strvec_clear(&pats);
	strbuf_release(&err);
	return ret;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(star_and_question_stop_at_slash),
		cmocka_unit_test(double_star),
		cmocka_unit_test(double_star_after_the_literal_head),
		cmocka_unit_test(bracket_sets),
		cmocka_unit_test(escapes),
		cmocka_unit_test(literal_folders),
		cmocka_unit_test(case_sensitive),
		cmocka_unit_test(dots_and_slashes_are_normalised),
		cmocka_unit_test(invalid_patterns),
		cmocka_unit_test(error_names_the_first_bad_pattern),
		cmocka_unit_test(pathological_patterns),
		cmocka_unit_test(base_makes_patterns_relative),
		cmocka_unit_test(negation),
		cmocka_unit_test(prefix_extraction),
	};

	if (argc > 1 && !strcmp(argv[1], "--match"))
		return driver(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
