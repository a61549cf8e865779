/* build.c - one run, from opening .squad/ to the exit status (build.h).
 *
 * What used to be main.c's cmd_run and exec.c's copy of its middle: the
 * state, the stash, the plan's files and changed paths, the run with its
 * reporters, the manifest, the JUnit report and the exit code, in the
 * order a run needs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/build.h"
#include "files/gitinfo.h"
#include "files/filecache.h"
#include "files/treewrite.h"
#include "report/handoff.h"
#include "report/report_junit.h"
#include "run/run.h"
#include "plan/shard.h"
#include "util/xalloc.h"

/* The colour the tasks are told of, through the environment they
 * inherit from squad: squad's output not a terminal (or --color never)
 * means NO_COLOR=1 and a dumb TERM, so that logs and CI output carry no
 * escape codes; --color always means FORCE_COLOR and CLICOLOR_FORCE. On a
 * terminal in auto mode nothing changes. A task's own `env` is added
 * after this and wins. */
static void tell_tasks_colour(int setting, FILE *out)
{
	if (setting == 0 || (setting < 0 && !isatty(fileno(out)))) {
		setenv("NO_COLOR", "1", 1);
		setenv("TERM", "dumb", 1);
		unsetenv("FORCE_COLOR");
		unsetenv("CLICOLOR_FORCE");
	} else if (setting > 0) {
		setenv("FORCE_COLOR", "1", 1);
		setenv("CLICOLOR_FORCE", "1", 1);
		unsetenv("NO_COLOR");
	}
}

void build_recover_applies(const char *squad_dir)
{
	struct strbuf notes = STRBUF_INIT, err = STRBUF_INIT;

	if (treewrite_recover(squad_dir, &notes, &err) < 0)
		fprintf(stderr, "squad: warning: %s\n", err.buf);
	fputs(notes.buf, stderr);
	strbuf_release(&notes);
	strbuf_release(&err);
}

int build_open_state(struct state *st, const char *root, bool no_wait)
{
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (state_open(st, root, &err) < 0)
		goto fail;
	rc = state_lock(st, false, &err);
	if (rc == 1 && no_wait) {
		strbuf_addf(&err, "another squad is running in %s (it holds %s/lock); "
			    "not waiting for it (--no-wait)", root, st->dir);
		goto fail;
	}
	if (rc == 1) {
		fprintf(stderr, "squad: waiting for another squad in %s to finish...\n", root);
		rc = state_lock(st, true, &err);
	}
	if (rc < 0 || state_load(st, &err) < 0)
		goto fail;
	build_recover_applies(st->dir);
	/* a torn last line would swallow the first line this run appends:
	 * rewrite an unkempt journal before appending to it */
	if (st->unkempt && state_compact(st, &err) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "squad: %s\n", err.buf);
	strbuf_release(&err);
	state_close(st);
	return -1;
}

/* The state as it is, for -n: read without the lock (the journal is
 * appended a line at a time and replaced by rename, so what is read is
 * whole), and never created. Returns whether there is one. */
static bool peek_state(struct state *st, const struct squadfile *sf)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct stat sb;
	bool ok = false;

	state_root_path(&path, sf->root, STATE_JOURNAL);
	if (lstat(path.buf, &sb) == 0) {
		ok = state_open(st, sf->root, &err) == 0 && state_load(st, &err) == 0;
		if (!ok) {
			fprintf(stderr, "squad: warning: %s; planning as if nothing had run\n",
				err.buf);
			state_close(st);
		}
	}
	strbuf_release(&err);
	strbuf_release(&path);
	return ok;
}

/* Write (or remove) the manifest after a run; for a run (not an exec)
 * say where it is, on b->human. Returns how many tasks wait in it, or -1
 * if it could not be written. */
static int hand_off(struct build *b)
{
	struct gitinfo git;
	struct strbuf err = STRBUF_INIT;
	struct handoff_context ctx = { 0 };
	char *path = realpath(b->sf->path, NULL);
	int entries;
	bool waiting = false;

	for (size_t i = 0; i < b->plan->nr_order && !waiting; i++)
		waiting = task_status_for_tactician(b->results[b->plan->order[i]].status);
	memset(&git, 0, sizeof(git));
	/* the git context costs a walk of the working tree: only for a
	 * manifest, and not for an exec's (its tasks are the caller's own) */
	if (!b->adhoc && waiting && gitinfo_read(&git, b->sf->root, &err) < 0) {
		/* the manifest is still useful without its git section */
		fprintf(stderr, "squad: %s\n", err.buf);
		strbuf_reset(&err);
	}
	ctx.sf = b->sf;
	ctx.squadfile_path = path ? path : b->sf->path;
	ctx.squad_command = b->opts->squad_command;
	ctx.plan = b->plan;
	ctx.results = b->results;
	ctx.skills = b->skills;
	ctx.git = b->adhoc ? NULL : &git;
	ctx.st = b->st;
	ctx.adhoc = b->adhoc;
	ctx.run_targets = b->run_targets;
	ctx.shard_k = b->opts->shard_k;
	ctx.shard_n = b->opts->shard_n;
	entries = handoff_write(&ctx, &b->reviews, &err);
	if (entries < 0)
		fprintf(stderr, "squad: %s\n", err.buf);
	else if (entries > 0 && !b->adhoc)
		fprintf(b->human, "squad: %d %s for the tactician: 'squad handoff' lists them "
			"(%s/handoff.json)\n", entries, entries == 1 ? "task waits" : "tasks wait",
			b->st->dir);
	gitinfo_release(&git);
	strbuf_release(&err);
	free(path);
	return entries;
}

/* Both reporters watch one run: the person's and the --json one. */
struct observer_pair {
	struct run_observer first, second;
};

static void pair_started(void *data, size_t task, unsigned attempt, const struct command *cmd)
{
	struct observer_pair *p = data;

	p->first.started(p->first.data, task, attempt, cmd);
	p->second.started(p->second.data, task, attempt, cmd);
}

static void pair_tick(void *data)
{
	struct observer_pair *p = data;

	if (p->first.tick)
		p->first.tick(p->first.data);
	if (p->second.tick)
		p->second.tick(p->second.data);
}

static void pair_finished(void *data, size_t task, const struct task_result *res)
{
	struct observer_pair *p = data;

	p->first.finished(p->first.data, task, res);
	p->second.finished(p->second.data, task, res);
}

static void pair_tool(void *data, size_t task, const struct task_tool *tool)
{
	struct observer_pair *p = data;

	if (p->first.tool)
		p->first.tool(p->first.data, task, tool);
	if (p->second.tool)
		p->second.tool(p->second.data, task, tool);
}

int build_plan_options(const struct build_options *o, const struct squadfile *sf,
			const struct state *st, struct plan_options *po, struct inputs *files,
			struct strvec *changed, struct strbuf *prefix, struct strbuf *err)
{
	bool any_inputs = false;
	struct strbuf root = STRBUF_INIT, top = STRBUF_INIT;
	struct strvec roots = STRVEC_INIT;
	struct filecache cache = FILECACHE_INIT;
	int ret;

	memset(po, 0, sizeof(*po));
	po->force = o->force;
	po->dry_run = o->dry_run;
	if (o->select == BUILD_SELECT_STAGED && gitinfo_staged(sf->root, changed, err) < 0)
		return -1;
	if (o->select == BUILD_SELECT_CHANGED &&
	    gitinfo_changed(sf->root, o->changed_ref ? o->changed_ref : "HEAD", changed, err) < 0)
		return -1;
	if (o->select != BUILD_SELECT_ALL)
		po->changed = changed;
	for (size_t i = 0; i < sf->nr_tasks; i++)
		any_inputs |= sf->tasks[i].inputs.nr > 0;
	if (!any_inputs)
		return 0;
	/* inputs are relative to the Squadfile; files to the top of the tree */
	inputs_workdir(sf->root, &top);
	strbuf_addf(&root, "%s/", sf->root);
	if (!strncmp(root.buf, top.buf, top.len))
		strbuf_addstr(prefix, root.buf + top.len);
	po->files_prefix = prefix->buf;
	/* a dry run without a state has nothing to compare the files with
	 * (--changed still selects: by the paths git gives, and the prefix) */
	if (o->dry_run && !st) {
		strbuf_release(&root);
		strbuf_release(&top);
		return 0;
	}
	plan_input_roots(sf, prefix->buf, &roots);
	if (st) {
		strbuf_reset(&root);
		state_path(st, STATE_FILES, &root);
		filecache_load(&cache, root.buf);
	}
	ret = inputs_list(files, sf->root, &roots, &cache, err);
	if (!ret)
		filecache_apply(&cache, &files->files);
	filecache_release(&cache);
	po->files = &files->files;
	strbuf_release(&root);
	strbuf_release(&top);
	strvec_clear(&roots);
	return ret;
}

/* Each line of `notes` on stderr, as squad's. */
static void print_notes(const struct strbuf *notes)
{
	for (const char *line = notes->buf; *line; ) {
		const char *end = strchrnul(line, '\n');

		fprintf(stderr, "squad: %.*s\n", (int)(end - line), line);
		line = *end ? end + 1 : end;
	}
}

/* Put back what a squad cut short had set aside (stash.h), and say so.
 * Returns -1 when it could not: no run may set aside anything over it. */
static int recover_stash(const struct state *st)
{
	struct strbuf notes = STRBUF_INIT, err = STRBUF_INIT;
	int n = stash_recover(st->dir, &notes, &err);

	print_notes(&notes);
	if (n < 0)
		fprintf(stderr, "squad: an interrupted 'squad --stash' set files aside and they "
			"cannot be put back: %s\n", err.buf);
	else if (n > 0)
		fprintf(stderr, "squad: put back %d unstaged change%s and untracked file%s that "
			"an interrupted 'squad --stash' had set aside in %s/" STATE_STASH "\n", n,
			n == 1 ? "" : "s", n == 1 ? "" : "s", st->dir);
	strbuf_release(&notes);
	strbuf_release(&err);
	return n < 0 ? -1 : 0;
}

/* Put back what --stash set aside: failing to is squad's failure (the
 * next run tries again), a signal meanwhile an interrupt. */
static void put_back(struct stash *stash, bool *interrupted, bool *squad_failed)
{
	struct strbuf notes = STRBUF_INIT, err = STRBUF_INIT;
	int rc = stash_restore(stash, &notes, &err);

	print_notes(&notes);
	if (rc < 0) {
		fprintf(stderr, "squad: %s; the next squad run here puts the rest back\n", err.buf);
		*squad_failed = true;
	}
	*interrupted |= rc == 1;
	strbuf_release(&notes);
	strbuf_release(&err);
}

/* --shard K/N: keep of the selection (plan) only shard K's own tasks
 * and what they need, planned again with them as the targets. The split
 * is shard.h's, weighted by the durations in the state (a task never
 * recorded weighs the mean of the known ones, 1 when none is), so every
 * shard agrees on it only when they all see the same state: a fresh
 * checkout in CI, or the same .squad restored everywhere. The line that
 * says what the shard owns goes to `line`. */
static int shard_plan(const struct build_options *o, const struct squadfile *sf,
		      const struct graph *g, const struct state *st, struct plan *plan,
		      const struct plan_options *po, struct strbuf *line, struct strbuf *err)
{
	size_t nr = sf->nr_tasks, nr_own = 0;
	double *weight = xcalloc(nr + 1, sizeof(double));
	unsigned *owner = xcalloc(nr + 1, sizeof(unsigned));
	struct strvec own = STRVEC_INIT;
	int *work = xmalloc((nr + 1) * sizeof(int));
	size_t nr_work = 0;
	int ret = 0;

	plan_task_weights(plan, st, weight);
	/* a group (needs only) does nothing itself and, as a shard's own,
	 * would drag its whole closure there: groups are no shard's own */
	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task *t = &sf->tasks[plan->order[i]];

		if (t->run || t->run_argv.nr || t->prompt || t->skills.nr)
			work[nr_work++] = plan->order[i];
	}
	shard_split(work, nr_work, weight, o->shard_n, owner);
	strbuf_addf(line, "squad: shard %u/%u owns", o->shard_k, o->shard_n);
	for (size_t i = 0; i < nr_work; i++) {
		int n = work[i];

		if (owner[n] != o->shard_k - 1)
			continue;
		strvec_push(&own, sf->tasks[n].name);
		strbuf_addstr(line, nr_own++ ? ", " : " ");
		strbuf_add_printable(line, sf->tasks[n].name);
	}
	if (!nr_own)
		strbuf_addstr(line, " no task");
	strbuf_addf(line, " (%zu of %zu)%s\n", nr_own, nr_work,
		    nr_own ? "; it runs what they need too" : "");
	if (nr_own) {
		plan_release(plan);
		ret = plan_build(plan, sf, g, st, &own, po, err);
	} else {
		/* nothing of its own: an empty plan (no targets would mean
		 * the Squadfile's default ones) */
		memset(plan->in, 0, (nr + 1) * sizeof(bool));
		plan->nr_order = 0;
	}
	strvec_clear(&own);
	free(work);
	free(owner);
	free(weight);
	return ret;
}

/* What the cache has to say, one warning a line, on stderr: the human
 * report may be stdout's, and --json's events are. */
static void cache_notice(void *data, const char *lines)
{
	(void)data;
	while (*lines) {
		size_t len = strcspn(lines, "\n");

		fprintf(stderr, "squad: warning: %.*s\n", (int)len, lines);
		lines += len + (lines[len] == '\n');
	}
}

struct cachestep *build_open_cache(const struct build_options *o, const struct squadfile *sf,
				   const struct plan *plan, long worker_override, bool every_key,
				   bool *failed)
{
	struct cachestep_options co = { o->cache_write, o->force, worker_override, every_key };
	struct cachestep *c = NULL;
	struct strbuf err = STRBUF_INIT;

	*failed = false;
	if (cachestep_open(&c, sf, &co, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		*failed = true;
	} else if (c) {
		cachestep_plan(c, plan);
	}
	strbuf_release(&err);
	return c;
}

int build_execute(struct build *b)
{
	const struct build_options *o = b->opts;
	struct strbuf err = STRBUF_INIT;
	struct run_options ro;
	struct report rep;
	struct run_observer obs;
	struct observer_pair pair;
	bool squad_failed = false; /* a log, the state or the manifest not written */
	int ret;

	memset(&ro, 0, sizeof(ro));
	ro.jobs = o->jobs;
	ro.keep_going = o->keep_going;
	ro.worker_override = b->worker_override;
	ro.verbose = o->level == REPORT_VERBOSE;
	ro.replay = o->replay;
	ro.guard = true;
	ro.changed_file = b->changed_file;
	ro.cache = b->cache;
	if (b->cache)
		ro.cache_notice = cache_notice;
	b->interrupted = false;
	b->results = xcalloc(b->sf->nr_tasks + 1, sizeof(*b->results));
	report_init(&rep, b->human, b->sf, b->plan, o->level,
		    report_want_color(o->color, b->human));
	rep.replay = o->replay;
	rep.output = o->output;
	rep.results = b->results;
	/* the status line is redrawn in place: only on a terminal that can */
	rep.live = report_can_redraw(b->human);
	if (!b->adhoc)
		tell_tasks_colour(o->color, b->human);
	obs = report_observer(&rep);
	if (b->jr) {
		json_reporter_plan(b->jr);
		pair.first = obs;
		pair.second = json_reporter_observer(b->jr);
		obs.started = pair_started;
		obs.finished = pair_finished;
		obs.tool = pair_tool;
		obs.tick = pair.first.tick || pair.second.tick ? pair_tick : NULL;
		obs.data = &pair;
	}
	if (run_plan(b->plan, b->st, &ro, &obs, b->results, &b->interrupted, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		squad_failed = true;
	}
	strbuf_reset(&err);
	if (b->stash)
		put_back(b->stash, &b->interrupted, &squad_failed);
	if (state_wants_compaction(b->st) && state_compact(b->st, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		squad_failed = true;
	}
	b->wall = report_seconds_since(&b->start);
	report_summary(&rep, b->results, b->wall, b->interrupted);
	/* after an interrupt too: what was decided (an escalation, a skill
	 * task reached) is kept for the tactician */
	b->entries = hand_off(b);
	squad_failed |= b->entries < 0;
	if (b->jr && b->entries >= 0) {
		struct strbuf manifest = STRBUF_INIT;

		state_path(b->st, STATE_HANDOFF, &manifest);
		json_reporter_handoff(b->jr, manifest.buf, b->entries);
		strbuf_release(&manifest);
	}

	ret = result_exit_code(b->results, b->plan->order, b->plan->nr_order,
			       b->entries > 0 ? b->reviews : 0, b->interrupted,
			       squad_failed);
	/* written even after an interrupt: CI shows what did run */
	if (o->junit && junit_write(o->junit, b->plan, b->results, b->wall, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		if (ret == EXIT_OK || ret == EXIT_HANDOFF)
			ret = EXIT_FAILED; /* CI asked for a report it will not find */
	}
	if (b->jr)
		json_reporter_summary(b->jr, b->results, b->wall, b->interrupted, ret);
	report_release(&rep);
	strbuf_release(&err);
	return ret;
}

void build_release(struct build *b)
{
	if (b->results)
		run_results_release(b->results, b->sf->nr_tasks);
	free(b->results);
	b->results = NULL;
}

/* Keep for the next run what this plan found (ids hashed, folders read,
 * git's decisions; a cache, so failing to write it costs time, not
 * correctness), and give the tasks the changed paths ($SQUAD_CHANGED,
 * NUL-separated, in .squad/changed). Returns 0, or -1 after saying why
 * the changed paths could not be written. */
static int keep_for_tasks(const struct state *st, const struct inputs *files,
			  const struct strvec *changed, struct strbuf *changed_file)
{
	struct strbuf path = STRBUF_INIT, stamp = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf list = STRBUF_INIT;
	int ret = 0;

	state_path(st, STATE_FILES, &path);
	state_path(st, STATE_GIT, &stamp);
	if (inputs_save(files, path.buf, stamp.buf, &err) < 0)
		fprintf(stderr, "squad: warning: %s\n", err.buf);
	strbuf_reset(&err);
	if (changed) {
		for (size_t i = 0; i < changed->nr; i++)
			strbuf_add(&list, changed->v[i], strlen(changed->v[i]) + 1);
		state_path(st, STATE_CHANGED, changed_file);
		if (state_write_in(st, STATE_CHANGED, list.buf, list.len, &err) < 0) {
			fprintf(stderr, "squad: %s\n", err.buf);
			ret = -1;
		}
	}
	strbuf_release(&list);
	strbuf_release(&path);
	strbuf_release(&stamp);
	strbuf_release(&err);
	return ret;
}

int build_main(const struct build_options *o, struct squadfile *sf, struct graph *g,
	       const struct skills *skills, const struct strvec *targets)
{
	struct state st;
	struct stash stash = STASH_INIT;
	struct plan plan;
	struct strbuf err = STRBUF_INIT;
	struct build b = { .opts = o, .sf = sf, .plan = &plan, .skills = skills, .st = &st,
			   .stash = &stash, .worker_override = -1 };
	bool have_state = false;
	int ret = EXIT_OK;
	struct plan_options po;
	struct inputs files = { 0 };
	struct strvec changed = STRVEC_INIT;
	struct strbuf prefix = STRBUF_INIT, changed_file = STRBUF_INIT;
	struct strbuf shard_line = STRBUF_INIT;
	struct strvec run_targets = STRVEC_INIT; /* a shard's plan has its own */
	bool cache_failed;

	clock_gettime(CLOCK_MONOTONIC, &b.start);
	b.human = o->json ? stderr : stdout; /* stdout is the events' */
	if (o->worker) {
		b.worker_override = squadfile_find_worker(sf, o->worker);
		if (b.worker_override < 0) {
			fprintf(stderr, "squad: unknown worker '%s' for --worker\n"
				"Try 'squad --help'.\n", o->worker);
			return EXIT_USAGE;
		}
	}

	if (!o->dry_run) {
		if (build_open_state(&st, sf->root, o->no_wait) < 0)
			return EXIT_FAILED;
		if (recover_stash(&st) < 0) {
			state_close(&st);
			return EXIT_FAILED;
		}
		/* before the plan: it looks at the files the tasks will see */
		if (o->stash && (ret = stash_save(&stash, st.dir, sf->root, &err)) != 0) {
			if (ret < 0)
				fprintf(stderr, "squad: %s\n", err.buf);
			strbuf_release(&err);
			stash_release(&stash);
			state_close(&st);
			return ret < 0 ? EXIT_FAILED : EXIT_INTERRUPTED;
		}
		have_state = true;
	} else {
		have_state = peek_state(&st, sf);
		state_root_path(&err, sf->root, STATE_STASH "/" STATE_STASH_MANIFEST);
		if (access(err.buf, F_OK) == 0)
			fprintf(stderr, "squad: warning: files are set aside in %s/" STATE_DIR_NAME
				"/" STATE_STASH " (a 'squad --stash' runs, or was cut short: then "
				"the next run, not -n, puts them back); this plan sees the tree "
				"without them\n", sf->root);
		strbuf_reset(&err);
	}
	memset(&plan, 0, sizeof(plan));
	if (build_plan_options(o, sf, have_state ? &st : NULL, &po, &files, &changed, &prefix,
			       &err) < 0 ||
	    plan_build(&plan, sf, g, have_state ? &st : NULL, targets, &po, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < plan.targets.nr; i++)
		strvec_push(&run_targets, plan.targets.v[i]);
	b.run_targets = &run_targets;
	if (o->shard_n && shard_plan(o, sf, g, have_state ? &st : NULL, &plan, &po, &shard_line, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	if (!o->dry_run && keep_for_tasks(&st, &files, po.changed ? &changed : NULL,
					  &changed_file) < 0) {
		ret = EXIT_FAILED;
		goto out;
	}
	if (changed_file.len)
		b.changed_file = changed_file.buf;
	if (!o->dry_run) {
		b.cache = build_open_cache(o, sf, &plan, b.worker_override, false, &cache_failed);
		if (cache_failed) {
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (o->json)
		b.jr = json_reporter_new(stdout, &plan, o->json_output);
	if (o->dry_run) {
		if (b.jr) {
			json_reporter_plan(b.jr); /* -n --json: the plan event alone */
		} else {
			fputs(shard_line.buf, stdout);
			report_dry_run(stdout, &plan, o->jobs);
		}
		goto out;
	}
	if (o->level != REPORT_QUIET)
		fputs(shard_line.buf, b.human);
	ret = build_execute(&b);
out:
	if (stash.active) {
		bool stopped = false, failed_back = false;

		put_back(&stash, &stopped, &failed_back);
		if (failed_back && ret == EXIT_OK)
			ret = EXIT_FAILED;
	}
	stash_release(&stash);
	json_reporter_free(b.jr);
	build_release(&b);
	cachestep_free(b.cache);
	strvec_clear(&run_targets);
	plan_release(&plan);
	if (have_state)
		state_close(&st);
	inputs_release(&files);
	strvec_clear(&changed);
	strbuf_release(&prefix);
	strbuf_release(&changed_file);
	strbuf_release(&shard_line);
	strbuf_release(&err);
	return ret;
}
