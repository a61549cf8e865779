/* test_squadfile.c - Squadfiles read into the model, and every error with its mark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/squadfile.h"
#include "util/strbuf.h"

static char root[256];
static char path[512];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-squadfile.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/Squadfile", root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void write_bytes(const char *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Load `text` (len bytes) into sf; the diagnostics, formatted, go to out.
 * Returns what squadfile_load() returned. */
static int load_bytes(struct squadfile *sf, const char *bytes, size_t len, struct strbuf *out)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	int ret;

	write_bytes(bytes, len);
	ret = squadfile_load(sf, path, &diags);
	/* the return value and the error count agree */
	assert_int_equal(ret < 0, diags.errors > 0);
	diag_format(&diags, out);
	diag_list_release(&diags);
	return ret;
}

/* A Squadfile that must load without a word. */
static void load_ok(struct squadfile *sf, const char *text)
{
	struct strbuf out = STRBUF_INIT;
	int ret = load_bytes(sf, text, strlen(text), &out);

	if (ret < 0 || out.len)
		fail_msg("expected a clean load, got:\n%s", out.buf);
	strbuf_release(&out);
}

/* The diagnostics of a Squadfile that must not load (static buffer). */
static const char *errors_of_bytes(const char *bytes, size_t len)
{
	static char result[64 * 1024];
	struct squadfile sf;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(load_bytes(&sf, bytes, len, &out), -1);
	squadfile_release(&sf);
	assert_true(out.len > 0);
	snprintf(result, sizeof(result), "%s", out.buf);
	strbuf_release(&out);
	return result;
}

static const char *errors_of(const char *text)
{
	return errors_of_bytes(text, strlen(text));
}

/* `out` has a line "Squadfile:LINE:COL: error: ...substr..." */
static void assert_error_at(const char *out, unsigned line, unsigned col, const char *substr)
{
	char prefix[64];
	int n = snprintf(prefix, sizeof(prefix), "Squadfile:%u:%u: error: ", line, col);

	for (const char *p = out; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len >= (size_t)n && !strncmp(p, prefix, (size_t)n)) {
			char *copy = strndup(p, len);
			bool hit = strstr(copy, substr) != NULL;

			free(copy);
			if (hit)
				return;
		}
		p += len + (eol != NULL);
	}
	fail_msg("no error at %u:%u containing \"%s\" in:\n%s", line, col, substr, out);
}

static size_t count_lines(const char *out)
{
	size_t n = 0;

	for (; *out; out++)
		n += *out == '\n';
	return n;
}

/* The one error of a file: at LINE:COL, with substr in its message. */
static void assert_only_error(const char *text, unsigned line, unsigned col, const char *substr)
{
	const char *out = errors_of(text);

	assert_error_at(out, line, col, substr);
	if (count_lines(out) != 1)
		fail_msg("expected one error, got:\n%s", out);
}

static const struct task *task(const struct squadfile *sf, const char *name)
{
	long i = squadfile_find_task(sf, name);

	if (i < 0)
		fail_msg("no task '%s'", name);
	return &sf->tasks[i];
}

/* --- errors, one class at a time ------------------------------------ */

static void unknown_key_with_suggestion(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: echo a\n"
			  "  b:\n"
			  "    neds: a\n"
			  "    run: echo b\n",
			  5, 5, "unknown key 'neds' in task 'b'; did you mean 'needs'?");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    timeuot: 10s\n",
			  5, 5, "unknown key 'timeuot' in task 'a'; did you mean 'timeout'?");
	assert_only_error("version: 1\n"
			  "defaults:\n"
			  "  retires: 2\n"
			  "tasks:\n"
			  "  a: x\n",
			  3, 3, "unknown key 'retires' in defaults; did you mean 'retries'?");
	assert_only_error("version: 1\n"
			  "workers:\n"
			  "  claude:\n"
			  "    comand: [claude, \"{prompt}\"]\n"
			  "    command: [claude, \"{prompt}\"]\n"
			  "tasks:\n"
			  "  a: x\n",
			  4, 5, "unknown key 'comand' in worker 'claude'; did you mean 'command'?");
	/* far from every key: no suggestion */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    colour: red\n",
			  5, 5, "unknown key 'colour' in task 'a'");
	assert_null(strstr(errors_of("version: 1\ntasks:\n  a:\n    run: x\n    colour: red\n"),
			   "did you mean"));
}

static void typo_in_top_level_key(void **state)
{
	const char *out;

	(void)state;
	out = errors_of("version: 1\n"
			"taks:\n"
			"  a: echo\n");
	assert_error_at(out, 2, 1, "unknown key 'taks' in the top level; did you mean 'tasks'?");
	/* and, without tasks, it says so */
	assert_error_at(out, 1, 1, "missing 'tasks:'");
}

static void wrong_type(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: echo\n"
			  "    desc: [x]\n",
			  5, 11, "desc must be a string, not a list");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: echo\n"
			  "  b:\n"
			  "    run: echo\n"
			  "    needs: {a: 1}\n",
			  6, 12, "needs must be a list of strings, not a map");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: echo\n"
			  "  b:\n"
			  "    run: echo\n"
			  "    needs:\n"
			  "      - a\n"
			  "      - {name: a}\n",
			  8, 9, "each item of needs must be a string, not a map");
	assert_only_error("version: 1\n"
			  "tasks: hello\n",
			  2, 8, "tasks must be a map, not a string");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    escalate: maybe\n",
			  5, 15, "escalate must be true or false, not 'maybe'");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    env: [A=1]\n",
			  5, 10, "env must be a map, not a list");
	assert_only_error("- a\n- b\n", 1, 1, "a Squadfile must be a map, not a list");
}

static void key_that_is_a_list(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  [a, b]: echo\n",
			  3, 3, "keys in tasks must be strings, not a list");
}

static void duplicate_key(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: echo\n"
			  "    run: x\n",
			  5, 5, "duplicate key 'run' in task 'a' (first given on line 4)");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  build: make\n"
			  "  test: make test\n"
			  "  build: make all\n",
			  5, 3, "duplicate key 'build' in tasks (first given on line 3)");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: x\n"
			  "version: 1\n",
			  4, 1, "duplicate key 'version' in the top level");
}

static void bad_task_names(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  \"\": echo\n",
			  3, 3, "task name '' is empty");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  ok: x\n"
			  "  -rf: echo\n",
			  4, 3, "task name '-rf' must not start with '-'");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  \"two words\": echo\n",
			  3, 3, "task name 'two words' contains a space");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  \"a\\tb\": echo\n",
			  3, 3, "contains a");
}

static void check_name(void **state)
{
	char long_name[5000];

	(void)state;
	assert_null(squadfile_check_name("build"));
	assert_null(squadfile_check_name("lint:go/v2.x"));
	assert_null(squadfile_check_name("d\xc3\xa9j\xc3\xa0"));
	assert_non_null(squadfile_check_name(""));
	assert_non_null(squadfile_check_name("-x"));
	assert_non_null(squadfile_check_name("a b"));
	assert_non_null(squadfile_check_name("a\nb"));
	assert_non_null(squadfile_check_name("a\x7f"));
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_non_null(squadfile_check_name(long_name));
	long_name[4096] = '\0';
	assert_null(squadfile_check_name(long_name));
}

static void unknown_dependency_with_suggestion(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  build: make\n"
			  "  test:\n"
			  "    needs: [build, biuld]\n"
			  "    run: make test\n",
			  5, 20, "task 'test' needs unknown task 'biuld'; did you mean 'build'?");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  build: make\n"
			  "  test:\n"
			  "    needs: deploy\n"
			  "    run: make test\n",
			  5, 12, "task 'test' needs unknown task 'deploy'");
}

static void unknown_worker_with_suggestion(void **state)
{
	(void)state;
	/* one error: no second one about the shell running a prompt */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    worker: qwne\n"
			  "    prompt: write the docs\n",
			  4, 13, "unknown worker 'qwne' for task 'a'; did you mean 'qwen'?");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    worker: claude\n"
			  "    prompt: write the docs\n",
			  4, 13, "unknown worker 'claude' for task 'a' (define it under 'workers:')");
	assert_only_error("version: 1\n"
			  "defaults:\n"
			  "  worker: shel\n"
			  "tasks:\n"
			  "  a: x\n",
			  3, 11, "unknown worker 'shel' in defaults; did you mean 'shell'?");
}

static void prompt_on_the_shell_worker(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    worker: shell\n"
			  "    prompt: write the docs\n",
			  4, 13, "task 'a' has a prompt but no run");
}

static void undefined_variable(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "vars:\n"
			  "  TARGET: x86\n"
			  "tasks:\n"
			  "  a: make ${TRAGET}\n",
			  5, 11, "undefined variable 'TRAGET' in run; did you mean 'TARGET'?");
	/* squad's own names count as defined */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    env:\n"
			  "      T: \"${SQAUD_TASK}\"\n",
			  6, 11, "undefined variable 'SQAUD_TASK' in env; did you mean 'SQUAD_TASK'?");
	/* the column counts characters, not bytes */
	assert_only_error("version: 1\n"
			  "vars:\n"
			  "  TARGET: x86\n"
			  "tasks:\n"
			  "  a: echo \xc3\xa9t\xc3\xa9 ${TRAGET}\n",
			  5, 15, "undefined variable 'TRAGET'");
	/* each item of a run list has its own column */
	assert_only_error("version: 1\n"
			  "vars:\n"
			  "  TARGET: x86\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: [make, \"T=${TRAGET}\"]\n",
			  6, 20, "undefined variable 'TRAGET'");
	assert_only_error("version: 1\n"
			  "vars:\n"
			  "  TARGET: x86\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run:\n"
			  "      - make\n"
			  "      - T=${TRAGET}\n",
			  8, 11, "undefined variable 'TRAGET'");
	/* a var may only use the vars above it */
	assert_only_error("version: 1\n"
			  "vars:\n"
			  "  DIR: out\n"
			  "  BIN: ${DRI}/bin\n"
			  "tasks:\n"
			  "  a: x\n",
			  4, 8, "undefined variable 'DRI' in vars; did you mean 'DIR'?");
}

/* A name defined nowhere and close to nothing may be set where the task
 * runs (CI): it is kept as written, not an error. */
static void unknown_variable_that_is_no_typo_is_kept(void **state)
{
	struct squadfile sf;

	(void)state;
	unsetenv("SQUAD_TEST_CI_ONLY");
	load_ok(&sf, "version: 1\n"
		     "tasks:\n"
		     "  a: deploy ${SQUAD_TEST_CI_ONLY} $${LITERAL} $HOME\n");
	assert_string_equal(task(&sf, "a")->run, "deploy ${SQUAD_TEST_CI_ONLY} $${LITERAL} $HOME");
	squadfile_release(&sf);
}

static void bad_duration(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    timeout: 10x\n",
			  5, 14, "timeout must be a duration such as 90s, 10m, 1h30m or 500ms, not '10x'");
	assert_only_error("version: 1\n"
			  "defaults:\n"
			  "  timeout: soon\n"
			  "tasks:\n"
			  "  a: x\n",
			  3, 12, "defaults.timeout must be a duration");
}

static void parse_duration(void **state)
{
	(void)state;
	assert_int_equal(squadfile_parse_duration("90s"), 90000);
	assert_int_equal(squadfile_parse_duration("10m"), 600000);
	assert_int_equal(squadfile_parse_duration("1h30m"), 5400000);
	assert_int_equal(squadfile_parse_duration("250ms"), 250);
	assert_int_equal(squadfile_parse_duration("1m30s500ms"), 90500);
	assert_int_equal(squadfile_parse_duration("5"), 5000);
	assert_int_equal(squadfile_parse_duration("0s"), 0);
	assert_int_equal(squadfile_parse_duration("720h"), 720L * 3600000);
	assert_int_equal(squadfile_parse_duration("721h"), -1); /* over a month */
	assert_int_equal(squadfile_parse_duration(""), -1);
	assert_int_equal(squadfile_parse_duration("s"), -1);
	assert_int_equal(squadfile_parse_duration("1.5s"), -1);
	assert_int_equal(squadfile_parse_duration("1h 30m"), -1);
	assert_int_equal(squadfile_parse_duration("5m5"), -1);
	assert_int_equal(squadfile_parse_duration("-5s"), -1);
	assert_int_equal(squadfile_parse_duration("1d"), -1);
	assert_int_equal(squadfile_parse_duration("99999999999999999999s"), -1);
}

static void bad_retries(void **state)
{
	static const char *const bad[] = { "-1", "many", "101", "+3", "1.5", "0x3", NULL };

	(void)state;
	for (int i = 0; bad[i]; i++) {
		char text[200], msg[100];

		snprintf(text, sizeof(text), "version: 1\ntasks:\n  a:\n    run: x\n"
			 "    retries: %s\n", bad[i]);
		snprintf(msg, sizeof(msg), "retries must be a whole number from 0 to 100, not '%s'",
			 bad[i]);
		assert_only_error(text, 5, 14, msg);
	}
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    retries: [3]\n",
			  5, 14, "retries must be a string, not a list");
}

static void task_with_nothing_to_do(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    desc: does nothing\n",
			  3, 3, "task 'a' has nothing to do");
	/* a null body too */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  ok: x\n"
			  "  a:\n",
			  4, 3, "task 'a' has nothing to do");
	/* an error in the body is the reason: not said twice */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: \"   \"\n",
			  4, 10, "run is empty");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    rnu: make\n",
			  4, 5, "unknown key 'rnu' in task 'a'; did you mean 'run'?");
}

static void invalid_regex_in_expect_has_its_column(void **state)
{
	(void)state;
	/* PCRE2 reports the end of the pattern for an unclosed group */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    expect: \"ok(x\"\n",
			  5, 18, "invalid regular expression in expect: missing closing parenthesis");
	/* and the quantifier itself for a misplaced one; plain style */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    expect: ab**c\n",
			  5, 16, "invalid regular expression in expect");
	/* characters, not bytes */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a:\n"
			  "    run: x\n"
			  "    expect: \"\xc3\xa9\xc3\xa9(\"\n",
			  5, 17, "missing closing parenthesis");
}

static void version_missing_or_unsupported(void **state)
{
	(void)state;
	assert_only_error("tasks:\n"
			  "  a: x\n",
			  1, 1, "missing 'version: 1' at the top level");
	assert_only_error("version: 2\n"
			  "tasks:\n"
			  "  a: x\n",
			  1, 10, "unsupported version '2': this squad reads version 1");
	assert_only_error("tasks:\n"
			  "  a: x\n"
			  "version: 1.0\n",
			  3, 10, "unsupported version '1.0'");
}

static void empty_file(void **state)
{
	(void)state;
	assert_only_error("", 1, 1, "the Squadfile is empty");
	assert_only_error("# nothing but a comment\n\n", 1, 1, "the Squadfile is empty");
}

static void invalid_yaml(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: x\n"
			  "   b: y\n",
			  4, 5, "invalid YAML: mapping values are not allowed");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "\ta: echo\n",
			  3, 1, "invalid YAML: found character that cannot start any token");
	/* an unclosed quote: found at the end, and where it began is said */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: \"echo\n"
			  "  b: x\n",
			  5, 1, "quoted scalar (which starts at line 3, column 6)");
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: x\n"
			  "---\n"
			  "more: 1\n",
			  4, 1, "one YAML document");
}

static void non_utf8_bytes_have_their_position(void **state)
{
	static const char latin1[] = "version: 1\ntasks:\n  a: echo caf\xe9\n";
	static const char nul[] = "version: 1\ntasks:\n  ab: x\n  b: echo \0x\n";
	/* libyaml finds this one at the space after the letter */
	static const char mid[] = "version: 1\ntasks:\n  a: echo caf\xe9 au lait\n";
	static const char ff[] = "version: 1\ntasks:\n  a: echo \xc3\xa9\xff\xfe\n";
	static const char ctl[] = "version: 1\ntasks:\n  a: echo \xc3\xa9\x01\n";

	(void)state;
	assert_error_at(errors_of_bytes(latin1, sizeof(latin1) - 1), 3, 14,
			"invalid UTF-8 at byte 0xE9 (a Squadfile is UTF-8 text)");
	assert_error_at(errors_of_bytes(mid, sizeof(mid) - 1), 3, 14,
			"invalid UTF-8 at byte 0xE9");
	assert_error_at(errors_of_bytes(ff, sizeof(ff) - 1), 3, 12,
			"invalid UTF-8 at byte 0xFF");
	assert_error_at(errors_of_bytes(nul, sizeof(nul) - 1), 4, 11,
			"control characters are not allowed (U+0000)");
	assert_error_at(errors_of_bytes(ctl, sizeof(ctl) - 1), 3, 12,
			"control characters are not allowed (U+0001)");
	/* YAML's own "\0" escape would cut the string short in C */
	assert_only_error("version: 1\n"
			  "tasks:\n"
			  "  a: \"echo \\0 x\"\n",
			  3, 6, "run contains a NUL character");
}

static void routing_and_worker_errors(void **state)
{
	(void)state;
	assert_only_error("version: 1\n"
			  "routing:\n"
			  "  - match: deploy\n"
			  "tasks:\n"
			  "  a: x\n",
			  3, 5, "a routing rule needs both 'match' (a regular expression) and 'skill'");
	assert_only_error("version: 1\n"
			  "routing:\n"
			  "  - match: \"deploy(\"\n"
			  "    skill: ops\n"
			  "tasks:\n"
			  "  a: x\n",
			  3, 20, "invalid regular expression in routing match");
	assert_only_error("version: 1\n"
			  "workers:\n"
			  "  claude:\n"
			  "    command: [claude, \"{prompt}\"]\n"
			  "    output: xml\n"
			  "tasks:\n"
			  "  a: x\n",
			  5, 13, "workers.claude.output must be 'text' or 'qwen-json', not 'xml'");
	assert_only_error("version: 1\n"
			  "workers:\n"
			  "  claude:\n"
			  "    slots: 2\n"
			  "tasks:\n"
			  "  a: x\n",
			  3, 3, "worker 'claude' needs a 'command'");
	assert_only_error("version: 1\n"
			  "workers:\n"
			  "  claude:\n"
			  "    command: [claude, \"{promt}\"]\n"
			  "tasks:\n"
			  "  a: x\n",
			  4, 14, "unknown placeholder '{promt}'");
	assert_only_error("version: 1\n"
			  "default: biuld\n"
			  "tasks:\n"
			  "  build: x\n",
			  2, 10, "default target 'biuld' is not a task; did you mean 'build'?");
}

static void multiple_errors_in_one_pass(void **state)
{
	const char *out;

	(void)state;
	out = errors_of("version: 3\n"
			"defaults:\n"
			"  timeout: forever\n"
			"tasks:\n"
			"  lint:\n"
			"    run: x\n"
			"    retries: lots\n"
			"  \"\": y\n"
			"  test:\n"
			"    neds: lint\n"
			"    run: y\n"
			"  deploy:\n"
			"    needs: [tset]\n"
			"    run: z\n"
			"    expect: \"(\"\n");
	assert_error_at(out, 1, 10, "unsupported version '3'");
	assert_error_at(out, 3, 12, "defaults.timeout must be a duration");
	assert_error_at(out, 7, 14, "retries must be a whole number");
	assert_error_at(out, 8, 3, "task name '' is empty");
	assert_error_at(out, 10, 5, "did you mean 'needs'?");
	assert_error_at(out, 13, 13, "needs unknown task 'tset'; did you mean 'test'?");
	assert_error_at(out, 15, 15, "invalid regular expression in expect");
	assert_int_equal(count_lines(out), 7);
	/* sorted by position, whatever the order of discovery */
	assert_true(strstr(out, "1:10:") < strstr(out, "3:12:"));
	assert_true(strstr(out, "10:5:") < strstr(out, "13:13:"));
	assert_true(strstr(out, "13:13:") < strstr(out, "15:15:"));
}

static void missing_and_oversized_files(void **state)
{
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("nowhere/Squadfile");
	struct strbuf out = STRBUF_INIT;
	int fd;

	(void)state;
	assert_int_equal(squadfile_load(&sf, "/nonexistent/squad/Squadfile", &diags), -1);
	diag_format(&diags, &out);
	assert_non_null(strstr(out.buf, "nowhere/Squadfile: error: cannot open: "));
	squadfile_release(&sf);
	diag_list_release(&diags);
	strbuf_reset(&out);

	/* a sparse file over the limit costs nothing to make */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 33L << 20), 0);
	close(fd);
	assert_int_equal(squadfile_load(&sf, path, &diags), -1);
	diag_format(&diags, &out);
	assert_non_null(strstr(out.buf, "more than a Squadfile may have"));
	squadfile_release(&sf);
	diag_list_release(&diags);
	strbuf_release(&out);
}

static void alias_bomb_is_refused(void **state)
{
	struct strbuf text = STRBUF_INIT;

	(void)state;
	/* one map of 1000 pairs, walked by 300 tasks through an alias */
	strbuf_addstr(&text, "version: 1\ntasks:\n  t0:\n    run: x\n    env: &e {");
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&text, "%sV%d: x", i ? ", " : "", i);
	strbuf_addstr(&text, "}\n");
	for (int i = 1; i < 300; i++)
		strbuf_addf(&text, "  t%d:\n    run: x\n    env: *e\n", i);
	assert_error_at(errors_of(text.buf), 1, 1, "too many nodes");
	strbuf_release(&text);
}

static void deep_nesting_is_refused_quickly(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct timespec start, end;
	const char *out;

	(void)state;
	/* libyaml alone would take hours over this; the depth check stops it */
	strbuf_addstr(&text, "version: 1\ntasks:\n  a:\n    run: x\n    desc: ");
	for (int i = 0; i < 500000; i++)
		strbuf_addch(&text, '[');
	for (int i = 0; i < 500000; i++)
		strbuf_addch(&text, ']');
	strbuf_addch(&text, '\n');
	clock_gettime(CLOCK_MONOTONIC, &start);
	out = errors_of(text.buf);
	clock_gettime(CLOCK_MONOTONIC, &end);
	/* the 65th level: the top map, the tasks map, a's map, then 62 [ */
	assert_error_at(out, 5, 11 + 61, "nested more than 64 levels deep");
	assert_true(end.tv_sec - start.tv_sec < 5);
	strbuf_reset(&text);

	/* block nesting: "- - - -" */
	strbuf_addstr(&text, "version: 1\ntasks:\n  a:\n    run: x\n    desc:\n      ");
	for (int i = 0; i < 200000; i++)
		strbuf_addstr(&text, "- ");
	strbuf_addstr(&text, "x\n");
	assert_error_at(errors_of(text.buf), 6, 7 + 2 * 61, "nested more than 64 levels deep");
	strbuf_release(&text);
}

/* --- what a good Squadfile becomes ------------------------------------ */

static void defaults_are_applied(void **state)
{
	struct squadfile sf;
	const struct task *t;

	(void)state;
	load_ok(&sf, "version: 1\n"
		     "defaults:\n"
		     "  timeout: 2m\n"
		     "  retries: 2\n"
		     "  escalate: true\n"
		     "  env:\n"
		     "    MODE: ci\n"
		     "    LEVEL: 1\n"
		     "tasks:\n"
		     "  plain: x\n"
		     "  own:\n"
		     "    run: y\n"
		     "    timeout: 90s\n"
		     "    retries: 0\n"
		     "    escalate: no\n"
		     "    env:\n"
		     "      LEVEL: 2\n");
	t = task(&sf, "plain");
	assert_int_equal(t->timeout_ms, 120000);
	assert_int_equal(t->retries, 2);
	assert_true(t->escalate);
	assert_int_equal(t->env.nr, 2);
	assert_string_equal(t->env.v[0], "MODE=ci");
	assert_string_equal(t->env.v[1], "LEVEL=1");
	t = task(&sf, "own");
	assert_int_equal(t->timeout_ms, 90000);
	assert_int_equal(t->retries, 0);
	assert_false(t->escalate);
	/* the defaults' first, so the task's own come later and win */
	assert_int_equal(t->env.nr, 3);
	assert_string_equal(t->env.v[0], "MODE=ci");
	assert_string_equal(t->env.v[1], "LEVEL=1");
	assert_string_equal(t->env.v[2], "LEVEL=2");
	squadfile_release(&sf);
}

static void no_defaults_means_zero(void **state)
{
	struct squadfile sf;
	const struct task *t;

	(void)state;
	load_ok(&sf, "version: 1\ntasks:\n  a: x\n");
	t = task(&sf, "a");
	assert_int_equal(t->timeout_ms, 0);
	assert_int_equal(t->retries, 0);
	assert_false(t->escalate);
	assert_int_equal(t->env.nr, 0);
	assert_int_equal(t->needs.nr, 0);
	assert_null(t->prompt);
	assert_null(t->dir);
	assert_null(t->expect);
	squadfile_release(&sf);
}

static void shorthand_and_scalar_needs(void **state)
{
	struct squadfile sf;
	const struct task *t;

	(void)state;
	load_ok(&sf, "version: 1\n"
		     "tasks:\n"
		     "  build: make -j4 all\n"
		     "  test:\n"
		     "    needs: build\n"
		     "    run: make test\n"
		     "  all:\n"
		     "    needs: [build, test]\n");
	assert_int_equal(sf.nr_tasks, 3);
	assert_string_equal(sf.tasks[0].name, "build");
	assert_string_equal(sf.tasks[1].name, "test");
	assert_string_equal(sf.tasks[2].name, "all");
	t = task(&sf, "build");
	assert_string_equal(t->run, "make -j4 all");
	assert_int_equal(t->run_argv.nr, 0);
	assert_int_equal(t->mark.line, 3);
	assert_int_equal(t->mark.col, 3);
	t = task(&sf, "test");
	assert_int_equal(t->needs.nr, 1);
	assert_string_equal(t->needs.v[0], "build");
	assert_int_equal(t->need_marks[0].line, 5);
	assert_int_equal(t->need_marks[0].col, 12);
	t = task(&sf, "all");
	assert_null(t->run);
	assert_int_equal(t->needs.nr, 2);
	assert_int_equal(t->need_marks[1].line, 8);
	assert_int_equal(t->need_marks[1].col, 20);
	assert_int_equal(squadfile_find_task(&sf, "nope"), -1);
	squadfile_release(&sf);
}

static void run_as_argv_list(void **state)
{
	struct squadfile sf;
	const struct task *t;

	(void)state;
	load_ok(&sf, "version: 1\n"
		     "tasks:\n"
		     "  a:\n"
		     "    run: [printf, \"%s\\n\", \"two words\", \"$HOME\"]\n"
		     "  b:\n"
		     "    run:\n"
		     "      - ls\n"
		     "      - -l\n");
	t = task(&sf, "a");
	assert_null(t->run);
	assert_int_equal(t->run_argv.nr, 4);
	assert_string_equal(t->run_argv.v[0], "printf");
	assert_string_equal(t->run_argv.v[1], "%s\n");
	assert_string_equal(t->run_argv.v[2], "two words");
	assert_string_equal(t->run_argv.v[3], "$HOME");
	assert_null(t->run_argv.v[4]);
	t = task(&sf, "b");
	assert_int_equal(t->run_argv.nr, 2);
	assert_string_equal(t->run_argv.v[1], "-l");
	squadfile_release(&sf);
}

static void worker_selection(void **state)
{
	struct squadfile sf;
	long shell, qwen, claude;

	(void)state;
	load_ok(&sf, "version: 1\n"
		     "workers:\n"
		     "  claude:\n"
		     "    command: [claude, -p, \"{prompt}\"]\n"
		     "    output: text\n"
		     "tasks:\n"
		     "  cmd: make\n"
		     "  ask:\n"
		     "    prompt: write the docs\n"
		     "  both:\n"
		     "    run: make docs\n"
		     "    prompt: unused by the shell\n"
		     "  mine:\n"
		     "    worker: claude\n"
		     "    prompt: review\n");
	shell = squadfile_find_worker(&sf, "shell");
	qwen = squadfile_find_worker(&sf, "qwen");
	claude = squadfile_find_worker(&sf, "claude");
	assert_int_equal(shell, 0);
	assert_true(sf.workers[0].is_shell);
	assert_true(qwen > 0);
	assert_true(claude > 0);
	assert_int_equal(squadfile_find_worker(&sf, "nope"), -1);
	assert_int_equal(task(&sf, "cmd")->worker, shell);
	assert_int_equal(task(&sf, "ask")->worker, qwen);     /* prompt only -> an agent */
	assert_int_equal(task(&sf, "both")->worker, shell);   /* a run -> the shell */
	assert_int_equal(task(&sf, "mine")->worker, claude);
	assert_false(task(&sf, "ask")->worker_explicit);
	assert_true(task(&sf, "mine")->worker_explicit);
	assert_int_equal(sf.workers[claude].output, WORKER_OUTPUT_TEXT);
	assert_int_equal(sf.workers[claude].command.nr, 3);
	assert_string_equal(sf.workers[claude].command.v[2], "{prompt}");
	squadfile_release(&sf);

	/* defaults.worker applies to every task that names none */
	load_ok(&sf, "version: 1\n"
		     "defaults:\n"
		     "  worker: claude\n"
		     "workers:\n"
		     "  claude:\n"
		     "    command: [claude, \"{prompt}\"]\n"
		     "tasks:\n"
		     "  ask:\n"
		     "    prompt: write\n"
		     "  cmd:\n"
		     "    run: make\n"
		     "  sh:\n"
		     "    worker: shell\n"
		     "    run: make\n");
	claude = squadfile_find_worker(&sf, "claude");
	assert_int_equal(task(&sf, "ask")->worker, claude);
	assert_int_equal(task(&sf, "cmd")->worker, claude);
	assert_false(task(&sf, "cmd")->worker_explicit);
	assert_int_equal(task(&sf, "sh")->worker, 0);
	squadfile_release(&sf);
}

static void vars_use_earlier_vars(void **state)
{
	struct squadfile sf;

	(void)state;
	setenv("SQUAD_TEST_PREFIX", "/opt", 1);
	load_ok(&sf, "version: 1\n"
		     "vars:\n"
		     "  ROOT: ${SQUAD_TEST_PREFIX}/app\n"
		     "  BIN: ${ROOT}/bin\n"
		     "  TOOL: \"${BIN}/tool --x=$${NOT_A_VAR}\"\n"
		     "tasks:\n"
		     "  a: ${TOOL}\n");
	assert_int_equal(sf.vars.nr, 3);
	assert_string_equal(sf.vars.v[0], "ROOT=/opt/app");
	assert_string_equal(sf.vars.v[1], "BIN=/opt/app/bin");
	assert_string_equal(sf.vars.v[2], "TOOL=/opt/app/bin/tool --x=${NOT_A_VAR}");
	/* strings in tasks stay as written, expanded only when run */
	assert_string_equal(task(&sf, "a")->run, "${TOOL}");
	squadfile_release(&sf);
	unsetenv("SQUAD_TEST_PREFIX");
}

static void other_fields(void **state)
{
	struct squadfile sf;
	const struct task *t;

	(void)state;
	load_ok(&sf, "version: 1\n"
		     "default: [b]\n"
		     "skills_dir: skills\n"
		     "routing:\n"
		     "  - match: ^deploy\n"
		     "    skill: ops\n"
		     "tasks:\n"
		     "  a:\n"
		     "    desc: the first\n"
		     "    run: make\n"
		     "    dir: sub\n"
		     "    expect: ^ok$\n"
		     "    inputs: src/**/*.c\n"
		     "    outputs: [build/a]\n"
		     "  b:\n"
		     "    needs: a\n");
	t = task(&sf, "a");
	assert_string_equal(t->desc, "the first");
	assert_string_equal(t->dir, "sub");
	assert_string_equal(t->expect, "^ok$");
	assert_non_null(t->expect_re);
	assert_int_equal(t->inputs.nr, 1);
	assert_string_equal(t->outputs.v[0], "build/a");
	assert_int_equal(sf.default_targets.nr, 1);
	assert_string_equal(sf.default_targets.v[0], "b");
	assert_string_equal(sf.skills_dir, "skills");
	assert_int_equal(sf.nr_rules, 1);
	assert_string_equal(sf.rules[0].skill, "ops");
	assert_int_equal(sf.rules[0].match_mark.line, 5);
	assert_int_equal(sf.rules[0].match_mark.col, 12);
	assert_true(sf.root[0] == '/');
	assert_non_null(strstr(sf.root, "squad-test-squadfile."));
	squadfile_release(&sf);
}

static void many_tasks_load(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct squadfile sf;

	(void)state;
	strbuf_addstr(&text, "version: 1\ntasks:\n  t0: \"true\"\n");
	for (int i = 1; i < 20000; i++)
		strbuf_addf(&text, "  t%d:\n    needs: t%d\n    run: \"true\"\n", i, i - 1);
	load_ok(&sf, text.buf);
	assert_int_equal(sf.nr_tasks, 20000);
	assert_int_equal(squadfile_find_task(&sf, "t19999"), 19999);
	assert_string_equal(task(&sf, "t19999")->needs.v[0], "t19998");
	squadfile_release(&sf);
	strbuf_release(&text);
}

/* --- ad-hoc tasks (squad exec) ------------------------------------- */

/* Load the tasks `text` beside the Squadfile `file` (NULL: none); the
 * Squadfile's diagnostics go to `out`, the tasks' to `task_out`. */
static int load_adhoc(struct squadfile *sf, const char *file, const char *text,
		      struct strbuf *out, struct strbuf *task_out)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct diag_list task_diags = DIAG_LIST_INIT("<stdin>");
	struct strbuf tasks = STRBUF_INIT;
	int ret;

	if (file)
		write_bytes(file, strlen(file));
	else
		unlink(path);
	strbuf_addstr(&tasks, text);
	ret = squadfile_load_adhoc(sf, path, file != NULL, &tasks, &diags, &task_diags);
	assert_int_equal(ret < 0, diags.errors + task_diags.errors > 0);
	diag_format(&diags, out);
	diag_format(&task_diags, task_out);
	diag_list_release(&diags);
	diag_list_release(&task_diags);
	strbuf_release(&tasks);
	return ret;
}

static void adhoc_takes_the_squadfiles_frame_not_its_tasks(void **state)
{
	struct squadfile sf;
	struct strbuf out = STRBUF_INIT, task_out = STRBUF_INIT;
	long echoer;

	(void)state;
	assert_int_equal(load_adhoc(&sf,
		"version: 1\n"
		"vars: { WHO: world }\n"
		"defaults: { timeout: 30s, retries: 2, worker: echoer }\n"
		"workers:\n"
		"  echoer: { command: [echo, '{prompt}'] }\n"
		"tasks:\n"
		"  own: touch canary\n",
		"- name: greet\n"
		"  prompt: hello ${WHO}\n"
		"- {run: make, worker: shell, needs: [greet]}\n"
		"- echo shorthand\n", &out, &task_out), 0);
	assert_string_equal(out.buf, "");
	assert_string_equal(task_out.buf, "");
	assert_int_equal(sf.nr_tasks, 3);
	assert_int_equal(squadfile_find_task(&sf, "own"), -1);
	echoer = squadfile_find_worker(&sf, "echoer");
	assert_true(echoer > 0);
	/* the defaults apply; a task's own worker wins over them */
	assert_string_equal(sf.tasks[0].name, "greet");
	assert_int_equal(sf.tasks[0].worker, (size_t)echoer);
	assert_int_equal(sf.tasks[0].timeout_ms, 30000);
	assert_int_equal(sf.tasks[0].retries, 2);
	/* unnamed items are named by their position */
	assert_string_equal(sf.tasks[1].name, "2");
	assert_int_equal(sf.tasks[1].worker, 0);
	assert_string_equal(sf.tasks[1].needs.v[0], "greet");
	assert_string_equal(sf.tasks[2].name, "3");
	assert_string_equal(sf.tasks[2].run, "echo shorthand");
	assert_string_equal(sf.vars.v[0], "WHO=world");
	squadfile_release(&sf);
	strbuf_release(&out);
	strbuf_release(&task_out);
}

static void adhoc_without_a_squadfile_has_the_builtins(void **state)
{
	struct squadfile sf;
	struct strbuf out = STRBUF_INIT, task_out = STRBUF_INIT;

	(void)state;
	assert_int_equal(load_adhoc(&sf, NULL, "{a: {prompt: look}, b: {run: 'true'}}",
				    &out, &task_out), 0);
	assert_int_equal(sf.nr_tasks, 2);
	assert_int_equal(sf.tasks[0].worker, (size_t)squadfile_find_worker(&sf, "qwen"));
	assert_int_equal(sf.tasks[1].worker, 0);
	/* the root is where the Squadfile would be */
	assert_string_equal(sf.root, root);
	squadfile_release(&sf);
	strbuf_release(&out);
	strbuf_release(&task_out);
}

/* A built-in worker's env is added to, variable by variable: giving
 * opencode a config path keeps the permission setting that makes it ask
 * squad before each tool call; naming that variable replaces it. */
static void builtin_env_is_added_to(void **state)
{
	struct squadfile sf;
	long w;
	const struct strvec *env;

	(void)state;
	load_ok(&sf, "version: 1\n"
		"workers:\n"
		"  opencode: { env: { OPENCODE_CONFIG: /x/oc.json } }\n"
		"tasks: { t: { prompt: hi, worker: opencode } }\n");
	w = squadfile_find_worker(&sf, "opencode");
	assert_true(w > 0);
	env = &sf.workers[w].env;
	assert_int_equal(env->nr, 2);
	assert_non_null(strstr(env->v[0], "OPENCODE_PERMISSION={\"*\":\"ask\",\"bash\":\"ask\""));
	assert_string_equal(env->v[1], "OPENCODE_CONFIG=/x/oc.json");
	squadfile_release(&sf);

	load_ok(&sf, "version: 1\n"
		"workers:\n"
		"  opencode: { env: { OPENCODE_PERMISSION: '{\"bash\": \"allow\"}', A: b } }\n"
		"tasks: { t: { prompt: hi, worker: opencode } }\n");
	env = &sf.workers[squadfile_find_worker(&sf, "opencode")].env;
	assert_int_equal(env->nr, 2);
	assert_string_equal(env->v[0], "OPENCODE_PERMISSION={\"bash\": \"allow\"}");
	assert_string_equal(env->v[1], "A=b");
	squadfile_release(&sf);
}

static void adhoc_errors_are_marked_where_they_are(void **state)
{
	struct squadfile sf;
	struct strbuf out = STRBUF_INIT, task_out = STRBUF_INIT;

	(void)state;
	/* the Squadfile's own error is the Squadfile's */
	assert_int_equal(load_adhoc(&sf, "version: 1\ndefaults: { worker: nosuch }\ntasks: {}\n",
				    "- run: 'true'\n", &out, &task_out), -1);
	assert_non_null(strstr(out.buf, "Squadfile:2:21: error: unknown worker 'nosuch' in defaults"));
	assert_string_equal(task_out.buf, "");
	squadfile_release(&sf);
	strbuf_reset(&out);
	/* the tasks' are the list's */
	assert_int_equal(load_adhoc(&sf, NULL,
		"- name: a\n"
		"  worker: nosuch\n"
		"  run: 'true'\n"
		"- [not, a, task]\n"
		"- {name: a, run: 'true'}\n", &out, &task_out), -1);
	assert_string_equal(out.buf, "");
	assert_non_null(strstr(task_out.buf, "<stdin>:2:11: error: unknown worker 'nosuch' for task 'a'"));
	assert_non_null(strstr(task_out.buf, "<stdin>:4:3: error: a task in the list must be a map"));
	assert_non_null(strstr(task_out.buf, "<stdin>:5:10: error: duplicate task name 'a' (first given on line 1)"));
	squadfile_release(&sf);
	strbuf_reset(&task_out);
	assert_int_equal(load_adhoc(&sf, NULL, "[]", &out, &task_out), -1);
	assert_non_null(strstr(task_out.buf, "<stdin>:1:1: error: the list of tasks is empty"));
	squadfile_release(&sf);
	strbuf_release(&out);
	strbuf_release(&task_out);
}

/* isolate: and changes:, the task's own, else its worker's, else the
 * defaults'; unset, apply on the shell and review on an agent. */
static void isolation_precedence(void **state)
{
	struct squadfile sf;

	(void)state;
	load_ok(&sf, "version: 1\n"
		"defaults: {isolate: worktree, changes: discard}\n"
		"workers:\n"
		"  shell: {changes: apply}\n"
		"  bot: {command: [bot, \"{prompt}\"], isolate: none}\n"
		"tasks:\n"
		"  fmt: ruff format .\n"
		"  own: {run: make, isolate: none}\n"
		"  ask: {prompt: hi, worker: bot}\n"
		"  asked: {prompt: hi, worker: bot, isolate: worktree, changes: review}\n"
		"  agent: {prompt: hi}\n");
	assert_int_equal(sf.tasks[0].isolation, ISOLATION_WORKTREE);
	assert_int_equal(sf.tasks[0].changes, CHANGES_APPLY);
	assert_int_equal(sf.tasks[1].isolation, ISOLATION_NONE);
	assert_int_equal(sf.tasks[2].isolation, ISOLATION_NONE);
	assert_int_equal(sf.tasks[2].changes, CHANGES_DISCARD);
	assert_int_equal(sf.tasks[3].isolation, ISOLATION_WORKTREE);
	assert_int_equal(sf.tasks[3].changes, CHANGES_REVIEW);
	assert_int_equal(sf.tasks[4].isolation, ISOLATION_WORKTREE);
	assert_int_equal(sf.tasks[4].changes, CHANGES_DISCARD);
	squadfile_release(&sf);
	load_ok(&sf, "version: 1\ntasks:\n  a: make\n  b: {prompt: hi, isolate: worktree}\n");
	assert_int_equal(sf.tasks[0].isolation, ISOLATION_NONE);
	assert_int_equal(sf.tasks[0].changes, CHANGES_APPLY);
	assert_int_equal(sf.tasks[1].changes, CHANGES_REVIEW);
	squadfile_release(&sf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_key_with_suggestion),
		cmocka_unit_test(typo_in_top_level_key),
		cmocka_unit_test(wrong_type),
		cmocka_unit_test(key_that_is_a_list),
		cmocka_unit_test(duplicate_key),
		cmocka_unit_test(bad_task_names),
		cmocka_unit_test(check_name),
		cmocka_unit_test(unknown_dependency_with_suggestion),
		cmocka_unit_test(unknown_worker_with_suggestion),
		cmocka_unit_test(prompt_on_the_shell_worker),
		cmocka_unit_test(undefined_variable),
		cmocka_unit_test(unknown_variable_that_is_no_typo_is_kept),
		cmocka_unit_test(bad_duration),
		cmocka_unit_test(parse_duration),
		cmocka_unit_test(isolation_precedence),
		cmocka_unit_test(bad_retries),
		cmocka_unit_test(task_with_nothing_to_do),
		cmocka_unit_test(invalid_regex_in_expect_has_its_column),
		cmocka_unit_test(version_missing_or_unsupported),
		cmocka_unit_test(empty_file),
		cmocka_unit_test(invalid_yaml),
		cmocka_unit_test(non_utf8_bytes_have_their_position),
		cmocka_unit_test(routing_and_worker_errors),
		cmocka_unit_test(multiple_errors_in_one_pass),
		cmocka_unit_test(missing_and_oversized_files),
		cmocka_unit_test(alias_bomb_is_refused),
		cmocka_unit_test(deep_nesting_is_refused_quickly),
		cmocka_unit_test(defaults_are_applied),
		cmocka_unit_test(no_defaults_means_zero),
		cmocka_unit_test(shorthand_and_scalar_needs),
		cmocka_unit_test(run_as_argv_list),
		cmocka_unit_test(worker_selection),
		cmocka_unit_test(vars_use_earlier_vars),
		cmocka_unit_test(other_fields),
		cmocka_unit_test(many_tasks_load),
		cmocka_unit_test(adhoc_takes_the_squadfiles_frame_not_its_tasks),
		cmocka_unit_test(adhoc_without_a_squadfile_has_the_builtins),
		cmocka_unit_test(adhoc_errors_are_marked_where_they_are),
		cmocka_unit_test(builtin_env_is_added_to),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
