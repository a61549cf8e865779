/* exec.c - `squad exec`: ad-hoc tasks on the normal pipeline, in a state
 * folder of their own; see exec.h. */
#include "cmd/exec.h"
#include "files/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/diag.h"
#include "plan/graph.h"
#include "cmd/build.h"
#include "report/handoff.h"
#include "plan/plan.h"
#include "report/report_json.h"
#include "job/result.h"
#include "model/route.h"
#include "run/run.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/rmtree.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* squad's exit codes that exec decides itself; a run's are
 * result_exit_code()'s */
enum {
	EXEC_FAILED = 1, /* its folder could not be made */
	EXEC_USAGE = 2,  /* the command line or the task list */
};

/* What standard input may hold: as much as a Squadfile. */
#define EXEC_MAX_INPUT (32u << 20)

static bool item_is(const char *item, const char *kind)
{
	return !strncmp(item, kind, strlen(kind));
}

bool exec_has_cli_tasks(const struct strvec *items)
{
	for (size_t i = 0; i < items->nr; i++)
		if (item_is(items->v[i], EXEC_ITEM_RUN) || item_is(items->v[i], EXEC_ITEM_PROMPT))
			return true;
	return false;
}

/* Put `value` under `key` of obj. Returns -1 when it is not UTF-8 (JSON,
 * and so the task grammar, holds only text). */
static int set_text(json_t *obj, const char *key, const char *value, struct strbuf *err)
{
	json_t *s = json_string(value);

	if (!s) {
		strbuf_addf(err, "the value of --%s is not valid UTF-8", key);
		return -1;
	}
	json_object_set_new(obj, key, s);
	return 0;
}

/* The command line's tasks as a task list in the Squadfile's grammar,
 * one task a line (so that line N of a mark is the Nth task), for
 * squadfile_load_adhoc(). --name and --worker apply to the next task.
 * Returns 0, or -1 with the reason in err. */
static int cli_tasks(const struct strvec *items, struct strbuf *text, struct strbuf *err)
{
	json_t *task = json_object();
	const char *pending = NULL;
	size_t nr = 0;
	int ret = -1;

	for (size_t i = 0; i < items->nr; i++) {
		const char *item = items->v[i], *value = strchr(item, '=') + 1;
		char *line;

		if (item_is(item, EXEC_ITEM_NAME) || item_is(item, EXEC_ITEM_WORKER)) {
			const char *key = item_is(item, EXEC_ITEM_NAME) ? "name" : "worker";

			if (json_object_get(task, key)) {
				strbuf_addf(err, "--%s given twice for one task: each applies to "
					    "the next --run or --prompt", key);
				goto out;
			}
			if (set_text(task, key, value, err) < 0)
				goto out;
			pending = key;
			continue;
		}
		if (set_text(task, item_is(item, EXEC_ITEM_RUN) ? "run" : "prompt", value, err) < 0)
			goto out;
		/* ", " and ": " between items, as YAML's flow style wants */
		line = json_dumps(task, JSON_PRESERVE_ORDER);
		strbuf_addstr(text, nr++ ? ",\n" : "[");
		strbuf_addstr(text, line);
		free(line);
		json_object_clear(task);
		pending = NULL;
	}
	if (pending) {
		strbuf_addf(err, "--%s applies to the next --run or --prompt, and none follows",
			    pending);
		goto out;
	}
	strbuf_addstr(text, "]\n");
	ret = 0;
out:
	json_decref(task);
	return ret;
}

/* Standard input, whole, when it is not a terminal. Returns 0, or -1
 * with the reason in err. */
static int read_stdin(struct strbuf *text, struct strbuf *err)
{
	char buf[65536];
	ssize_t n;

	if (isatty(STDIN_FILENO)) {
		strbuf_addstr(err, "no tasks: give --run CMD or --prompt TEXT, or a list of "
			      "tasks on standard input (squad exec < tasks.yaml)");
		return -1;
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(err, "cannot read standard input: %s", strerror(errno));
			return -1;
		}
		strbuf_add(text, buf, (size_t)n);
		if (text->len > EXEC_MAX_INPUT) {
			strbuf_addf(err, "standard input holds more than %u MiB: more than a "
				    "list of tasks may have", EXEC_MAX_INPUT >> 20);
			return -1;
		}
	}
	return 0;
}

/* Load the model: the Squadfile's frame and the ad-hoc tasks, skills
 * resolved, graph built; diagnostics printed. Returns 0 or EXEC_USAGE. */
static int load(const struct exec_options *eo, struct squadfile *sf, struct graph *g,
		struct skills *skills)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT;
	bool cli = exec_has_cli_tasks(eo->items);
	struct diag_list diags = DIAG_LIST_INIT(eo->file);
	struct diag_list task_diags = DIAG_LIST_INIT(cli ? "<command line>" : "<stdin>");
	struct stat sb;
	bool have_file;
	int ret = 0;

	memset(sf, 0, sizeof(*sf));
	memset(g, 0, sizeof(*g));
	if ((cli ? cli_tasks(eo->items, &text, &err) : read_stdin(&text, &err)) < 0) {
		fprintf(stderr, "squad: %s\nTry 'squad --help'.\n", err.buf);
		ret = EXEC_USAGE;
		goto out;
	}
	/* as a run finds it; none is no error unless -f named one */
	have_file = eo->file_given || stat(eo->file, &sb) == 0 || errno != ENOENT;
	if (squadfile_load_adhoc(sf, eo->file, have_file, &text, &diags, &task_diags) < 0) {
		ret = EXEC_USAGE;
	} else {
		route_apply(sf);
		if (route_resolve_skills(skills, sf, getenv("HOME"), eo->strict_skills,
					 &task_diags) < 0)
			ret = EXEC_USAGE;
		if (graph_build(g, sf, &task_diags) < 0)
			ret = EXEC_USAGE;
	}
	diag_format(&diags, &out);
	diag_format(&task_diags, &out);
	fputs(out.buf, stderr);
out:
	diag_list_release(&diags);
	diag_list_release(&task_diags);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

/* lstat `path`: a real folder, or created as one. */
static int ensure_folder(const char *path, struct strbuf *err)
{
	struct stat sb;

	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_addf(err, "'%s' is not a folder; squad will not follow it "
			    "(remove it to start fresh)", path);
		return -1;
	}
	return 0;
}

/* Create this run's folder, .squad/exec/SECONDS-PID, and open its state
 * there, locked, with no journal. Returns 0, or -1 with the reason in
 * err. */
static int open_exec_state(struct state *st, const char *root, struct strbuf *err)
{
	struct state top;
	struct strbuf dir = STRBUF_INIT;
	size_t base;
	int ret = -1;

	/* .squad itself as any run makes it (no symlink), but not locked */
	if (state_open(&top, root, err) < 0) {
		state_close(&top);
		goto out;
	}
	state_path(&top, STATE_EXEC, &dir);
	/* an exec's changes: apply is journalled in the project's .squad */
	build_recover_applies(top.dir);
	state_close(&top);
	if (ensure_folder(dir.buf, err) < 0)
		goto out;
	strbuf_addf(&dir, "/%lld-%ld", (long long)time(NULL), (long)getpid());
	base = dir.len;
	for (unsigned n = 1; mkdir(dir.buf, 0777) < 0; n++) {
		if (errno != EEXIST || n > 100) {
			strbuf_addf(err, "cannot create '%s': %s", dir.buf, strerror(errno));
			goto out;
		}
		strbuf_setlen(&dir, base);
		strbuf_addf(&dir, "-%u", n);
	}
	/* Not state_load(): no journal. An exec's records serve its own run
	 * (the result block, --json and the manifest carry them) and no later
	 * command reads them; the file was one more inode per exec to make,
	 * and to free again when the folder is pruned. */
	if (state_open_dir(st, dir.buf, err) < 0 || state_lock(st, true, err) < 0) {
		state_close(st);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&dir);
	return ret;
}

int exec_folder(const char *root, const char *id, struct strbuf *dir, struct strbuf *err)
{
	struct stat sb;
	size_t len = dir->len;

	/* digits and dashes: never a path out of .squad/exec */
	if (!*id || strspn(id, "0123456789-") != strlen(id) || *id == '-') {
		strbuf_addstr(err, "--exec takes the ID of a squad exec run, SECONDS-PID as its "
			      "result names it (.squad/exec/ID)");
		return -1;
	}
	state_root_path(dir, root, STATE_EXEC);
	strbuf_addf(dir, "/%s", id);
	if (lstat(dir->buf, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_addf(err, "no squad exec run '%s' here: %s is not a folder (only the "
			    "newest %d are kept)", id, dir->buf, EXEC_KEEP);
		strbuf_setlen(dir, len);
		return -1;
	}
	return 0;
}

int exec_open_folder(struct state *st, const char *dir, struct strbuf *err)
{
	if (state_open_dir(st, dir, err) < 0 || state_lock(st, true, err) < 0 ||
	    state_load(st, err) < 0) {
		state_close(st);
		return -1;
	}
	return 0;
}

/* Folder names are SECONDS-PID[-N]: oldest first, by number. */
static int by_age(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	for (int part = 0; part < 3; part++) {
		char *xe, *ye;
		long long nx = strtoll(x, &xe, 10), ny = strtoll(y, &ye, 10);

		if (nx != ny)
			return nx < ny ? -1 : 1;
		x = *xe == '-' ? xe + 1 : xe;
		y = *ye == '-' ? ye + 1 : ye;
	}
	return 0;
}

/* Does the exec of the folder `name` in `parent` still run? It holds a
 * flock on its folder (state_open_dir()); one of an older squad, on the
 * lock file in it. A name that is no folder runs nothing. */
static bool still_runs(int parent, const char *name)
{
	int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd;
	bool runs;

	if (dfd < 0)
		return false;
	runs = flock(dfd, LOCK_EX | LOCK_NB) < 0;
	if (!runs && (fd = openat(dfd, STATE_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		runs = flock(fd, LOCK_EX | LOCK_NB) < 0;
		close(fd);
	}
	close(dfd); /* and with it the flock taken */
	return runs;
}

/* Keep the newest EXEC_KEEP folders of .squad/exec; remove older ones
 * whose exec no longer runs. */
static void prune(const char *exec_dir)
{
	DIR *d = opendir(exec_dir);
	struct strvec names = STRVEC_INIT;
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			strvec_push(&names, de->d_name);
	qsort(names.v, names.nr, sizeof(*names.v), by_age);
	for (size_t i = 0; i + EXEC_KEEP < names.nr; i++)
		if (!still_runs(dirfd(d), names.v[i]))
			rmtree_at(dirfd(d), names.v[i]);
	closedir(d);
	strvec_clear(&names);
}

/* The prune of older folders, done beside the run on a thread of its
 * own: removing a folder mostly waits on the disk (ext4 mounted with
 * `discard` discards the freed blocks there and then: 0.8 ms a folder
 * here, more than the rest of a 4-task exec), while the run's thread has
 * tasks to start. It never touches this run's folder, which is locked. */
struct pruner {
	pthread_t thread;
	bool running;
	char *dir; /* .squad/exec */
};

static void *prune_main(void *data)
{
	struct pruner *p = data;
	sigset_t all;

	/* squad's signals are the run's to handle */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	prune(p->dir);
	return NULL;
}

/* Start pruning the folder that holds `run_dir`, this run's. */
static void pruner_start(struct pruner *p, const char *run_dir)
{
	const char *slash = strrchr(run_dir, '/');

	p->dir = xstrndup(run_dir, slash ? (size_t)(slash - run_dir) : strlen(run_dir));
	p->running = pthread_create(&p->thread, NULL, prune_main, p) == 0;
}

/* Wait for the prune (or, when no thread could start, do it now). */
static void pruner_finish(struct pruner *p)
{
	if (p->running)
		pthread_join(p->thread, NULL);
	else
		prune(p->dir);
	free(p->dir);
	p->dir = NULL;
	p->running = false;
}

/* The entries of the manifest at `path`, or an empty array. */
static json_t *manifest_entries(const char *path)
{
	struct strbuf text = STRBUF_INIT;
	json_t *manifest = NULL, *tasks = NULL;

	if (file_read(path, &text) == 0)
		manifest = json_loadb(text.buf, text.len, 0, NULL);
	if (manifest)
		tasks = json_object_get(manifest, "tasks");
	tasks = json_is_array(tasks) ? json_incref(tasks) : json_array();
	json_decref(manifest);
	strbuf_release(&text);
	return tasks;
}

static bool has_exit_code(const struct task_result *res)
{
	return res->attempts && !res->term_signal && res->exit_code >= 0;
}

/* Why a task did not end ok, in words: the run's reason, else one made
 * from its status; NULL for a task that ended well. Into `sb`. */
static const char *reason_of(const struct squadfile *sf, const struct task_result *res,
			     struct strbuf *sb)
{
	const char *cause = res->cause >= 0 ? sf->tasks[res->cause].name : "a task it needs";

	strbuf_reset(sb);
	if (res->reason)
		strbuf_addstr(sb, res->reason);
	else if (task_status_failed(res->status) && has_exit_code(res))
		strbuf_addf(sb, "exited with %d", res->exit_code);
	else if (task_status_failed(res->status) && res->term_signal)
		strbuf_addf(sb, "killed by signal %d", res->term_signal);
	else if (res->status == TASK_SKIPPED)
		strbuf_addf(sb, "not run: %s did not succeed", cause);
	else if (res->status == TASK_BLOCKED)
		strbuf_addf(sb, "not run: it waits behind %s, handed off", cause);
	else if (res->status == TASK_NOT_STARTED)
		strbuf_addstr(sb, "not started: squad stopped before it");
	else if (res->status == TASK_INTERRUPTED)
		strbuf_addstr(sb, "interrupted");
	return sb->len ? sb->buf : NULL;
}

/* Can `squad apply --exec` apply its change: one kept in the folder? */
static bool change_appliable(const struct task_result *res)
{
	return res->change_patch && (task_change_for_tactician(res->change) ||
				     res->change == TASK_CHANGE_KEPT);
}

/* The change of a task as JSON (report_json_change()), with the exact
 * command that applies it, or null when there is none to apply. */
static json_t *change_json(const struct exec_options *eo, const struct squadfile *sf,
			   const char *dir, const char *task, const struct task_result *res)
{
	json_t *o = report_json_change(res);
	struct strbuf cmd = STRBUF_INIT;

	if (!json_is_object(o))
		return o;
	if (change_appliable(res))
		handoff_exec_apply_command(&cmd, eo->squad_command, sf->root, dir, task);
	json_object_set_new(o, "apply_command", cmd.len ? report_json_text(cmd.buf) : json_null());
	strbuf_release(&cmd);
	return o;
}

/* The --json document: one object for the whole run. */
static void print_json(const struct exec_options *eo, const struct plan *plan,
		       const struct task_result *results, const char *dir, const char *manifest,
		       int entries, double wall, bool interrupted, int exit_code)
{
	const struct squadfile *sf = plan->sf;
	json_t *doc = json_object(), *tasks = json_array();
	struct strbuf reason = STRBUF_INIT;
	char *text;

	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "exit_code", json_integer(exit_code));
	json_object_set_new(doc, "interrupted", json_boolean(interrupted));
	json_object_set_new(doc, "wall_seconds", json_real(wall));
	json_object_set_new(doc, "folder", report_json_text(dir));
	json_object_set_new(doc, "manifest", report_json_text(entries > 0 ? manifest : NULL));
	for (size_t i = 0; i < plan->nr_order; i++) {
		size_t n = (size_t)plan->order[i];
		const struct task *t = &sf->tasks[n];
		const struct task_result *res = &results[n];
		json_t *task = json_object(), *skills = json_array();

		for (size_t j = 0; j < t->skills.nr; j++)
			json_array_append_new(skills, report_json_text(t->skills.v[j]));
		json_object_set_new(task, "name", report_json_text(t->name));
		json_object_set_new(task, "status", json_string(task_status_name(res->status)));
		json_object_set_new(task, "exit_code", has_exit_code(res)
				    ? json_integer(res->exit_code) : json_null());
		json_object_set_new(task, "signal", res->term_signal
				    ? json_integer(res->term_signal) : json_null());
		json_object_set_new(task, "worker", report_json_text(res->worker));
		json_object_set_new(task, "skills", skills);
		json_object_set_new(task, "attempts", json_integer(res->attempts));
		json_object_set_new(task, "duration_ms", json_integer(res->duration_ms));
		json_object_set_new(task, "summary", report_json_text(res->summary));
		json_object_set_new(task, "answer", report_json_text(res->answer));
		json_object_set_new(task, "reason",
				    report_json_text(reason_of(sf, res, &reason)));
		json_object_set_new(task, "log", report_json_text(res->log_path));
		json_object_set_new(task, "tools", report_json_tools(res));
		json_object_set_new(task, "usage", report_json_usage(&res->usage));
		json_object_set_new(task, "change", change_json(eo, sf, dir, t->name, res));
		json_array_append_new(tasks, task);
	}
	json_object_set_new(doc, "tasks", tasks);
	json_object_set_new(doc, "usage", report_json_usage_by_worker(results, plan->order,
								      plan->nr_order, false));
	json_object_set_new(doc, "cached_usage",
			    report_json_usage_by_worker(results, plan->order, plan->nr_order,
							true));
	json_object_set_new(doc, "handoff", entries > 0 ? manifest_entries(manifest)
			    : json_array());
	text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	puts(text);
	fflush(stdout);
	free(text);
	json_decref(doc);
	strbuf_release(&reason);
}

/* Text from a task or an agent, indented under a key, line by line, no
 * control character raw. */
static void add_block(struct strbuf *out, const char *key, const char *text)
{
	const char *line = text, *end, *stop;

	if (!text)
		return;
	/* an agent's answer often ends in a newline: no block for that */
	for (stop = text + strlen(text); stop > text && strchr(" \t\r\n", stop[-1]); stop--)
		;
	if (stop == text)
		return;
	if (!memchr(text, '\n', (size_t)(stop - text))) {
		strbuf_addf(out, "  %s: ", key);
		strbuf_add_printable_len(out, text, (size_t)(stop - text));
		strbuf_addch(out, '\n');
		return;
	}
	strbuf_addf(out, "  %s: |\n", key);
	for (; line < stop; line = end + 1) {
		end = memchr(line, '\n', (size_t)(stop - line));
		if (!end)
			end = stop;
		strbuf_addstr(out, "    ");
		strbuf_add_printable_len(out, line, (size_t)(end - line));
		strbuf_addch(out, '\n');
	}
}

/* The result block, for a model to read: a line per task, then what it
 * said and where its log is. */
static void print_result_block(const struct exec_options *eo, FILE *out,
			       const struct plan *plan, const struct task_result *results,
			       const char *dir, const char *manifest, int entries)
{
	const struct squadfile *sf = plan->sf;
	struct strbuf sb = STRBUF_INIT, reason = STRBUF_INIT;
	size_t counts[TASK_UP_TO_DATE + 1] = { 0 };
	bool first = true;

	for (size_t i = 0; i < plan->nr_order; i++)
		counts[results[plan->order[i]].status]++;
	strbuf_addf(&sb, "\nsquad exec result: %zu task(s):", plan->nr_order);
	for (size_t s = 0; s <= TASK_UP_TO_DATE; s++)
		if (counts[s]) {
			strbuf_addf(&sb, "%s %zu %s", first ? "" : ",", counts[s],
				    task_status_name((enum task_status)s));
			first = false;
		}
	strbuf_addf(&sb, "\nlogs: %s/logs/\n", dir);
	for (size_t i = 0; i < plan->nr_order; i++) {
		size_t n = (size_t)plan->order[i];
		const struct task *t = &sf->tasks[n];
		const struct task_result *res = &results[n];

		strbuf_addstr(&sb, "- task: ");
		strbuf_add_printable(&sb, t->name);
		strbuf_addf(&sb, "\n  status: %s\n", task_status_name(res->status));
		if (has_exit_code(res))
			strbuf_addf(&sb, "  exit: %d\n", res->exit_code);
		else if (res->term_signal)
			strbuf_addf(&sb, "  signal: %d\n", res->term_signal);
		if (res->attempts > 1)
			strbuf_addf(&sb, "  attempts: %u\n", res->attempts);
		add_block(&sb, "reason", reason_of(sf, res, &reason));
		add_block(&sb, "summary", res->summary);
		add_block(&sb, "answer", res->answer);
		if (res->log_path)
			strbuf_addf(&sb, "  log: %s\n", res->log_path);
		if (task_change_name(res->change)) {
			strbuf_addf(&sb, "  change: %s", task_change_name(res->change));
			if (res->change_files)
				strbuf_addf(&sb, " (%d file%s)", res->change_files,
					    res->change_files == 1 ? "" : "s");
			if (res->change_with) {
				strbuf_addstr(&sb, ", it met the change of ");
				strbuf_add_printable(&sb, res->change_with);
			}
			if (res->change_patch) {
				strbuf_addstr(&sb, "\n  patch: ");
				strbuf_add_printable(&sb, res->change_patch);
			}
			strbuf_addch(&sb, '\n');
			if (change_appliable(res)) {
				strbuf_addstr(&sb, "  apply: ");
				handoff_exec_apply_command(&sb, eo->squad_command, sf->root, dir,
							   t->name);
				strbuf_addch(&sb, '\n');
			}
		}
		if (task_status_for_tactician(res->status) && entries > 0)
			strbuf_addf(&sb, "  handoff: %s (yours to do; an ad-hoc task takes no "
				    "'squad done')\n", manifest);
	}
	fputs(sb.buf, out);
	fflush(out);
	strbuf_release(&sb);
	strbuf_release(&reason);
}

/* The run itself, once the model and the plan are made: in a state
 * folder of its own, through build_execute(), then the result block. */
static int run(const struct exec_options *eo, const struct squadfile *sf,
	       const struct plan *plan, const struct skills *skills, long worker_override,
	       const struct timespec *start)
{
	struct state st;
	struct strbuf err = STRBUF_INIT, manifest = STRBUF_INIT;
	struct pruner pruner;
	struct build_options bo = {
		.jobs = eo->jobs, .keep_going = eo->keep_going,
		.level = eo->level, .output = eo->output, .color = eo->color,
		.squad_command = eo->squad_command,
	};
	struct build b = {
		.opts = &bo, .sf = sf, .plan = plan, .skills = skills, .st = &st,
		.human = eo->json ? stderr : stdout, .start = *start,
		.worker_override = worker_override, .adhoc = true,
	};
	int ret;

	if (open_exec_state(&st, sf->root, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		strbuf_release(&err);
		return EXEC_FAILED;
	}
	pruner_start(&pruner, st.dir);
	ret = build_execute(&b);
	state_path(&st, STATE_HANDOFF, &manifest);
	if (eo->json)
		print_json(eo, plan, b.results, st.dir, manifest.buf, b.entries, b.wall,
			   b.interrupted, ret);
	else
		print_result_block(eo, stdout, plan, b.results, st.dir, manifest.buf, b.entries);
	build_release(&b);
	pruner_finish(&pruner); /* while this run's folder is still locked */
	state_close(&st);
	strbuf_release(&manifest);
	strbuf_release(&err);
	return ret;
}

int exec_main(const struct exec_options *eo)
{
	struct squadfile sf;
	struct graph g;
	struct skills skills = SKILLS_INIT;
	struct plan plan;
	struct strvec targets = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct timespec start;
	long worker_override = -1;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &start);
	/* One malloc arena for the process: the prune's thread (and the
	 * run's, for a large list) would each make one of their own, a 64 MB
	 * mapping made, trimmed and faulted in for a few allocations; the
	 * threads hardly ever allocate at the same time. */
	mallopt(M_ARENA_MAX, 1);
	memset(&plan, 0, sizeof(plan));
	ret = load(eo, &sf, &g, &skills);
	if (ret)
		goto out;
	/* with tasks from stdin, --worker is a run's: every skill-free task */
	for (size_t i = 0; i < eo->items->nr && !exec_has_cli_tasks(eo->items); i++) {
		const char *w = eo->items->v[i] + strlen(EXEC_ITEM_WORKER);

		worker_override = squadfile_find_worker(&sf, w);
		if (worker_override < 0) {
			fprintf(stderr, "squad: unknown worker '%s' for --worker\n"
				"Try 'squad --help'.\n", w);
			ret = EXEC_USAGE;
			goto out;
		}
	}
	/* every task of the list, in no particular target's closure */
	for (size_t i = 0; i < sf.nr_tasks; i++)
		strvec_push(&targets, sf.tasks[i].name);
	if (plan_build(&plan, &sf, &g, NULL, &targets, NULL, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = EXEC_USAGE;
	} else if (eo->dry_run) {
		report_dry_run(stdout, &plan, eo->jobs);
	} else {
		ret = run(eo, &sf, &plan, &skills, worker_override, &start);
	}
out:
	plan_release(&plan);
	strvec_clear(&targets);
	strbuf_release(&err);
	route_skills_release(&skills);
	graph_release(&g);
	squadfile_release(&sf);
	return ret;
}
