/* test_report_json.c - `--json` events: one line each, flushed, and each
 * one valid against grammar/events.schema.json (checked here with a
 * small validator for the keywords that schema uses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/graph.h"
#include "plan/plan.h"
#include "report/report_json.h"
#include "run/run.h"
#include "model/squadfile.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "job/worker.h"

static char root[256];
static json_t *schema;

static void path_in(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", root, rel);
}

static void write_bytes(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	path_in(path, sizeof(path), rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	const char *here = __FILE__, *slash = strrchr(here, '/');
	char path[600];
	json_error_t error;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-json.XXXXXX");
	assert_non_null(mkdtemp(root));
	/* tests/unit/test_report_json.c -> grammar/events.schema.json; ctest
	 * runs us in tests/unit, so the relative path works as well */
	if (slash)
		snprintf(path, sizeof(path), "%.*s/../../grammar/events.schema.json",
			 (int)(slash - here), here);
	if (!slash || access(path, R_OK) < 0)
		snprintf(path, sizeof(path), "../../grammar/events.schema.json");
	schema = json_load_file(path, 0, &error);
	if (!schema)
		fprintf(stderr, "%s:%d: %s\n", path, error.line, error.text);
	assert_non_null(schema);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	json_decref(schema);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* --- a validator for the JSON Schema keywords events.schema.json uses */

static json_t *resolve(json_t *s)
{
	const char *ref;

	while ((ref = json_string_value(json_object_get(s, "$ref")))) {
		assert_true(!strncmp(ref, "#/$defs/", 8));
		s = json_object_get(json_object_get(schema, "$defs"), ref + 8);
		assert_non_null(s);
	}
	return s;
}

static bool has_type(const json_t *v, const char *type)
{
	if (!strcmp(type, "object"))
		return json_is_object(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "integer"))
		return json_is_integer(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(type, "null"))
		return json_is_null(v);
	fail_msg("unknown type '%s' in the schema", type);
	return false;
}

/* "2024-05-01T12:34:56.789Z" */
static bool is_event_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Does `v` follow schema `s`? If not, why goes into `why`. */
static bool valid(json_t *s, json_t *v, const char *where, struct strbuf *why)
{
	json_t *t, *k;
	const char *key;
	size_t i;

	s = resolve(s);
	if ((t = json_object_get(s, "type"))) {
		bool ok = false;

		if (json_is_string(t))
			ok = has_type(v, json_string_value(t));
		json_array_foreach(t, i, k)
			ok = ok || has_type(v, json_string_value(k));
		if (!ok) {
			strbuf_addf(why, "%s: wrong type\n", where);
			return false;
		}
	}
	if ((t = json_object_get(s, "const")) && !json_equal(t, v)) {
		strbuf_addf(why, "%s: not the const\n", where);
		return false;
	}
	if ((t = json_object_get(s, "enum"))) {
		bool ok = false;

		json_array_foreach(t, i, k)
			ok = ok || json_equal(k, v);
		if (!ok) {
			strbuf_addf(why, "%s: not in the enum\n", where);
			return false;
		}
	}
	if ((t = json_object_get(s, "minimum")) && json_is_number(v) &&
	    json_number_value(v) < json_number_value(t)) {
		strbuf_addf(why, "%s: below the minimum\n", where);
		return false;
	}
	if ((t = json_object_get(s, "maximum")) && json_is_number(v) &&
	    json_number_value(v) > json_number_value(t)) {
		strbuf_addf(why, "%s: above the maximum\n", where);
		return false;
	}
	if ((t = json_object_get(s, "minLength")) && json_is_string(v) &&
	    json_string_length(v) < (size_t)json_integer_value(t)) {
		strbuf_addf(why, "%s: too short\n", where);
		return false;
	}
	/* the one pattern in the schema is the event time's */
	if (json_object_get(s, "pattern") && json_is_string(v) && !is_event_time(json_string_value(v))) {
		strbuf_addf(why, "%s: not an event time\n", where);
		return false;
	}
	if ((t = json_object_get(s, "oneOf"))) {
		size_t matches = 0;
		struct strbuf sub = STRBUF_INIT;

		json_array_foreach(t, i, k)
			matches += valid(k, v, where, &sub);
		if (matches != 1)
			strbuf_addf(why, "%s: matches %zu of oneOf:\n%s", where, matches, sub.buf);
		strbuf_release(&sub);
		if (matches != 1)
			return false;
	}
	if (json_is_object(v)) {
		json_t *props = json_object_get(s, "properties");

		json_array_foreach(json_object_get(s, "required"), i, k) {
			if (!json_object_get(v, json_string_value(k))) {
				strbuf_addf(why, "%s: '%s' missing\n", where, json_string_value(k));
				return false;
			}
		}
		json_object_foreach(v, key, k) {
			json_t *p = json_object_get(props, key);
			struct strbuf sub_where = STRBUF_INIT;
			bool ok;

			if (!p && json_is_object(json_object_get(s, "additionalProperties")))
				p = json_object_get(s, "additionalProperties");
			if (!p) {
				if (json_is_false(json_object_get(s, "additionalProperties"))) {
					strbuf_addf(why, "%s: '%s' not allowed\n", where, key);
					return false;
				}
				continue;
			}
			strbuf_addf(&sub_where, "%s.%s", where, key);
			ok = valid(p, k, sub_where.buf, why);
			strbuf_release(&sub_where);
			if (!ok)
				return false;
		}
	}
	if (json_is_array(v) && (t = json_object_get(s, "items"))) {
		json_array_foreach(v, i, k) {
			struct strbuf sub_where = STRBUF_INIT;
			bool ok;

			strbuf_addf(&sub_where, "%s[%zu]", where, i);
			ok = valid(t, k, sub_where.buf, why);
			strbuf_release(&sub_where);
			if (!ok)
				return false;
		}
	}
	return true;
}

/* --- a run, faked */

struct fixture {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct task_result *results;
	char *buf;        /* what the reporter wrote */
	size_t size;
	FILE *out;
	json_t **events;  /* each line, parsed and checked */
	size_t nr_events, alloc_events;
};

static long find(struct fixture *fx, const char *name)
{
	long n = squadfile_find_task(&fx->sf, name);

	assert_true(n >= 0);
	return n;
}

static void load(struct fixture *fx)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strbuf err = STRBUF_INIT;
	struct strvec targets = STRVEC_INIT;
	char path[512];
	static const char text[] =
		"version: 1\n"
		"default: all\n"
		"tasks:\n"
		"  good: 'echo fine'\n"
		"  big: 'cat big'\n"
		"  bad: 'false'\n"
		"  after-bad: { run: 'true', needs: [bad] }\n"
		"  review: { run: 'true', skills: [code-review] }\n"
		"  behind: { run: 'true', needs: [review] }\n"
		"  all: { needs: [good, big, after-bad, behind] }\n";

	memset(fx, 0, sizeof(*fx));
	write_bytes("Squadfile", text, sizeof(text) - 1);
	path_in(path, sizeof(path), "Squadfile");
	assert_int_equal(squadfile_load(&fx->sf, path, &diags), 0);
	assert_int_equal(graph_build(&fx->g, &fx->sf, &diags), 0);
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &err), 0);
	fx->results = xcalloc(fx->sf.nr_tasks + 1, sizeof(*fx->results));
	for (size_t i = 0; i < fx->sf.nr_tasks; i++)
		fx->results[i].cause = -1;
	fx->out = open_memstream(&fx->buf, &fx->size);
	assert_non_null(fx->out);
	diag_list_release(&diags);
	strbuf_release(&err);
}

static void set_log(struct task_result *res, const char *rel, const char *data, size_t len)
{
	char path[512];

	write_bytes(rel, data, len);
	path_in(path, sizeof(path), rel);
	res->log_path = xstrdup(path);
	res->output_bytes = len;
}

/* "é" (2 bytes) 35,000 times and a newline: the last 64 KiB start in
 * the middle of an "é". */
#define BIG_LOG_BYTES 70001

static void fake_results(struct fixture *fx)
{
	struct task_result *r;
	struct strbuf big = STRBUF_INIT;

	r = &fx->results[find(fx, "good")];
	r->status = TASK_OK, r->attempts = 1, r->duration_ms = 42, r->worker = "shell";
	r->summary = xstrdup("fine");
	set_log(r, "good.log", "fine\n", 5);
	{
		/* an agent's tool call, as run.c keeps it; and usage whose
		 * input tokens nobody reported */
		struct task_tool t = { .id = "c1", .kind = "execute", .title = "Run ls",
				       .target = "ls -la", .status = "completed",
				       .decision = "allowed: 'ls' is in allow_commands" };

		task_result_add_tool(r, &t);
		task_usage_add(&r->usage, 2, -1, 40, -1);
		task_usage_add(&r->usage, 1, -1, 2, 100);
	}

	while (big.len < BIG_LOG_BYTES - 1)
		strbuf_addstr(&big, "\xc3\xa9");
	strbuf_addch(&big, '\n');
	r = &fx->results[find(fx, "big")];
	r->status = TASK_OK, r->attempts = 1, r->duration_ms = 7, r->worker = "shell";
	set_log(r, "big.log", big.buf, big.len);

	r = &fx->results[find(fx, "bad")];
	r->status = TASK_FAILED, r->attempts = 2, r->exit_code = 3, r->duration_ms = 1500;
	r->worker = "shell";
	/* hostile text: a newline, control bytes, invalid UTF-8 */
	r->summary = xstrdup("two\nlines \x01\x1b[0m \xff\xc3 end");
	r->answer = xstrdup("quote \" backslash \\ \xe2\x9c\x93 \x80");
	r->reason = xstrdup("exit code 3");
	set_log(r, "bad.log", "oops\n", 5);

	r = &fx->results[find(fx, "after-bad")];
	r->status = TASK_SKIPPED, r->cause = find(fx, "bad");
	fx->results[find(fx, "review")].status = TASK_HANDOFF;
	r = &fx->results[find(fx, "behind")];
	r->status = TASK_BLOCKED, r->cause = find(fx, "review");
	r = &fx->results[find(fx, "all")];
	r->status = TASK_SKIPPED, r->cause = find(fx, "after-bad");
	strbuf_release(&big);
}

/* Drive a reporter through a whole run, as main does. */
static void report_run(struct fixture *fx, bool with_output)
{
	struct json_reporter *jr = json_reporter_new(fx->out, &fx->plan, with_output);
	struct run_observer obs = json_reporter_observer(jr);
	struct command cmd = COMMAND_INIT;
	size_t before;

	strvec_push(&cmd.argv, "deploy");
	strvec_push(&cmd.argv, "--token=hunter2");
	json_reporter_plan(jr);
	/* flushed at once: the stream's size is only updated by a flush */
	assert_true(fx->size > 0);
	before = fx->size;
	obs.started(obs.data, (size_t)find(fx, "good"), 1, &cmd);
	assert_true(fx->size > before);
	obs.started(obs.data, (size_t)find(fx, "big"), 1, &cmd);
	obs.started(obs.data, (size_t)find(fx, "bad"), 1, &cmd);
	obs.started(obs.data, (size_t)find(fx, "bad"), 2, &cmd);
	if (fx->results[find(fx, "good")].nr_tools)
		obs.tool(obs.data, (size_t)find(fx, "good"), &fx->results[find(fx, "good")].tools[0]);
	for (size_t i = 0; i < fx->plan.nr_order; i++) {
		int n = fx->plan.order[i];

		before = fx->size;
		obs.finished(obs.data, (size_t)n, &fx->results[n]);
		assert_true(fx->size > before);
	}
	json_reporter_handoff(jr, "/somewhere/.squad/handoff.json", 1);
	json_reporter_summary(jr, fx->results, 1.5, false, 1);
	json_reporter_free(jr);
	command_release(&cmd);
}

/* Split what was written into lines; each must parse and follow the
 * schema. */
static void parse_events(struct fixture *fx)
{
	char *line, *end;

	assert_int_equal(fflush(fx->out), 0);
	assert_true(fx->size > 0);
	assert_int_equal(fx->buf[fx->size - 1], '\n');
	for (line = fx->buf; line < fx->buf + fx->size; line = end + 1) {
		json_error_t error;
		json_t *event;
		struct strbuf why = STRBUF_INIT;

		end = memchr(line, '\n', (size_t)(fx->buf + fx->size - line));
		assert_non_null(end);
		/* jansson refuses invalid UTF-8: parsing proves it is valid */
		event = json_loadb(line, (size_t)(end - line), 0, &error);
		if (!event)
			fail_msg("line %zu does not parse: %s\n%.*s", fx->nr_events + 1, error.text,
				 (int)(end - line), line);
		if (!valid(schema, event, "event", &why))
			fail_msg("line %zu does not follow the schema:\n%s%.*s", fx->nr_events + 1,
				 why.buf, (int)(end - line), line);
		strbuf_release(&why);
		ALLOC_GROW(fx->events, fx->nr_events + 1, fx->alloc_events);
		fx->events[fx->nr_events++] = event;
	}
}

static void release(struct fixture *fx)
{
	for (size_t i = 0; i < fx->nr_events; i++)
		json_decref(fx->events[i]);
	free(fx->events);
	fclose(fx->out);
	free(fx->buf);
	run_results_release(fx->results, fx->sf.nr_tasks);
	free(fx->results);
	plan_release(&fx->plan);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
}

static const char *str(const json_t *event, const char *key)
{
	return json_string_value(json_object_get(event, key));
}

static json_int_t num(const json_t *event, const char *key)
{
	const json_t *v = json_object_get(event, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* The nth event of `type` for `task` (NULL: any task). */
static json_t *find_event(struct fixture *fx, const char *type, const char *task, int nth)
{
	for (size_t i = 0; i < fx->nr_events; i++) {
		json_t *e = fx->events[i];

		if (strcmp(str(e, "event"), type) || (task && strcmp(str(e, "task"), task)))
			continue;
		if (nth-- == 0)
			return e;
	}
	return NULL;
}

static void events_follow_the_schema(void **state)
{
	struct fixture fx;
	size_t finishes = 0;

	(void)state;
	load(&fx);
	fake_results(&fx);
	report_run(&fx, true);
	parse_events(&fx);
	assert_string_equal(str(fx.events[0], "event"), "plan");
	assert_string_equal(str(fx.events[fx.nr_events - 1], "event"), "summary");
	for (size_t i = 0; i < fx.nr_events; i++)
		finishes += !strcmp(str(fx.events[i], "event"), "finish");
	assert_int_equal(finishes, fx.plan.nr_order);
	/* the command is nobody's business: it may hold secrets */
	assert_null(strstr(fx.buf, "hunter2"));
	release(&fx);
}

static void tool_calls_and_usage_are_events(void **state)
{
	struct fixture fx;
	json_t *e, *calls, *usage;

	(void)state;
	load(&fx);
	fake_results(&fx);
	report_run(&fx, false);
	parse_events(&fx);
	/* live: a tool event, before the task's finish */
	e = find_event(&fx, "tool", "good", 0);
	assert_non_null(e);
	assert_string_equal(str(e, "kind"), "execute");
	assert_string_equal(str(e, "target"), "ls -la");
	assert_string_equal(str(e, "status"), "completed");
	assert_string_equal(str(e, "decision"), "allowed: 'ls' is in allow_commands");
	assert_null(find_event(&fx, "tool", "bad", 0));
	/* kept: in its finish */
	e = find_event(&fx, "finish", "good", 0);
	calls = json_object_get(json_object_get(e, "tools"), "calls");
	assert_int_equal(json_array_size(calls), 1);
	assert_string_equal(str(json_array_get(calls, 0), "title"), "Run ls");
	assert_int_equal(num(json_object_get(e, "tools"), "omitted"), 0);
	usage = json_object_get(e, "usage");
	assert_int_equal(num(usage, "requests"), 3);
	assert_int_equal(num(usage, "output_tokens"), 42);
	assert_int_equal(num(usage, "total_tokens"), 100);
	/* nobody said: unknown, not 0 */
	assert_true(json_is_null(json_object_get(usage, "input_tokens")));
	/* a shell task knows nothing of models */
	usage = json_object_get(find_event(&fx, "finish", "bad", 0), "usage");
	assert_true(json_is_null(json_object_get(usage, "requests")));
	/* per worker in the summary, only workers that reported usage */
	usage = json_object_get(find_event(&fx, "summary", NULL, 0), "usage");
	assert_int_equal(json_object_size(usage), 1);
	assert_int_equal(num(json_object_get(usage, "shell"), "requests"), 3);
	release(&fx);
}

static void tool_calls_are_bounded(void **state)
{
	struct task_result res = { 0 };
	char id[16];

	(void)state;
	for (int i = 0; i < RESULT_MAX_TOOLS + 10; i++) {
		struct task_tool t = { .id = id, .kind = "read" };

		snprintf(id, sizeof(id), "c%d", i);
		task_result_add_tool(&res, &t);
	}
	/* the last ones are kept: what the agent ended up doing */
	assert_int_equal(res.nr_tools, RESULT_MAX_TOOLS);
	assert_int_equal(res.tools_omitted, 10);
	assert_string_equal(res.tools[0].id, "c10");
	assert_string_equal(res.tools[RESULT_MAX_TOOLS - 1].id, "c59");
	assert_null(res.tools[0].title);
	task_result_release_tools(&res);
	assert_int_equal(res.nr_tools, 0);
}

static void usage_adds_up_what_is_known(void **state)
{
	struct task_usage u = { 0 }, w = { 0 };

	(void)state;
	assert_int_equal(u.known, 0);
	task_usage_add(&u, -1, -1, -1, -1);
	assert_int_equal(u.known, 0);
	task_usage_add(&u, 0, 10, -1, -1);
	assert_int_equal(u.known, USAGE_REQUESTS | USAGE_INPUT);
	assert_int_equal(u.requests, 0);
	task_usage_add(&u, LONG_MAX, 5, -1, -1);
	assert_int_equal(u.requests, LONG_MAX);
	assert_int_equal(u.input_tokens, 15);
	task_usage_merge(&w, &u);
	task_usage_merge(&w, &u);
	assert_int_equal(w.known, USAGE_REQUESTS | USAGE_INPUT);
	assert_int_equal(w.input_tokens, 30);
	assert_int_equal(w.requests, LONG_MAX);
}

static void the_validator_rejects_what_the_schema_does(void **state)
{
	static const char *const invalid[] = {
		/* no attempt */
		"{\"event\": \"start\", \"time\": \"2024-01-01T00:00:00.000Z\", \"task\": \"a\"}",
		/* a time without milliseconds */
		"{\"event\": \"start\", \"time\": \"2024-01-01T00:00:00Z\", \"task\": \"a\", \"attempt\": 1}",
		/* a retry is a second attempt or later */
		"{\"event\": \"retry\", \"time\": \"2024-01-01T00:00:00.000Z\", \"task\": \"a\", \"attempt\": 1}",
		/* a field the event does not have */
		"{\"event\": \"handoff\", \"time\": \"2024-01-01T00:00:00.000Z\", \"manifest\": null, \"entries\": 0, \"extra\": 1}",
		/* no such event */
		"{\"event\": \"boom\", \"time\": \"2024-01-01T00:00:00.000Z\"}",
	};
	static const char ok[] = "{\"event\": \"start\", \"time\": \"2024-01-01T00:00:00.000Z\", "
				 "\"task\": \"a\", \"attempt\": 1}";
	struct strbuf why = STRBUF_INIT;
	json_t *v;

	(void)state;
	v = json_loads(ok, 0, NULL);
	assert_true(valid(schema, v, "event", &why));
	json_decref(v);
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		v = json_loads(invalid[i], 0, NULL);
		assert_non_null(v);
		if (valid(schema, v, "event", &why))
			fail_msg("accepted: %s", invalid[i]);
		json_decref(v);
	}
	strbuf_release(&why);
}

static void events_carry_the_fields(void **state)
{
	struct fixture fx;
	json_t *e, *tasks, *counts;
	char log[512];

	(void)state;
	load(&fx);
	fake_results(&fx);
	report_run(&fx, false);
	parse_events(&fx);

	e = fx.events[0];
	assert_int_equal(num(e, "version"), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "targets"), 0)), "all");
	tasks = json_object_get(e, "tasks");
	assert_int_equal(json_array_size(tasks), fx.plan.nr_order);
	for (size_t i = 0; i < json_array_size(tasks); i++) {
		json_t *t = json_array_get(tasks, i);

		assert_string_equal(str(t, "task"), fx.sf.tasks[fx.plan.order[i]].name);
		if (!strcmp(str(t, "task"), "review")) {
			assert_string_equal(str(t, "action"), "hand-off");
			assert_string_equal(json_string_value(json_array_get(json_object_get(t, "skills"), 0)),
					    "code-review");
		} else if (!strcmp(str(t, "task"), "all")) {
			assert_string_equal(str(t, "action"), "group");
			assert_true(json_is_null(json_object_get(t, "worker")));
			assert_int_equal(json_array_size(json_object_get(t, "needs")), 4);
		} else {
			assert_string_equal(str(t, "action"), "run");
			assert_string_equal(str(t, "worker"), "shell");
		}
	}

	assert_non_null(find_event(&fx, "start", "bad", 0));
	e = find_event(&fx, "retry", "bad", 0);
	assert_non_null(e);
	assert_int_equal(num(e, "attempt"), 2);
	assert_null(find_event(&fx, "start", "bad", 1));
	/* not asked for */
	assert_null(find_event(&fx, "output", NULL, 0));

	e = find_event(&fx, "finish", "bad", 0);
	assert_non_null(e);
	assert_string_equal(str(e, "status"), "failed");
	assert_int_equal(num(e, "exit_code"), 3);
	assert_int_equal(num(e, "attempts"), 2);
	assert_int_equal(num(e, "duration_ms"), 1500);
	assert_string_equal(str(e, "worker"), "shell");
	assert_string_equal(str(e, "reason"), "exit code 3");
	path_in(log, sizeof(log), "bad.log");
	assert_string_equal(str(e, "log"), log);
	/* control characters escaped by JSON, invalid bytes made '?' */
	assert_string_equal(str(e, "summary"), "two\nlines \x01\x1b[0m ?? end");
	assert_string_equal(str(e, "answer"), "quote \" backslash \\ \xe2\x9c\x93 ?");

	e = find_event(&fx, "finish", "after-bad", 0);
	assert_string_equal(str(e, "status"), "skipped");
	assert_string_equal(str(e, "cause"), "bad");
	assert_true(json_is_null(json_object_get(e, "exit_code")));
	assert_true(json_is_null(json_object_get(e, "worker")));
	assert_true(json_is_null(json_object_get(e, "log")));
	e = find_event(&fx, "finish", "review", 0);
	assert_string_equal(str(e, "status"), "hand-off");
	e = find_event(&fx, "finish", "behind", 0);
	assert_string_equal(str(e, "status"), "waiting");
	assert_string_equal(str(e, "cause"), "review");

	e = find_event(&fx, "handoff", NULL, 0);
	assert_string_equal(str(e, "manifest"), "/somewhere/.squad/handoff.json");
	assert_int_equal(num(e, "entries"), 1);

	e = find_event(&fx, "summary", NULL, 0);
	assert_int_equal(num(e, "tasks"), 7);
	assert_int_equal(num(e, "wall_ms"), 1500);
	assert_int_equal(num(e, "exit_code"), 1);
	assert_true(json_is_false(json_object_get(e, "interrupted")));
	counts = json_object_get(e, "counts");
	assert_int_equal(num(counts, "ok"), 2);
	assert_int_equal(num(counts, "failed"), 1);
	assert_int_equal(num(counts, "skipped"), 2);
	assert_int_equal(num(counts, "hand-off"), 1);
	assert_int_equal(num(counts, "waiting"), 1);
	assert_int_equal(num(counts, "timed out"), 0);
	release(&fx);
}

static void output_is_opt_in_and_bounded(void **state)
{
	struct fixture fx;
	json_t *e, *finish;
	const char *text;
	size_t at_output = 0, at_finish = 0;

	(void)state;
	load(&fx);
	fake_results(&fx);
	report_run(&fx, true);
	parse_events(&fx);

	e = find_event(&fx, "output", "good", 0);
	assert_non_null(e);
	assert_string_equal(str(e, "text"), "fine\n");
	assert_int_equal(num(e, "bytes"), 5);
	assert_true(json_is_false(json_object_get(e, "truncated")));
	/* output comes right before the task's finish */
	finish = find_event(&fx, "finish", "good", 0);
	for (size_t i = 0; i < fx.nr_events; i++) {
		if (fx.events[i] == e)
			at_output = i;
		if (fx.events[i] == finish)
			at_finish = i;
	}
	assert_int_equal(at_output + 1, at_finish);

	e = find_event(&fx, "output", "big", 0);
	assert_non_null(e);
	assert_true(json_is_true(json_object_get(e, "truncated")));
	assert_int_equal(num(e, "bytes"), BIG_LOG_BYTES);
	text = str(e, "text");
	/* the cut fell inside an "é": it starts at the next one, whole */
	assert_int_equal(strlen(text), (64u << 10) - 1);
	assert_true(!strncmp(text, "\xc3\xa9", 2));
	assert_null(strchr(text, '?'));

	/* tasks that never ran have no output */
	assert_null(find_event(&fx, "output", "after-bad", 0));
	assert_null(find_event(&fx, "output", "review", 0));
	release(&fx);
}

static void a_nul_in_the_output_cannot_cut_the_line(void **state)
{
	struct fixture fx;
	json_t *e;
	static const char log_text[] = "a\0b\nc\xff\n";

	(void)state;
	load(&fx);
	fake_results(&fx);
	run_results_release(&fx.results[find(&fx, "good")], 1);
	memset(&fx.results[find(&fx, "good")], 0, sizeof(*fx.results));
	fx.results[find(&fx, "good")].status = TASK_OK;
	fx.results[find(&fx, "good")].attempts = 1;
	fx.results[find(&fx, "good")].cause = -1;
	set_log(&fx.results[find(&fx, "good")], "nul.log", log_text, sizeof(log_text) - 1);
	report_run(&fx, true);
	parse_events(&fx);
	e = find_event(&fx, "output", "good", 0);
	assert_non_null(e);
	assert_string_equal(str(e, "text"), "a?b\nc?\n");
	release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_follow_the_schema),
		cmocka_unit_test(the_validator_rejects_what_the_schema_does),
		cmocka_unit_test(events_carry_the_fields),
		cmocka_unit_test(tool_calls_and_usage_are_events),
		cmocka_unit_test(tool_calls_are_bounded),
		cmocka_unit_test(usage_adds_up_what_is_known),
		cmocka_unit_test(output_is_opt_in_and_bounded),
		cmocka_unit_test(a_nul_in_the_output_cannot_cut_the_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
