/* test_biglist.c - a Squadfile holding one huge list loads in linear time.
 *
 * Time is measured as the bytes the loader asks of xmalloc, xcalloc and
 * xrealloc (wrapped at link time, see tests/CMakeLists.txt), not on a
 * clock: a list grown one item per realloc, or an index rebuilt per item,
 * asks for a multiple of the list's size per item, so its bytes grow with
 * the square of the list. Ten times the items must cost about ten times
 * the bytes, whatever the machine's load or the sanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/diag.h"
#include "model/route.h"
#include "model/squadfile.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

void *__real_xmalloc(size_t size);
void *__real_xcalloc(size_t count, size_t size);
void *__real_xrealloc(void *ptr, size_t size);

static size_t asked; /* bytes asked for since the last reset */

void *__wrap_xmalloc(size_t size)
{
	asked += size;
	return __real_xmalloc(size);
}

void *__wrap_xcalloc(size_t count, size_t size)
{
	asked += count * size;
	return __real_xcalloc(count, size);
}

void *__wrap_xrealloc(void *ptr, size_t size)
{
	asked += size;
	return __real_xrealloc(ptr, size);
}

static char root[256];
static char path[512];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-biglist.XXXXXX");
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

/* A Squadfile whose task `a` has `n` items under `key`, one per line;
 * for needs, the n tasks it names follow. */
static void write_list(const char *key, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "version: 1\ntasks:\n  a:\n    %s: x\n    %s:\n",
		!strcmp(key, "skills") ? "prompt" : !strcmp(key, "run") ? "desc" : "run", key);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(key, "env"))
			fprintf(f, "      V%zu: x\n", i);
		else
			fprintf(f, "      - i%zu\n", i);
	}
	if (!strcmp(key, "needs"))
		for (size_t i = 0; i < n; i++)
			fprintf(f, "  i%zu: x\n", i);
	assert_int_equal(fclose(f), 0);
}

/* Bytes asked for to load (and, for skills, resolve) a list of n items. */
static size_t cost(const char *key, size_t n)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct squadfile sf;
	struct skills skills;

	write_list(key, n);
	memset(&skills, 0, sizeof(skills));
	asked = 0;
	assert_int_equal(squadfile_load(&sf, path, &diags), 0);
	if (!strcmp(key, "skills"))
		route_resolve_skills(&skills, &sf, NULL, false, &diags);
	route_skills_release(&skills);
	squadfile_release(&sf);
	diag_list_release(&diags);
	return asked;
}

static void check_linear(const char *key)
{
	size_t small = cost(key, 20000), big = cost(key, 200000);

	/* linear: about 10 times; one realloc per item: about 100 times */
	if (big > 15 * small)
		fail_msg("%s: 20,000 items asked for %zu bytes, 200,000 for %zu (%.1f times)",
			 key, small, big, (double)big / (double)small);
}

static void test_run_list(void **state) { (void)state; check_linear("run"); }
static void test_needs(void **state) { (void)state; check_linear("needs"); }
static void test_skills(void **state) { (void)state; check_linear("skills"); }
static void test_inputs(void **state) { (void)state; check_linear("inputs"); }
static void test_outputs(void **state) { (void)state; check_linear("outputs"); }
static void test_env(void **state) { (void)state; check_linear("env"); }

/* The measure itself can fail: a list grown one item at a time is seen. */
static void test_measure_sees_quadratic_growth(void **state)
{
	size_t per_item[2];

	(void)state;
	for (int k = 0; k < 2; k++) {
		size_t n = k ? 20000 : 2000;
		char *v = NULL;

		asked = 0;
		for (size_t i = 1; i <= n; i++)
			v = xrealloc(v, i);
		free(v);
		per_item[k] = asked;
	}
	assert_true(per_item[1] > 15 * per_item[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measure_sees_quadratic_growth),
		cmocka_unit_test_setup_teardown(test_run_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
