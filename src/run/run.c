/* run.c - the libuv scheduler; see run.h. */
#include "run/run.h"
#include "agents/agentpool.h"
#include "job/budget.h"
#include "cache/cachestep.h"
#include "run/changes.h"
#include "job/guard.h"
#include "job/job.h"
#include "job/outcome.h"
#include "job/spawner.h"
#include "util/tail.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* How much of a log is read back for `expect` and the summary line. */
#define OUTPUT_SCAN_MAX (1u << 20)
#define SUMMARY_MAX 200
/* libuv's pool size when the cache starts it (see cache_queue()) */
#define CACHE_LOOKUPS_AT_ONCE "16"

/* A binary max-heap of ready tasks, by critical-path priority. */
struct ready_heap {
	int *items;
	size_t nr, alloc;
};

struct runner;

/* A task waiting out a rate limit or a per-minute budget before its
 * next attempt; freed in its timer's close callback. */
struct delay {
	uv_timer_t timer;
	struct runner *r;
	size_t task;
	struct delay *prev, *next;
};

struct runner {
	uv_loop_t loop;
	const struct plan *plan;
	const struct squadfile *sf;
	const struct graph *g;
	struct state *st;
	const struct run_options *opts;
	const struct run_observer *obs;
	struct task_result *res;
	size_t *pending;          /* unfinished dependencies */
	int *log_fds;             /* per task while it runs, else -1 */
	int *out_fds;             /* agent stdout files, else -1 */
	off_t *attempt_from;      /* where the running attempt's part of its
				   * log begins: only that part is judged */
	uint64_t *started_at;     /* first attempt, uv_hrtime() */
	struct ready_heap *ready; /* one per worker */
	unsigned *busy;           /* per worker */
	unsigned running;         /* every running job */
	unsigned running_local;   /* those that count against -j */
	unsigned max_running;     /* all jobs at once, fewer when fds are short */
	struct job *jobs;         /* running list */
	bool stop;                /* no new task starts */
	bool interrupted;
	int signals;
	struct delay *delays;     /* tasks waiting to retry (rate limits) */
	struct regex *default_rate_re; /* rate_re_of() compiles it */
	bool default_rate_tried;
	struct program_cache programs;
	struct spawner spawner;   /* set up with the first spawn */
	bool spawner_ready;
	/* request-log folders of killed squads removed (once a run) */
	bool api_swept;
	struct guard guard;       /* ends the tasks if squad is killed */
	struct agent_pool agents; /* warm ACP agents (protocol: acp) */
	long *acp_reserved;       /* per task: requests charged at admission */
	bool guard_tried;
	unsigned cache_lookups;   /* on libuv's pool: tasks that may yet run */
	bool pool_started;        /* libuv's pool has had its first work */
	struct change **changes;  /* per isolated task, made at its first attempt */
	struct change_ledger ledger; /* what applied changes wrote, and whose */
	struct strvec old_log_names; /* in .squad/logs/ when the run began */
	struct strmap old_logs;      /* their index */
	uv_signal_t sig[3];
	uv_signal_t sigchld;
	uv_timer_t kill_timer;
	uv_timer_t tick_timer;
	struct strbuf *err;
	int status;               /* -1 once squad itself failed */
	struct job_owner job_owner; /* how its jobs report to it (job.h) */
	/* Every job's output passes through here to its log: job_output()
	 * consumes each read before the loop makes the next one. */
	char read_buf[65536];
};

/* --- ready heap ---------------------------------------------------- */

static bool before(const struct runner *r, int a, int b)
{
	double pa = r->plan->priority[a], pb = r->plan->priority[b];

	return pa != pb ? pa > pb : a < b;
}

static void heap_push(struct runner *r, struct ready_heap *h, int task)
{
	size_t i;

	ALLOC_GROW(h->items, h->nr + 1, h->alloc);
	i = h->nr++;
	while (i && before(r, task, h->items[(i - 1) / 2])) {
		h->items[i] = h->items[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->items[i] = task;
}

static int heap_pop(struct runner *r, struct ready_heap *h)
{
	int top = h->items[0], last = h->items[--h->nr];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->nr)
			break;
		if (c + 1 < h->nr && before(r, h->items[c + 1], h->items[c]))
			c++;
		if (!before(r, h->items[c], last))
			break;
		h->items[i] = h->items[c];
		i = c;
	}
	if (h->nr)
		h->items[i] = last;
	return top;
}

/* --- helpers ------------------------------------------------------- */

static const struct worker *worker_of(const struct runner *r, size_t task)
{
	const struct task *t = &r->sf->tasks[task];

	if (r->opts->worker_override >= 0)
		return &r->sf->workers[r->opts->worker_override];
	return &r->sf->workers[t->worker];
}

static size_t worker_index(const struct runner *r, size_t task)
{
	return (size_t)(worker_of(r, task) - r->sf->workers);
}

unsigned run_worker_limit(const struct worker *w, unsigned jobs, bool *own)
{
	bool by_slots = !w->is_shell && w->slots;

	if (own)
		*own = by_slots;
	if (by_slots || (w->slots && w->slots < jobs))
		return w->slots;
	return jobs;
}

/* Is worker w bounded by its own slots rather than -j? */
static bool own_limit(const struct runner *r, size_t w)
{
	bool own;

	run_worker_limit(&r->sf->workers[w], r->opts->jobs, &own);
	return own;
}

/* A job is over: its slot and, if it counts against -j, its job. */
static void job_released(struct runner *r, size_t task)
{
	size_t w = worker_index(r, task);

	if (--r->running == 0)
		uv_unref((uv_handle_t *)&r->sigchld);
	r->busy[w]--;
	if (!own_limit(r, w))
		r->running_local--;
}

static void log_line(struct runner *r, size_t task, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A log that cannot be opened or written (a full disk, a symlink in its
 * place) loses output, not the run: the task's status stays its own, but
 * squad says so, once, and the run ends with an error. */
static void log_failed(struct runner *r, size_t task, const char *path, bool opening,
		       int errnum)
{
	r->res[task].log_cut = true;
	if (r->status == 0) {
		if (errnum == ELOOP)
			strbuf_addf(r->err, "'%s' is a symlink; squad will not write through "
				    "it, so the output of '%s' is lost", path,
				    r->sf->tasks[task].name);
		else
			strbuf_addf(r->err, "cannot %s '%s': %s; the output of '%s' is %s",
				    opening ? "open" : "write", path, strerror(errnum),
				    r->sf->tasks[task].name, opening ? "lost" : "incomplete");
	}
	r->status = -1;
}

/* The task's log, opened on its first byte: a task that says nothing
 * costs no file (creating thousands of inodes is what a run of small
 * tasks would spend most of its time on). Opened once per run with
 * O_TRUNC, then appended to. Returns the fd, or -1 (and -2 is kept in
 * log_fds once opening failed, so that it is tried once per task). */
static int ensure_log(struct runner *r, size_t task)
{
	struct task_result *res = &r->res[task];
	struct strbuf path = STRBUF_INIT;
	int fd;

	if (r->log_fds[task] >= 0 || r->log_fds[task] == -2 || !r->st)
		return r->log_fds[task] >= 0 ? r->log_fds[task] : -1;
	/* read back later for `expect` and the summary line; by the fd of
	 * logs/ held since the start, which a task cannot swap */
	fd = state_open_log(r->st, r->sf->tasks[task].name, STATE_LOG_EXT,
			    O_RDWR | O_CREAT | O_APPEND | (res->log_path ? 0 : O_TRUNC), &path);
	if (fd >= 0) {
		r->log_fds[task] = fd;
		if (!res->log_path)
			res->log_path = strbuf_detach(&path, NULL);
	} else {
		log_failed(r, task, path.buf, true, errno);
		r->log_fds[task] = -2;
	}
	strbuf_release(&path);
	return fd;
}

/* Append `len` bytes to the task's log, all of them or an error. */
static void log_write(struct runner *r, size_t task, const char *data, size_t len)
{
	int fd = ensure_log(r, task);

	while (fd >= 0 && len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_failed(r, task, r->res[task].log_path, false, n < 0 ? errno : ENOSPC);
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

/* squad's own words in a task's log, marked so they are not mistaken for
 * the task's output */
static void log_line(struct runner *r, size_t task, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&sb, "squad: ");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	log_write(r, task, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* The running attempt's own output, at most its last `max` bytes: a
 * retry is judged on what it printed, never on an earlier attempt's
 * lines (a pass it printed before failing would match `expect`). */
static void read_attempt_log(struct runner *r, size_t task, size_t max, struct strbuf *out)
{
	tail_read(r->log_fds[task], r->attempt_from[task], max, out);
}

/* Where the next attempt's output begins in the task's log. */
static void mark_attempt_start(struct runner *r, size_t task)
{
	struct stat sb;

	r->attempt_from[task] = r->log_fds[task] >= 0 && fstat(r->log_fds[task], &sb) == 0
				? sb.st_size : 0;
}

/* The last non-empty line of text, cut to SUMMARY_MAX bytes. */
static char *last_line(const char *text, size_t len)
{
	const char *end = text + len, *start;

	while (end > text && strchr(" \t\r\n", end[-1]))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	while (start < end && strchr(" \t\r", *start))
		start++;
	if (start == end)
		return NULL;
	return xstrndup(start, (size_t)(end - start) > SUMMARY_MAX ? SUMMARY_MAX
								   : (size_t)(end - start));
}

static void set_str(char **field, char *value)
{
	free(*field);
	*field = value;
}

/* --- completion and propagation ------------------------------------ */

static void became_ready(struct runner *r, size_t task);

static void announce(struct runner *r, size_t task)
{
	if (r->obs->finished)
		r->obs->finished(r->obs->data, task, &r->res[task]);
}

/* Mark every undecided task behind `from` with `status`, cause `from`. */
static void mark_behind(struct runner *r, size_t from, enum task_status status)
{
	const struct graph *g = r->g;
	int *queue = xmalloc(g->nr * sizeof(int));
	size_t head = 0, tail = 0;

	queue[tail++] = (int)from;
	while (head < tail) {
		int n = queue[head++];

		for (size_t e = g->rdep_start[n]; e < g->rdep_start[n + 1]; e++) {
			int d = g->rdeps[e];

			if (!r->plan->in[d] || r->res[d].status != TASK_PENDING)
				continue;
			r->res[d].status = status;
			r->res[d].cause = (long)from;
			announce(r, (size_t)d);
			queue[tail++] = d;
		}
	}
	free(queue);
}

static void succeeded(struct runner *r, size_t task)
{
	const struct graph *g = r->g;

	for (size_t e = g->rdep_start[task]; e < g->rdep_start[task + 1]; e++) {
		int d = g->rdeps[e];

		if (r->plan->in[d] && r->res[d].status == TASK_PENDING && !--r->pending[d])
			became_ready(r, (size_t)d);
	}
}

/* Settle `task` with its final status and tell whoever waits on it. */
static void settle(struct runner *r, size_t task, enum task_status status)
{
	r->res[task].status = status;
	announce(r, task);
	if (task_status_ok(status)) {
		succeeded(r, task);
	} else if (task_status_for_tactician(status)) {
		/* an escalation is a failure, but the tactician may mend it:
		 * what is behind it waits, and the run goes on */
		mark_behind(r, task, TASK_BLOCKED);
	} else if (task_status_failed(status)) {
		if (!r->opts->keep_going)
			r->stop = true;
		mark_behind(r, task, TASK_SKIPPED);
	}
}

/* Not run: its last result stands, and its last log can be replayed. */
static void up_to_date(struct runner *r, size_t task)
{
	const struct task_record *rec = state_get(r->st, r->sf->tasks[task].name);
	struct task_result *res = &r->res[task];
	struct strbuf path = STRBUF_INIT;
	struct stat sb;

	res->duration_ms = rec->duration_ms;
	res->exit_code = rec->exit_code;
	res->worker = worker_of(r, task)->name;
	res->log_cut = rec->log_cut;
	if (rec->summary)
		set_str(&res->summary, xstrdup(rec->summary));
	if (rec->answer)
		set_str(&res->answer, xstrdup(rec->answer));
	state_log_path(r->st, rec->task, &path);
	/* a stat per task is what a no-op run of thousands would pay for
	 * nothing: only when the log is to be replayed */
	if (r->opts->replay && stat(path.buf, &sb) == 0) {
		res->output_bytes = (unsigned long long)sb.st_size;
		set_str(&res->log_path, strbuf_detach(&path, NULL));
	}
	strbuf_release(&path);
	settle(r, task, TASK_UP_TO_DATE);
}

/* --- the result cache (cachestep.h) -------------------------------- */

/* A lookup or a store on libuv's pool: the cache's stores may be a
 * server, and the loop must not wait on them. */
struct cache_work {
	uv_work_t req;
	struct runner *r;
	size_t task;
	bool store;
	int hit;
	struct cache_hit found;
	struct cache_result result; /* a store's; the strings below */
	char *summary, *answer, *log_path;
	struct task_result tools;   /* a store's copy of the tool calls */
	struct strbuf notice;
};

static void record(struct runner *r, size_t task);
static void start_ready(struct runner *r);

static void cache_tell(struct runner *r, struct strbuf *notice)
{
	if (notice->len && r->opts->cache_notice)
		r->opts->cache_notice(r->opts->cache_notice_data, notice->buf);
}

static void cache_work(uv_work_t *req)
{
	struct cache_work *w = req->data;

	if (w->store)
		cachestep_store(w->r->opts->cache, w->task, &w->result, &w->notice);
	else
		w->hit = cachestep_fetch(w->r->opts->cache, w->task, &w->found, &w->notice);
}

/* A hit: the outputs are back; the log is the task's log again, its
 * result stands, and it is recorded as a success of this run's
 * definition and inputs (the next run finds it up to date). */
static void restored(struct runner *r, size_t task, struct cache_hit *h)
{
	struct task_result *res = &r->res[task];
	const char *name = r->sf->tasks[task].name;
	struct strbuf path = STRBUF_INIT;

	res->worker = worker_of(r, task)->name;
	res->exit_code = h->exit_code;
	res->duration_ms = h->duration_ms;
	res->log_cut = h->log_cut;
	res->cached = cache_source_name(h->source);
	set_str(&res->summary, h->summary);
	set_str(&res->answer, h->answer);
	h->summary = h->answer = NULL;
	/* the stored run's tool calls and usage, shown as its: the task is
	 * marked cached, and the reports keep its usage apart from what
	 * this run spent (no model was asked, no budget charged) */
	task_result_release_tools(res);
	for (size_t i = 0; i < h->nr_tools; i++)
		task_result_add_tool(res, &h->tools[i]);
	res->tools_omitted += h->tools_omitted;
	res->usage = h->usage;
	if (h->log.len) {
		log_write(r, task, h->log.buf, h->log.len);
		if (r->log_fds[task] >= 0) {
			res->output_bytes = h->log.len;
			close(r->log_fds[task]);
		}
		r->log_fds[task] = -1;
	} else if (r->st) {
		/* silent when stored: an older log would mislead */
		state_log_path(r->st, name, &path);
		if (strmap_get(&r->old_logs, strrchr(path.buf, '/') + 1) >= 0)
			state_unlink_log(r->st, strrchr(path.buf, '/') + 1);
	}
	strbuf_release(&path);
	res->status = TASK_OK;
	record(r, task);
	settle(r, task, TASK_OK);
}

static void cache_work_done(uv_work_t *req, int status)
{
	struct cache_work *w = req->data;
	struct runner *r = w->r;

	cache_tell(r, &w->notice);
	if (!w->store) {
		r->cache_lookups--;
		if (status == 0 && w->hit == 1)
			restored(r, w->task, &w->found);
		else
			heap_push(r, &r->ready[worker_index(r, w->task)], (int)w->task);
		start_ready(r);
	}
	cache_hit_release(&w->found);
	strbuf_release(&w->notice);
	free(w->summary);
	free(w->answer);
	free(w->log_path);
	task_result_release_tools(&w->tools);
	free(w);
}

static void cache_queue(struct runner *r, struct cache_work *w)
{
	w->req.data = w;
	w->r = r;
	strbuf_init(&w->notice, 0);
	strbuf_init(&w->found.log, 0);
	if (!w->store)
		r->cache_lookups++;
	if (!r->pool_started) {
		/* lookups wait on a server, not a CPU: more at once than
		 * libuv's 4. Its pool reads the variable once, when the first
		 * work starts it, and tasks must not inherit it (node is
		 * libuv too): set around that first call only. */
		bool set = !getenv("UV_THREADPOOL_SIZE");

		if (set)
			setenv("UV_THREADPOOL_SIZE", CACHE_LOOKUPS_AT_ONCE, 1);
		r->pool_started = true;
		if (uv_queue_work(&r->loop, &w->req, cache_work, cache_work_done) < 0) {
			cache_work(&w->req);
			cache_work_done(&w->req, 0);
		}
		if (set)
			unsetenv("UV_THREADPOOL_SIZE");
		return;
	}
	if (uv_queue_work(&r->loop, &w->req, cache_work, cache_work_done) < 0) {
		/* no pool: here, then */
		cache_work(&w->req);
		cache_work_done(&w->req, 0);
	}
}

static void cache_lookup(struct runner *r, size_t task)
{
	struct cache_work *w = xcalloc(1, sizeof(*w));

	w->task = task;
	cache_queue(r, w);
}

/* A success: stored as the task left it (its outputs are read now). */
static void cache_store(struct runner *r, size_t task)
{
	const struct task_result *res = &r->res[task];
	struct cache_work *w = xcalloc(1, sizeof(*w));

	w->task = task;
	w->store = true;
	w->summary = res->summary ? xstrdup(res->summary) : NULL;
	w->answer = res->answer ? xstrdup(res->answer) : NULL;
	w->log_path = res->log_path ? xstrdup(res->log_path) : NULL;
	w->result.exit_code = res->exit_code;
	w->result.duration_ms = res->duration_ms;
	w->result.log_cut = res->log_cut;
	w->result.summary = w->summary;
	w->result.answer = w->answer;
	w->result.log_path = w->log_path;
	/* a copy: the store runs on the pool while the loop goes on */
	for (size_t i = 0; i < res->nr_tools; i++)
		task_result_add_tool(&w->tools, &res->tools[i]);
	w->result.tools = w->tools.tools;
	w->result.nr_tools = w->tools.nr_tools;
	w->result.tools_omitted = res->tools_omitted;
	w->result.usage = res->usage;
	cache_queue(r, w);
}

static void became_ready(struct runner *r, size_t task)
{
	const struct task *t = &r->sf->tasks[task];

	/* the tactician's note, shown in the summary; for a task run again
	 * after a done mark it is only a note, its real result counts */
	if ((r->plan->action[task] == PLAN_DONE || r->plan->action[task] == PLAN_DONE_FAILED ||
	     r->plan->recheck[task]) && r->st) {
		const struct task_record *rec = state_get(r->st, t->name);

		if (rec && rec->note)
			set_str(&r->res[task].note, xstrdup(rec->note));
	}
	switch (r->plan->action[task]) {
	case PLAN_RUN:
		if (!t->run && !t->run_argv.nr && !t->prompt)
			settle(r, task, TASK_OK); /* a group: done when its needs are */
		else if (cachestep_serves(r->opts->cache, task))
			cache_lookup(r, task); /* queued or settled when it is back */
		else
			heap_push(r, &r->ready[worker_index(r, task)], (int)task);
		break;
	case PLAN_HANDOFF:
		settle(r, task, TASK_HANDOFF);
		break;
	case PLAN_DONE: {
		const struct task_record *rec = r->st ? state_get(r->st, t->name) : NULL;

		/* the tactician's note is this task's answer for those behind it */
		if (rec && rec->note)
			set_str(&r->res[task].answer, xstrdup(rec->note));
		settle(r, task, TASK_DONE);
		break;
	}
	case PLAN_DONE_FAILED:
		set_str(&r->res[task].reason, xstrdup("reported failed by the tactician"));
		settle(r, task, TASK_FAILED);
		break;
	case PLAN_UP_TO_DATE:
		up_to_date(r, task);
		break;
	}
}

static void record(struct runner *r, size_t task)
{
	struct task_result *res = &r->res[task];
	struct task_record rec = { 0 };
	struct strbuf err = STRBUF_INIT;
	bool lost;

	if (!r->st || (res->status != TASK_OK && !task_status_failed(res->status) &&
		       res->status != TASK_ESCALATED))
		return;
	rec.task = r->sf->tasks[task].name;
	rec.status = res->status == TASK_OK ? RECORD_OK : RECORD_FAILED;
	rec.fingerprint = (char *)plan_fingerprint(r->plan, task);
	rec.exit_code = res->exit_code;
	rec.duration_ms = res->duration_ms;
	rec.finished = (long long)time(NULL);
	rec.attempts = res->attempts;
	rec.summary = res->summary;
	rec.answer = res->answer;
	rec.log_cut = res->log_cut;
	/* both are tried, whatever the first gives */
	lost = res->status == TASK_OK && r->plan->inputs[task].len &&
	       state_save_inputs(r->st, rec.task, &r->plan->inputs[task], &err) < 0;
	if (state_put(r->st, &rec, &err) < 0)
		lost = true;
	if (lost) {
		/* keep running: the tasks' results stand, only memory of them
		 * is lost; say so once */
		if (r->status == 0)
			strbuf_addstr(r->err, err.buf);
		r->status = -1;
	}
	strbuf_release(&err);
}

/* Does the attempt's output (an agent's answer, else its log) meet the
 * task's `expect`? On a match, the matching line is the summary. */
static enum expect_verdict check_expect(struct runner *r, size_t task)
{
	const struct task *t = &r->sf->tasks[task];
	struct task_result *res = &r->res[task];
	struct strbuf out = STRBUF_INIT, line = STRBUF_INIT;
	enum expect_verdict v;

	if (!t->expect_re)
		return EXPECT_NONE;
	if (!res->answer)
		read_attempt_log(r, task, OUTPUT_SCAN_MAX, &out);
	if (regex_last_matching_line(t->expect_re, res->answer ? res->answer : out.buf,
				     res->answer ? strlen(res->answer) : out.len, &line)) {
		set_str(&res->summary, xstrndup(line.buf, line.len > SUMMARY_MAX
						? SUMMARY_MAX : line.len));
		v = EXPECT_MATCHED;
	} else {
		log_line(r, task, "the output does not match expect: %s", t->expect);
		v = EXPECT_MISSED;
	}
	strbuf_release(&line);
	strbuf_release(&out);
	return v;
}

/* The summary line (unless `expect` gave one) and the log's size. */
static void summarize(struct runner *r, size_t task)
{
	struct task_result *res = &r->res[task];
	struct strbuf out = STRBUF_INIT;
	struct stat sb;

	if (!res->summary) {
		if (res->answer) {
			res->summary = last_line(res->answer, strlen(res->answer));
		} else {
			read_attempt_log(r, task, OUTPUT_SCAN_MAX, &out);
			res->summary = last_line(out.buf, out.len);
		}
	}
	if (fstat(r->log_fds[task], &sb) == 0)
		res->output_bytes = (unsigned long long)sb.st_size;
	strbuf_release(&out);
}

static void close_task_files(struct runner *r, size_t task)
{
	if (!r->res[task].log_path && r->st && r->res[task].attempts && r->old_logs.nr) {
		/* silent this time: a log of an earlier run would mislead */
		struct strbuf path = STRBUF_INIT;

		state_log_path(r->st, r->sf->tasks[task].name, &path);
		if (strmap_get(&r->old_logs, strrchr(path.buf, '/') + 1) >= 0)
			state_unlink_log(r->st, strrchr(path.buf, '/') + 1);
		strbuf_release(&path);
	}
	if (r->log_fds[task] >= 0)
		close(r->log_fds[task]);
	if (r->out_fds[task] >= 0)
		close(r->out_fds[task]);
	r->log_fds[task] = r->out_fds[task] = -1;
}

/* --- isolate: worktree (changes.h) -------------------------------- */

/* The Squadfile and task an attempt of `task` is built from: views into
 * its worktree while one exists. */
static void task_view(const struct runner *r, size_t task, const struct squadfile **sf,
		      const struct task **t)
{
	const struct change *c = r->changes ? r->changes[task] : NULL;

	*sf = c && c->active ? &c->sf_view : r->sf;
	*t = c && c->active ? &c->task_view : &r->sf->tasks[task];
}

/* An attempt of an isolated task starts in a worktree of its own. */
static int isolate_attempt(struct runner *r, size_t task, struct strbuf *why)
{
	struct change **c = &r->changes[task];

	if (!r->st) {
		strbuf_addstr(why, "cannot run isolated without squad's state folder");
		return -1;
	}
	if (!*c) {
		*c = xmalloc(sizeof(**c));
		**c = (struct change)CHANGE_INIT;
	}
	{
		struct strbuf err = STRBUF_INIT;
		int rc = change_begin(*c, r->sf, &r->sf->tasks[task], r->st->dir, &err);

		if (rc < 0)
			strbuf_addf(why, "cannot run isolated: %s", err.buf);
		strbuf_release(&err);
		return rc;
	}
}

/* The attempt is over: its change taken, its worktree removed. */
static void isolate_attempt_end(struct runner *r, size_t task, struct attempt *a)
{
	struct change *c = r->changes ? r->changes[task] : NULL;
	struct strbuf err = STRBUF_INIT;

	if (c && c->active && change_end(c, &err) < 0) {
		log_line(r, task, "cannot take its change: %s", err.buf);
		a->change_error = c->error;
	}
	strbuf_release(&err);
}

/* The task is over: its change applied, kept or dropped, before anything
 * behind it starts (so that it sees an applied change). */
static void isolate_settle(struct runner *r, size_t task, enum task_status status)
{
	struct change *c = r->changes ? r->changes[task] : NULL;
	struct strbuf log = STRBUF_INIT, err = STRBUF_INIT;

	if (!c)
		return;
	change_abort(c); /* an attempt that never started */
	if (change_settle(c, r->st, r->sf->root, &r->sf->tasks[task], status, r->res[task].answer,
			  &r->ledger, &r->res[task], &log, &err) < 0) {
		if (r->status == 0)
			strbuf_addstr(r->err, err.buf);
		r->status = -1;
	}
	strbuf_rtrim(&log);
	if (log.len)
		log_write(r, task, log.buf, log.len);
	if (log.len)
		log_write(r, task, "\n", 1);
	strbuf_release(&log);
	strbuf_release(&err);
}

/* The task is over with `status`, as outcome_decide() said. */
static void finish_task(struct runner *r, size_t task, enum task_status status)
{
	isolate_settle(r, task, status);
	r->res[task].duration_ms = (long)((uv_hrtime() - r->started_at[task]) / 1000000);
	if (status == TASK_OK || task_status_failed(status))
		summarize(r, task);
	close_task_files(r, task);
	r->res[task].status = status;
	record(r, task);
	/* only a success: a red test never comes back green */
	if (status == TASK_OK && cachestep_keeps(r->opts->cache, task))
		cache_store(r, task);
	settle(r, task, status);
}

/* --- processes ----------------------------------------------------- */

static void start_ready(struct runner *r);
static int start_attempt(struct runner *r, size_t task);
static void cannot_start(struct runner *r, size_t task, const char *why);

static void unlink_job(struct runner *r, struct job *job)
{
	if (job->prev)
		job->prev->next = job->next;
	else
		r->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
}

/* The tokens a call reported, into its worker's daily_tokens count. */
static void charge_tokens(struct runner *r, size_t task, const struct worker *w, long input,
			  long output, long total)
{
	struct strbuf err = STRBUF_INIT;
	long tokens = budget_call_tokens(input, output, total);

	if (w->daily_tokens && tokens > 0 && budget_add_tokens(w->name, tokens, &err) < 0)
		log_line(r, task, "%s", err.buf);
	strbuf_release(&err);
}

/* A tool call of an agent, as it began or changed: a line in the task's
 * log, and a `tool` event for the observer (--json). */
static void report_tool(struct runner *r, size_t task, const struct task_tool *t)
{
	log_line(r, task, "tool %s%s%s: %s%s%s%s", t->kind ? t->kind : "call",
		 t->title ? " " : "", t->title ? t->title : "",
		 t->status ? t->status : "pending", t->target ? " (" : "",
		 t->target ? t->target : "", t->target ? ")" : "");
	if (r->obs->tool)
		r->obs->tool(r->obs->data, task, t);
}

/* The first tool call of an attempt that was refused (squad's policy,
 * or the agent CLI's own approval mode: its decision reads "denied:
 * why"), in words into sb and named by a->refused, for outcome.c. */
static void note_refused(struct attempt *a, const struct task_tool *t, struct strbuf *sb)
{
	const char *target = t->target ? t->target : t->title;

	if (a->refused || !t->decision || strncmp(t->decision, "denied", 6))
		return;
	strbuf_addstr(sb, t->kind ? t->kind : "a tool");
	if (target)
		strbuf_addf(sb, " '%s'", target);
	strbuf_addstr(sb, t->decision + 6);
	a->refused = sb->buf;
}

/* Is an agent's answer missing, or only blanks? */
static bool blank(const char *answer)
{
	return !answer || !answer[strspn(answer, " \t\r\n")];
}

/* An agent's stdout: its answer goes into the result (and the log, so
 * the log tells the whole story); worker.c's verdict on it (with its
 * stderr and its request log) into `a`, its words into `*why` (to free,
 * or left NULL); and the requests it made into the worker's budget, for
 * every attempt, killed ones included. `*spent` is set when the agent
 * was rate limited for the whole of its time (it retried until its wall
 * time, or was killed): backing off could only pass its timeout. A
 * tool call refused goes into `refused` (note_refused()). */
static void read_agent_output(struct runner *r, struct job *job, struct attempt *a, char **why,
			      bool *spent, struct strbuf *refused)
{
	size_t task = job->task;
	const struct worker *w = worker_of(r, task);
	struct task_result *res = &r->res[task];
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, tail = STRBUF_INIT;
	struct agent_result ar;
	struct agent_attempt at = { 0 };
	long used;

	if (w->output != WORKER_OUTPUT_QWEN_JSON || r->out_fds[task] < 0) {
		tail_read(r->out_fds[task], 0, OUTPUT_SCAN_MAX, &out);
		if (out.len && a->end != ATTEMPT_INTERRUPTED && a->end != ATTEMPT_TIMED_OUT) {
			strbuf_utf8_sanitize(&out);
			set_str(&res->answer, xstrdup(out.buf));
			strbuf_rtrim(&out);
			log_line(r, task, "answer:\n%s", out.buf);
		}
		strbuf_release(&out);
		return;
	}
	tail_read(r->out_fds[task], 0, 64u << 20, &out);
	read_attempt_log(r, task, 65536, &tail);
	at.exit_code = res->exit_code;
	at.timed_out = job->timed_out;
	at.out = out.buf;
	at.out_len = out.len;
	at.err = tail.buf;
	at.err_len = tail.len;
	at.api_dir = job->api_dir;
	worker_judge_agent(w, &at, &ar);
	/* the one-shot path learns of its tool calls only at the end: each
	 * is told once, in its last state, as an ACP turn's are kept */
	for (size_t i = 0; i < ar.nr_tools; i++) {
		const struct task_tool *t = &ar.tools[i];

		/* said as the ACP policy says its own (the decision is
		 * "denied: why") */
		if (t->decision)
			log_line(r, task, "%.*s %s%s%s%s%s", (int)strcspn(t->decision, ":"),
				 t->decision, t->kind, t->target ? " '" : "",
				 t->target ? t->target : "", t->target ? "'" : "",
				 t->decision + strcspn(t->decision, ":"));
		report_tool(r, task, t);
		task_result_add_tool(res, t);
		note_refused(a, t, refused);
	}
	a->no_answer = blank(ar.answer);
	if (ar.answer) {
		strbuf_reset(&out);
		strbuf_addstr(&out, ar.answer);
		strbuf_utf8_sanitize(&out);
		set_str(&res->answer, xstrdup(out.buf));
		log_line(r, task, "answer:\n%s", out.buf);
	}
	if (ar.provider)
		log_line(r, task, "%s", ar.provider);
	if (a->end != ATTEMPT_INTERRUPTED && ar.verdict == AGENT_TIMED_OUT) {
		/* stopped at the wall time squad gave it: its timeout */
		a->end = ATTEMPT_TIMED_OUT;
		if (ar.reason)
			log_line(r, task, "%s", ar.reason);
	} else if (a->end != ATTEMPT_INTERRUPTED && ar.verdict != AGENT_OK) {
		a->agent_failed = true;
		*spent = ar.verdict == AGENT_RATE_LIMITED &&
			(a->end == ATTEMPT_TIMED_OUT || a->exit_code == 55);
		a->rate_limited = ar.verdict == AGENT_RATE_LIMITED && !*spent;
		if (ar.reason) {
			*why = xstrdup(ar.reason);
			/* an is_error escalation carries the agent's words in its log */
			log_line(r, task, "the agent failed: %s", *why);
		}
		/* the summary line is the agent's own message, not the last
		 * line of its stderr (the closing brace of its error JSON) */
		set_str(&res->summary, xstrdup(ar.verdict == AGENT_FAILED && ar.error ? ar.error
					     : ar.reason ? ar.reason : "the agent failed"));
		res->summary[strcspn(res->summary, "\n")] = '\0';
	} else if (ar.verdict == AGENT_OK) {
		set_str(&res->summary, NULL);
	}
	task_usage_add(&res->usage, ar.requests, ar.input_tokens, ar.output_tokens,
		       ar.total_tokens);
	/* what the call used, against what it was charged when admitted; a
	 * call that never said, or was cut short, keeps at least its charge */
	used = ar.requests >= 0 ? ar.requests : job->reserved;
	if ((ar.cut_short || a->end == ATTEMPT_INTERRUPTED) && used < job->reserved)
		used = job->reserved;
	if (job->reserved && used != job->reserved &&
	    budget_settle(w->name, used - job->reserved, &err) < 0)
		log_line(r, task, "%s", err.buf);
	charge_tokens(r, task, w, ar.input_tokens, ar.output_tokens, ar.total_tokens);
	agent_result_release(&ar);
	strbuf_release(&out);
	strbuf_release(&tail);
	strbuf_release(&err);
}

/* The pattern that says an agent of worker `w` was rate limited: its
 * own, or the default. The default is compiled on first use: with
 * PCRE2's JIT that is a tenth of a small run's CPU, and a run of shell
 * tasks never asks. */
static const struct regex *rate_re_of(struct runner *r, const struct worker *w)
{
	if (w->rate_limit_re)
		return w->rate_limit_re;
	if (!r->default_rate_tried) {
		struct strbuf e = STRBUF_INIT;
		size_t off;

		r->default_rate_tried = true;
		r->default_rate_re = regex_compile(outcome_rate_limit_pattern, &e, &off);
		strbuf_release(&e);
	}
	return r->default_rate_re;
}

/* Does this attempt's output say the model was rate limited? */
static bool rate_limited(struct runner *r, size_t task, const struct attempt *a)
{
	const struct worker *w = worker_of(r, task);
	const struct regex *re;
	struct strbuf text = STRBUF_INIT;
	bool ok = a->end == ATTEMPT_EXITED && !a->exit_code && !a->agent_failed;
	bool hit;

	if (w->is_shell || !(re = rate_re_of(r, w)))
		return false;
	if (!ok) {
		tail_read(r->out_fds[task], 0, 65536, &text);
		read_attempt_log(r, task, 65536, &text);
	}
	hit = outcome_reads_rate_limited(re, ok, r->res[task].answer, text.buf, text.len);
	strbuf_release(&text);
	return hit;
}

static void delay_closed(uv_handle_t *h)
{
	free(h->data);
}

static void unlink_delay(struct runner *r, struct delay *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		r->delays = d->next;
	if (d->next)
		d->next->prev = d->prev;
	uv_close((uv_handle_t *)&d->timer, delay_closed);
}

static void delay_done(uv_timer_t *timer)
{
	struct delay *d = timer->data;
	struct runner *r = d->r;
	size_t task = d->task;

	unlink_delay(r, d);
	if (r->interrupted) {
		finish_task(r, task, TASK_INTERRUPTED);
	} else if (r->stop) {
		cannot_start(r, task, "waiting out a rate limit when squad stopped");
	} else {
		heap_push(r, &r->ready[worker_index(r, task)], (int)task);
	}
	start_ready(r);
}

/* Run `task` again after `ms`, without holding a slot meanwhile. */
static void delay_task(struct runner *r, size_t task, long ms)
{
	struct delay *d = xcalloc(1, sizeof(*d));

	d->r = r;
	d->task = task;
	uv_timer_init(&r->loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, delay_done, (uint64_t)ms, 0);
	d->next = r->delays;
	if (r->delays)
		r->delays->prev = d;
	r->delays = d;
}

static long timeout_of(const struct runner *r, size_t task)
{
	const struct task *t = &r->sf->tasks[task];

	return t->timeout_ms ? t->timeout_ms : worker_of(r, task)->timeout_ms;
}

/* Ask outcome.h what attempt `a` of `task` means, and do it: finish the
 * task, start another attempt, or wait and start one. */
static void decide(struct runner *r, size_t task, const struct attempt *a)
{
	const struct task *t = &r->sf->tasks[task];
	struct task_result *res = &r->res[task];
	struct outcome o = OUTCOME_INIT;
	struct attempt_history h = {
		.retries = t->retries,
		.escalate = t->escalate,
		.timeout_ms = timeout_of(r, task),
		.attempts = res->attempts,
		.rate_limited = res->rate_limited,
		.elapsed_ms = r->started_at[task]
			? (long)((uv_hrtime() - r->started_at[task]) / 1000000) : 0,
		.stopping = r->stop,
	};

	outcome_decide(a, &h, &o);
	set_str(&res->reason, o.reason.len ? xstrdup(o.reason.buf) : NULL);
	switch (o.next) {
	case OUTCOME_BACK_OFF:
		res->rate_limited++;
		log_line(r, task, "rate limited; trying again in %lds (not counted against "
			 "retries)", o.delay_ms / 1000);
		delay_task(r, task, o.delay_ms);
		break;
	case OUTCOME_RETRY:
		log_line(r, task, "attempt %u of %u failed (%s); retrying",
			 res->attempts - res->rate_limited, t->retries + 1,
			 res->reason ? res->reason : "exit code");
		/* it either runs again or is finished with the reason */
		start_attempt(r, task);
		break;
	case OUTCOME_FINISH:
		if (a->rate_limited && a->end == ATTEMPT_EXITED)
			log_line(r, task, "%s; giving up", res->reason);
		finish_task(r, task, o.status);
		break;
	}
	outcome_release(&o);
}

/* The task cannot make an attempt (no program, no budget, squad
 * stopped while it waited): over, with `why`, escalated if it may. */
static void cannot_start(struct runner *r, size_t task, const char *why)
{
	struct attempt a = { .end = ATTEMPT_NOT_STARTED, .start_error = why };

	log_line(r, task, "%s", why);
	r->res[task].exit_code = -1;
	decide(r, task, &a);
}

/* A job's output goes to its task's log as it comes (job.h). */
static void job_output(void *data, struct job *job, const char *buf, size_t len)
{
	log_write(data, job->task, buf, len);
}

static void job_note(void *data, struct job *job, const char *line)
{
	log_line(data, job->task, "%s", line);
}

/* Exit and EOF both seen: gather what the attempt did, and decide. */
static void job_complete(void *data, struct job *job)
{
	struct runner *r = data;
	size_t task = job->task;
	struct task_result *res = &r->res[task];
	struct attempt a = { 0 };
	struct strbuf refused = STRBUF_INIT;
	char *agent_why = NULL;
	bool spent = false;

	unlink_job(r, job);
	job_released(r, task);

	res->exit_code = job->term_signal ? -1 : (int)job->exit_status;
	res->term_signal = job->term_signal;
	a.exit_code = res->exit_code;
	a.term_signal = job->term_signal;
	a.timeout_ms = timeout_of(r, task);
	if (job->timed_out) {
		a.end = ATTEMPT_TIMED_OUT;
		log_line(r, task, "timed out after %.1fs", (double)a.timeout_ms / 1000);
	} else if (r->interrupted) {
		a.end = ATTEMPT_INTERRUPTED;
	} else if (job->term_signal) {
		a.end = ATTEMPT_SIGNALED;
	} else {
		a.end = ATTEMPT_EXITED;
	}
	if (!worker_of(r, task)->is_shell)
		read_agent_output(r, job, &a, &agent_why, &spent, &refused);
	a.agent_reason = agent_why;
	if (a.end != ATTEMPT_INTERRUPTED && a.end != ATTEMPT_TIMED_OUT && !spent && !a.rate_limited)
		a.rate_limited = rate_limited(r, task, &a);
	if (a.end == ATTEMPT_EXITED && !a.exit_code && !a.agent_failed && !a.rate_limited)
		a.expect = check_expect(r, task);
	isolate_attempt_end(r, task, &a);
	decide(r, task, &a);
	free(agent_why);
	strbuf_release(&refused);
	start_ready(r);
}

static int open_agent_out(struct runner *r, size_t task)
{
	int fd;

	/* an agent's stdout is a document (qwen's JSON), kept apart from its
	 * stderr so that it parses: TASK.out beside TASK.log */
	if (!r->st)
		return -1;
	fd = state_open_log(r->st, r->sf->tasks[task].name, STATE_OUT_EXT, O_RDWR | O_CREAT | O_TRUNC,
			    NULL);
	if (fd < 0)
		return -1;
	if (r->out_fds[task] >= 0)
		close(r->out_fds[task]);
	r->out_fds[task] = fd;
	return 0;
}

/* {changed} for a task: the changed paths its inputs match, or all of
 * them for a task without inputs. */
static const struct strvec *changed_for(const struct runner *r, size_t task)
{
	if (!r->plan->changed)
		return NULL;
	return r->sf->tasks[task].inputs.nr ? &r->plan->changed_inputs[task] : r->plan->changed;
}

/* Why `task`'s spawn failed (errno `rc` at `step`), in `why`. It names
 * the program and folder as the Squadfile has them, never expanded: the
 * reason lands in the log, the state, JUnit and JSON events, and a
 * ${VAR} from the environment may hold a secret. */
static void spawn_failure(struct runner *r, size_t task, const struct command *cmd, int rc,
			  enum spawn_step step, struct strbuf *why)
{
	const struct task *t = &r->sf->tasks[task];
	const struct worker *w = worker_of(r, task);
	struct command shown = COMMAND_INIT;
	struct strbuf program = STRBUF_INIT;
	const char *folder;

	worker_show_command(&shown, r->sf, t, w);
	/* `${TOOL} x` as written needs a shell; what ran was exec'd as
	 * TOOL's value and x: its program is the text's first word */
	if (shown.via_shell && !cmd->via_shell)
		strbuf_add(&program, shown.argv.v[2], strcspn(shown.argv.v[2], " \t\n"));
	else
		strbuf_addstr(&program, shown.argv.v[0]);
	/* a folder from a variable, as written; else absolute */
	folder = shown.cwd;
	if (t->dir && t->dir[0] != '/' && strstr(t->dir, "${") &&
	    !strncmp(folder, r->sf->root, strlen(r->sf->root)))
		folder += strlen(r->sf->root) + 1;
	if (step == SPAWN_CHDIR)
		strbuf_addf(why, "cannot enter the task's folder '%s': %s", folder, strerror(rc));
	else if (!w->is_shell && rc == ENOENT)
		strbuf_addf(why, "'%s' is not on PATH: worker '%s' cannot start", program.buf,
			    w->name);
	else if (rc == ENOENT)
		strbuf_addf(why, "command not found: %s", program.buf);
	else if (rc == EACCES)
		strbuf_addf(why, "permission denied: %s", program.buf);
	else
		strbuf_addf(why, "cannot run '%s': %s", program.buf, strerror(rc));
	strbuf_release(&program);
	command_release(&shown);
}

/* The guard and the spawner, set up with the first spawn. */
static int ready_to_spawn(struct runner *r, struct strbuf *why)
{
	/* started with the first task, so a run that spawns none has none;
	 * one that cannot start runs unguarded, as it would have before */
	if (!r->guard_tried && r->opts->guard) {
		struct strbuf ignored = STRBUF_INIT;

		r->guard_tried = true;
		guard_start(&r->guard, &ignored);
		strbuf_release(&ignored);
	}
	if (!r->spawner_ready) {
		if (spawner_init(&r->spawner, why) < 0)
			return -1;
		r->spawner_ready = true;
	}
	return 0;
}

/* A slot taken by a running attempt (a process, or an agent's turn). */
static void slot_taken(struct runner *r, size_t task)
{
	/* a running child keeps the loop alive even once its output is
	 * closed: its exit is still to come */
	if (r->running++ == 0)
		uv_ref((uv_handle_t *)&r->sigchld);
	r->busy[worker_index(r, task)]++;
	if (!own_limit(r, worker_index(r, task)))
		r->running_local++;
}

/* --- ACP agents (agentpool.h) -------------------------------------- */

static void acp_log(void *data, size_t task, const char *line)
{
	struct runner *r = data;
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, line);
	strbuf_addch(&sb, '\n');
	log_write(r, task, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* An ACP tool call as the result keeps it (strings borrowed). */
static struct task_tool tool_of(const struct acp_tool *tool)
{
	struct task_tool t = {
		.id = tool->id, .kind = tool->kind, .title = tool->title,
		.target = tool->detail, .status = tool->status, .decision = tool->decision,
	};

	return t;
}

static void acp_tool(void *data, size_t task, const struct acp_tool *tool)
{
	struct task_tool t = tool_of(tool);

	report_tool(data, task, &t);
}

/* The tool calls and usage of a turn go into the task's result, a
 * refused one into a->refused (note_refused()). */
static void acp_keep(struct task_result *res, const struct agent_outcome *o, struct attempt *a,
		     struct strbuf *refused)
{
	for (size_t i = 0; i < o->nr_tools; i++) {
		struct task_tool t = tool_of(&o->tools[i]);

		task_result_add_tool(res, &t);
		note_refused(a, &t, refused);
	}
	task_usage_add(&res->usage, o->requests, o->input_tokens, o->output_tokens,
		       o->total_tokens);
}

/* A turn of an agent is over: what it means, as for a process. */
static void acp_done(void *data, size_t task, const struct agent_outcome *o)
{
	struct runner *r = data;
	const struct worker *w = worker_of(r, task);
	const struct regex *re = rate_re_of(r, w);
	struct task_result *res = &r->res[task];
	struct attempt a = o->attempt;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT, refused = STRBUF_INIT;
	long reserved = r->acp_reserved[task], used;

	job_released(r, task);
	r->acp_reserved[task] = 0;
	acp_keep(res, o, &a, &refused);
	a.no_answer = !o->answered || blank(o->answer);
	res->exit_code = a.end == ATTEMPT_EXITED ? a.exit_code : -1;
	res->term_signal = 0;
	if (a.end == ATTEMPT_NOT_STARTED && a.start_error)
		log_line(r, task, "%s", a.start_error);
	if (o->answered) {
		strbuf_addstr(&text, o->answer);
		strbuf_utf8_sanitize(&text);
		set_str(&res->answer, xstrdup(text.buf));
		strbuf_rtrim(&text);
		log_line(r, task, "answer:\n%s", text.buf);
		set_str(&res->summary, NULL);
	} else if (a.agent_failed && o->error) {
		log_line(r, task, "%s", o->error);
		set_str(&res->summary, xstrdup(o->error));
	}
	/* what the turn used, against its charge; a turn that never said
	 * keeps its charge */
	used = o->requests >= 0 ? o->requests : reserved;
	if (a.end == ATTEMPT_NOT_STARTED)
		used = 0;
	if (reserved && used != reserved && budget_settle(w->name, used - reserved, &err) < 0)
		log_line(r, task, "%s", err.buf);
	charge_tokens(r, task, w, o->input_tokens, o->output_tokens, o->total_tokens);
	if (a.end == ATTEMPT_EXITED)
		a.rate_limited = outcome_reads_rate_limited(re, !a.exit_code && !a.agent_failed,
							    res->answer, o->error,
							    o->error ? strlen(o->error) : 0);
	if (a.end == ATTEMPT_EXITED && !a.exit_code && !a.agent_failed && !a.rate_limited)
		a.expect = check_expect(r, task);
	isolate_attempt_end(r, task, &a);
	decide(r, task, &a);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&refused);
	start_ready(r);
}

/* Start an attempt of `task` as a turn of a warm agent. Returns 0, or -1
 * with the reason in why (nothing started). */
static int start_acp(struct runner *r, size_t task, long reserved, struct strbuf *why)
{
	const struct squadfile *sf;
	const struct task *t;
	const struct worker *w = worker_of(r, task);
	struct command cmd = COMMAND_INIT;
	struct strbuf prompt = STRBUF_INIT;
	struct agent_job job;
	enum spawn_step step = SPAWN_EXEC;
	const char *program = NULL;
	char *cwd = NULL;
	int rc, ret = -1;

	task_view(r, task, &sf, &t);
	if (worker_build_agent(&cmd, r->sf, w, why) < 0 ||
	    worker_build_prompt(&prompt, &cwd, sf, t, w, changed_for(r, task), why) < 0)
		goto out;
	rc = worker_find_program(&r->programs, &cmd, &program);
	if (rc) {
		spawn_failure(r, task, &cmd, rc, SPAWN_EXEC, why);
		goto out;
	}
	if (ready_to_spawn(r, why) < 0)
		goto out;
	memset(&job, 0, sizeof(job));
	job.task = task;
	job.worker = worker_index(r, task);
	job.worker_name = w->name;
	job.cmd = &cmd;
	job.program = program;
	job.cwd = cwd;
	job.prompt = prompt.buf;
	job.timeout_ms = timeout_of(r, task);
	/* an isolated agent edits inside its worktree, nowhere else */
	job.policy.root = sf->root == r->sf->root ? r->sf->root
		: r->changes[task]->iso.dir;
	job.policy.commands = &t->allow_commands;
	job.policy.any_command = t->any_command;
	/* tasks of the worker that wait beyond one for each of its other
	 * running agents: this agent will serve one of them next */
	job.preopen = r->ready[job.worker].nr > r->busy[job.worker];
	rc = agent_pool_run(&r->agents, &r->spawner, &job, &step);
	if (rc) {
		spawn_failure(r, task, &cmd, rc, step, why);
		goto out;
	}
	r->acp_reserved[task] = reserved;
	slot_taken(r, task);
	if (r->obs->started)
		r->obs->started(r->obs->data, task, r->res[task].attempts, &cmd);
	ret = 0;
out:
	command_release(&cmd);
	strbuf_release(&prompt);
	free(cwd);
	return ret;
}

/* Start one attempt. Returns 0, or -1 after finishing the task as failed
 * (the reason in its result and its log). */
static int start_attempt(struct runner *r, size_t task)
{
	const struct task *t = &r->sf->tasks[task];
	const struct worker *w = worker_of(r, task);
	struct task_result *res = &r->res[task];
	struct command cmd = COMMAND_INIT;
	struct strbuf why = STRBUF_INIT;
	struct job *job;
	long timeout_ms = timeout_of(r, task);
	long wait_ms = 0, used = 0, reserved = 0;
	char *api_dir = NULL;
	const char *program = NULL;
	enum spawn_step step = SPAWN_EXEC;
	int rc, out[2];

	if (!r->started_at[task])
		r->started_at[task] = uv_hrtime();
	res->worker = w->name;
	/* tokens are known only after a call: a call starts while today's
	 * are under daily_tokens (budget.h) */
	if (!w->is_shell && w->daily_tokens &&
	    budget_check_tokens(w->name, w->daily_tokens, &used, &why) != BUDGET_GRANTED)
		goto fail;
	if (!w->is_shell && (w->daily_limit || w->per_minute)) {
		long estimate = worker_request_estimate(w);

		switch (budget_reserve(w->name, w->daily_limit, w->per_minute, &estimate, &wait_ms,
				       &used, &why)) {
		case BUDGET_GRANTED:
			reserved = estimate;
			break;
		case BUDGET_WAIT:
			delay_task(r, task, wait_ms);
			return 0;
		case BUDGET_EXHAUSTED: /* why says how much, until when, and where */
		case BUDGET_ERROR:
			goto fail;
		}
	}
	res->attempts++;
	if (res->attempts > 1)
		log_line(r, task, "attempt %u of %u", res->attempts - res->rate_limited,
			 t->retries + 1);
	mark_attempt_start(r, task);
	if (t->isolation == ISOLATION_WORKTREE && isolate_attempt(r, task, &why) < 0)
		goto fail;
	if (!w->is_shell && w->protocol == WORKER_ACP) {
		if (start_acp(r, task, reserved, &why) < 0)
			goto fail;
		strbuf_release(&why);
		return 0;
	}
	{
		const struct squadfile *sf;
		const struct task *view;

		task_view(r, task, &sf, &view);
		if (worker_build_command(&cmd, sf, view, w, changed_for(r, task),
					 r->opts->changed_file, &why) < 0)
			goto fail;
	}
	rc = worker_find_program(&r->programs, &cmd, &program);
	if (rc && !w->is_shell) {
		spawn_failure(r, task, &cmd, rc, SPAWN_EXEC, &why);
		goto fail;
	}
	if (!w->is_shell && open_agent_out(r, task) < 0) {
		strbuf_addf(&why, "cannot open the agent's output file: %s", strerror(errno));
		goto fail;
	}
	/* its own retries bounded by its timeout; its request log judged
	 * with its output (read_agent_output) */
	if (!w->is_shell && r->out_fds[task] >= 0) {
		if (!r->api_swept && w->output == WORKER_OUTPUT_QWEN_JSON) {
			/* what a squad killed with -9 left in TMPDIR */
			worker_sweep_api_dirs();
			r->api_swept = true;
		}
		api_dir = worker_bound_agent(&cmd, w, timeout_ms);
	}

	if (ready_to_spawn(r, &why) < 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0) {
		strbuf_addf(&why, "cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	job = xcalloc(1, sizeof(*job));
	job->task = task;
	job->reserved = reserved;
	job->api_dir = api_dir;
	/* stdout and stderr share one pipe, so their order holds; an agent's
	 * stdout is a document of its own and goes to its file */
	if (!rc)
		rc = spawner_start(&r->spawner, &cmd, program,
				   r->out_fds[task] >= 0 ? r->out_fds[task] : out[1], out[1],
				   &job->pid, &step);
	close(out[1]);
	if (rc) {
		close(out[0]);
		job->api_dir = NULL; /* freed below */
		free(job);
		spawn_failure(r, task, &cmd, rc, step, &why);
		goto fail;
	}
	guard_watch(&r->guard, job->pid);
	job_watch(job, &r->loop, &r->job_owner, out[0], timeout_ms);
	job->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = job;
	r->jobs = job;
	slot_taken(r, task);
	if (r->obs->started)
		r->obs->started(r->obs->data, task, res->attempts, &cmd);
	command_release(&cmd);
	return 0;

fail:
	if (r->changes && r->changes[task])
		change_abort(r->changes[task]);
	if (api_dir)
		rmdir(api_dir);
	free(api_dir);
	if (reserved) { /* not started: it made no request */
		struct strbuf ignored = STRBUF_INIT;

		budget_settle(w->name, -reserved, &ignored);
		strbuf_release(&ignored);
	}
	command_release(&cmd);
	cannot_start(r, task, why.buf);
	strbuf_release(&why);
	return -1;
}

/* Start ready tasks while there is room: the most urgent task among the
 * workers that have a free slot goes first. */
static void start_ready(struct runner *r)
{
	while (!r->stop && r->running < r->max_running) {
		long best = -1;

		for (size_t w = 0; w < r->sf->nr_workers; w++) {
			const struct ready_heap *h = &r->ready[w];
			unsigned slots = r->sf->workers[w].slots;

			if (!h->nr || (slots && r->busy[w] >= slots))
				continue;
			if (!own_limit(r, w) && r->running_local >= r->opts->jobs)
				continue;
			if (best < 0 || before(r, h->items[0], r->ready[best].items[0]))
				best = (long)w;
		}
		if (best < 0)
			break;
		start_attempt(r, (size_t)heap_pop(r, &r->ready[best]));
	}
	/* nothing runs and nothing waits: no task can come any more, so the
	 * warm agents go (and the loop can end) */
	if (!r->running && !r->delays && !r->cache_lookups)
		agent_pool_shutdown(&r->agents);
}

/* The logs earlier runs left, so that a task that is silent this time
 * unlinks its old log only when there is one: one readdir, rather than
 * a failing unlink() per task. */
static void list_old_logs(struct runner *r)
{
	struct dirent *de;
	DIR *d = state_open_logs(r->st);

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			strvec_push(&r->old_log_names, de->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; i < r->old_log_names.nr; i++)
		strmap_put(&r->old_logs, r->old_log_names.v[i], (int)i);
}

/* --- signals ------------------------------------------------------- */

static void kill_all(struct runner *r, int sig)
{
	for (struct job *job = r->jobs; job; job = job->next)
		job_kill(job, sig);
}

/* Reap every child that has exited; each is one of the running jobs. */
static void on_child(uv_signal_t *handle, int signum)
{
	struct runner *r = handle->data;
	int status;
	pid_t pid;

	(void)signum;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0 || (pid < 0 && errno == EINTR)) {
		if (pid < 0)
			continue;
		struct job *job;

		for (job = r->jobs; job; job = job->next) {
			if (job->pid != pid || job->exited)
				continue;
			job_exited(job, WIFEXITED(status) ? WEXITSTATUS(status) : 0,
				   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			guard_forget(&r->guard, pid);
			break;
		}
		if (!job)
			agent_pool_reaped(&r->agents, pid, WIFEXITED(status) ? WEXITSTATUS(status) : 0,
					  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
}

static void on_tick(uv_timer_t *timer)
{
	struct runner *r = timer->data;

	r->obs->tick(r->obs->data);
}

static void on_kill_timer(uv_timer_t *timer)
{
	kill_all(timer->data, SIGKILL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	struct runner *r = handle->data;

	r->stop = true;
	r->interrupted = true;
	while (r->delays) {
		size_t task = r->delays->task;

		unlink_delay(r, r->delays);
		finish_task(r, task, TASK_INTERRUPTED);
	}
	if (++r->signals == 1) {
		/* pass it on: each group gets what the terminal would have
		 * sent it, then a grace period; an agent's turn is cancelled */
		kill_all(r, signum);
		agent_pool_interrupt(&r->agents);
		uv_timer_start(&r->kill_timer, on_kill_timer, JOB_KILL_GRACE_MS, 0);
	} else {
		kill_all(r, SIGKILL);
	}
}

/* --- the run ------------------------------------------------------- */

static int run_here(const struct plan *plan, struct state *st, const struct run_options *opts,
		    const struct run_observer *obs, struct task_result *results,
		    bool *interrupted, struct strbuf *err)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct runner r;
	size_t nr = plan->sf->nr_tasks, nr_roots = 0;
	int *roots;

	memset(&r, 0, sizeof(r));
	strvec_init(&r.old_log_names);
	guard_init(&r.guard);
	r.plan = plan;
	r.sf = plan->sf;
	r.g = plan->graph;
	r.st = st;
	r.opts = opts;
	r.obs = obs;
	r.res = results;
	r.err = err;
	r.pending = xcalloc(nr + 1, sizeof(size_t));
	r.log_fds = xmalloc((nr + 1) * sizeof(int));
	r.out_fds = xmalloc((nr + 1) * sizeof(int));
	r.attempt_from = xcalloc(nr + 1, sizeof(off_t));
	r.started_at = xcalloc(nr + 1, sizeof(uint64_t));
	r.ready = xcalloc(r.sf->nr_workers, sizeof(*r.ready));
	r.busy = xcalloc(r.sf->nr_workers, sizeof(unsigned));
	if (st) {
		list_old_logs(&r);
		/* worktrees a squad killed by SIGKILL left (the lock is held) */
		isolate_sweep(st->dir);
	}
	for (size_t i = 0; i < nr && !r.changes; i++)
		if (r.sf->tasks[i].isolation == ISOLATION_WORKTREE)
			r.changes = xcalloc(nr + 1, sizeof(*r.changes));
	for (size_t i = 0; i < nr; i++) {
		r.log_fds[i] = r.out_fds[i] = -1;
		results[i].cause = -1;
		results[i].exit_code = -1;
	}

	uv_loop_init(&r.loop);
	r.job_owner = (struct job_owner){
		.output = job_output, .note = job_note, .complete = job_complete, .data = &r,
		.read_buf = r.read_buf, .read_len = sizeof(r.read_buf),
	};
	{
		static const struct agent_pool_callbacks acp_cb = {
			.log = acp_log, .tool = acp_tool, .done = acp_done,
		};
		struct agent_pool_callbacks cb = acp_cb;

		cb.data = &r;
		agent_pool_init(&r.agents, &r.loop, &r.guard, &cb);
		r.acp_reserved = xcalloc(nr + 1, sizeof(long));
	}
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
		uv_signal_init(&r.loop, &r.sig[i]);
		r.sig[i].data = &r;
		uv_signal_start(&r.sig[i], on_signal, signals[i]);
		uv_unref((uv_handle_t *)&r.sig[i]); /* running jobs keep the loop alive */
	}
	uv_timer_init(&r.loop, &r.kill_timer);
	r.kill_timer.data = &r;
	uv_unref((uv_handle_t *)&r.kill_timer);
	/* started before the first spawn: no exit can slip by unseen */
	uv_signal_init(&r.loop, &r.sigchld);
	r.sigchld.data = &r;
	uv_signal_start(&r.sigchld, on_child, SIGCHLD);
	uv_unref((uv_handle_t *)&r.sigchld);
	uv_timer_init(&r.loop, &r.tick_timer);
	r.tick_timer.data = &r;
	if (obs->tick) {
		uv_timer_start(&r.tick_timer, on_tick, 100, 100);
		uv_unref((uv_handle_t *)&r.tick_timer); /* ticks never keep a run alive */
	}

	/* -j, and the slots of the agents it does not bound; counted with
	 * the loop's own fds open: a task holds its output pipe, its log
	 * and an agent's output file */
	{
		unsigned wanted = opts->jobs;

		for (size_t w = 0; w < r.sf->nr_workers; w++)
			if (own_limit(&r, w))
				wanted += r.sf->workers[w].slots;
		r.max_running = spawner_max_tasks(wanted, 3);
	}
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];

		/* only what the plan holds: a selection may leave needs out */
		for (size_t e = r.g->dep_start[n]; e < r.g->dep_start[n + 1]; e++)
			r.pending[n] += plan->in[r.g->deps[e]];
	}
	/* The roots are fixed first: settling one (up to date, done) may make
	 * others ready on the spot, and those must not be queued twice. */
	roots = xmalloc((plan->nr_order + 1) * sizeof(int));
	for (size_t i = 0; i < plan->nr_order; i++)
		if (!r.pending[plan->order[i]])
			roots[nr_roots++] = plan->order[i];
	for (size_t i = 0; i < nr_roots; i++)
		became_ready(&r, (size_t)roots[i]);
	free(roots);
	start_ready(&r);
	uv_run(&r.loop, UV_RUN_DEFAULT);

	/* what never started: fail-fast or an interrupt stopped the run */
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];

		if (r.res[n].status == TASK_PENDING) {
			r.res[n].status = TASK_NOT_STARTED;
			announce(&r, (size_t)n);
		}
	}

	/* agents still there (killed at the end of a grace) are reaped */
	agent_pool_finish(&r.agents);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		uv_close((uv_handle_t *)&r.sig[i], NULL);
	uv_close((uv_handle_t *)&r.kill_timer, NULL);
	uv_close((uv_handle_t *)&r.sigchld, NULL);
	uv_close((uv_handle_t *)&r.tick_timer, NULL);
	uv_run(&r.loop, UV_RUN_DEFAULT);
	agent_pool_release(&r.agents);
	free(r.acp_reserved);
	uv_loop_close(&r.loop);
	guard_stop(&r.guard);
	if (r.spawner_ready)
		spawner_release(&r.spawner);

	for (size_t w = 0; w < r.sf->nr_workers; w++)
		free(r.ready[w].items);
	free(r.ready);
	free(r.busy);
	regex_free(r.default_rate_re);
	program_cache_release(&r.programs);
	strmap_release(&r.old_logs);
	strvec_clear(&r.old_log_names);
	for (size_t i = 0; r.changes && i < nr; i++)
		if (r.changes[i]) {
			change_release(r.changes[i]);
			free(r.changes[i]);
		}
	free(r.changes);
	change_ledger_release(&r.ledger);
	free(r.pending);
	free(r.log_fds);
	free(r.out_fds);
	free(r.attempt_from);
	free(r.started_at);
	*interrupted = r.interrupted;
	return r.status;
}

struct run_call {
	const struct plan *plan;
	struct state *st;
	const struct run_options *opts;
	const struct run_observer *obs;
	struct task_result *results;
	bool *interrupted;
	struct strbuf *err;
	int status;
};

static void *run_thread(void *data)
{
	struct run_call *c = data;

	c->status = run_here(c->plan, c->st, c->opts, c->obs, c->results, c->interrupted, c->err);
	return NULL;
}

/* Plans up to this size run on the caller's thread (see run_plan()). */
#define RUN_HERE_MAX 64

/* The loop runs on a thread that has done nothing else. Every exit wakes
 * the spawning thread, and it wants a CPU at once to start the next task.
 * A thread that has run flat out for a while (parsing and planning 20,000
 * tasks) is, from then on, left queued behind the running children
 * instead and pulled over by the other CPU's idle balancing: at 20,000
 * tasks, 2.4 times the task migrations, 1.32 CPUs busy of 2 instead of
 * 1.45, and a run 20 % longer (Linux 6.18). The same burn on another
 * thread leaves the spawner unharmed; a 5 s sleep after it does not
 * help. The caller's thread blocks every signal while it waits, so all
 * of them reach the loop's. If no thread can be had, the run goes on
 * here; and so does a small plan (RUN_HERE_MAX tasks at most: an exec's),
 * whose parse and plan took too little CPU to matter, and to which a
 * thread to start, wake and join (and the malloc arena it makes) is a
 * cost of its own. */
int run_plan(const struct plan *plan, struct state *st, const struct run_options *opts,
	     const struct run_observer *obs, struct task_result *results,
	     bool *interrupted, struct strbuf *err)
{
	struct run_call c = { plan, st, opts, obs, results, interrupted, err, 0 };
	sigset_t all, old;
	pthread_t thread;

	if (plan->nr_order <= RUN_HERE_MAX || pthread_create(&thread, NULL, run_thread, &c))
		return run_here(plan, st, opts, obs, results, interrupted, err);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_join(thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return c.status;
}

void run_results_release(struct task_result *results, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(results[i].log_path);
		free(results[i].summary);
		free(results[i].answer);
		free(results[i].reason);
		free(results[i].note);
		free(results[i].change_patch);
		free(results[i].change_with);
		task_result_release_tools(&results[i]);
	}
}
