/* test_expand.c - ${VAR} expansion in strings, {placeholder} expansion in argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/expand.h"

/* Fresh "NAME=value" lists for each test. */
struct fixture {
	struct strvec own;
	struct strvec vars;
	struct expand_scope scope;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strvec_init(&f->own);
	strvec_init(&f->vars);
	strvec_push(&f->own, "SQUAD_TASK=build");
	strvec_push(&f->own, "WHO=own");
	strvec_push(&f->vars, "WHO=vars");
	strvec_push(&f->vars, "WHERE=vars");
	strvec_push(&f->vars, "EMPTY=");
	f->scope.own = &f->own;
	f->scope.vars = &f->vars;
	f->scope.environ = true;
	setenv("WHO", "environ", 1);
	setenv("WHERE", "environ", 1);
	setenv("SQUAD_TEST_ONLY_ENV", "from environ", 1);
	unsetenv("SQUAD_TEST_UNSET");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	strvec_clear(&f->own);
	strvec_clear(&f->vars);
	free(f);
	unsetenv("WHO");
	unsetenv("WHERE");
	unsetenv("SQUAD_TEST_ONLY_ENV");
	return 0;
}

/* expand_vars(text) must succeed; returns the result (static buffer). */
static const char *vars_ok(const struct expand_scope *scope, const char *text)
{
	static char result[1024];
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT;
	size_t offset = 12345;

	assert_int_equal(expand_vars(&out, text, scope, &offset, &name), 0);
	assert_int_equal(offset, 12345); /* untouched on success */
	assert_int_equal(name.len, 0);
	assert_true(out.len < sizeof(result));
	memcpy(result, out.buf, out.len + 1);
	strbuf_release(&out);
	strbuf_release(&name);
	return result;
}

static void lookup_finds_exact_names_last_one_wins(void **state)
{
	struct strvec list = STRVEC_INIT;

	(void)state;
	strvec_push(&list, "AB=1");
	strvec_push(&list, "A=2");
	strvec_push(&list, "A=3");
	assert_string_equal(expand_lookup(&list, "A", 1), "3");
	assert_string_equal(expand_lookup(&list, "AB", 2), "1");
	/* `len` bounds the name: "ABC" with len 1 is "A" */
	assert_string_equal(expand_lookup(&list, "ABC", 1), "3");
	assert_null(expand_lookup(&list, "ABC", 3));
	assert_null(expand_lookup(&list, "B", 1));
	assert_null(expand_lookup(NULL, "A", 1));
	strvec_clear(&list);
}

static void vars_come_from_own_then_vars_then_environ(void **state)
{
	struct fixture *f = *state;
	struct expand_scope no_own = { .vars = &f->vars, .environ = true };
	struct expand_scope env_only = { .environ = true };

	assert_string_equal(vars_ok(&f->scope, "${WHO}/${WHERE}/${SQUAD_TEST_ONLY_ENV}"),
			    "own/vars/from environ");
	assert_string_equal(vars_ok(&no_own, "${WHO}"), "vars");
	assert_string_equal(vars_ok(&env_only, "${WHO} ${WHERE}"), "environ environ");
	assert_string_equal(vars_ok(&f->scope, "task=${SQUAD_TASK}."), "task=build.");
	/* defined but empty is defined */
	assert_string_equal(vars_ok(&f->scope, "[${EMPTY}]"), "[]");
}

static void environ_is_used_only_when_asked(void **state)
{
	struct fixture *f = *state;
	struct expand_scope scope = { .own = &f->own, .vars = &f->vars };
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT;
	size_t offset = 0;

	assert_int_equal(expand_vars(&out, "x ${SQUAD_TEST_ONLY_ENV}", &scope,
				     &offset, &name), -1);
	assert_int_equal(offset, 2);
	assert_string_equal(name.buf, "SQUAD_TEST_ONLY_ENV");
	strbuf_release(&out);
	strbuf_release(&name);
}

static void dollar_dollar_brace_is_a_literal(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(vars_ok(&f->scope, "$${WHO}"), "${WHO}");
	assert_string_equal(vars_ok(&f->scope, "$${SQUAD_TEST_UNSET} ${WHO}"),
			    "${SQUAD_TEST_UNSET} own");
	/* `$$` not before `{` is two dollars, for the shell */
	assert_string_equal(vars_ok(&f->scope, "echo $$ $$x"), "echo $$ $$x");
}

static void shell_forms_are_left_alone(void **state)
{
	struct fixture *f = *state;
	const char *const shell[] = {
		"$HOME", "${1:-x}", "${#array[@]}", "${WHO:=default}", "${}", "${9}",
		"$", "a$", "${WHO", "${ WHO}", "$(date)", "${WHO-x}", "${WHO:-x",
		"${WHO:x}", NULL,
	};

	for (int i = 0; shell[i]; i++)
		assert_string_equal(vars_ok(&f->scope, shell[i]), shell[i]);
	assert_string_equal(vars_ok(&f->scope, "$HOME/${WHO}"), "$HOME/own");
}

static void undefined_variable_gives_offset_and_name(void **state)
{
	struct fixture *f = *state;
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT;
	size_t offset = 0;

	assert_int_equal(expand_vars(&out, "echo ${WHO} and ${SQUAD_TEST_UNSET} ${ALSO_UNSET}",
				     &f->scope, &offset, &name), -1);
	assert_int_equal(offset, 16);
	assert_string_equal(name.buf, "SQUAD_TEST_UNSET");
	strbuf_reset(&out);
	strbuf_reset(&name);
	/* the offset is of the `${`, after an escaped one */
	assert_int_equal(expand_vars(&out, "$${X}${SQUAD_TEST_UNSET}", &f->scope,
				     &offset, &name), -1);
	assert_int_equal(offset, 5);
	assert_string_equal(name.buf, "SQUAD_TEST_UNSET");
	/* NULL out-parameters are allowed */
	assert_int_equal(expand_vars(&out, "${SQUAD_TEST_UNSET}", &f->scope, NULL, NULL), -1);
	strbuf_release(&out);
	strbuf_release(&name);
}

static void keep_unknown_leaves_the_reference(void **state)
{
	struct fixture *f = *state;
	struct expand_scope scope = f->scope;

	scope.keep_unknown = true;
	assert_string_equal(vars_ok(&scope, "${SQUAD_TEST_UNSET}/${WHO}"),
			    "${SQUAD_TEST_UNSET}/own");
}

/* In templates too: keep_unknown leaves ${NAME} as written, and so does
 * a NULL scope (nothing is looked up). */
static void template_keeps_unknown_when_asked(void **state)
{
	struct fixture *f = *state;
	struct expand_scope scope = f->scope;
	struct placeholders ph = { .task = "t" };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	scope.keep_unknown = true;
	assert_int_equal(expand_template_string(&out, "${SQUAD_TEST_UNSET}-${WHO}-{task}",
						&scope, &ph, &err), 0);
	assert_string_equal(out.buf, "${SQUAD_TEST_UNSET}-own-t");
	strbuf_reset(&out);
	assert_int_equal(expand_template_string(&out, "${WHO}-{task}", NULL, &ph, &err), 0);
	assert_string_equal(out.buf, "${WHO}-t");
	assert_int_equal(err.len, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ${NAME:-default}: the shell's meaning, unset or empty gives the default */
static void default_when_unset_or_empty(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(vars_ok(&f->scope, "${SQUAD_TEST_UNSET:-dflt}"), "dflt");
	assert_string_equal(vars_ok(&f->scope, "${EMPTY:-dflt}"), "dflt");
	assert_string_equal(vars_ok(&f->scope, "${WHO:-dflt}"), "own");
	assert_string_equal(vars_ok(&f->scope, "${WHERE:-dflt}"), "vars");
	assert_string_equal(vars_ok(&f->scope, "${SQUAD_TEST_ONLY_ENV:-dflt}"), "from environ");
	assert_string_equal(vars_ok(&f->scope, "a${SQUAD_TEST_UNSET:-}b"), "ab");
	/* taken as written, to the first '}' */
	assert_string_equal(vars_ok(&f->scope, "${SQUAD_TEST_UNSET:-http://h:1/a b}/x"),
			    "http://h:1/a b/x");
	assert_string_equal(vars_ok(&f->scope, "${SQUAD_TEST_UNSET:-$${WHO}"), "$${WHO");
	setenv("SQUAD_TEST_UNSET", "", 1);
	assert_string_equal(vars_ok(&f->scope, "${SQUAD_TEST_UNSET:-dflt}"), "dflt");
	unsetenv("SQUAD_TEST_UNSET");
}

/* Without the environment and keeping unknowns (what squad shows), a
 * default stands only when the environment could not supply the name:
 * an environment value stays masked as written. */
static void default_without_environ_masks_what_the_environment_sets(void **state)
{
	struct fixture *f = *state;
	struct expand_scope shown = { .vars = &f->vars, .keep_unknown = true };

	assert_string_equal(vars_ok(&shown, "${SQUAD_TEST_ONLY_ENV:-dflt}"),
			    "${SQUAD_TEST_ONLY_ENV:-dflt}");
	assert_string_equal(vars_ok(&shown, "${SQUAD_TEST_UNSET:-dflt}"), "dflt");
	assert_string_equal(vars_ok(&shown, "${WHERE:-dflt}"), "vars");
	/* an error scope: a default is never undefined */
	shown.keep_unknown = false;
	assert_string_equal(vars_ok(&shown, "${SQUAD_TEST_ONLY_ENV:-dflt}"), "dflt");
}

static void names_of_placeholders(void **state)
{
	(void)state;
	assert_true(expand_is_placeholder("prompt", 6));
	assert_true(expand_is_placeholder("changed", 7));
	assert_true(expand_is_placeholder("taskXYZ", 4));
	assert_false(expand_is_placeholder("task", 3));
	assert_false(expand_is_placeholder("promptx", 7));
	assert_false(expand_is_placeholder("PROMPT", 6));
	for (int i = 0; expand_placeholder_names[i]; i++)
		assert_true(expand_is_placeholder(expand_placeholder_names[i],
						  strlen(expand_placeholder_names[i])));
}

static const struct placeholders values = {
	.prompt = "fix the bug", .task = "build", .dir = "/src",
	.model = "qwen3", .run = "make", .changed = NULL,
};

static void template_string_fills_placeholders(void **state)
{
	struct fixture *f = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(expand_template_string(&out,
		"{task} in {dir} with {model}: {prompt} ({run}) by ${WHO}",
		&f->scope, &values, &err), 0);
	assert_string_equal(out.buf, "build in /src with qwen3: fix the bug (make) by own");
	assert_int_equal(err.len, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void template_takes_defaults(void **state)
{
	struct fixture *f = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(expand_template_string(&out, "${SQUAD_TEST_UNSET:-qwen3}:{task}",
						&f->scope, &values, &err), 0);
	assert_string_equal(out.buf, "qwen3:build");
	strbuf_reset(&out);
	assert_int_equal(expand_template_string(&out, "${SQUAD_TEST_UNSET:-x}", NULL,
						&values, &err), 0);
	assert_string_equal(out.buf, "${SQUAD_TEST_UNSET:-x}");
	assert_int_equal(err.len, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void double_brace_is_a_literal_brace(void **state)
{
	struct fixture *f = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(expand_template_string(&out, "{{task}} {{ {task}",
						&f->scope, &values, &err), 0);
	assert_string_equal(out.buf, "{task}} { build");
	strbuf_reset(&out);
	/* braces that are no placeholder stay: JSON, shell, empty */
	assert_int_equal(expand_template_string(&out, "{\"a\": 1} {} {A} {x-y} }",
						&f->scope, &values, &err), 0);
	assert_string_equal(out.buf, "{\"a\": 1} {} {A} {x-y} }");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void unknown_placeholder_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(expand_template_string(&out, "--p={promt}", &f->scope,
						&values, &err), -1);
	assert_non_null(strstr(err.buf, "unknown placeholder '{promt}' in '--p={promt}'"));
	assert_non_null(strstr(err.buf, "'{{'"));
	strbuf_release(&out);
	strbuf_release(&err);
}

static void placeholder_without_value_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct placeholders some = { .task = "t" };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(expand_template_string(&out, "{task}:{model}", &f->scope,
						&some, &err), -1);
	assert_string_equal(err.buf, "placeholder '{model}' has no value here");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void undefined_variable_in_template_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(expand_template_string(&out, "k=${SQUAD_TEST_UNSET}", &f->scope,
						&values, &err), -1);
	assert_non_null(strstr(err.buf, "undefined variable 'SQUAD_TEST_UNSET'"));
	strbuf_release(&out);
	strbuf_release(&err);
}

/* A value is data: what a variable or a placeholder brings in is not
 * scanned again for ${VAR} or {placeholder}. */
static void values_are_not_expanded_again(void **state)
{
	struct fixture *f = *state;
	struct placeholders tricky = { .prompt = "say ${WHO} and {task} {{", .task = "t" };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	strvec_push(&f->vars, "BRACES={task} {nope} {{");
	assert_int_equal(expand_template_string(&out, "{prompt}|${BRACES}", &f->scope,
						&tricky, &err), 0);
	assert_string_equal(out.buf, "say ${WHO} and {task} {{|{task} {nope} {{");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void argv_expands_each_element_in_place(void **state)
{
	struct fixture *f = *state;
	struct strvec tmpl = STRVEC_INIT, argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	strvec_push(&tmpl, "agent");
	strvec_push(&tmpl, "--model={model}");
	strvec_push(&tmpl, "{prompt}");
	strvec_push(&tmpl, "${WHO}");
	strvec_push(&argv, "already there");
	assert_int_equal(expand_argv(&argv, &tmpl, &f->scope, &values, &err), 0);
	assert_int_equal(argv.nr, 5);
	assert_string_equal(argv.v[0], "already there");
	assert_string_equal(argv.v[1], "agent");
	assert_string_equal(argv.v[2], "--model=qwen3");
	assert_string_equal(argv.v[3], "fix the bug"); /* one element, spaces and all */
	assert_string_equal(argv.v[4], "own");
	assert_null(argv.v[5]);
	strvec_clear(&tmpl);
	strvec_clear(&argv);
	strbuf_release(&err);
}

static void changed_alone_is_one_element_per_path(void **state)
{
	struct fixture *f = *state;
	struct strvec tmpl = STRVEC_INIT, argv = STRVEC_INIT, changed = STRVEC_INIT;
	struct placeholders ph = values;
	struct strbuf err = STRBUF_INIT;

	strvec_push(&changed, "src/a.c");
	strvec_push(&changed, "src/b c.c");
	strvec_push(&changed, "README");
	ph.changed = &changed;
	strvec_push(&tmpl, "lint");
	strvec_push(&tmpl, "{changed}");
	strvec_push(&tmpl, "--files={changed}");
	strvec_push(&tmpl, "--");
	assert_int_equal(expand_argv(&argv, &tmpl, &f->scope, &ph, &err), 0);
	assert_int_equal(argv.nr, 6);
	assert_string_equal(argv.v[0], "lint");
	assert_string_equal(argv.v[1], "src/a.c");
	assert_string_equal(argv.v[2], "src/b c.c");
	assert_string_equal(argv.v[3], "README");
	/* inside a longer element the paths are joined by spaces */
	assert_string_equal(argv.v[4], "--files=src/a.c src/b c.c README");
	assert_string_equal(argv.v[5], "--");
	strvec_clear(&argv);

	/* nothing changed: {changed} alone vanishes */
	strvec_clear(&changed);
	assert_int_equal(expand_argv(&argv, &tmpl, &f->scope, &ph, &err), 0);
	assert_int_equal(argv.nr, 3);
	assert_string_equal(argv.v[1], "--files=");
	strvec_clear(&argv);
	ph.changed = NULL;
	assert_int_equal(expand_argv(&argv, &tmpl, &f->scope, &ph, &err), 0);
	assert_int_equal(argv.nr, 3);
	strvec_clear(&argv);
	strvec_clear(&tmpl);
	strbuf_release(&err);
}

static void argv_error_names_the_element(void **state)
{
	struct fixture *f = *state;
	struct strvec tmpl = STRVEC_INIT, argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	strvec_push(&tmpl, "agent");
	strvec_push(&tmpl, "{tsak}");
	assert_int_equal(expand_argv(&argv, &tmpl, &f->scope, &values, &err), -1);
	assert_non_null(strstr(err.buf, "unknown placeholder '{tsak}'"));
	strvec_clear(&tmpl);
	strvec_clear(&argv);
	strbuf_release(&err);
}

static void check_template_checks_names_only(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;

	/* no values needed: every known placeholder passes */
	assert_int_equal(expand_check_template("{prompt} {task} {dir} {model} {run} {changed} {{x}",
					       &f->scope, &err), 0);
	assert_int_equal(err.len, 0);
	/* without a scope ${VAR} is not checked (an API key named for later) */
	assert_int_equal(expand_check_template("--key=${SQUAD_TEST_UNSET}", NULL, &err), 0);
	assert_int_equal(expand_check_template("${WHO} {task}", &f->scope, &err), 0);
	assert_int_equal(err.len, 0);

	assert_int_equal(expand_check_template("{task} {modle}", NULL, &err), -1);
	assert_non_null(strstr(err.buf, "unknown placeholder '{modle}'"));
	strbuf_reset(&err);
	assert_int_equal(expand_check_template("${SQUAD_TEST_UNSET}", &f->scope, &err), -1);
	assert_non_null(strstr(err.buf, "undefined variable 'SQUAD_TEST_UNSET'"));
	strbuf_release(&err);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(lookup_finds_exact_names_last_one_wins),
		T(vars_come_from_own_then_vars_then_environ),
		T(environ_is_used_only_when_asked),
		T(dollar_dollar_brace_is_a_literal),
		T(shell_forms_are_left_alone),
		T(undefined_variable_gives_offset_and_name),
		T(keep_unknown_leaves_the_reference),
		T(template_keeps_unknown_when_asked),
		T(default_when_unset_or_empty),
		T(default_without_environ_masks_what_the_environment_sets),
		T(template_takes_defaults),
		T(names_of_placeholders),
		T(template_string_fills_placeholders),
		T(double_brace_is_a_literal_brace),
		T(unknown_placeholder_is_an_error),
		T(placeholder_without_value_is_an_error),
		T(undefined_variable_in_template_is_an_error),
		T(values_are_not_expanded_again),
		T(argv_expands_each_element_in_place),
		T(changed_alone_is_one_element_per_path),
		T(argv_error_names_the_element),
		T(check_template_checks_names_only),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
