/* explain.c - why a task will or will not run; see explain.h. */
#include "report/explain.h"
#include "job/budget.h"
#include "run/run.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *verdict(const struct plan *plan, size_t n)
{
	const struct task *t = &plan->sf->tasks[n];

	if (!plan->in[n])
		return "not selected";
	switch (plan->action[n]) {
	case PLAN_HANDOFF:
		return "waits for the tactician";
	case PLAN_DONE:
		return "done (reported by the tactician)";
	case PLAN_DONE_FAILED:
		return "failed (reported by the tactician)";
	case PLAN_UP_TO_DATE:
		return "up to date";
	case PLAN_RUN:
		break;
	}
	return t->run || t->run_argv.nr || t->prompt ? "will run" : "a group: done when its needs are";
}

static void add_route(struct strbuf *out, const struct plan *plan, const struct skills *skills,
		      size_t n)
{
	const struct squadfile *sf = plan->sf;
	const struct task *t = &sf->tasks[n];

	if (t->skills.nr) {
		strbuf_addstr(out, "  route: hand-off to the tactician (squad never runs a "
			      "skill-tagged task)\n");
		for (size_t i = 0; i < t->skills.nr; i++) {
			const struct skill *skill = route_find_skill(skills, t->skills.v[i]);

			strbuf_addf(out, "    skill %s", t->skills.v[i]);
			if (t->skill_rule && t->skill_rule[i] >= 0)
				strbuf_addf(out, ", from routing rule %ld (%s:%u:%u: '%s')",
					    t->skill_rule[i] + 1, sf->path,
					    sf->rules[t->skill_rule[i]].match_mark.line,
					    sf->rules[t->skill_rule[i]].match_mark.col,
					    sf->rules[t->skill_rule[i]].match);
			else
				strbuf_addstr(out, ", written on the task");
			if (skill && skill->resolved)
				strbuf_addf(out, "; %s", skill->path);
			else
				strbuf_addstr(out, "; no SKILL.md found (unresolved)");
			strbuf_addch(out, '\n');
		}
		return;
	}
	if (!t->run && !t->run_argv.nr && !t->prompt)
		return;
	strbuf_addf(out, "  route: worker %s (%s)\n", sf->workers[t->worker].name,
		    t->worker_explicit ? "given on the task"
		    : t->worker != 0 && t->run ? "defaults.worker"
		    : t->prompt && !t->run && !t->run_argv.nr ? "a prompt without run goes to qwen, "
							    "unless defaults.worker says otherwise"
		    : "a command goes to the shell, unless defaults.worker says otherwise");
}

static void add_needs(struct strbuf *out, const struct plan *plan, size_t n)
{
	const struct graph *g = plan->graph;

	if (g->dep_start[n] == g->dep_start[n + 1])
		return;
	strbuf_addstr(out, "  needs:");
	for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
		strbuf_addf(out, "%s %s (%s)", e == g->dep_start[n] ? "" : ",",
			    plan->sf->tasks[g->deps[e]].name, verdict(plan, (size_t)g->deps[e]));
	strbuf_addch(out, '\n');
}

/* "PATH\tOID\n" lines -> a sorted pair of arrays (they are written sorted). */
static void compare_inputs(struct strbuf *out, const char *before, const char *now)
{
	const char *a = before, *b = now;
	size_t shown = 0, total = 0;

	while (*a || *b) {
		size_t la = strcspn(a, "\t"), lb = strcspn(b, "\t");
		int cmp = !*a ? 1 : !*b ? -1 : strncmp(a, b, la < lb ? la : lb);
		const char *what = NULL, *path = NULL;
		size_t len = 0;

		if (!cmp && la != lb)
			cmp = la < lb ? -1 : 1;
		if (cmp < 0) {
			what = "removed", path = a, len = la;
			a += strcspn(a, "\n") + (a[strcspn(a, "\n")] == '\n');
		} else if (cmp > 0) {
			what = "new", path = b, len = lb;
			b += strcspn(b, "\n") + (b[strcspn(b, "\n")] == '\n');
		} else {
			size_t ea = strcspn(a, "\n"), eb = strcspn(b, "\n");

			if (ea != eb || strncmp(a, b, ea))
				what = "modified", path = a, len = la;
			a += ea + (a[ea] == '\n');
			b += eb + (b[eb] == '\n');
		}
		if (!what)
			continue;
		total++;
		if (shown++ < 20)
			strbuf_addf(out, "    %-8s  %.*s\n", what, (int)len, path);
	}
	if (total > 20)
		strbuf_addf(out, "    ... and %zu more\n", total - 20);
	if (!total)
		strbuf_addstr(out, "    (the same files, the same contents: its definition, its "
			      "worker or a task it needs changed)\n");
}

static void add_reason(struct strbuf *out, const struct plan *plan, const struct state *st,
		       size_t n)
{
	const struct task *t = &plan->sf->tasks[n];
	const struct task_record *rec = st ? state_get(st, t->name) : NULL;
	struct strbuf before = STRBUF_INIT;
	char when[32] = "";

	if (rec && rec->finished) {
		time_t at = (time_t)rec->finished;
		struct tm tm;

		localtime_r(&at, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (plan->stale_done[n])
		strbuf_addstr(out, "  done mark: there is one, but the task or what it needs "
			      "changed since it was given: the task waits again\n");
	if (plan->recheck[n])
		strbuf_addf(out, "  done mark: the tactician reported it %s on %s%s%s, but only a "
			    "skill task is settled by that: it runs again, and only its real "
			    "result counts\n", rec->status == RECORD_DONE ? "done" : "failed", when,
			    rec->note ? ": " : "", rec->note ? rec->note : "");
	if (!plan->in[n]) {
		strbuf_addstr(out, "  why: none of its inputs match a changed path, and no "
			      "selected task needs it\n");
		return;
	}
	if (plan->changed && plan->changed_inputs[n].nr) {
		strbuf_addstr(out, "  selected by changed paths:");
		for (size_t i = 0; i < plan->changed_inputs[n].nr && i < 10; i++)
			strbuf_addf(out, " %s", plan->changed_inputs[n].v[i]);
		strbuf_addstr(out, plan->changed_inputs[n].nr > 10 ? " ...\n" : "\n");
	}
	switch (plan->action[n]) {
	case PLAN_UP_TO_DATE:
		strbuf_addf(out, "  why: its definition and its %s are as at its last success "
			    "(%s, took %.2fs)\n", t->inputs.nr ? "inputs" : "needs", when,
			    (double)rec->duration_ms / 1000);
		return;
	case PLAN_DONE:
	case PLAN_DONE_FAILED:
		strbuf_addf(out, "  why: the tactician reported it on %s%s%s\n", when,
			    rec && rec->note ? ": " : "", rec && rec->note ? rec->note : "");
		return;
	case PLAN_HANDOFF:
		return;
	case PLAN_RUN:
		break;
	}
	if (!t->run && !t->run_argv.nr && !t->prompt)
		return;
	if (!t->inputs.nr) {
		strbuf_addstr(out, "  why: it has no inputs, so it runs every time (list its "
			      "inputs to let squad skip it when they have not changed)\n");
	} else if (!rec) {
		strbuf_addstr(out, "  why: it has not run before\n");
	} else if (rec->status != RECORD_OK) {
		strbuf_addf(out, "  why: its last run failed (exit %d, %s)\n", rec->exit_code, when);
	} else if (rec->log_cut) {
		strbuf_addf(out, "  why: its last log was cut short (%s): squad could not write all "
			    "of its output, so it runs again\n", when);
	} else if (plan->missing_output[n] >= 0) {
		strbuf_addf(out, "  why: its output '%s' is missing\n",
			    t->outputs.v[plan->missing_output[n]]);
	} else if (rec->fingerprint && !strcmp(rec->fingerprint, plan_fingerprint(plan, n))) {
		strbuf_addstr(out, "  why: -B/--force runs it although it is up to date\n");
	} else {
		strbuf_addf(out, "  why: changed since its last success (%s):\n", when);
		if (st && state_load_inputs(st, t->name, &before) == 0)
			compare_inputs(out, before.buf, plan->inputs[n].buf);
		else
			strbuf_addstr(out, "    (its input list of then was not kept)\n");
	}
	strbuf_release(&before);
}

static size_t count_lines(const char *text)
{
	size_t lines = 0;

	for (; *text; text++)
		lines += *text == '\n';
	return lines;
}

/* How many tasks of its worker may run at once: run_worker_limit(). */
static void add_limit(struct strbuf *out, const struct plan *plan, size_t n, unsigned jobs)
{
	const struct task *t = &plan->sf->tasks[n];
	const struct worker *w = &plan->sf->workers[t->worker];
	unsigned limit;
	bool own;

	if (t->skills.nr || (!t->run && !t->run_argv.nr && !t->prompt))
		return;
	limit = run_worker_limit(w, jobs, &own);
	strbuf_addf(out, "  limit: at most %u of worker %s's tasks at once (%s)\n", limit, w->name,
		    own ? "its slots; -j does not bound an agent worker with slots"
		    : limit < jobs ? "its slots, within -j" : "-j, shared with every local process");
	if (!w->is_shell) {
		struct strbuf sb = STRBUF_INIT;

		if (budget_describe(w->name, w->daily_limit, w->per_minute, w->daily_tokens, &sb))
			strbuf_addf(out, "  budget: worker %s has %s\n", w->name, sb.buf);
		strbuf_release(&sb);
	}
}

static void explain_text(struct strbuf *out, const struct plan *plan, const struct state *st,
			 const struct skills *skills, size_t task, unsigned jobs)
{
	const struct task *t = &plan->sf->tasks[task];

	strbuf_addf(out, "%s: %s\n", t->name, verdict(plan, task));
	if (t->desc)
		strbuf_addf(out, "  desc: %s\n", t->desc);
	add_route(out, plan, skills, task);
	add_limit(out, plan, task, jobs);
	add_needs(out, plan, task);
	if (t->inputs.nr) {
		strbuf_addstr(out, "  inputs:");
		for (size_t i = 0; i < t->inputs.nr; i++)
			strbuf_addf(out, " %s", t->inputs.v[i]);
		size_t n = count_lines(plan->inputs[task].buf);

		strbuf_addf(out, " (%zu file%s now)\n", n, n == 1 ? "" : "s");
	}
	add_reason(out, plan, st, task);
}

void explain_task(struct strbuf *out, const struct plan *plan, const struct state *st,
		  const struct skills *skills, size_t task, unsigned jobs)
{
	struct strbuf text = STRBUF_INIT;
	const char *line = text.buf, *nl;

	explain_text(&text, plan, st, skills, task, jobs);
	/* names, paths, notes: text from the Squadfile, the state and the
	 * file system, none of which may act on a terminal */
	for (line = text.buf; (nl = strchr(line, '\n')); line = nl + 1) {
		strbuf_add_printable_len(out, line, (size_t)(nl - line));
		strbuf_addch(out, '\n');
	}
	strbuf_add_printable(out, line);
	strbuf_release(&text);
}
