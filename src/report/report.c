/* report.c - terminal output; see report.h. */
#include "report/report.h"
#include "job/budget.h"
#include "model/expand.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A task's output beyond this is cut on the terminal (the log has all). */
#define PRINT_MAX (256u << 10)
/* --output=prefixed streams a task's first PRINT_MAX / 2 bytes, and at
 * most this many lines, as they come; when the task ends, as much of its
 * end. Lines cost more than their bytes there (each carries the name). */
#define PREFIXED_LINES 1000u
#define SLOWEST 3

enum color { C_RESET, C_GREEN, C_RED, C_YELLOW, C_CYAN, C_DIM, C_BOLD };

static const char *paint(const struct report *rep, enum color c)
{
	static const char *const codes[] = {
		"\033[0m", "\033[32m", "\033[31m", "\033[33m", "\033[36m", "\033[2m", "\033[1m",
	};

	return rep->color ? codes[c] : "";
}

/* Task names as the terminal shows them (strbuf_add_printable()): NULL
 * when every name is fine as it is, the usual case, which costs no copy;
 * else an escaped copy where a name needs one, NULL for the others. */
static char **escape_names(const struct squadfile *sf)
{
	struct strbuf sb = STRBUF_INIT;
	char **names = NULL;

	for (size_t i = 0; sf && i < sf->nr_tasks; i++) {
		strbuf_reset(&sb);
		strbuf_add_printable(&sb, sf->tasks[i].name);
		if (!strcmp(sb.buf, sf->tasks[i].name))
			continue;
		if (!names)
			names = xcalloc(sf->nr_tasks, sizeof(*names));
		names[i] = strbuf_detach(&sb, NULL);
	}
	strbuf_release(&sb);
	return names;
}

static void free_names(char **names, const struct squadfile *sf)
{
	for (size_t i = 0; names && i < sf->nr_tasks; i++)
		free(names[i]);
	free(names);
}

static const char *shown_name(char **names, const struct squadfile *sf, size_t task)
{
	return names && names[task] ? names[task] : sf->tasks[task].name;
}

static const char *task_name(const struct report *rep, size_t task)
{
	return shown_name(rep->shown_names, rep->sf, task);
}

/* Other text from a Squadfile, a task or an agent (a skill, a worker, a
 * reason, a path), escaped the same way. */
static void put_printable(FILE *out, const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_printable(&sb, text);
	fputs(sb.buf, out);
	strbuf_release(&sb);
}

/* put_printable(), then spaces up to `width` bytes. */
static void print_padded(FILE *out, const char *text, size_t width)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_printable(&sb, text);
	fprintf(out, "%-*s", (int)width, sb.buf);
	strbuf_release(&sb);
}

void report_init(struct report *rep, FILE *out, const struct squadfile *sf,
		 const struct plan *plan, enum report_level level, bool color)
{
	memset(rep, 0, sizeof(*rep));
	rep->out = out;
	rep->sf = sf;
	rep->plan = plan;
	rep->level = level;
	rep->color = color;
	rep->total = plan ? plan->nr_order : 0;
	rep->shown_names = escape_names(sf);
}

void report_release(struct report *rep)
{
	free(rep->running);
	rep->running = NULL;
	rep->nr_running = rep->alloc_running = 0;
	free_names(rep->shown_names, rep->sf);
	rep->shown_names = NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int terminal_width(const struct report *rep)
{
	struct winsize ws;

	if (ioctl(fileno(rep->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* Take the live line off the screen before anything else is printed. */
static void clear_status(struct report *rep)
{
	if (rep->status_shown) {
		fputs("\r\033[K", rep->out);
		rep->status_shown = false;
	}
}

/* "[done/total] running: a (qwen 12s), b (shell 3s)", cut to the width. */
static void draw_status(struct report *rep)
{
	struct strbuf line = STRBUF_INIT;
	uint64_t now;
	int width;

	if (!rep->live)
		return; /* before asking the terminal anything: once per task */
	now = now_ms();
	width = terminal_width(rep);
	strbuf_addf(&line, "[%zu/%zu]", rep->finished, rep->total);
	if (rep->nr_running)
		strbuf_addstr(&line, " running:");
	for (size_t i = 0; i < rep->nr_running; i++) {
		const struct running_task *rt = &rep->running[i];
		const struct task_result *res = rep->results ? &rep->results[rt->task] : NULL;

		strbuf_addf(&line, "%s %s (", i ? "," : "", task_name(rep, rt->task));
		strbuf_add_printable(&line, res && res->worker ? res->worker : "");
		strbuf_addf(&line, " %llus)", (unsigned long long)((now - rt->started_ms) / 1000));
	}
	if (line.len > (size_t)width - 1) {
		strbuf_setlen(&line, (size_t)width - 4);
		strbuf_addstr(&line, "...");
	}
	fprintf(rep->out, "\r\033[K%s%s%s", paint(rep, C_BOLD), line.buf, paint(rep, C_RESET));
	fflush(rep->out);
	rep->status_shown = true;
	rep->last_draw_ms = now;
	strbuf_release(&line);
}

static long find_running(const struct report *rep, size_t task)
{
	for (size_t i = 0; i < rep->nr_running; i++)
		if (rep->running[i].task == task)
			return (long)i;
	return -1;
}

/* One line of a task's output as "task | line". */
static void prefixed_line(struct report *rep, const char *name, const char *text, size_t len)
{
	fprintf(rep->out, "%s%s |%s %.*s\n", paint(rep, C_DIM), name, paint(rep, C_RESET),
		(int)len, text);
}

/* The end of a task's log from `rt->printed` on, after its head was cut:
 * at most PRINT_MAX / 2 bytes and PREFIXED_LINES lines, from the start of
 * a line when it can, under a line that says what was cut and where the
 * whole output is. */
static void stream_tail(struct report *rep, struct running_task *rt, int fd, const char *name,
			const char *log_path)
{
	const size_t max = PRINT_MAX / 2;
	char *buf = xmalloc(max);
	struct stat st;
	unsigned long long from = rt->printed;
	size_t len = 0, start = 0, end;
	unsigned lines = 0;
	ssize_t n;

	if (fstat(fd, &st) == 0 && (unsigned long long)st.st_size > from + max)
		from = (unsigned long long)st.st_size - max;
	while (len < max && (n = pread(fd, buf + len, max - len, (off_t)(from + len))) > 0)
		len += (size_t)n;
	/* begin after a line's end, unless that would leave nothing */
	if (from > rt->printed) {
		char *nl = memchr(buf, '\n', len);

		if (nl && (size_t)(nl + 1 - buf) < len)
			start = (size_t)(nl + 1 - buf);
	}
	/* keep the last PREFIXED_LINES lines of what is left */
	end = len && buf[len - 1] == '\n' ? len - 1 : len;
	for (size_t i = end; i > start; i--) {
		if (buf[i - 1] == '\n' && ++lines == PREFIXED_LINES) {
			start = i;
			break;
		}
	}
	if (from + start > rt->printed) {
		struct strbuf path = STRBUF_INIT;

		strbuf_add_printable(&path, log_path);
		fprintf(rep->out, "%s%s | ... %llu bytes cut; the whole output is in %s%s\n",
			paint(rep, C_DIM), name, from + start - rt->printed, path.buf,
			paint(rep, C_RESET));
		strbuf_release(&path);
	}
	while (start < len) {
		char *nl = memchr(buf + start, '\n', len - start);
		size_t stop = nl ? (size_t)(nl - buf) : len;

		prefixed_line(rep, name, buf + start, stop - start);
		start = stop + 1;
	}
	rt->printed = from + len;
	free(buf);
}

/* Print the whole lines of a running task's log not printed yet, each as
 * "task | line"; at its end (`final`), the last partial line too. Only
 * the head of a flood is streamed (PRINT_MAX / 2 bytes, PREFIXED_LINES
 * lines); what comes after it waits for the task's end, where only its
 * end is printed (stream_tail()). A line longer than the buffer is
 * printed in pieces. */
static void stream_lines(struct report *rep, struct running_task *rt, bool final)
{
	const struct task_result *res = rep->results ? &rep->results[rt->task] : NULL;
	const char *name = task_name(rep, rt->task);
	char buf[65536];
	bool more = true;
	ssize_t n;
	int fd;

	if (!res || !res->log_path || (rt->cut && !final) ||
	    (fd = open(res->log_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while (more && !rt->cut && (n = pread(fd, buf, sizeof(buf), (off_t)rt->printed)) > 0) {
		bool full = n == (ssize_t)sizeof(buf);
		char *start = buf, *end = buf + n;

		while (start < end) {
			char *nl = memchr(start, '\n', (size_t)(end - start));
			size_t len = nl ? (size_t)(nl - start) : (size_t)(end - start);
			size_t used = nl ? len + 1 : len;

			if (!nl && full && start != buf)
				break; /* read on from this line's start */
			if (!nl && !full && !final) {
				more = false; /* a partial line: wait for its end */
				break;
			}
			if (rt->printed + used > PRINT_MAX / 2 || rt->lines == PREFIXED_LINES) {
				rt->cut = true;
				break;
			}
			prefixed_line(rep, name, start, len);
			rt->printed += used;
			rt->lines++;
			start += used;
		}
	}
	if (rt->cut && final)
		stream_tail(rep, rt, fd, name, res->log_path);
	close(fd);
}

static void on_tick(void *data)
{
	struct report *rep = data;

	if (rep->output == OUTPUT_PREFIXED && rep->nr_running) {
		clear_status(rep);
		for (size_t i = 0; i < rep->nr_running; i++)
			stream_lines(rep, &rep->running[i], false);
		fflush(rep->out);
	}
	if (rep->live && now_ms() - rep->last_draw_ms >= 100)
		draw_status(rep);
}

static void format_duration(struct strbuf *sb, long ms)
{
	if (ms < 10000)
		strbuf_addf(sb, "%.2fs", (double)ms / 1000);
	else if (ms < 600000)
		strbuf_addf(sb, "%.1fs", (double)ms / 1000);
	else
		strbuf_addf(sb, "%ldm%02lds", ms / 60000, (ms / 1000) % 60);
}

static void on_started(void *data, size_t task, unsigned attempt, const struct command *cmd)
{
	struct report *rep = data;
	struct command shown = COMMAND_INIT;
	const struct task *t = &rep->sf->tasks[task];

	if (find_running(rep, task) < 0) {
		struct running_task rt = { .task = task, .started_ms = now_ms() };

		ALLOC_GROW(rep->running, rep->nr_running + 1, rep->alloc_running);
		rep->running[rep->nr_running++] = rt;
	}
	if (rep->level < REPORT_VERBOSE) {
		if (rep->live)
			draw_status(rep);
		return;
	}
	clear_status(rep);
	fprintf(rep->out, "%sstart%s %s", paint(rep, C_DIM), paint(rep, C_RESET),
		task_name(rep, task));
	if (attempt > 1)
		fprintf(rep->out, " (attempt %u)", attempt);
	fputs(":", rep->out);
	/* cmd is expanded, secrets from the environment and all: print the
	 * command as written, a shell's text without its /bin/sh -c */
	(void)cmd;
	worker_show_command(&shown, rep->sf, t, &rep->sf->workers[t->worker]);
	for (size_t i = shown.via_shell ? 2 : 0; i < shown.argv.nr; i++) {
		fputc(' ', rep->out);
		put_printable(rep->out, shown.argv.v[i]);
	}
	command_release(&shown);
	fputc('\n', rep->out);
	draw_status(rep);
	fflush(rep->out);
}

static void print_output(struct report *rep, const struct task_result *res)
{
	char buf[65536];
	off_t from = 0;
	int fd;
	ssize_t n;
	bool ends_in_newline = true;

	if (!res->output_bytes || !res->log_path)
		return;
	fd = open(res->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (res->output_bytes > PRINT_MAX) {
		from = (off_t)(res->output_bytes - PRINT_MAX);
		fprintf(rep->out, "%s... %llu bytes cut; the whole output is in ",
			paint(rep, C_DIM), (unsigned long long)from);
		put_printable(rep->out, res->log_path);
		fprintf(rep->out, "%s\n", paint(rep, C_RESET));
	}
	fflush(rep->out);
	while ((n = pread(fd, buf, sizeof(buf), from)) > 0) {
		fwrite(buf, 1, (size_t)n, rep->out);
		ends_in_newline = buf[n - 1] == '\n';
		from += n;
	}
	if (!ends_in_newline)
		fputc('\n', rep->out);
	if (res->log_cut)
		fprintf(rep->out, "%s... the log ends here: it was cut short, squad could not "
			"write the rest%s\n", paint(rep, C_DIM), paint(rep, C_RESET));
	close(fd);
}

static bool wants_output(const struct report *rep, const struct task_result *res)
{
	switch (rep->output) {
	case OUTPUT_GROUPED:
		return res->status != TASK_UP_TO_DATE || rep->replay;
	case OUTPUT_FAILED:
		return task_status_failed(res->status);
	case OUTPUT_PREFIXED: /* streamed already, unless restored from the cache */
		return res->cached != NULL;
	case OUTPUT_QUIET:
		return false;
	}
	return false;
}

static void on_finished(void *data, size_t task, const struct task_result *res)
{
	struct report *rep = data;
	const char *name = task_name(rep, task);
	struct strbuf line = STRBUF_INIT;
	bool failed = task_status_failed(res->status);
	enum color c;

	long at = find_running(rep, task);

	rep->finished++;
	clear_status(rep);
	if (at >= 0) {
		if (rep->output == OUTPUT_PREFIXED)
			stream_lines(rep, &rep->running[at], true);
		rep->running[at] = rep->running[--rep->nr_running];
	}
	if (rep->level == REPORT_QUIET && !failed) {
		draw_status(rep);
		return;
	}
	switch (res->status) {
	case TASK_OK:
	case TASK_DONE:
		c = C_GREEN;
		break;
	case TASK_UP_TO_DATE:
		c = C_DIM;
		break;
	case TASK_FAILED:
	case TASK_TIMED_OUT:
	case TASK_ESCALATED: /* a failure, handed on */
		c = C_RED;
		break;
	case TASK_HANDOFF:
	case TASK_BLOCKED:
		c = C_CYAN;
		break;
	default:
		c = C_YELLOW;
	}
	strbuf_addf(&line, "[%zu/%zu] %s%s%s%s%s %s", rep->finished, rep->total,
		    paint(rep, c), res->status == TASK_TIMED_OUT ? "TIMED OUT"
				   : res->status == TASK_FAILED ? "FAILED"
				   : res->cached ? "cached (" : task_status_name(res->status),
		    res->cached ? res->cached : "", res->cached ? ")" : "",
		    paint(rep, C_RESET), name);
	if (res->cached) {
		/* restored, not run: what the run that made it took */
		strbuf_addstr(&line, " (ran ");
		format_duration(&line, res->duration_ms);
		strbuf_addstr(&line, " where it was stored)");
	} else switch (res->status) {
	case TASK_OK:
	case TASK_FAILED:
	case TASK_TIMED_OUT:
	case TASK_INTERRUPTED:
		strbuf_addstr(&line, " (");
		format_duration(&line, res->duration_ms);
		if (res->status == TASK_FAILED && res->exit_code > 0)
			strbuf_addf(&line, ", exit %d", res->exit_code);
		if (res->attempts > 1)
			strbuf_addf(&line, ", %u attempts", res->attempts);
		strbuf_addch(&line, ')');
		if (failed && res->reason) {
			strbuf_addstr(&line, ": ");
			strbuf_add_printable(&line, res->reason);
		}
		break;
	case TASK_SKIPPED:
		strbuf_addf(&line, " (needs %s)", task_name(rep, res->cause));
		break;
	case TASK_ESCALATED:
		/* a spent budget escalates a task before its first attempt */
		if (res->attempts)
			strbuf_addf(&line, " (failed after %u attempt%s", res->attempts,
				    res->attempts == 1 ? "" : "s");
		else
			strbuf_addstr(&line, " (not run");
		if (res->reason) {
			strbuf_addstr(&line, ": ");
			strbuf_add_printable(&line, res->reason);
		}
		strbuf_addstr(&line, "; handed to the tactician)");
		break;
	case TASK_BLOCKED:
		strbuf_addf(&line, " (behind hand-off %s)", task_name(rep, res->cause));
		break;
	case TASK_HANDOFF: {
		const struct strvec *skills = &rep->sf->tasks[task].skills;

		strbuf_addstr(&line, " (for the tactician; skills:");
		for (size_t i = 0; i < skills->nr; i++) {
			strbuf_addch(&line, ' ');
			strbuf_add_printable(&line, skills->v[i]);
		}
		strbuf_addch(&line, ')');
		break;
	}
	case TASK_DONE:
		strbuf_addstr(&line, " (reported by the tactician");
		if (res->note) {
			strbuf_addstr(&line, ": ");
			strbuf_add_printable_len(&line, res->note, strcspn(res->note, "\n"));
		}
		strbuf_addch(&line, ')');
		break;
	case TASK_UP_TO_DATE:
		strbuf_addstr(&line, " (last ");
		format_duration(&line, res->duration_ms);
		strbuf_addch(&line, ')');
		break;
	default:
		break;
	}
	if (res->log_cut)
		strbuf_addstr(&line, " [log cut short: squad could not write all of its output]");
	fprintf(rep->out, "%s\n", line.buf);
	strbuf_release(&line);
	if (wants_output(rep, res))
		print_output(rep, res);
	draw_status(rep);
	fflush(rep->out);
}

struct run_observer report_observer(struct report *rep)
{
	struct run_observer obs = { on_started, on_finished, NULL, rep, NULL };

	if (rep->live || rep->output == OUTPUT_PREFIXED)
		obs.tick = on_tick;

	return obs;
}

static int by_duration(const void *a, const void *b, void *arg)
{
	const struct task_result *res = arg;
	long da = res[*(const int *)a].duration_ms, db = res[*(const int *)b].duration_ms;

	return da < db ? 1 : da > db ? -1 : 0;
}

/* Up to this many tasks the summary lists them all; beyond, only those
 * that failed or wait for the tactician. */
#define SUMMARY_TABLE_MAX 50

static void summary_table(struct report *rep, const struct task_result *results)
{
	const struct plan *plan = rep->plan;
	bool all = plan->nr_order <= SUMMARY_TABLE_MAX;
	size_t name_width = 4, status_width = 6;
	bool any = false;

	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task_result *res = &results[plan->order[i]];
		size_t len = strlen(task_name(rep, plan->order[i]));

		if (!all && !task_status_failed(res->status) &&
		    !task_status_for_tactician(res->status) && !res->log_cut)
			continue;
		any = true;
		if (len > name_width && len <= 40)
			name_width = len;
		if (strlen(task_status_name(res->status)) > status_width)
			status_width = strlen(task_status_name(res->status));
	}
	if (!any)
		return;
	fputc('\n', rep->out);
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task_result *res = &results[n];
		struct strbuf line = STRBUF_INIT;
		bool by_tactician = !(res->reason && task_status_failed(res->status)) && res->note;
		const char *note = res->reason && task_status_failed(res->status) ? res->reason
				   : res->note ? res->note : res->summary ? res->summary : res->answer;
		size_t worker_at;

		if (!all && !task_status_failed(res->status) &&
		    !task_status_for_tactician(res->status) && !res->log_cut)
			continue;
		strbuf_addf(&line, "  %-*s  %-*s  ", (int)name_width, task_name(rep, n),
			    (int)status_width, task_status_name(res->status));
		worker_at = line.len;
		strbuf_add_printable(&line, res->worker ? res->worker : "-");
		while (line.len < worker_at + 6)
			strbuf_addch(&line, ' ');
		strbuf_addstr(&line, "  ");
		if (res->attempts || res->status == TASK_UP_TO_DATE)
			format_duration(&line, res->duration_ms);
		else
			strbuf_addch(&line, '-');
		if (res->log_cut)
			strbuf_addstr(&line, "  [log cut short]");
		if (note) {
			/* one line of it, whatever it holds */
			size_t len = strcspn(note, "\n");

			strbuf_addstr(&line, by_tactician ? "  tactician: " : "  ");
			strbuf_add_printable_len(&line, note, len > 80 ? 80 : len);
			if (len > 80 || note[len])
				strbuf_addstr(&line, "...");
		}
		fprintf(rep->out, "%s\n", line.buf);
		strbuf_release(&line);
	}
	fputc('\n', rep->out);
}

/* 950 -> "950", 12345 -> "12.3k", 2500000 -> "2.5M" */
static void add_count(struct strbuf *sb, long n)
{
	if (n < 1000)
		strbuf_addf(sb, "%ld", n);
	else if (n < 999950)
		strbuf_addf(sb, "%.1fk", (double)n / 1e3);
	else
		strbuf_addf(sb, "%.1fM", (double)n / 1e6);
}

void report_usage_text(struct strbuf *sb, const char *worker, const struct task_usage *u)
{
	strbuf_addf(sb, "%s: ", worker);
	if (u->known & USAGE_REQUESTS) {
		add_count(sb, u->requests);
		strbuf_addstr(sb, u->requests == 1 ? " request" : " requests");
	} else {
		strbuf_addstr(sb, "requests unknown");
	}
	if (u->known & (USAGE_INPUT | USAGE_OUTPUT)) {
		if (u->known & USAGE_INPUT) {
			strbuf_addstr(sb, ", ");
			add_count(sb, u->input_tokens);
			strbuf_addstr(sb, " tokens in");
		}
		if (u->known & USAGE_OUTPUT) {
			strbuf_addstr(sb, ", ");
			add_count(sb, u->output_tokens);
			strbuf_addstr(sb, u->known & USAGE_INPUT ? " out" : " tokens out");
		}
	} else if (u->known & USAGE_TOTAL) {
		strbuf_addstr(sb, ", ");
		add_count(sb, u->total_tokens);
		strbuf_addstr(sb, " tokens");
	} else {
		strbuf_addstr(sb, ", tokens unknown");
	}
}

/* One line per worker whose tasks reported usage: what this run spent
 * (`cached` false), or what the tasks restored from the cache had used
 * when they ran (`cached` true), said apart so that nobody reads it as
 * spent today. */
static void usage_lines(struct report *rep, const struct task_result *results, bool cached)
{
	const struct plan *plan = rep->plan;
	struct task_usage *sums = xcalloc(plan->nr_order + 1, sizeof(*sums));
	const char **names = xcalloc(plan->nr_order + 1, sizeof(*names));
	size_t nr = result_usage_by_worker(results, plan->order, plan->nr_order, cached, names,
					   sums);
	struct strbuf line = STRBUF_INIT;

	for (size_t w = 0; w < nr; w++) {
		strbuf_reset(&line);
		report_usage_text(&line, names[w], &sums[w]);
		if (cached)
			strbuf_addstr(&line, " (from the cache: used by the run that stored "
				      "it, not spent now)");
		put_printable(rep->out, line.buf);
		fputc('\n', rep->out);
	}
	strbuf_release(&line);
	free(sums);
	free(names);
}

void report_summary(struct report *rep, const struct task_result *results,
		    double wall_seconds, bool interrupted)
{
	const struct plan *plan = rep->plan;
	size_t counts[TASK_UP_TO_DATE + 1] = { 0 };
	int *ran = xmalloc((plan->nr_order + 1) * sizeof(int));
	size_t nr_ran = 0;
	struct strbuf line = STRBUF_INIT;
	static const struct { enum task_status s; const char *word; } parts[] = {
		{ TASK_OK, "ok" }, { TASK_UP_TO_DATE, "up to date" },
		{ TASK_DONE, "done by the tactician" },
		{ TASK_FAILED, "failed" }, { TASK_TIMED_OUT, "timed out" },
		{ TASK_INTERRUPTED, "interrupted" }, { TASK_SKIPPED, "skipped" },
		{ TASK_NOT_STARTED, "not started" }, { TASK_HANDOFF, "for the tactician" },
		{ TASK_ESCALATED, "escalated" },
		{ TASK_BLOCKED, "waiting behind a hand-off" },
	};
	const char *sep = "";
	size_t cached = 0;

	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];

		counts[results[n].status]++;
		cached += results[n].cached != NULL;
		if (results[n].attempts)
			ran[nr_ran++] = n;
	}
	clear_status(rep);
	if (rep->level > REPORT_QUIET)
		summary_table(rep, results);
	strbuf_addstr(&line, interrupted ? "squad: interrupted: " : "squad: ");
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (!counts[parts[i].s])
			continue;
		strbuf_addf(&line, "%s%zu %s", sep, counts[parts[i].s], parts[i].word);
		if (parts[i].s == TASK_OK && cached)
			strbuf_addf(&line, " (%zu from the cache)", cached);
		sep = ", ";
	}
	if (!*sep)
		strbuf_addstr(&line, "nothing to do");
	strbuf_addf(&line, " in %.2fs", wall_seconds);
	fprintf(rep->out, "%s\n", line.buf);

	if (nr_ran > 1 && rep->level > REPORT_QUIET) {
		qsort_r(ran, nr_ran, sizeof(int), by_duration, (void *)results);
		strbuf_reset(&line);
		strbuf_addstr(&line, "slowest:");
		for (size_t i = 0; i < nr_ran && i < SLOWEST; i++) {
			strbuf_addf(&line, "%s %s ", i ? "," : "", task_name(rep, ran[i]));
			format_duration(&line, results[ran[i]].duration_ms);
		}
		fprintf(rep->out, "%s\n", line.buf);
	}
	if (rep->level > REPORT_QUIET) {
		usage_lines(rep, results, false);
		usage_lines(rep, results, true);
	}
	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task_result *res = &results[plan->order[i]];

		if (!task_status_failed(res->status) || !res->log_path)
			continue;
		fprintf(rep->out, "%sfailed%s %s: log ", paint(rep, C_RED), paint(rep, C_RESET),
			task_name(rep, plan->order[i]));
		put_printable(rep->out, res->log_path);
		fputc('\n', rep->out);
	}
	strbuf_release(&line);
	free(ran);
	fflush(rep->out);
}

static const char *worker_name(const struct squadfile *sf, const struct task *t)
{
	return sf->workers[t->worker].name;
}

/* Text on one line, escaped (see put_printable()), cut at max bytes. */
static void print_one_line(FILE *out, const char *text, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = strnlen(text, max);

	strbuf_add_printable_len(&sb, text, len);
	fputs(sb.buf, out);
	if (text[len])
		fputs("...", out);
	strbuf_release(&sb);
}

/* An argv element as a shell would need it quoted, for reading only. */
static void print_quoted(FILE *out, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_shell_quoted(&sb, arg);
	print_one_line(out, sb.buf, 200);
	strbuf_release(&sb);
}

/* "limits: ..." for -n: -j, and each worker that would run a task. */
static void dry_run_limits(FILE *out, const struct plan *plan, unsigned jobs)
{
	const struct squadfile *sf = plan->sf;
	bool *used = xcalloc(sf->nr_workers + 1, sizeof(bool));

	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task *t = &sf->tasks[plan->order[i]];

		if (plan->action[plan->order[i]] == PLAN_RUN &&
		    (t->run || t->run_argv.nr || t->prompt))
			used[t->worker] = true;
	}
	fprintf(out, "limits: -j %u local processes at once", jobs);
	for (size_t w = 0; w < sf->nr_workers; w++) {
		bool own;
		unsigned n;

		if (!used[w])
			continue;
		n = run_worker_limit(&sf->workers[w], jobs, &own);
		fputs("; ", out);
		put_printable(out, sf->workers[w].name);
		fprintf(out, ": %u at once (%s)", n, own ? "its slots, apart from -j"
			: n < jobs ? "its slots, within -j" : "within -j");
	}
	fputc('\n', out);
	/* what each of them may still spend today */
	for (size_t w = 0; w < sf->nr_workers; w++) {
		const struct worker *wk = &sf->workers[w];
		struct strbuf sb = STRBUF_INIT;

		if (used[w] && !wk->is_shell && budget_describe(wk->name, wk->daily_limit,
								wk->per_minute, wk->daily_tokens, &sb)) {
			fputs("budget: ", out);
			put_printable(out, wk->name);
			fprintf(out, ": %s\n", sb.buf);
		}
		strbuf_release(&sb);
	}
	free(used);
}

void report_dry_run(FILE *out, const struct plan *plan, unsigned jobs)
{
	const struct squadfile *sf = plan->sf;
	char **names = escape_names(sf);
	struct strbuf shown = STRBUF_INIT;
	size_t width = 4;

	if (!plan->nr_order) {
		/* as the real run's summary says it (--changed, nothing changed) */
		fputs("squad: nothing to do\n", out);
		free_names(names, sf);
		return;
	}
	for (size_t i = 0; i < plan->nr_order; i++) {
		size_t len = strlen(shown_name(names, sf, plan->order[i]));

		if (len > width && len < 40)
			width = len;
	}
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];

		fprintf(out, "%4zu  %-*s  ", i + 1, (int)width, shown_name(names, sf, n));
		switch (plan->action[n]) {
		case PLAN_HANDOFF:
			fputs("hand-off (skills:", out);
			for (size_t j = 0; j < t->skills.nr; j++) {
				fputc(' ', out);
				put_printable(out, t->skills.v[j]);
			}
			fputs(")\n", out);
			continue;
		case PLAN_DONE:
			fputs("done (reported by the tactician)\n", out);
			continue;
		case PLAN_DONE_FAILED:
			fputs("failed (reported by the tactician)\n", out);
			continue;
		case PLAN_UP_TO_DATE:
			fputs("up to date\n", out);
			continue;
		case PLAN_RUN:
			break;
		}
		if (!t->run && !t->run_argv.nr && !t->prompt) {
			fputs("(group: done when its needs are)\n", out);
			continue;
		}
		print_padded(out, worker_name(sf, t), 6);
		fputs("  ", out);
		/* what will run, vars expanded; environment values masked */
		if (t->run) {
			expand_for_display(&shown, t->run, &sf->vars, &sf->env_vars);
			print_one_line(out, shown.buf, 200);
		} else if (t->run_argv.nr) {
			for (size_t j = 0; j < t->run_argv.nr; j++) {
				if (j)
					fputc(' ', out);
				strbuf_reset(&shown);
				expand_for_display(&shown, t->run_argv.v[j], &sf->vars,
						   &sf->env_vars);
				print_quoted(out, shown.buf);
			}
		} else {
			fputs("prompt: ", out);
			expand_for_display(&shown, t->prompt, &sf->vars, &sf->env_vars);
			print_one_line(out, shown.buf, 60);
		}
		strbuf_reset(&shown);
		if (plan->recheck[n])
			fputs("  (done mark: runs again to check)", out);
		if (t->isolation == ISOLATION_WORKTREE)
			fprintf(out, "  (in a worktree; changes: %s)", squadfile_changes_name(t->changes));
		fputc('\n', out);
	}
	dry_run_limits(out, plan, jobs);
	strbuf_release(&shown);
	free_names(names, sf);
}

static void join(struct strbuf *sb, const struct strvec *list)
{
	for (size_t i = 0; i < list->nr; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		strbuf_add_printable(sb, list->v[i]);
	}
}

void report_list(FILE *out, const struct squadfile *sf)
{
	char **names = escape_names(sf);
	size_t width = 4;

	for (size_t i = 0; i < sf->nr_tasks; i++) {
		size_t len = strlen(shown_name(names, sf, i));

		if (len > width && len < 40)
			width = len;
	}
	for (size_t i = 0; i < sf->nr_tasks; i++) {
		const struct task *t = &sf->tasks[i];
		struct strbuf desc = STRBUF_INIT, extra = STRBUF_INIT;
		bool is_default = strvec_find(&sf->default_targets, t->name) >= 0;

		if (t->needs.nr) {
			strbuf_addstr(&extra, "  needs: ");
			join(&extra, &t->needs);
		}
		if (t->skills.nr) {
			strbuf_addstr(&extra, "  skills: ");
			join(&extra, &t->skills);
		}
		strbuf_add_printable(&desc, t->desc ? t->desc : "");
		fprintf(out, "%-*s  %s%s%s\n", (int)width, shown_name(names, sf, i),
			desc.buf, is_default ? " (default)" : "", extra.buf);
		strbuf_release(&desc);
		strbuf_release(&extra);
	}
	free_names(names, sf);
}

/* A name as a DOT string: escaped for the terminal first, as anywhere. */
static void dot_quoted(FILE *out, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_printable(&sb, name);
	fputc('"', out);
	for (const char *s = sb.buf; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
	strbuf_release(&sb);
}

void report_graph_dot(FILE *out, const struct plan *plan)
{
	const struct squadfile *sf = plan->sf;
	const struct graph *g = plan->graph;

	fputs("digraph squad {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", out);
	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task *t = &sf->tasks[plan->order[i]];

		fputs("  ", out);
		dot_quoted(out, t->name);
		if (t->skills.nr)
			fputs(" [shape=doubleoctagon, style=filled, fillcolor=lightblue, "
			      "tooltip=\"hand-off to the tactician\"]", out);
		else if (!sf->workers[t->worker].is_shell)
			fputs(" [style=\"rounded,filled\", fillcolor=lightyellow]", out);
		fputs(";\n", out);
	}
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];

		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++) {
			fputs("  ", out);
			dot_quoted(out, sf->tasks[g->deps[e]].name);
			fputs(" -> ", out);
			dot_quoted(out, sf->tasks[n].name);
			fputs(";\n", out);
		}
	}
	fputs("}\n", out);
}

static json_t *string_list(const struct strvec *list)
{
	json_t *a = json_array();

	for (size_t i = 0; i < list->nr; i++)
		json_array_append_new(a, json_string(list->v[i]));
	return a;
}

void report_list_json(FILE *out, const struct squadfile *sf)
{
	json_t *tasks = json_array();
	char *text;

	for (size_t i = 0; i < sf->nr_tasks; i++) {
		const struct task *t = &sf->tasks[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "desc", t->desc ? json_string(t->desc) : json_null());
		json_object_set_new(o, "needs", string_list(&t->needs));
		json_object_set_new(o, "skills", string_list(&t->skills));
		json_object_set_new(o, "worker", t->skills.nr ? json_null()
				    : json_string(sf->workers[t->worker].name));
		json_object_set_new(o, "kind", json_string(t->skills.nr ? "hand-off"
				    : t->prompt && !t->run && !t->run_argv.nr ? "prompt"
				    : t->run || t->run_argv.nr ? "command" : "group"));
		json_object_set_new(o, "inputs", string_list(&t->inputs));
		json_object_set_new(o, "outputs", string_list(&t->outputs));
		json_object_set_new(o, "default", json_boolean(
				    strvec_find(&sf->default_targets, t->name) >= 0));
		json_array_append_new(tasks, o);
	}
	text = json_dumps(tasks, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fprintf(out, "%s\n", text);
	free(text);
	json_decref(tasks);
}

/* Mermaid ids are plain words: task names become t0, t1 ... with the
 * name as the label. */
static void mermaid_label(FILE *out, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_printable(&sb, name);
	fputc('"', out);
	for (const char *s = sb.buf; *s; s++) {
		if (*s == '"')
			fputs("#quot;", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
	strbuf_release(&sb);
}

void report_graph_mermaid(FILE *out, const struct plan *plan)
{
	const struct squadfile *sf = plan->sf;
	const struct graph *g = plan->graph;

	fputs("flowchart LR\n", out);
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];

		/* a hand-off is a hexagon, an agent's task a stadium */
		fprintf(out, "  t%d%s", n, t->skills.nr ? "{{" :
			!sf->workers[t->worker].is_shell ? "([" : "[");
		mermaid_label(out, t->name);
		fputs(t->skills.nr ? "}}\n" : !sf->workers[t->worker].is_shell ? "])\n" : "]\n", out);
	}
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];

		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
			fprintf(out, "  t%d --> t%d\n", g->deps[e], n);
	}
}

bool report_want_color(int setting, FILE *out)
{
	const char *term = getenv("TERM");
	const char *no_color = getenv("NO_COLOR");

	if (setting >= 0)
		return setting;
	if (no_color && *no_color)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(out));
}

bool report_can_redraw(FILE *out)
{
	const char *term = getenv("TERM");

	return isatty(fileno(out)) && !(term && !strcmp(term, "dumb"));
}

double report_seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}
