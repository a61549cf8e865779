/* plan.c - targets, closure, order, actions; see plan.h. */
#include "plan/plan.h"
#include "model/diag.h"
#include "model/expand.h"
#include "files/files.h"
#include "model/glob.h"
#include "job/worker.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int resolve_targets(struct plan *plan, const struct squadfile *sf,
			   const struct strvec *targets, struct strbuf *err)
{
	const struct strvec *names = targets->nr ? targets : &sf->default_targets;
	bool *seen;

	if (!names->nr) {
		strbuf_addstr(err, "no target given and the Squadfile has no 'default:'");
		if (sf->nr_tasks) {
			strbuf_addstr(err, "; tasks:");
			for (size_t i = 0; i < sf->nr_tasks && i < 20; i++)
				strbuf_addf(err, " %s", sf->tasks[i].name);
			if (sf->nr_tasks > 20)
				strbuf_addstr(err, " ...");
		}
		return -1;
	}
	/* each target once; by index, not strvec_find(): 'squad graph' of a
	 * 100,000-task file names them all */
	seen = xcalloc(sf->nr_tasks + 1, sizeof(bool));
	for (size_t i = 0; i < names->nr; i++) {
		long n = squadfile_find_task(sf, names->v[i]);

		if (n < 0) {
			const char **all = xcalloc(sf->nr_tasks + 1, sizeof(char *));

			for (size_t j = 0; j < sf->nr_tasks; j++)
				all[j] = sf->tasks[j].name;
			/* as typed, but never an escape sequence on the terminal */
			strbuf_addstr(err, "unknown target '");
			strbuf_add_printable(err, names->v[i]);
			strbuf_addch(err, '\'');
			diag_add_suggestion(err, names->v[i], all, (long)sf->nr_tasks);
			if (!diag_suggest(names->v[i], all, (long)sf->nr_tasks))
				strbuf_addstr(err, " (see 'squad list')");
			free(all);
			free(seen);
			return -1;
		}
		if (!seen[n])
			strvec_push(&plan->targets, names->v[i]);
		seen[n] = true;
	}
	free(seen);
	return 0;
}

void plan_task_base(const struct squadfile *sf, const struct task *t, const char *prefix,
		    struct strbuf *base)
{
	struct expand_scope scope = { .vars = &sf->vars, .environ = true, .keep_unknown = true };

	strbuf_addstr(base, prefix ? prefix : "");
	if (t->dir && strcmp(t->dir, ".")) {
		size_t start = base->len;

		expand_vars(base, t->dir, &scope, NULL, NULL);
		/* "./x" and "x/" are the same folder as "x" */
		while (base->len - start >= 2 && !strncmp(base->buf + start, "./", 2)) {
			memmove(base->buf + start, base->buf + start + 2, base->len - start - 2);
			strbuf_setlen(base, base->len - 2);
		}
		if (base->len > start && base->buf[base->len - 1] != '/')
			strbuf_addch(base, '/');
	}
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void plan_input_roots(const struct squadfile *sf, const char *prefix, struct strvec *roots)
{
	struct strvec all = STRVEC_INIT;

	for (size_t i = 0; i < sf->nr_tasks; i++) {
		const struct task *t = &sf->tasks[i];
		struct strbuf base = STRBUF_INIT, err = STRBUF_INIT;
		struct globset *gs;

		if (!t->inputs.nr)
			continue;
		plan_task_base(sf, t, prefix, &base);
		gs = globset_new(&t->inputs, base.buf, &err);
		/* an invalid glob is reported by plan_build(); list all */
		strvec_push(&all, gs ? globset_prefix(gs) : "");
		globset_free(gs);
		strbuf_release(&base);
		strbuf_release(&err);
	}
	if (all.nr)
		qsort(all.v, all.nr, sizeof(char *), by_string);
	for (size_t i = 0; i < all.nr; i++)
		if (!roots->nr || strcmp(roots->v[roots->nr - 1], all.v[i]))
			strvec_push(roots, all.v[i]);
	strvec_clear(&all);
}

/* Task t's inputs as a glob set over paths from the top of the tree, or
 * NULL with the reason in err. The caller frees it (globset_free()). */
static struct globset *task_inputs(const struct plan *plan, const struct plan_options *opts,
				   const struct task *t, struct strbuf *err)
{
	struct strbuf base = STRBUF_INIT;
	struct globset *gs;

	plan_task_base(plan->sf, t, opts->files_prefix, &base);
	gs = globset_new(&t->inputs, base.buf, err);
	strbuf_release(&base);
	if (!gs)
		strbuf_addf(err, " (in the inputs of task '%s')", t->name);
	return gs;
}

/* The files of `files` that task t's inputs match; adds
 * "in=PATH\0OID\0" to text for each file. */
static int hash_inputs(struct plan *plan, const struct plan_options *opts, size_t n,
		       struct strbuf *text, struct strbuf *err)
{
	const struct task *t = &plan->sf->tasks[n];
	struct file_list *files = opts->files;
	struct globset *gs = task_inputs(plan, opts, t, err);
	const char *prefix;
	size_t lo = 0, hi = files->nr, len;

	if (!gs)
		return -1;
	/* files are sorted: only the range under the literal prefix can match */
	prefix = globset_prefix(gs);
	len = strlen(prefix);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(files->paths[mid], prefix, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < files->nr && !strncmp(files->paths[i], prefix, len); i++) {
		const char *oid;

		if (!globset_match(gs, files->paths[i]))
			continue;
		/* by hand, not strbuf_addf: this runs for every input of every
		 * task, and vsnprintf was most of a no-op run's time */
		oid = file_list_oid(files, i);
		strbuf_addstr(text, "in=");
		strbuf_add(text, files->paths[i], strlen(files->paths[i]) + 1);
		strbuf_add(text, oid, strlen(oid) + 1);
		/* kept for the state, so 'explain' can say which file changed */
		strbuf_addstr(&plan->inputs[n], files->paths[i]);
		strbuf_addch(&plan->inputs[n], '\t');
		strbuf_addstr(&plan->inputs[n], oid);
		strbuf_addch(&plan->inputs[n], '\n');
	}
	globset_free(gs);
	return 0;
}

/* The changed paths each planned task's inputs match. Apart from the
 * hashing: a dry run hashes only the tasks a state has records of, and
 * without a state lists no files, but selects by the changes all the same. */
static int match_changed(struct plan *plan, const struct plan_options *opts,
			 struct strbuf *err)
{
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &plan->sf->tasks[n];
		struct globset *gs;

		if (!t->inputs.nr)
			continue;
		gs = task_inputs(plan, opts, t, err);
		if (!gs)
			return -1;
		for (size_t j = 0; j < opts->changed->nr; j++)
			if (globset_match(gs, opts->changed->v[j]))
				strvec_push(&plan->changed_inputs[n], opts->changed->v[j]);
		globset_free(gs);
	}
	return 0;
}

/* Which fingerprints a dry run needs: those of tasks with a record in
 * `st`, and of everything they depend on. */
static bool *needed_fingerprints(const struct plan *plan, const struct state *st)
{
	const struct graph *g = plan->graph;
	bool *need = xcalloc(plan->sf->nr_tasks + 1, sizeof(bool));

	/* dependents come after their dependencies in order: walk it back */
	for (size_t i = plan->nr_order; i-- > 0;) {
		int n = plan->order[i];

		need[n] = need[n] || (st && state_get(st, plan->sf->tasks[n].name));
		if (need[n])
			for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
				need[g->deps[e]] = true;
	}
	return need;
}

static int compute_fingerprints(struct plan *plan, const struct state *st,
				const struct plan_options *opts, struct strbuf *err)
{
	const struct squadfile *sf = plan->sf;
	const struct graph *g = plan->graph;
	struct strbuf text = STRBUF_INIT;
	bool *need = opts && opts->dry_run ? needed_fingerprints(plan, st) : NULL;

	/* dependencies first, so each one's fingerprint is ready */
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];

		if (need && !need[n])
			continue; /* left "": no record is compared with it */
		strbuf_reset(&text);
		worker_describe(sf, t, &sf->workers[t->worker], &text);
		if (t->inputs.nr && opts && opts->files &&
		    hash_inputs(plan, opts, (size_t)n, &text, err) < 0) {
			strbuf_release(&text);
			free(need);
			return -1;
		}
		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++) {
			strbuf_addstr(&text, "need=");
			strbuf_add(&text, plan_fingerprint(plan, (size_t)g->deps[e]), 41);
		}
		files_hash(text.buf, text.len, plan->fingerprints + 41 * (size_t)n);
	}
	strbuf_release(&text);
	free(need);
	return 0;
}

/* Is there a file under `dir` (absolute, with '/') that `gs` matches (any
 * file when gs is NULL)? `rel` is dir relative to the files' root.
 * Depth-first; stops at the first match. */
static bool any_file_matches(struct strbuf *dir, struct strbuf *rel, const struct globset *gs)
{
	DIR *d = opendir(dir->buf);
	struct dirent *de;
	size_t dir_len = dir->len, rel_len = rel->len;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_addstr(dir, de->d_name);
		strbuf_addstr(rel, de->d_name);
		/* d_type spares a stat per entry where the file system has it */
		if (de->d_type != DT_UNKNOWN && de->d_type != DT_DIR) {
			found = de->d_type != DT_LNK && (!gs || globset_match(gs, rel->buf));
		} else if (lstat(dir->buf, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				found = !gs || globset_match(gs, rel->buf);
			} else {
				strbuf_addch(dir, '/');
				strbuf_addch(rel, '/');
				found = any_file_matches(dir, rel, gs);
			}
		}
		strbuf_setlen(dir, dir_len);
		strbuf_setlen(rel, rel_len);
	}
	closedir(d);
	return found;
}

/* Index of the first of task n's outputs that no file matches, or -1. */
static long missing_output(const struct plan *plan, const struct plan_options *opts, size_t n)
{
	const struct task *t = &plan->sf->tasks[n];
	struct strbuf base = STRBUF_INIT;
	long missing = -1;

	plan_task_base(plan->sf, t, opts->files_prefix, &base);
	for (size_t i = 0; i < t->outputs.nr && missing < 0; i++) {
		struct strvec one = STRVEC_INIT;
		struct strbuf dir = STRBUF_INIT, rel = STRBUF_INIT, err = STRBUF_INIT;
		struct globset *gs;
		const char *prefix;

		if (t->outputs.v[i][0] == '!')
			continue;
		if (!strpbrk(t->outputs.v[i], "*?[\\")) {
			/* a plain path (the common case) needs one lstat, not a walk;
			 * a folder counts when it holds a file, as in git */
			struct stat sb;

			strbuf_addf(&dir, "%s%s%s", opts->files->root, base.buf, t->outputs.v[i]);
			if (lstat(dir.buf, &sb) < 0) {
				missing = (long)i;
			} else if (S_ISDIR(sb.st_mode)) {
				strbuf_addch(&dir, '/');
				if (!any_file_matches(&dir, &rel, NULL))
					missing = (long)i;
			}
			strbuf_release(&dir);
			strbuf_release(&rel);
			continue;
		}
		strvec_push(&one, t->outputs.v[i]);
		gs = globset_new(&one, base.buf, &err);
		if (gs) {
			/* walk only below the pattern's literal folder */
			prefix = globset_prefix(gs);
			strbuf_addf(&dir, "%s%s", opts->files->root, prefix);
			strbuf_addstr(&rel, prefix);
			if (!any_file_matches(&dir, &rel, gs))
				missing = (long)i;
			globset_free(gs);
		}
		strvec_clear(&one);
		strbuf_release(&dir);
		strbuf_release(&rel);
		strbuf_release(&err);
	}
	strbuf_release(&base);
	return missing;
}

static bool has_work(const struct task *t)
{
	return t->run || t->run_argv.nr || t->prompt || t->skills.nr;
}

/* Keep the tasks whose inputs match a changed path (and those without
 * inputs), what they need, and the groups above kept tasks. */
static void select_changed(struct plan *plan)
{
	const struct squadfile *sf = plan->sf;
	const struct graph *g = plan->graph;
	size_t nr = sf->nr_tasks;
	bool *kept = xcalloc(nr + 1, sizeof(bool));
	int *seeds = xmalloc((nr + 1) * sizeof(int));
	size_t nr_seeds = 0;

	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];

		if (has_work(t) && (!t->inputs.nr || plan->changed_inputs[n].nr))
			seeds[nr_seeds++] = n;
	}
	graph_closure(g, seeds, nr_seeds, kept);
	/* a group (needs only) stays when something it needs stays; the
	 * order has dependencies first, so one pass sees groups of groups */
	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];

		if (has_work(&sf->tasks[n]))
			continue;
		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1] && !kept[n]; e++)
			kept[n] = kept[g->deps[e]];
	}
	free(plan->in);
	plan->in = kept;
	plan->nr_order = graph_topo_order(g, plan->in, plan->order);
	free(seeds);
}

/* Does the tactician's mark settle task t? Only a skill task is settled
 * by the tactician's word. A prompt's note may stand in as its answer,
 * if it meets `expect`. A command is checked again: a red never turns
 * green by a word. */
static bool settled_by_mark(const struct task *t, const struct task_record *rec)
{
	if (t->skills.nr)
		return true;
	if (!t->prompt || rec->status != RECORD_DONE || !rec->note)
		return false;
	return !t->expect_re || regex_match(t->expect_re, rec->note, strlen(rec->note), NULL);
}

int plan_build(struct plan *plan, const struct squadfile *sf, const struct graph *g,
	       const struct state *st, const struct strvec *targets,
	       const struct plan_options *opts, struct strbuf *err)
{
	size_t nr = sf->nr_tasks;
	int *target_ids;
	double *weight;

	memset(plan, 0, sizeof(*plan));
	plan->sf = sf;
	plan->graph = g;
	strvec_init(&plan->targets);
	plan->in = xcalloc(nr + 1, sizeof(bool));
	plan->order = xmalloc((nr + 1) * sizeof(int));
	plan->priority = xcalloc(nr + 1, sizeof(double));
	plan->action = xcalloc(nr + 1, sizeof(enum plan_action));
	plan->fingerprints = xcalloc(nr + 1, 41);
	plan->stale_done = xcalloc(nr + 1, sizeof(bool));
	plan->recheck = xcalloc(nr + 1, sizeof(bool));
	plan->changed_inputs = xcalloc(nr + 1, sizeof(struct strvec));
	plan->missing_output = xcalloc(nr + 1, sizeof(long));
	plan->inputs = xcalloc(nr + 1, sizeof(struct strbuf));
	for (size_t i = 0; i < nr; i++) {
		strvec_init(&plan->changed_inputs[i]);
		strbuf_init(&plan->inputs[i], 0);
		plan->missing_output[i] = -1;
	}
	plan->changed = opts ? opts->changed : NULL;

	if (resolve_targets(plan, sf, targets, err) < 0)
		return -1;
	target_ids = xmalloc(plan->targets.nr * sizeof(int));
	for (size_t i = 0; i < plan->targets.nr; i++)
		target_ids[i] = (int)squadfile_find_task(sf, plan->targets.v[i]);
	graph_closure(g, target_ids, plan->targets.nr, plan->in);
	free(target_ids);
	plan->nr_order = graph_topo_order(g, plan->in, plan->order);

	/* fingerprints matter only against a state (up to date, done marks)
	 * and to the records a run writes; a bare plan (-n, graph) skips them */
	if ((st || opts) && compute_fingerprints(plan, st, opts, err) < 0)
		return -1;
	if (opts && opts->changed) {
		if (match_changed(plan, opts, err) < 0)
			return -1;
		select_changed(plan);
	}

	/* the critical path: by last durations (plan_task_weights) */
	weight = xmalloc((nr + 1) * sizeof(double));
	plan_task_weights(plan, st, weight);
	graph_critical_path(g, plan->in, plan->order, plan->nr_order, weight, plan->priority);
	free(weight);

	for (size_t i = 0; i < plan->nr_order; i++) {
		int n = plan->order[i];
		const struct task *t = &sf->tasks[n];
		const struct task_record *rec = st ? state_get(st, t->name) : NULL;
		bool same = rec && rec->fingerprint &&
			    !strcmp(rec->fingerprint, plan_fingerprint(plan, (size_t)n));

		plan->action[n] = t->skills.nr ? PLAN_HANDOFF : PLAN_RUN;
		if (rec && (rec->status == RECORD_DONE || rec->status == RECORD_DONE_FAILED)) {
			if (!same)
				plan->stale_done[n] = true;
			else if (settled_by_mark(t, rec))
				plan->action[n] = rec->status == RECORD_DONE ? PLAN_DONE
									     : PLAN_DONE_FAILED;
			else
				plan->recheck[n] = true;
			continue;
		}
		/* only a task that says what it reads can be known up to date;
		 * one whose log was cut short runs again, so that what it said
		 * is whole before it is trusted */
		if (plan->action[n] != PLAN_RUN || !t->inputs.nr || !opts || !opts->files ||
		    opts->force || !same || rec->status != RECORD_OK || rec->log_cut)
			continue;
		plan->missing_output[n] = missing_output(plan, opts, (size_t)n);
		if (plan->missing_output[n] < 0)
			plan->action[n] = PLAN_UP_TO_DATE;
	}
	return 0;
}

void plan_task_weights(const struct plan *plan, const struct state *st, double *weight)
{
	const struct squadfile *sf = plan->sf;
	double known_total = 0;
	size_t known = 0;

	for (size_t i = 0; i < plan->nr_order; i++) {
		const struct task_record *rec = st ? state_get(st, sf->tasks[plan->order[i]].name) : NULL;

		weight[plan->order[i]] = -1;
		if (rec && (rec->status == RECORD_OK || rec->status == RECORD_FAILED)) {
			weight[plan->order[i]] = (double)rec->duration_ms + 1;
			known_total += (double)rec->duration_ms + 1;
			known++;
		}
	}
	for (size_t i = 0; i < plan->nr_order; i++)
		if (weight[plan->order[i]] < 0)
			weight[plan->order[i]] = known ? known_total / (double)known : 1;
}

void plan_release(struct plan *plan)
{
	strvec_clear(&plan->targets);
	free(plan->in);
	free(plan->order);
	free(plan->priority);
	free(plan->action);
	free(plan->fingerprints);
	free(plan->stale_done);
	free(plan->recheck);
	if (plan->changed_inputs)
		for (size_t i = 0; i < plan->sf->nr_tasks; i++) {
			strvec_clear(&plan->changed_inputs[i]);
			strbuf_release(&plan->inputs[i]);
		}
	free(plan->inputs);
	free(plan->changed_inputs);
	free(plan->missing_output);
	memset(plan, 0, sizeof(*plan));
}
