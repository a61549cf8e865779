/* test_cachestep.c - cachestep.h: the settings (the environment
 * winning, what turns the cache off, what cannot work), keys that are
 * the same in any folder and whatever the environment holds but change
 * with the definition, which tasks are cacheable, a success stored and
 * restored byte for byte from the local folder, and the metadata reader
 * on good and bad entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cachestep.h"
#include "plan/graph.h"
#include "plan/plan.h"
#include "model/squadfile.h"
#include "util/strbuf.h"

#include "scratch_tree.h"

static const char *const cache_vars[] = {
	"SQUAD_CACHE", "SQUAD_CACHE_URL", "SQUAD_CACHE_TOKEN", "SQUAD_CACHE_TEAM",
	"SQUAD_CACHE_WRITE", "SQUAD_CACHE_SIGNING_KEY", "SQUAD_CACHE_DIR",
	"SQUAD_CACHE_MAX_SIZE", NULL,
};

struct model {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct diag_list diags;
};

/* Load `text` as root/SUB/Squadfile and plan every task. */
static void load(struct model *m, const char *sub, const char *text)
{
	struct strvec targets = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/Squadfile", sub);
	scratch_write_old(path, text);
	snprintf(path, sizeof(path), "%s/%s/Squadfile", root, sub);
	m->diags = (struct diag_list)DIAG_LIST_INIT("Squadfile");
	assert_int_equal(squadfile_load(&m->sf, path, &m->diags), 0);
	assert_int_equal(graph_build(&m->g, &m->sf, &m->diags), 0);
	for (size_t i = 0; i < m->sf.nr_tasks; i++)
		strvec_push(&targets, m->sf.tasks[i].name);
	assert_int_equal(plan_build(&m->plan, &m->sf, &m->g, NULL, &targets, NULL, &err), 0);
	strvec_clear(&targets);
	strbuf_release(&err);
}

static void unload(struct model *m)
{
	plan_release(&m->plan);
	graph_release(&m->g);
	squadfile_release(&m->sf);
	diag_list_release(&m->diags);
}

static struct cachestep *open_ok(const struct model *m)
{
	struct cachestep_options o = { false, false, -1, true };
	struct cachestep *c = NULL;
	struct strbuf err = STRBUF_INIT;

	if (cachestep_open(&c, &m->sf, &o, &err) < 0)
		fail_msg("%s", err.buf);
	strbuf_release(&err);
	if (c)
		cachestep_plan(c, &m->plan);
	return c;
}

static int setup(void **unused)
{
	char dir[400];

	(void)unused;
	for (int i = 0; cache_vars[i]; i++)
		unsetenv(cache_vars[i]);
	if (!scratch_make("cachestep"))
		return -1;
	snprintf(dir, sizeof(dir), "%s/xdg", root);
	setenv("XDG_CACHE_HOME", dir, 1);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	return scratch_remove();
}

#define PROJECT \
	"version: 1\n" \
	"tasks:\n" \
	"  build: { run: 'cc -o out ${HOME}/x.c', inputs: [x.c], outputs: [out] }\n" \
	"  test: { run: 'echo ${SQUAD_ROOT}', needs: [build], inputs: [x.c] }\n" \
	"  plain: { run: 'true' }\n"

static void test_keys_are_the_same_anywhere(void **unused)
{
	struct model a, b, c;
	struct cachestep *ca, *cb, *cc;
	size_t build, test;

	(void)unused;
	setenv("HOME", "/home/alice", 1);
	load(&a, "a", PROJECT);
	ca = open_ok(&a);
	setenv("HOME", "/home/bob", 1);
	load(&b, "elsewhere", PROJECT);
	cb = open_ok(&b);
	build = (size_t)squadfile_find_task(&a.sf, "build");
	test = (size_t)squadfile_find_task(&a.sf, "test");
	assert_non_null(ca);
	assert_non_null(cb);
	assert_int_equal(strlen(cachestep_key(ca, build)), 64);
	assert_string_equal(cachestep_key(ca, build), cachestep_key(cb, build));
	assert_string_equal(cachestep_key(ca, test), cachestep_key(cb, test));

	/* a change of the command changes its key and its dependent's */
	load(&c, "c", "version: 1\n"
		 "tasks:\n"
		 "  build: { run: 'cc -O2 -o out ${HOME}/x.c', inputs: [x.c], outputs: [out] }\n"
		 "  test: { run: 'echo ${SQUAD_ROOT}', needs: [build], inputs: [x.c] }\n"
		 "  plain: { run: 'true' }\n");
	cc = open_ok(&c);
	assert_string_not_equal(cachestep_key(ca, build), cachestep_key(cc, build));
	assert_string_not_equal(cachestep_key(ca, test), cachestep_key(cc, test));

	/* inputs make a task cacheable; no inputs, no cache */
	assert_true(cachestep_serves(ca, build));
	assert_true(cachestep_keeps(ca, test));
	assert_false(cachestep_keeps(ca, (size_t)squadfile_find_task(&a.sf, "plain")));
	cachestep_free(ca);
	cachestep_free(cb);
	cachestep_free(cc);
	unload(&a);
	unload(&b);
	unload(&c);
}

/* A no-op (up-to-date tasks, and a group over them "run" at the top)
 * hashes no key: keys are made only for what can be looked up or
 * stored, and for what those need. */
static void test_no_op_hashes_nothing(void **unused)
{
	struct model m;
	struct cachestep_options o = { false, false, -1, false };
	struct cachestep *c = NULL;
	struct strbuf err = STRBUF_INIT;
	size_t build, test, all;

	(void)unused;
	load(&m, "noop", "version: 1\n"
	     "tasks:\n"
	     "  build: { run: 'cc -o out x.c', inputs: [x.c], outputs: [out] }\n"
	     "  test: { run: 'true', needs: [build], inputs: [x.c] }\n"
	     "  all: { needs: [test] }\n");
	build = (size_t)squadfile_find_task(&m.sf, "build");
	test = (size_t)squadfile_find_task(&m.sf, "test");
	all = (size_t)squadfile_find_task(&m.sf, "all");
	m.plan.action[build] = m.plan.action[test] = PLAN_UP_TO_DATE;
	assert_int_equal(m.plan.action[all], PLAN_RUN);
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), 0);
	assert_non_null(c);
	cachestep_plan(c, &m.plan);
	assert_string_equal(cachestep_key(c, build), "");
	assert_string_equal(cachestep_key(c, test), "");
	assert_string_equal(cachestep_key(c, all), "");
	cachestep_free(c);

	/* test runs: its key, and build's that it is made of */
	m.plan.action[test] = PLAN_RUN;
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), 0);
	cachestep_plan(c, &m.plan);
	assert_int_equal(strlen(cachestep_key(c, test)), 64);
	assert_int_equal(strlen(cachestep_key(c, build)), 64);
	assert_string_equal(cachestep_key(c, all), "");
	cachestep_free(c);
	strbuf_release(&err);
	unload(&m);
}

static void test_settings(void **unused)
{
	struct cachestep_options o = { false, false, -1, true };
	struct cachestep *c = NULL;
	struct strbuf err = STRBUF_INIT;
	struct model m;

	(void)unused;
	load(&m, "s", PROJECT);
	setenv("SQUAD_CACHE", "off", 1);
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), 0);
	assert_null(c);
	unsetenv("SQUAD_CACHE");

	setenv("SQUAD_CACHE_URL", "ftp://example.org/cache", 1);
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), -1);
	assert_null(c);
	assert_non_null(strstr(err.buf, "SQUAD_CACHE_URL must be an http:// or https:// URL"));
	strbuf_reset(&err);
	unsetenv("SQUAD_CACHE_URL");

	setenv("SQUAD_CACHE_MAX_SIZE", "huge", 1);
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), -1);
	assert_non_null(strstr(err.buf, "SQUAD_CACHE_MAX_SIZE"));
	strbuf_reset(&err);
	unsetenv("SQUAD_CACHE_MAX_SIZE");
	unload(&m);

	load(&m, "off", "version: 1\ncache: false\ntasks:\n  a: 'true'\n");
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), 0);
	assert_null(c);
	/* the environment wins over cache: false */
	setenv("SQUAD_CACHE_URL", root, 1);
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), 0);
	assert_non_null(c);
	cachestep_free(c);
	unsetenv("SQUAD_CACHE_URL");
	unload(&m);

	load(&m, "sig", "version: 1\ncache: { signing_key_env: NOT_SET_ANYWHERE_42 }\n"
		 "tasks:\n  a: 'true'\n");
	unsetenv("NOT_SET_ANYWHERE_42");
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), -1);
	assert_non_null(strstr(err.buf, "NOT_SET_ANYWHERE_42, which is not set"));
	setenv("NOT_SET_ANYWHERE_42", "a-secret-value", 1);
	strbuf_reset(&err);
	assert_int_equal(cachestep_open(&c, &m.sf, &o, &err), 0);
	assert_non_null(c);
	cachestep_free(c);
	unsetenv("NOT_SET_ANYWHERE_42");
	unload(&m);
	strbuf_release(&err);
}

static void test_store_and_restore(void **unused)
{
	struct model m;
	struct cachestep *c;
	struct cache_hit hit = CACHE_HIT_INIT;
	static const struct task_tool tools[2] = {
		{ "t1", "execute", "Run", "touch x", "completed", "allowed" },
		{ "t2", "read", NULL, "src/a.c", "failed", NULL },
	};
	struct cache_result res = { .duration_ms = 1234, .summary = "built", .tools = tools,
				    .nr_tools = 2, .tools_omitted = 3 };
	struct strbuf notice = STRBUF_INIT, got = STRBUF_INIT;
	char path[600], log[600];
	size_t build;
	struct stat st;

	(void)unused;
	load(&m, "p", PROJECT);
	c = open_ok(&m);
	build = (size_t)squadfile_find_task(&m.sf, "build");
	scratch_write_old("p/out", "binary\001\002\003");
	snprintf(path, sizeof(path), "%s/p/out", root);
	chmod(path, 0751);
	scratch_write_old("p/build.log", "compiling\nbuilt\n");
	snprintf(log, sizeof(log), "%s/p/build.log", root);
	res.log_path = log;
	/* requests and tokens in known, tokens out never reported */
	task_usage_add(&res.usage, 2, 120, -1, -1);
	/* nothing there yet: a miss, nothing said */
	assert_int_equal(cachestep_fetch(c, build, &hit, &notice), 0);
	assert_int_equal(notice.len, 0);
	assert_int_equal(cachestep_store(c, build, &res, &notice), 0);
	assert_int_equal(notice.len, 0);
	unlink(path);
	assert_int_equal(cachestep_fetch(c, build, &hit, &notice), 1);
	assert_int_equal(hit.source, CACHE_LOCAL);
	assert_int_equal(hit.duration_ms, 1234);
	assert_string_equal(hit.summary, "built");
	assert_null(hit.answer);
	assert_int_equal(hit.log.len, strlen("compiling\nbuilt\n"));
	assert_memory_equal(hit.log.buf, "compiling\nbuilt\n", hit.log.len);
	/* the tool calls and usage as they were, unknown staying unknown */
	assert_int_equal(hit.nr_tools, 2);
	assert_int_equal(hit.tools_omitted, 3);
	assert_string_equal(hit.tools[0].target, "touch x");
	assert_string_equal(hit.tools[0].decision, "allowed");
	assert_null(hit.tools[1].title);
	assert_null(hit.tools[1].decision);
	assert_string_equal(hit.tools[1].status, "failed");
	assert_int_equal(hit.usage.requests, 2);
	assert_int_equal(hit.usage.input_tokens, 120);
	assert_int_equal(hit.usage.known, USAGE_REQUESTS | USAGE_INPUT);
	assert_int_equal(strbuf_read_file(&got, path), 0);
	assert_int_equal(got.len, 9);
	assert_memory_equal(got.buf, "binary\001\002\003", 9);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0751);
	cache_hit_release(&hit);

	/* explain: a hit now */
	strbuf_reset(&got);
	cachestep_explain(c, build, &got);
	assert_non_null(strstr(got.buf, "cache: hit (local)"));
	cachestep_free(c);
	unload(&m);
	strbuf_release(&notice);
	strbuf_release(&got);
}

/* The local folder's bound holds once the run is over. */
static void test_bound_kept_at_the_end(void **unused)
{
	struct model m;
	struct cachestep *c;
	struct cache_result res = { .duration_ms = 1 };
	struct strbuf notice = STRBUF_INIT;
	char path[600];
	size_t build;
	struct stat st;

	(void)unused;
	setenv("SQUAD_CACHE_MAX_SIZE", "100", 1);
	load(&m, "b", PROJECT);
	c = open_ok(&m);
	build = (size_t)squadfile_find_task(&m.sf, "build");
	scratch_write_old("b/out", "more than a hundred bytes once packed, with its metadata");
	assert_int_equal(cachestep_store(c, build, &res, &notice), 0);
	snprintf(path, sizeof(path), "%s/xdg/squad/v1/%s", root, cachestep_key(c, build));
	assert_int_equal(stat(path, &st), 0); /* kept while the run goes on */
	cachestep_free(c);
	assert_int_equal(stat(path, &st), -1);
	unsetenv("SQUAD_CACHE_MAX_SIZE");
	unload(&m);
	strbuf_release(&notice);
}

static void test_meta_read(void **unused)
{
	static const char good[] = "{\"version\":1,\"key\":\"k\",\"exit_code\":0,"
				   "\"answer\":\"42\"}\nthe log\001";
	struct cache_hit hit = CACHE_HIT_INIT;
	struct strbuf why = STRBUF_INIT;

	(void)unused;
	assert_int_equal(cache_meta_read(good, sizeof(good) - 1, "k", &hit, &why), 0);
	assert_string_equal(hit.answer, "42");
	assert_int_equal(hit.log.len, 8);
	/* an entry without tool calls or usage: none, nothing known */
	assert_int_equal(hit.nr_tools, 0);
	assert_int_equal(hit.usage.known, 0);
	cache_hit_release(&hit);
	assert_int_equal(cache_meta_read(good, sizeof(good) - 1, "other", &hit, &why), -1);
	assert_non_null(strstr(why.buf, "another key"));
	strbuf_reset(&why);
	assert_int_equal(cache_meta_read("no newline", 10, "k", &hit, &why), -1);
	assert_true(why.len > 0);
	strbuf_reset(&why);
	assert_int_equal(cache_meta_read("{\"version\":2}\n", 14, "k", &hit, &why), -1);
	assert_true(why.len > 0);
	strbuf_reset(&why);
	assert_int_equal(cache_meta_read("[1,2]\n", 6, "k", &hit, &why), -1);
	cache_hit_release(&hit);
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys_are_the_same_anywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_op_hashes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_kept_at_the_end, setup, teardown),
		cmocka_unit_test(test_meta_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
