/* mcp.c - the Model Context Protocol server: tools that run squad as children. */
#include "cmd/mcp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "agents/jsonrpc.h"
#include "job/spawner.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* The protocol versions squad speaks, newest first. */
static const char *const protocol_versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", NULL,
};

#define MAX_MESSAGE (4u << 20)      /* one JSON-RPC line from the client */
#define MAX_CHILD_OUTPUT (16u << 20) /* a child's stdout kept for its result */
#define MAX_CHILD_ERRORS (16u << 10) /* a child's stderr kept for its result */
#define KILL_AFTER_MS 10000          /* SIGTERM, then SIGKILL this much later */

struct server;
struct call;

/* How a tool's child reports, and so how its result is built. */
enum tool_output {
	OUTPUT_EVENTS,   /* --json event lines (a run) */
	OUTPUT_DOCUMENT, /* one JSON document (exec, list, handoff) */
	OUTPUT_TEXT,     /* text for a person (explain, graph, done) */
	OUTPUT_NONE,     /* no child: answered by the server itself */
};

struct tool {
	const char *name;
	const char *title;
	const char *description;
	const char *input_schema; /* JSON text */
	bool read_only;
	enum tool_output output;
	/* the child's arguments after squad [-f FILE], and its stdin; or
	 * -1 with why in err (a tool error the model can correct) */
	int (*command)(json_t *args, struct strvec *argv, struct strbuf *input,
		       struct strbuf *err);
};

/* One tools/call in flight: its child, what it has said so far. */
struct call {
	struct server *s;
	struct call *next;
	const struct tool *tool;
	json_t *id;              /* the request's id */
	json_t *progress_token;  /* or NULL: no progress wanted */
	double started;          /* seconds, monotonic */

	pid_t pid;               /* the child, leader of its own group */
	uv_pipe_t in, out, err;
	uv_timer_t kill_timer;
	uv_write_t write_req;
	struct strbuf input;     /* what the child reads on stdin */
	bool has_input;
	unsigned open_handles;   /* closes to wait for before freeing */
	unsigned open_streams;   /* out and err until their EOF */
	bool exited;
	long long exit_status;
	int term_signal;
	bool cancelled;          /* no response is owed */
	bool killing;

	struct strbuf out_text;  /* stdout (OUTPUT_DOCUMENT, OUTPUT_TEXT) */
	bool out_cut;
	struct strbuf err_text;  /* stderr, the first MAX_CHILD_ERRORS bytes */
	struct jsonrpc_reader out_lines; /* OUTPUT_EVENTS */
	struct jsonrpc_reader err_lines; /* exec's "[k/N] status task" lines */

	/* progress */
	long long done_tasks, total_tasks;
	char *last_message;

	/* a run's events, folded */
	json_t *plan;            /* the plan event */
	json_t *finished;        /* finish events, in order */
	json_t *handoff;         /* the handoff event */
	json_t *summary;         /* the summary event */
};

struct server {
	uv_loop_t *loop;
	const struct mcp_options *mo;
	struct jsonrpc_reader in;
	uv_fs_t read_req;
	char read_buf[65536];
	bool reading;
	bool closing;            /* stdin ended or a signal came: wind down */
	bool write_failed;
	uv_signal_t sig[3];
	uv_signal_t sigchld;
	struct spawner spawner;  /* how children start (spawner.h) */
	bool spawner_ready;
	struct call *calls;
	unsigned nr_calls;
};

/* --- Writing to the client ------------------------------------------- */

/* stdout is the protocol's: whole lines, written at once (a blocking
 * write; the client reads what it asked for). A client that is gone
 * (EPIPE) makes the server wind down as when stdin ends. */
static void send_line(struct server *s, struct strbuf *line)
{
	size_t off = 0;

	while (off < line->len && !s->write_failed) {
		ssize_t n = write(STDOUT_FILENO, line->buf + off, line->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			usleep(1000);
			continue;
		}
		if (n <= 0)
			s->write_failed = true;
		else
			off += (size_t)n;
	}
	strbuf_reset(line);
}

/* `result` is stolen. */
static void send_result(struct server *s, json_t *id, json_t *result)
{
	struct strbuf line = STRBUF_INIT;

	if (jsonrpc_write_result(&line, id, result) == 0)
		send_line(s, &line);
	strbuf_release(&line);
}

static void send_error(struct server *s, json_t *id, long code, const char *message)
{
	struct strbuf line = STRBUF_INIT;

	if (jsonrpc_write_error(&line, id, code, message, NULL) == 0)
		send_line(s, &line);
	strbuf_release(&line);
}

static void send_notification(struct server *s, const char *method, json_t *params)
{
	struct strbuf line = STRBUF_INIT;

	if (jsonrpc_write_notification(&line, method, params) == 0)
		send_line(s, &line);
	strbuf_release(&line);
}

/* --- Bounding results ------------------------------------------------ */

/* A string cut to MCP_STRING_MAX bytes (on a UTF-8 boundary), saying so. */
static json_t *cut_string(const char *text, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t keep = MCP_STRING_MAX;
	json_t *v;

	while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
		keep--;
	strbuf_add(&sb, text, keep);
	strbuf_addf(&sb, "\n[... cut by squad mcp: %zu bytes in all; the log has the rest]", len);
	v = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return v;
}

/* Cut every long string inside v, in place. */
static void cut_strings(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			if (json_is_string(item) && json_string_length(item) > MCP_STRING_MAX) {
				json_t *cut = cut_string(json_string_value(item),
							 json_string_length(item));

				json_object_set_new(v, key, cut ? cut : json_null());
			} else {
				cut_strings(item);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (json_is_string(item) && json_string_length(item) > MCP_STRING_MAX) {
				json_t *cut = cut_string(json_string_value(item),
							 json_string_length(item));

				json_array_set_new(v, i, cut ? cut : json_null());
			} else {
				cut_strings(item);
			}
		}
	}
}

static size_t dumped_size(const json_t *v)
{
	return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

/* Is a task in this state worth keeping when the result is too big? */
static bool task_of_note(json_t *task)
{
	const char *status = json_string_value(json_object_get(task, "status"));

	return !status || (strcmp(status, "ok") && strcmp(status, "up to date") &&
			   strcmp(status, "done"));
}

/* Bound `result` to MCP_RESULT_MAX bytes: long strings are cut; then
 * tasks (result.tasks) that went well are dropped from the end, then any
 * task, and how many were left out is said in tasks_omitted. */
static void bound_result(json_t *result)
{
	json_t *tasks = json_object_get(result, "tasks");
	size_t omitted = 0;

	cut_strings(result);
	if (!json_is_array(tasks))
		return;
	for (int pass = 0; pass < 2 && dumped_size(result) > MCP_RESULT_MAX; pass++) {
		for (size_t i = json_array_size(tasks); i-- > 0 &&
		     dumped_size(result) > MCP_RESULT_MAX;) {
			if (pass == 0 && task_of_note(json_array_get(tasks, i)))
				continue;
			json_array_remove(tasks, i);
			omitted++;
			json_object_set_new(result, "tasks_omitted", json_integer((json_int_t)omitted));
		}
	}
}

/* --- Tool arguments -------------------------------------------------- */

/* Each reads one argument: 0 when absent (and not required) or read, -1
 * with why in err. */
static int arg_string(json_t *args, const char *key, bool required, const char **out,
		      struct strbuf *err)
{
	json_t *v = json_object_get(args, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			strbuf_addf(err, "'%s' is required", key);
		return required ? -1 : 0;
	}
	if (!json_is_string(v) || !json_string_length(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		strbuf_addf(err, "'%s' must be a non-empty string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int arg_bool(json_t *args, const char *key, bool *out, struct strbuf *err)
{
	json_t *v = json_object_get(args, key);

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		strbuf_addf(err, "'%s' must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* A positive integer, 0 when absent. */
static int arg_count(json_t *args, const char *key, long long max, long long *out,
		     struct strbuf *err)
{
	json_t *v = json_object_get(args, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
		strbuf_addf(err, "'%s' must be an integer from 1 to %lld", key, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A task name as squad's arguments: never taken for an option. */
static int check_task_name(const char *what, const char *name, struct strbuf *err)
{
	if (name[0] == '-') {
		strbuf_addf(err, "%s '%s' is not a task name (it starts with '-')", what, name);
		return -1;
	}
	return 0;
}

/* A list of task names pushed onto argv. */
static int arg_targets(json_t *args, const char *key, struct strvec *argv, struct strbuf *err)
{
	json_t *v = json_object_get(args, key), *item;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		strbuf_addf(err, "'%s' must be a list of task names", key);
		return -1;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || !json_string_length(item)) {
			strbuf_addf(err, "'%s' must be a list of task names", key);
			return -1;
		}
		if (check_task_name("target", json_string_value(item), err) < 0)
			return -1;
		strvec_push(argv, json_string_value(item));
	}
	return 0;
}

/* --- The tools ------------------------------------------------------- */

static int list_command(json_t *args, struct strvec *argv, struct strbuf *input,
			struct strbuf *err)
{
	(void)args, (void)input, (void)err;
	strvec_push(argv, "list");
	strvec_push(argv, "--json");
	return 0;
}

static int graph_command(json_t *args, struct strvec *argv, struct strbuf *input,
			 struct strbuf *err)
{
	const char *format;

	(void)input;
	if (arg_string(args, "format", false, &format, err) < 0)
		return -1;
	if (format && strcmp(format, "mermaid") && strcmp(format, "dot")) {
		strbuf_addf(err, "'format' must be mermaid or dot, not '%s'", format);
		return -1;
	}
	strvec_pushf(argv, "--format=%s", format ? format : "mermaid");
	strvec_push(argv, "graph");
	return arg_targets(args, "targets", argv, err);
}

static int explain_command(json_t *args, struct strvec *argv, struct strbuf *input,
			   struct strbuf *err)
{
	const char *task;

	(void)input;
	if (arg_string(args, "task", true, &task, err) < 0 ||
	    check_task_name("task", task, err) < 0)
		return -1;
	strvec_push(argv, "explain");
	strvec_push(argv, task);
	return 0;
}

static int handoff_command(json_t *args, struct strvec *argv, struct strbuf *input,
			   struct strbuf *err)
{
	(void)args, (void)input, (void)err;
	strvec_push(argv, "handoff");
	strvec_push(argv, "--json");
	return 0;
}

static int done_command(json_t *args, struct strvec *argv, struct strbuf *input,
			struct strbuf *err)
{
	const char *task, *note;
	bool failed, undo;

	(void)input;
	if (arg_string(args, "task", true, &task, err) < 0 ||
	    check_task_name("task", task, err) < 0 ||
	    arg_string(args, "note", false, &note, err) < 0 ||
	    arg_bool(args, "failed", &failed, err) < 0 || arg_bool(args, "undo", &undo, err) < 0)
		return -1;
	if (undo && (failed || note)) {
		strbuf_addstr(err, "'undo' takes the mark back: give it without 'failed' or 'note'");
		return -1;
	}
	strvec_push(argv, "done");
	if (failed)
		strvec_push(argv, "--failed");
	if (undo)
		strvec_push(argv, "--undo");
	if (note)
		strvec_pushf(argv, "--note=%s", note);
	strvec_push(argv, task);
	return 0;
}

/* The options a run and an exec share. */
static int common_run_options(json_t *args, struct strvec *argv, struct strbuf *err)
{
	long long jobs;
	bool keep_going;
	const char *worker;

	if (arg_count(args, "jobs", 100000, &jobs, err) < 0 ||
	    arg_bool(args, "keep_going", &keep_going, err) < 0 ||
	    arg_string(args, "worker", false, &worker, err) < 0)
		return -1;
	if (jobs)
		strvec_pushf(argv, "--jobs=%lld", jobs);
	if (keep_going)
		strvec_push(argv, "--keep-going");
	if (worker)
		strvec_pushf(argv, "--worker=%s", worker);
	/* the person's output goes to stderr with --json: status lines only */
	strvec_push(argv, "--output=quiet");
	return 0;
}

static int run_command(json_t *args, struct strvec *argv, struct strbuf *input,
		       struct strbuf *err)
{
	bool force, dry_run, staged;
	const char *changed;

	(void)input;
	if (arg_bool(args, "force", &force, err) < 0 ||
	    arg_bool(args, "dry_run", &dry_run, err) < 0 ||
	    arg_bool(args, "staged", &staged, err) < 0 ||
	    arg_string(args, "changed", false, &changed, err) < 0 ||
	    common_run_options(args, argv, err) < 0)
		return -1;
	if (staged && changed) {
		strbuf_addstr(err, "give 'staged' or 'changed', not both");
		return -1;
	}
	strvec_push(argv, "--json");
	if (force)
		strvec_push(argv, "--force");
	if (dry_run)
		strvec_push(argv, "--dry-run");
	if (staged)
		strvec_push(argv, "--staged");
	if (changed)
		strvec_pushf(argv, "--changed=%s", changed);
	strvec_push(argv, "run");
	if (arg_targets(args, "targets", argv, err) < 0)
		return -1;
	/* no target: the Squadfile's default, as 'squad' alone */
	return 0;
}

static int exec_command(json_t *args, struct strvec *argv, struct strbuf *input,
			struct strbuf *err)
{
	json_t *tasks = json_object_get(args, "tasks"), *item;
	size_t i;
	char *text;

	if (!json_is_array(tasks) || !json_array_size(tasks)) {
		strbuf_addstr(err, "'tasks' must be a non-empty list of tasks, each with 'run' "
			      "or 'prompt' (the Squadfile's task grammar, plus 'name')");
		return -1;
	}
	json_array_foreach(tasks, i, item)
		if (!json_is_object(item)) {
			strbuf_addf(err, "tasks[%zu] must be an object (a task: 'run' or "
				    "'prompt', and 'name', 'needs', 'worker', ...)", i);
			return -1;
		}
	if (common_run_options(args, argv, err) < 0)
		return -1;
	strvec_push(argv, "--json");
	strvec_push(argv, "exec");
	/* the list is read as YAML, of which JSON is a part: one line per
	 * task, so that a mistake's <stdin>:LINE:COL names its task */
	strbuf_addstr(input, "[\n");
	json_array_foreach(tasks, i, item) {
		text = json_dumps(item, JSON_COMPACT);
		if (!text) {
			strbuf_addf(err, "tasks[%zu] cannot be written as JSON", i);
			return -1;
		}
		strbuf_addf(input, "%s%s\n", text, i + 1 < json_array_size(tasks) ? "," : "");
		free(text);
	}
	strbuf_addstr(input, "]\n");
	return 0;
}

#define RUN_OPTIONS_SCHEMA \
	"\"jobs\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100000," \
	"  \"description\": \"run at most this many tasks at once (default: the CPUs)\"}," \
	"\"keep_going\": {\"type\": \"boolean\", \"description\": \"after a failure, go on " \
	"with every task not behind it\"}," \
	"\"worker\": {\"type\": \"string\", \"description\": \"run every skill-free task " \
	"on this worker (one of the Squadfile's, or shell)\"}"

static const struct tool tools[] = {
	{
		.name = "list",
		.title = "List tasks",
		.description = "The Squadfile's tasks: for each its description, needs, skills "
			"(a task with skills is the tactician's, never run by squad), worker, kind "
			"(command, prompt, group, hand-off), inputs, outputs, and whether it is a "
			"default target. Start here to learn the project's task graph.",
		.input_schema = "{\"type\": \"object\", \"properties\": {}, "
			"\"additionalProperties\": false}",
		.read_only = true,
		.output = OUTPUT_DOCUMENT,
		.command = list_command,
	},
	{
		.name = "graph",
		.title = "Task graph",
		.description = "The dependency graph of the given targets (all tasks when none) "
			"as Mermaid (default) or Graphviz DOT text; hand-off tasks are drawn apart.",
		.input_schema = "{\"type\": \"object\", \"properties\": {"
			"\"targets\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
			"  \"description\": \"task names; all tasks when empty\"},"
			"\"format\": {\"type\": \"string\", \"enum\": [\"mermaid\", \"dot\"]}}, "
			"\"additionalProperties\": false}",
		.read_only = true,
		.output = OUTPUT_TEXT,
		.command = graph_command,
	},
	{
		.name = "explain",
		.title = "Explain a task",
		.description = "Why a task will or will not run next time: its needs, whether it "
			"is up to date (inputs unchanged), marked done, or waiting for the tactician.",
		.input_schema = "{\"type\": \"object\", \"properties\": {"
			"\"task\": {\"type\": \"string\", \"description\": \"a task name\"}}, "
			"\"required\": [\"task\"], \"additionalProperties\": false}",
		.read_only = true,
		.output = OUTPUT_TEXT,
		.command = explain_command,
	},
	{
		.name = "run",
		.title = "Run targets",
		.description = "Run targets of the Squadfile and everything they need, in "
			"parallel on squad's workers (shell commands, cheap agent workers such as "
			"Qwen), as 'squad TARGET...' does. Returns each task's status, exit code, "
			"summary line, the worker's answer and its log path, the counts, and the "
			"hand-off: tasks with skills are never run by squad; when 'handoff_entries' "
			"is above 0 they wait for you (call handoff, do the work, call done, then run "
			"again). Progress is reported per finished task. Exit code 0 all done, 1 a "
			"task failed, 3 tasks wait for the tactician.",
		.input_schema = "{\"type\": \"object\", \"properties\": {"
			"\"targets\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
			"  \"description\": \"task names; the Squadfile's default when empty\"},"
			"\"force\": {\"type\": \"boolean\", \"description\": \"run tasks even when up "
			"to date\"},"
			"\"dry_run\": {\"type\": \"boolean\", \"description\": \"only the plan: what "
			"would run, nothing is run\"},"
			"\"staged\": {\"type\": \"boolean\", \"description\": \"only tasks whose inputs "
			"match paths staged for commit\"},"
			"\"changed\": {\"type\": \"string\", \"description\": \"only tasks whose inputs "
			"differ from this git revision (e.g. HEAD, main)\"},"
			RUN_OPTIONS_SCHEMA "}, \"additionalProperties\": false}",
		.output = OUTPUT_EVENTS,
		.command = run_command,
	},
	{
		.name = "exec",
		.title = "Dispatch ad-hoc tasks",
		.description = "Fan work out to squad's workers without editing the Squadfile: "
			"each task is a shell command ('run') or a prompt for a cheap agent worker "
			"('prompt' with 'worker', e.g. qwen), in the Squadfile's task grammar "
			"(name, needs, expect, timeout, retries, skills, env, dir). They run in "
			"parallel within the workers' slots and budgets, in a folder of their own "
			"(never blocked by a running 'run'). Returns each task's status, exit code, "
			"summary, answer and log path. Use it to run independent checks at once or "
			"to ask several workers the same question several ways.",
		.input_schema = "{\"type\": \"object\", \"properties\": {"
			"\"tasks\": {\"type\": \"array\", \"minItems\": 1, \"items\": {"
			"  \"type\": \"object\", \"properties\": {"
			"    \"name\": {\"type\": \"string\"},"
			"    \"run\": {\"type\": \"string\", \"description\": \"a shell command\"},"
			"    \"prompt\": {\"type\": \"string\", \"description\": \"a prompt for an agent "
			"worker\"},"
			"    \"worker\": {\"type\": \"string\"},"
			"    \"needs\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
			"    \"expect\": {\"type\": \"string\", \"description\": \"a PCRE2 the output "
			"must match\"},"
			"    \"timeout\": {\"type\": \"string\", \"description\": \"e.g. 90s, 10m\"},"
			"    \"retries\": {\"type\": \"integer\", \"minimum\": 0},"
			"    \"skills\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}"
			"  }}},"
			RUN_OPTIONS_SCHEMA "}, \"required\": [\"tasks\"], "
			"\"additionalProperties\": false}",
		.output = OUTPUT_DOCUMENT,
		.command = exec_command,
	},
	{
		.name = "handoff",
		.title = "Show the hand-off",
		.description = "The hand-off manifest: the tasks that wait for you (skill tasks "
			"squad never runs, and failed tasks escalated to you), each with its prompt, "
			"skills and their SKILL.md paths, the results and logs of the tasks it needs, "
			"the tasks blocked behind it, git context, and an instruction. After doing a "
			"task, call done with it; then run the target again.",
		.input_schema = "{\"type\": \"object\", \"properties\": {}, "
			"\"additionalProperties\": false}",
		.read_only = true,
		.output = OUTPUT_DOCUMENT,
		.command = handoff_command,
	},
	{
		.name = "done",
		.title = "Mark a task done",
		.description = "Record your result for a task of the hand-off (squad done): "
			"with a one-line note of what you did and found, 'failed' when it cannot be "
			"done, 'undo' to take the mark back. The next run continues behind it.",
		.input_schema = "{\"type\": \"object\", \"properties\": {"
			"\"task\": {\"type\": \"string\"},"
			"\"note\": {\"type\": \"string\", \"description\": \"what you did and found, "
			"one line\"},"
			"\"failed\": {\"type\": \"boolean\"},"
			"\"undo\": {\"type\": \"boolean\"}}, "
			"\"required\": [\"task\"], \"additionalProperties\": false}",
		.output = OUTPUT_TEXT,
		.command = done_command,
	},
	{
		.name = "status",
		.title = "Calls in flight",
		.description = "The run and exec calls this server is running now: the tool, "
			"how long it has run, tasks finished out of how many, the last one.",
		.input_schema = "{\"type\": \"object\", \"properties\": {}, "
			"\"additionalProperties\": false}",
		.read_only = true,
		.output = OUTPUT_NONE,
	},
};

static const struct tool *find_tool(const char *name)
{
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!strcmp(tools[i].name, name))
			return &tools[i];
	return NULL;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- Results --------------------------------------------------------- */

/* A tool's answer: structured content and the same as text. */
static json_t *tool_result(json_t *structured, bool is_error)
{
	json_t *result = json_object(), *content = json_array();
	char *text;

	bound_result(structured);
	text = json_dumps(structured, JSON_COMPACT);
	json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text",
						 "text", text ? text : "{}"));
	free(text);
	json_object_set_new(result, "content", content);
	json_object_set_new(result, "structuredContent", structured);
	if (is_error)
		json_object_set_new(result, "isError", json_true());
	return result;
}

/* A tool error the model can act on: the message as text. */
static json_t *tool_error(const char *message)
{
	return tool_result(json_pack("{s:s}", "error", message), true);
}

static json_t *err_text_json(struct call *c)
{
	strbuf_utf8_sanitize(&c->err_text);
	strbuf_rtrim(&c->err_text);
	return json_stringn(c->err_text.buf, c->err_text.len);
}

/* Copy an event without its envelope (event, time). */
static json_t *event_body(json_t *event)
{
	json_t *body = json_deep_copy(event);

	json_object_del(body, "event");
	json_object_del(body, "time");
	return body;
}

/* A run's events folded into one object. */
static json_t *run_result(struct call *c, bool *is_error)
{
	json_t *r = json_object(), *tasks = json_array(), *later = json_array(), *item;
	size_t i;

	json_object_set_new(r, "exit_code", json_integer(c->exit_status));
	if (c->plan) {
		json_object_set(r, "targets", json_object_get(c->plan, "targets"));
		if (!c->summary) /* -n: the plan is the answer */
			json_object_set(r, "plan", json_object_get(c->plan, "tasks"));
	}
	if (c->summary) {
		json_object_set(r, "counts", json_object_get(c->summary, "counts"));
		json_object_set(r, "wall_ms", json_object_get(c->summary, "wall_ms"));
		json_object_set(r, "interrupted", json_object_get(c->summary, "interrupted"));
		/* what the agents used, per worker (each task's is in tasks[]) */
		json_object_set(r, "usage", json_object_get(c->summary, "usage"));
		/* what the tasks restored from the cache had used: not spent now */
		if (json_object_size(json_object_get(c->summary, "cached_usage")))
			json_object_set(r, "cached_usage",
					json_object_get(c->summary, "cached_usage"));
	}
	if (c->handoff) {
		json_object_set(r, "manifest", json_object_get(c->handoff, "manifest"));
		json_object_set(r, "handoff_entries", json_object_get(c->handoff, "entries"));
	}
	/* what needs attention first: a cut result loses the others */
	json_array_foreach(c->finished, i, item)
		json_array_append_new(task_of_note(item) ? tasks : later, event_body(item));
	json_array_extend(tasks, later);
	json_decref(later);
	json_object_set_new(r, "tasks", tasks);
	if (c->handoff && json_integer_value(json_object_get(c->handoff, "entries")) > 0)
		json_object_set_new(r, "next", json_string(
			"tasks wait for you: call handoff, do each, call done, then run again"));
	*is_error = !c->summary && !(c->plan && c->exit_status == 0);
	if (*is_error)
		json_object_set_new(r, "error", err_text_json(c));
	return r;
}

/* The structured result of a finished child. */
static json_t *call_result(struct call *c)
{
	json_t *r = NULL;
	bool is_error = false;

	if (c->term_signal && !c->exit_status) {
		struct strbuf msg = STRBUF_INIT;
		json_t *res;

		strbuf_addf(&msg, "squad was killed by signal %d", c->term_signal);
		res = tool_error(msg.buf);
		strbuf_release(&msg);
		return res;
	}
	switch (c->tool->output) {
	case OUTPUT_EVENTS:
		r = run_result(c, &is_error);
		break;
	case OUTPUT_DOCUMENT: {
		json_error_t jerr;
		json_t *doc = c->out_cut ? NULL :
			json_loadb(c->out_text.buf, c->out_text.len, 0, &jerr);

		if (!doc) {
			r = json_object();
			json_object_set_new(r, "exit_code", json_integer(c->exit_status));
			json_object_set_new(r, "error", err_text_json(c));
			is_error = true;
		} else if (json_is_object(doc)) {
			r = doc;
			if (!json_object_get(r, "exit_code"))
				json_object_set_new(r, "exit_code", json_integer(c->exit_status));
		} else {
			/* list --json is an array: the tasks */
			r = json_pack("{s:I, s:o}", "exit_code", (json_int_t)c->exit_status,
				      "tasks", doc);
		}
		if (!strcmp(c->tool->name, "exec") && doc &&
		    json_integer_value(json_object_get(r, "exit_code")) == 3)
			json_object_set_new(r, "next", json_string(
				"tasks with skills wait for you in this exec's manifest "
				"('handoff' lists them); they are not run by squad"));
		break;
	}
	case OUTPUT_TEXT:
		strbuf_utf8_sanitize(&c->out_text);
		r = json_object();
		json_object_set_new(r, "exit_code", json_integer(c->exit_status));
		json_object_set_new(r, "output", json_stringn(c->out_text.buf, c->out_text.len));
		if (c->exit_status) {
			json_object_set_new(r, "error", err_text_json(c));
			is_error = true;
		}
		break;
	case OUTPUT_NONE:
		break;
	}
	return tool_result(r, is_error);
}

/* --- Children -------------------------------------------------------- */

static void call_free(struct call *c)
{
	struct server *s = c->s;

	for (struct call **p = &s->calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->nr_calls--;
	json_decref(c->id);
	json_decref(c->progress_token);
	json_decref(c->plan);
	json_decref(c->finished);
	json_decref(c->handoff);
	json_decref(c->summary);
	strbuf_release(&c->input);
	strbuf_release(&c->out_text);
	strbuf_release(&c->err_text);
	jsonrpc_reader_release(&c->out_lines);
	jsonrpc_reader_release(&c->err_lines);
	free(c->last_message);
	free(c);
	if (s->closing && !s->nr_calls)
		uv_stop(s->loop);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct call *c = h->data;

	if (--c->open_handles == 0)
		call_free(c);
}

static void call_close(struct call *c)
{
	uv_close((uv_handle_t *)&c->out, on_handle_closed);
	uv_close((uv_handle_t *)&c->err, on_handle_closed);
	uv_close((uv_handle_t *)&c->kill_timer, on_handle_closed);
	if (c->has_input && !uv_is_closing((uv_handle_t *)&c->in))
		uv_close((uv_handle_t *)&c->in, on_handle_closed);
}

/* Done when the child exited and both its pipes reached EOF. */
static void call_maybe_finish(struct call *c)
{
	if (!c->exited || c->open_streams)
		return;
	if (!c->cancelled && !c->s->closing) {
		json_t *result = call_result(c);

		send_result(c->s, c->id, result);
	}
	call_close(c);
}

static void progress(struct call *c, const char *message)
{
	json_t *params;

	free(c->last_message);
	c->last_message = xstrdup(message);
	if (!c->progress_token || c->cancelled || c->s->closing)
		return;
	params = json_pack("{s:O, s:I, s:s}", "progressToken", c->progress_token,
			   "progress", (json_int_t)c->done_tasks, "message", message);
	if (c->total_tasks > 0)
		json_object_set_new(params, "total", json_integer(c->total_tasks));
	send_notification(c->s, "notifications/progress", params);
}

/* One event line of a run. */
static void on_event(struct call *c, const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "event"));

	if (!type) {
		json_decref(ev);
		return;
	}
	if (!strcmp(type, "plan")) {
		json_decref(c->plan);
		c->plan = json_incref(ev);
		c->total_tasks = (long long)json_array_size(json_object_get(ev, "tasks"));
	} else if (!strcmp(type, "finish")) {
		struct strbuf msg = STRBUF_INIT;
		const char *task = json_string_value(json_object_get(ev, "task"));
		const char *status = json_string_value(json_object_get(ev, "status"));

		json_array_append(c->finished, ev);
		c->done_tasks++;
		strbuf_addf(&msg, "%s %s", status ? status : "?", task ? task : "?");
		progress(c, msg.buf);
		strbuf_release(&msg);
	} else if (!strcmp(type, "handoff")) {
		json_decref(c->handoff);
		c->handoff = json_incref(ev);
	} else if (!strcmp(type, "summary")) {
		json_decref(c->summary);
		c->summary = json_incref(ev);
	}
	json_decref(ev);
}

/* One status line of an exec: "[k/N] STATUS TASK ...". */
static void on_status_line(struct call *c, const char *line, size_t len)
{
	long long k, n;
	int used = 0;
	char *text = xstrndup(line, len);

	if (sscanf(text, "[%lld/%lld] %n", &k, &n, &used) == 2 && used > 0 && k > c->done_tasks) {
		c->done_tasks = k;
		c->total_tasks = n;
		progress(c, text + used);
	}
	free(text);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = xmalloc(suggested);
	buf->len = suggested;
}

static void on_child_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct call *c = stream->data;
	bool is_out = stream == (uv_stream_t *)&c->out;
	const char *line;
	size_t len;
	int rc;

	if (nread > 0 && is_out) {
		if (c->tool->output == OUTPUT_EVENTS) {
			jsonrpc_reader_feed(&c->out_lines, buf->base, (size_t)nread);
			while ((rc = jsonrpc_reader_next(&c->out_lines, &line, &len)) != 0)
				if (rc > 0)
					on_event(c, line, len);
		} else if (c->out_text.len + (size_t)nread <= MAX_CHILD_OUTPUT) {
			strbuf_add(&c->out_text, buf->base, (size_t)nread);
		} else {
			c->out_cut = true;
		}
	} else if (nread > 0) {
		size_t room = MAX_CHILD_ERRORS - c->err_text.len;

		strbuf_add(&c->err_text, buf->base, (size_t)nread < room ? (size_t)nread : room);
		if (!strcmp(c->tool->name, "exec")) {
			jsonrpc_reader_feed(&c->err_lines, buf->base, (size_t)nread);
			while ((rc = jsonrpc_reader_next(&c->err_lines, &line, &len)) != 0)
				if (rc > 0)
					on_status_line(c, line, len);
		}
	}
	free(buf->base);
	if (nread < 0) {
		uv_read_stop(stream);
		c->open_streams--;
		call_maybe_finish(c);
	}
}

/* A child ended: its exit status, then the result once its pipes are
 * read to the end. */
static void child_exited(struct call *c, int status)
{
	c->exited = true;
	c->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	c->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	uv_timer_stop(&c->kill_timer);
	call_maybe_finish(c);
}

/* SIGCHLD: reap the calls' children that ended (by pid: the server has
 * no other children). */
static void on_sigchld(uv_signal_t *h, int signum)
{
	struct server *s = h->data;
	struct call *c, *next;
	int status;

	(void)signum;
	for (c = s->calls; c; c = next) {
		next = c->next; /* call_maybe_finish() may close c (freed later) */
		if (c->pid > 0 && !c->exited && waitpid(c->pid, &status, WNOHANG) == c->pid)
			child_exited(c, status);
	}
}

static void on_input_written(uv_write_t *req, int status)
{
	struct call *c = req->data;

	(void)status; /* a child that stopped reading says why itself */
	if (!uv_is_closing((uv_handle_t *)&c->in))
		uv_close((uv_handle_t *)&c->in, on_handle_closed);
}

static void on_kill_timer(uv_timer_t *t)
{
	struct call *c = t->data;

	if (!c->exited)
		kill(-c->pid, SIGKILL);
}

/* Stop a call's child: SIGTERM to its group (squad records its tasks
 * as interrupted), SIGKILL later if it is still there. */
static void call_stop(struct call *c)
{
	if (c->exited || c->killing)
		return;
	c->killing = true;
	kill(-c->pid, SIGTERM);
	uv_timer_start(&c->kill_timer, on_kill_timer, KILL_AFTER_MS, 0);
}

/* Start the child of a call. Returns 0, or -1 with why in `why`, nothing
 * started and no handle of the call's initialized (the caller frees it).
 *
 * Through spawner.h (vfork, then exec) rather than uv_spawn: libuv
 * forks, copying the server's page tables and waiting for the child's
 * exec, which made up most of an exec call's round trip (several ms of
 * a 4-task exec's ~20). The child leads a process group of its own (it
 * and its tasks are stopped as one) and has no controlling terminal. */
static int call_spawn(struct call *c, struct strvec *argv, struct strbuf *why)
{
	struct server *s = c->s;
	struct command cmd = COMMAND_INIT;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int rc;

	/* once, on the first call: every signal handler is in place by then */
	if (!s->spawner_ready) {
		if (spawner_init(&s->spawner, why) < 0)
			return -1;
		s->spawner_ready = true;
	}
	if ((c->has_input && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	for (size_t i = 0; i < argv->nr; i++)
		strvec_push(&cmd.argv, argv->v[i]);
	for (char **e = environ; *e; e++)
		strvec_push(&cmd.env, *e);
	cmd.cwd = xstrdup(s->spawner.cwd ? s->spawner.cwd : ".");
	rc = spawner_start_io(&s->spawner, &cmd, argv->v[0], in[0], out[1], err[1], &c->pid, NULL);
	command_release(&cmd);
	if (rc)
		goto fail;
	close(out[1]);
	close(err[1]);
	if (in[0] >= 0)
		close(in[0]);
	uv_pipe_init(s->loop, &c->out, 0);
	uv_pipe_init(s->loop, &c->err, 0);
	uv_timer_init(s->loop, &c->kill_timer);
	c->out.data = c->err.data = c->kill_timer.data = c;
	c->open_handles = 3;
	uv_pipe_open(&c->out, out[0]);
	uv_pipe_open(&c->err, err[0]);
	c->open_streams = 2;
	uv_read_start((uv_stream_t *)&c->out, on_alloc, on_child_read);
	uv_read_start((uv_stream_t *)&c->err, on_alloc, on_child_read);
	if (c->has_input) {
		uv_buf_t buf = uv_buf_init(c->input.buf, (unsigned)c->input.len);

		uv_pipe_init(s->loop, &c->in, 0);
		c->in.data = c;
		c->open_handles++;
		uv_pipe_open(&c->in, in[1]);
		c->write_req.data = c;
		if (uv_write(&c->write_req, (uv_stream_t *)&c->in, &buf, 1, on_input_written) < 0)
			uv_close((uv_handle_t *)&c->in, on_handle_closed);
	}
	return 0;
fail:
	strbuf_addf(why, "cannot start %s: %s", argv->v[0], strerror(rc));
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

/* --- Requests -------------------------------------------------------- */

static json_t *status_result(struct server *s)
{
	json_t *calls = json_array();
	double now = now_seconds();

	for (struct call *c = s->calls; c; c = c->next) {
		json_t *item = json_pack("{s:O, s:s, s:I, s:f, s:I}", "request_id", c->id,
					 "tool", c->tool->name, "pid", (json_int_t)c->pid,
					 "seconds", now - c->started,
					 "finished_tasks", (json_int_t)c->done_tasks);

		if (c->total_tasks)
			json_object_set_new(item, "total_tasks", json_integer(c->total_tasks));
		if (c->last_message)
			json_object_set_new(item, "last", json_string(c->last_message));
		json_array_append_new(calls, item);
	}
	return tool_result(json_pack("{s:o}", "calls", calls), false);
}

static void tools_call(struct server *s, struct jsonrpc_message *msg)
{
	const char *name = json_string_value(json_object_get(msg->params, "name"));
	json_t *args = json_object_get(msg->params, "arguments");
	json_t *meta = json_object_get(msg->params, "_meta");
	const struct tool *tool;
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct call *c;
	json_t *result = NULL;
	int rc;

	if (!name) {
		send_error(s, msg->id, JSONRPC_INVALID_PARAMS, "tools/call needs a tool 'name'");
		return;
	}
	tool = find_tool(name);
	if (!tool) {
		strbuf_addf(&err, "unknown tool '%s' (tools/list has them)", name);
		send_error(s, msg->id, JSONRPC_INVALID_PARAMS, err.buf);
		strbuf_release(&err);
		return;
	}
	if (args && !json_is_object(args) && !json_is_null(args)) {
		result = tool_error("'arguments' must be an object");
		goto answer;
	}
	if (!args || json_is_null(args))
		args = json_object(); /* borrowed below: released at the end */
	else
		json_incref(args);
	if (tool->output == OUTPUT_NONE) {
		result = status_result(s);
		json_decref(args);
		goto answer;
	}

	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->tool = tool;
	c->id = json_incref(msg->id);
	c->started = now_seconds();
	c->finished = json_array();
	jsonrpc_reader_init(&c->out_lines, MAX_CHILD_OUTPUT);
	jsonrpc_reader_init(&c->err_lines, 64 * 1024);
	if (json_is_object(meta)) {
		json_t *token = json_object_get(meta, "progressToken");

		if (json_is_string(token) || json_is_integer(token))
			c->progress_token = json_incref(token);
	}
	strvec_push(&argv, s->mo->self);
	if (s->mo->file)
		strvec_pushf(&argv, "--file=%s", s->mo->file);
	strvec_push(&argv, "--color=never");
	rc = tool->command(args, &argv, &c->input, &err);
	json_decref(args);
	if (rc < 0) {
		result = tool_error(err.buf);
		c->s->nr_calls++; /* call_free() counts it out */
		call_free(c);
		goto answer;
	}
	c->has_input = c->input.len > 0;
	c->next = s->calls;
	s->calls = c;
	s->nr_calls++;
	if (call_spawn(c, &argv, &err) < 0) {
		result = tool_error(err.buf);
		call_free(c); /* no handle of its was opened */
		goto answer;
	}
	strvec_clear(&argv);
	strbuf_release(&err);
	return;
answer:
	send_result(s, msg->id, result);
	strvec_clear(&argv);
	strbuf_release(&err);
}

static json_t *tools_list(void)
{
	json_t *list = json_array();

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		const struct tool *t = &tools[i];
		json_error_t jerr;
		json_t *schema = json_loads(t->input_schema, 0, &jerr);

		if (!schema) /* a mistake in this file: the unit of tests says */
			abort();
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:o, s:{s:s, s:b, s:b, s:b}}",
			"name", t->name, "title", t->title, "description", t->description,
			"inputSchema", schema, "annotations", "title", t->title,
			"readOnlyHint", t->read_only, "destructiveHint", 0,
			"openWorldHint", 0));
	}
	return json_pack("{s:o}", "tools", list);
}

static const char server_instructions[] =
	"squad runs the project's Squadfile: shell commands and prompts for cheap agent "
	"workers, in parallel, with slots, budgets, retries and grouped logs. Call list to "
	"learn the tasks, run to run targets, exec to fan ad-hoc work out to workers (several "
	"commands or prompts at once). Tasks with skills are never run by squad: they wait "
	"for you in the hand-off (handoff shows them with everything needed; do the work, "
	"then call done, then run again). Results are bounded; each task's log path has the "
	"rest.";

static json_t *initialize(json_t *params, const char *squad_version)
{
	const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
	const char *version = protocol_versions[0];

	/* the client's version when squad speaks it, else squad's newest:
	 * the client then decides whether it can go on */
	for (size_t i = 0; asked && protocol_versions[i]; i++)
		if (!strcmp(asked, protocol_versions[i]))
			version = protocol_versions[i];
	return json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}",
			 "protocolVersion", version,
			 "capabilities", "tools", "listChanged", 0,
			 "serverInfo", "name", "squad", "title", "squad task runner",
			 "version", squad_version,
			 "instructions", server_instructions);
}

static void on_cancelled(struct server *s, json_t *params)
{
	json_t *id = json_object_get(params, "requestId");

	if (!id)
		return;
	for (struct call *c = s->calls; c; c = c->next)
		if (json_equal(c->id, id) && !c->cancelled) {
			c->cancelled = true;
			call_stop(c);
			return;
		}
	/* not running (any more): the response went, or never will */
}

static void handle_message(struct server *s, struct jsonrpc_message *msg)
{
	struct strbuf err = STRBUF_INIT;

	switch (msg->kind) {
	case JSONRPC_RESULT:
	case JSONRPC_ERROR:
		break; /* squad sends no requests */
	case JSONRPC_NOTIFICATION:
		if (!strcmp(msg->method, "notifications/cancelled"))
			on_cancelled(s, msg->params);
		/* notifications/initialized and any other: nothing to do */
		break;
	case JSONRPC_REQUEST:
		if (!strcmp(msg->method, "initialize")) {
			json_t *r = initialize(msg->params, s->mo->version);

			send_result(s, msg->id, r);
		} else if (!strcmp(msg->method, "ping")) {
			send_result(s, msg->id, json_object());
		} else if (!strcmp(msg->method, "tools/list")) {
			send_result(s, msg->id, tools_list());
		} else if (!strcmp(msg->method, "tools/call")) {
			if (!json_is_object(msg->params))
				send_error(s, msg->id, JSONRPC_INVALID_PARAMS,
					   "tools/call wants an object of params");
			else
				tools_call(s, msg);
		} else {
			strbuf_addf(&err, "method not found: %s", msg->method);
			send_error(s, msg->id, JSONRPC_METHOD_NOT_FOUND, err.buf);
		}
		break;
	}
	strbuf_release(&err);
}

/* --- The server's own input and life --------------------------------- */

static void wind_down(struct server *s)
{
	if (s->closing)
		return;
	s->closing = true;
	for (struct call *c = s->calls; c; c = c->next)
		call_stop(c);
	for (int i = 0; i < 3; i++)
		uv_signal_stop(&s->sig[i]);
	if (!s->nr_calls)
		uv_stop(s->loop);
}

static void read_more(struct server *s);

static void on_stdin(uv_fs_t *req)
{
	struct server *s = req->data;
	ssize_t n = req->result;
	const char *line;
	size_t len;
	int rc;

	uv_fs_req_cleanup(req);
	s->reading = false;
	if (n <= 0) {
		/* the client went away: stop what it started */
		wind_down(s);
		return;
	}
	jsonrpc_reader_feed(&s->in, s->read_buf, (size_t)n);
	while (!s->closing && (rc = jsonrpc_reader_next(&s->in, &line, &len)) != 0) {
		struct jsonrpc_message msg;
		struct strbuf err = STRBUF_INIT;
		int code;

		if (rc < 0) {
			send_error(s, NULL, JSONRPC_INVALID_REQUEST, "message too long");
			continue;
		}
		if (!len)
			continue;
		code = jsonrpc_parse(line, len, &msg, &err);
		if (code)
			send_error(s, msg.id, code, err.buf);
		else
			handle_message(s, &msg);
		jsonrpc_message_release(&msg);
		strbuf_release(&err);
	}
	if (s->write_failed)
		wind_down(s);
	if (!s->closing)
		read_more(s);
}

/* stdin is read through libuv's thread pool: the same for a pipe, a
 * socket, a file or a terminal */
static void read_more(struct server *s)
{
	uv_buf_t buf = uv_buf_init(s->read_buf, sizeof(s->read_buf));

	s->read_req.data = s;
	s->reading = true;
	if (uv_fs_read(s->loop, &s->read_req, STDIN_FILENO, &buf, 1, -1, on_stdin) < 0) {
		s->reading = false;
		wind_down(s);
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	wind_down(h->data);
}

int mcp_main(const struct mcp_options *mo)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	struct server s;

	memset(&s, 0, sizeof(s));
	s.loop = uv_default_loop();
	s.mo = mo;
	jsonrpc_reader_init(&s.in, MAX_MESSAGE);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++) {
		uv_signal_init(s.loop, &s.sig[i]);
		s.sig[i].data = &s;
		uv_signal_start(&s.sig[i], on_signal, signals[i]);
	}
	/* the children's ends: reaped here, through the loop */
	uv_signal_init(s.loop, &s.sigchld);
	s.sigchld.data = &s;
	uv_signal_start(&s.sigchld, on_sigchld, SIGCHLD);
	uv_unref((uv_handle_t *)&s.sigchld);
	read_more(&s);
	uv_run(s.loop, UV_RUN_DEFAULT);
	jsonrpc_reader_release(&s.in);
	if (s.spawner_ready)
		spawner_release(&s.spawner);
	/* A signal ended the server while a read of stdin still waits in
	 * the thread pool (the client holds stdin open). libuv's exit-time
	 * destructor joins the pool's threads, so a normal exit would wait
	 * for the client forever: end here. Nothing is buffered (the
	 * protocol's lines go out with write(2)). */
	if (s.reading) {
		fflush(NULL);
		_exit(0);
	}
	/* the loop is not closed: the process ends with it */
	return 0;
}
