/* report_json.c - newline-delimited JSON events; see report_json.h. */
#include "report/report_json.h"
#include "util/strbuf.h"
#include "util/tail.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* An output event carries at most this much of the end of a log. */
#define OUTPUT_MAX (64u << 10)

struct json_reporter {
	FILE *out;
	const struct plan *plan;
	bool with_output;
};

struct json_reporter *json_reporter_new(FILE *out, const struct plan *plan, bool with_output)
{
	struct json_reporter *jr = xcalloc(1, sizeof(*jr));

	jr->out = out;
	jr->plan = plan;
	jr->with_output = with_output;
	return jr;
}

void json_reporter_free(struct json_reporter *jr)
{
	free(jr);
}

/* Bytes as a JSON string: jansson refuses invalid UTF-8, so make it
 * valid first (NULs become '?' too). */
static json_t *text_n(const char *text, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *s;

	strbuf_add(&sb, text, len);
	strbuf_utf8_sanitize(&sb);
	s = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return s;
}

json_t *report_json_text(const char *text)
{
	return text ? text_n(text, strlen(text)) : json_null();
}

json_t *report_json_tool(const struct task_tool *tool)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", report_json_text(tool->id));
	json_object_set_new(o, "kind", report_json_text(tool->kind));
	json_object_set_new(o, "title", report_json_text(tool->title));
	json_object_set_new(o, "target", report_json_text(tool->target));
	json_object_set_new(o, "status", report_json_text(tool->status));
	json_object_set_new(o, "decision", report_json_text(tool->decision));
	return o;
}

json_t *report_json_tools(const struct task_result *res)
{
	json_t *o = json_object(), *calls = json_array();

	for (size_t i = 0; i < res->nr_tools; i++)
		json_array_append_new(calls, report_json_tool(&res->tools[i]));
	json_object_set_new(o, "calls", calls);
	json_object_set_new(o, "omitted", json_integer((json_int_t)res->tools_omitted));
	return o;
}

json_t *report_json_change(const struct task_result *res)
{
	const char *fate = task_change_name(res->change);
	json_t *o;

	if (!fate)
		return json_null();
	o = json_object();
	json_object_set_new(o, "fate", json_string(fate));
	json_object_set_new(o, "files", json_integer(res->change_files));
	json_object_set_new(o, "patch", report_json_text(res->change_patch));
	json_object_set_new(o, "conflict_with", report_json_text(res->change_with));
	return o;
}

static json_t *known(const struct task_usage *u, unsigned bit, long value)
{
	return u->known & bit ? json_integer(value) : json_null();
}

json_t *report_json_usage(const struct task_usage *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "requests", known(u, USAGE_REQUESTS, u->requests));
	json_object_set_new(o, "input_tokens", known(u, USAGE_INPUT, u->input_tokens));
	json_object_set_new(o, "output_tokens", known(u, USAGE_OUTPUT, u->output_tokens));
	json_object_set_new(o, "total_tokens", known(u, USAGE_TOTAL, u->total_tokens));
	return o;
}

json_t *report_json_usage_by_worker(const struct task_result *results, const int *order,
				    size_t nr, bool cached)
{
	struct task_usage *sums = xcalloc(nr + 1, sizeof(*sums));
	const char **names = xcalloc(nr + 1, sizeof(*names));
	size_t nr_names = result_usage_by_worker(results, order, nr, cached, names, sums);
	json_t *o = json_object();

	for (size_t w = 0; w < nr_names; w++)
		json_object_set_new(o, names[w], report_json_usage(&sums[w]));
	free(sums);
	free(names);
	return o;
}

static const char *task_name(const struct json_reporter *jr, size_t task)
{
	return jr->plan->sf->tasks[task].name;
}

/* "2024-05-01T12:34:56.789Z" */
static void format_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Write one event: "event" and "time" first, then `fields` (consumed),
 * on one line, flushed so that a reader sees it at once. */
static void emit(struct json_reporter *jr, const char *event, json_t *fields)
{
	json_t *obj = json_object();
	char now[40];
	char *line;

	format_now(now, sizeof(now));
	json_object_set_new(obj, "event", json_string(event));
	json_object_set_new(obj, "time", json_string(now));
	json_object_update(obj, fields);
	json_decref(fields);
	/* compact output escapes newlines: one event is one line */
	line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!line)
		return;
	fputs(line, jr->out);
	fputc('\n', jr->out);
	fflush(jr->out);
	free(line);
}

static json_t *string_list(const struct strvec *list)
{
	json_t *a = json_array();

	for (size_t i = 0; i < list->nr; i++)
		json_array_append_new(a, report_json_text(list->v[i]));
	return a;
}

static bool is_group(const struct task *t)
{
	return !t->run && !t->run_argv.nr && !t->prompt;
}

static const char *action_name(enum plan_action action, const struct task *t)
{
	switch (action) {
	case PLAN_RUN:
		return is_group(t) ? "group" : "run";
	case PLAN_HANDOFF:
		return "hand-off";
	case PLAN_DONE:
		return "done";
	case PLAN_DONE_FAILED:
		return "done-failed";
	case PLAN_UP_TO_DATE:
		return "up-to-date";
	}
	return "run";
}

void json_reporter_plan(struct json_reporter *jr)
{
	const struct plan *plan = jr->plan;
	const struct squadfile *sf = plan->sf;
	const struct graph *g = plan->graph;
	json_t *fields = json_object(), *tasks = json_array();

	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];
		json_t *task = json_object(), *needs = json_array();

		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
			json_array_append_new(needs, report_json_text(sf->tasks[g->deps[e]].name));
		json_object_set_new(task, "task", report_json_text(t->name));
		json_object_set_new(task, "action", json_string(action_name(plan->action[n], t)));
		json_object_set_new(task, "worker", is_group(t) ? json_null()
					: report_json_text(sf->workers[t->worker].name));
		json_object_set_new(task, "skills", string_list(&t->skills));
		json_object_set_new(task, "needs", needs);
		json_object_set_new(task, "recheck", json_boolean(plan->recheck[n]));
		json_array_append_new(tasks, task);
	}
	json_object_set_new(fields, "version", json_integer(JSON_EVENTS_VERSION));
	json_object_set_new(fields, "targets", string_list(&plan->targets));
	json_object_set_new(fields, "tasks", tasks);
	emit(jr, "plan", fields);
}

static void on_started(void *data, size_t task, unsigned attempt, const struct command *cmd)
{
	struct json_reporter *jr = data;
	json_t *fields = json_object();

	(void)cmd; /* expanded, it may carry secrets from the environment */
	json_object_set_new(fields, "task", report_json_text(task_name(jr, task)));
	json_object_set_new(fields, "attempt", json_integer(attempt));
	emit(jr, attempt > 1 ? "retry" : "start", fields);
}

/* The output event of a task that ran: the last OUTPUT_MAX bytes of its
 * log, from a character boundary. */
static void emit_output(struct json_reporter *jr, size_t task, const struct task_result *res)
{
	struct strbuf text = STRBUF_INIT;
	json_t *fields;
	const char *start;
	bool truncated = res->output_bytes > OUTPUT_MAX;
	int fd;

	/* an up-to-date task has a log, but of an earlier run */
	if ((!res->attempts && !res->cached) || !res->log_path || !res->output_bytes)
		return;
	fd = open(res->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	tail_read(fd, 0, OUTPUT_MAX, &text);
	close(fd);
	start = text.buf;
	/* a cut can land inside a character: start at the next one */
	if (truncated)
		while (start < text.buf + text.len && ((unsigned char)*start & 0xc0) == 0x80)
			start++;
	fields = json_object();
	json_object_set_new(fields, "task", report_json_text(task_name(jr, task)));
	json_object_set_new(fields, "text", text_n(start, (size_t)(text.buf + text.len - start)));
	json_object_set_new(fields, "bytes", json_integer((json_int_t)res->output_bytes));
	json_object_set_new(fields, "truncated", json_boolean(truncated));
	emit(jr, "output", fields);
	strbuf_release(&text);
}

static void on_finished(void *data, size_t task, const struct task_result *res)
{
	struct json_reporter *jr = data;
	json_t *fields = json_object();
	bool ran = res->attempts > 0 || res->cached; /* a hit: the stored run's */

	if (jr->with_output)
		emit_output(jr, task, res);
	json_object_set_new(fields, "task", report_json_text(task_name(jr, task)));
	json_object_set_new(fields, "status", json_string(task_status_name(res->status)));
	json_object_set_new(fields, "exit_code", ran && res->exit_code >= 0
			    ? json_integer(res->exit_code) : json_null());
	json_object_set_new(fields, "signal", res->term_signal > 0
			    ? json_integer(res->term_signal) : json_null());
	json_object_set_new(fields, "duration_ms", json_integer(res->duration_ms > 0
								? res->duration_ms : 0));
	json_object_set_new(fields, "attempts", json_integer(res->attempts));
	json_object_set_new(fields, "worker", report_json_text(res->worker));
	json_object_set_new(fields, "summary", report_json_text(res->summary));
	json_object_set_new(fields, "answer", report_json_text(res->answer));
	json_object_set_new(fields, "reason", report_json_text(res->reason));
	json_object_set_new(fields, "note", report_json_text(res->note));
	json_object_set_new(fields, "log", report_json_text(res->log_path));
	json_object_set_new(fields, "output_bytes", json_integer((json_int_t)res->output_bytes));
	json_object_set_new(fields, "log_cut", json_boolean(res->log_cut));
	json_object_set_new(fields, "cached", res->cached ? json_string(res->cached) : json_null());
	json_object_set_new(fields, "tools", report_json_tools(res));
	json_object_set_new(fields, "usage", report_json_usage(&res->usage));
	json_object_set_new(fields, "change", report_json_change(res));
	json_object_set_new(fields, "cause", res->cause >= 0 && (size_t)res->cause < jr->plan->sf->nr_tasks
			    ? report_json_text(task_name(jr, (size_t)res->cause)) : json_null());
	emit(jr, "finish", fields);
}

static void on_tool(void *data, size_t task, const struct task_tool *tool)
{
	struct json_reporter *jr = data;
	json_t *fields = json_object();
	json_t *call = report_json_tool(tool);

	json_object_set_new(fields, "task", report_json_text(task_name(jr, task)));
	json_object_update(fields, call);
	json_decref(call);
	emit(jr, "tool", fields);
}

struct run_observer json_reporter_observer(struct json_reporter *jr)
{
	struct run_observer obs = { on_started, on_finished, NULL, jr, on_tool };

	return obs;
}

void json_reporter_handoff(struct json_reporter *jr, const char *manifest_path, int entries)
{
	json_t *fields = json_object();

	if (entries < 0)
		entries = 0;
	json_object_set_new(fields, "manifest", entries > 0 ? report_json_text(manifest_path)
							    : json_null());
	json_object_set_new(fields, "entries", json_integer(entries));
	emit(jr, "handoff", fields);
}

/* The statuses a task of the plan can end with, in the order counted. */
static const enum task_status final_statuses[] = {
	TASK_OK, TASK_UP_TO_DATE, TASK_DONE, TASK_FAILED, TASK_TIMED_OUT, TASK_INTERRUPTED,
	TASK_SKIPPED, TASK_NOT_STARTED, TASK_HANDOFF, TASK_ESCALATED, TASK_BLOCKED,
};

void json_reporter_summary(struct json_reporter *jr, const struct task_result *results,
			   double wall_seconds, bool interrupted, int exit_code)
{
	const struct plan *plan = jr->plan;
	size_t counts[TASK_UP_TO_DATE + 1] = { 0 };
	json_t *fields = json_object(), *by_status = json_object();

	/* run_plan() leaves no task pending or running: "tasks" is the sum */
	for (size_t i = 0; i < plan->nr_order; i++) {
		enum task_status s = results[plan->order[i]].status;

		if ((size_t)s < ARRAY_SIZE(counts))
			counts[s]++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(final_statuses); i++)
		json_object_set_new(by_status, task_status_name(final_statuses[i]),
				    json_integer((json_int_t)counts[final_statuses[i]]));
	json_object_set_new(fields, "tasks", json_integer((json_int_t)plan->nr_order));
	json_object_set_new(fields, "counts", by_status);
	{
		/* every red, escalated or not: what decides exit code 1 */
		size_t failed = 0;

		for (size_t i = 0; i < ARRAY_SIZE(final_statuses); i++)
			if (task_status_failed(final_statuses[i]))
				failed += counts[final_statuses[i]];
		json_object_set_new(fields, "failed", json_integer((json_int_t)failed));
	}
	{
		/* the isolated tasks' changes per fate, zeros included */
		static const enum task_change fates[] = {
			TASK_CHANGE_APPLIED, TASK_CHANGE_REVIEW, TASK_CHANGE_CONFLICT,
			TASK_CHANGE_KEPT, TASK_CHANGE_DISCARDED, TASK_CHANGE_EMPTY,
		};
		json_t *changes = json_object();

		for (size_t f = 0; f < ARRAY_SIZE(fates); f++) {
			size_t n = 0;

			for (size_t i = 0; i < plan->nr_order; i++)
				n += results[plan->order[i]].change == fates[f];
			json_object_set_new(changes, task_change_name(fates[f]),
					    json_integer((json_int_t)n));
		}
		json_object_set_new(fields, "changes", changes);
	}
	json_object_set_new(fields, "wall_ms", json_integer(wall_seconds > 0
					? (json_int_t)(wall_seconds * 1000 + 0.5) : 0));
	json_object_set_new(fields, "interrupted", json_boolean(interrupted));
	json_object_set_new(fields, "exit_code", json_integer(exit_code));
	/* what this run spent; the tasks restored from the cache spent
	 * nothing now, and their stored runs' usage is apart */
	json_object_set_new(fields, "usage", report_json_usage_by_worker(results, plan->order,
									 plan->nr_order, false));
	json_object_set_new(fields, "cached_usage",
			    report_json_usage_by_worker(results, plan->order, plan->nr_order,
							true));
	emit(jr, "summary", fields);
}
