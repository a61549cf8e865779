/* handoff.c - the hand-off manifest and `squad done`; see handoff.h. */
#include "report/handoff.h"
#include "files/fileio.h"
#include "run/changes.h"
#include "report/report_json.h"
#include "files/state.h"
#include "util/tail.h"
#include "model/expand.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_VERSION 1
/* An escalation carries this much of its log inline; the rest is a path. */

static const char *string_or(const json_t *s, const char *fallback)
{
	return json_string_value(s) ? json_string_value(s) : fallback;
}

static const char *name_of(const json_t *entry, const char *fallback)
{
	return string_or(json_object_get(entry, "name"), fallback);
}

static void manifest_path(const char *squad_dir, struct strbuf *path)
{
	strbuf_addf(path, "%s/" STATE_HANDOFF, squad_dir);
}

/* A Squadfile string with its `vars` expanded and nothing else: an
 * environment variable stays `${NAME}`, so no secret is written out. */
static json_t *written(const struct squadfile *sf, const char *text)
{
	struct strbuf out = STRBUF_INIT;
	json_t *s;

	if (!text)
		return json_null();
	expand_for_display(&out, text, &sf->vars, &sf->env_vars);
	strbuf_utf8_sanitize(&out);
	s = json_stringn(out.buf, out.len);
	strbuf_release(&out);
	return s;
}

static json_t *written_list(const struct squadfile *sf, const struct strvec *list)
{
	json_t *a = json_array();

	for (size_t i = 0; i < list->nr; i++)
		json_array_append_new(a, written(sf, list->v[i]));
	return a;
}

static json_t *plain(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *s;

	if (!text)
		return json_null();
	strbuf_addstr(&sb, text);
	strbuf_utf8_sanitize(&sb);
	s = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return s;
}

/* The last lines of a log, bounded in bytes, as JSON text. */
static json_t *log_tail(const char *path)
{
	struct strbuf tail = STRBUF_INIT;
	json_t *s;

	if (tail_lines(path, TAIL_LINES, TAIL_BYTES, &tail) < 0)
		return json_null();
	strbuf_utf8_sanitize(&tail);
	s = json_stringn(tail.buf, tail.len);
	strbuf_release(&tail);
	return s;
}

static void squad_call(struct strbuf *sb, const struct handoff_context *ctx)
{
	strbuf_add_shell_quoted(sb, ctx->squad_command);
	strbuf_addstr(sb, " -f ");
	strbuf_add_shell_quoted(sb, ctx->squadfile_path);
}

void handoff_exec_apply_command(struct strbuf *sb, const char *squad_command, const char *root,
				const char *exec_dir, const char *task)
{
	const char *id = strrchr(exec_dir, '/');

	strbuf_add_shell_quoted(sb, squad_command);
	strbuf_addstr(sb, " -C ");
	strbuf_add_shell_quoted(sb, root);
	strbuf_addstr(sb, " apply --exec ");
	strbuf_add_shell_quoted(sb, id ? id + 1 : exec_dir);
	strbuf_addch(sb, ' ');
	strbuf_add_shell_quoted(sb, task);
}

/* Tasks of this run that wait, directly or not, behind `task`. */
static json_t *blocks_of(const struct handoff_context *ctx, size_t task)
{
	const struct graph *g = ctx->plan->graph;
	size_t nr = ctx->sf->nr_tasks;
	bool *seen = xcalloc(nr + 1, sizeof(bool));
	int *queue = xmalloc((nr + 1) * sizeof(int));
	size_t head = 0, tail = 0;
	json_t *a = json_array();

	queue[tail++] = (int)task;
	seen[task] = true;
	while (head < tail) {
		int n = queue[head++];

		for (size_t e = g->rdep_start[n]; e < g->rdep_start[n + 1]; e++) {
			int d = g->rdeps[e];

			if (seen[d] || !ctx->plan->in[d] || ctx->results[d].status != TASK_BLOCKED)
				continue;
			seen[d] = true;
			queue[tail++] = d;
			json_array_append_new(a, json_string(ctx->sf->tasks[d].name));
		}
	}
	free(seen);
	free(queue);
	return a;
}

/* What an agent did for a task that ran on one: its tool calls (the
 * last RESULT_MAX_TOOLS) and usage, so the tactician can see the work
 * before trusting the answer. Nothing for a task that made no call and
 * reported no usage. */
static void add_agent_work(json_t *o, const struct task_result *res)
{
	if (!res->nr_tools && !res->tools_omitted && !res->usage.known)
		return;
	json_object_set_new(o, "tools", report_json_tools(res));
	json_object_set_new(o, "usage", report_json_usage(&res->usage));
}

static json_t *needs_of(const struct handoff_context *ctx, size_t task, struct strbuf *evidence)
{
	const struct graph *g = ctx->plan->graph;
	json_t *a = json_array();

	for (size_t e = g->dep_start[task]; e < g->dep_start[task + 1]; e++) {
		size_t d = (size_t)g->deps[e];
		const struct task_result *res = &ctx->results[d];
		json_t *o = json_object();
		/* kept as the state keeps it: at most 64 KiB */
		char *answer = state_bounded_text(res->answer);

		json_object_set_new(o, "name", json_string(ctx->sf->tasks[d].name));
		json_object_set_new(o, "status", json_string(task_status_name(res->status)));
		json_object_set_new(o, "exit_code", res->attempts && res->exit_code >= 0
				    ? json_integer(res->exit_code) : json_null());
		json_object_set_new(o, "duration_ms", json_integer(res->duration_ms));
		json_object_set_new(o, "log", plain(res->log_path));
		json_object_set_new(o, "summary", plain(res->summary));
		json_object_set_new(o, "answer", plain(answer));
		free(answer);
		add_agent_work(o, res);
		json_array_append_new(a, o);

		strbuf_addf(evidence, "\n- %s: %s", ctx->sf->tasks[d].name,
			    task_status_name(res->status));
		if (res->summary)
			strbuf_addf(evidence, ", \"%s\"", res->summary);
		if (res->log_path)
			strbuf_addf(evidence, "; log %s", res->log_path);
		if (res->answer)
			strbuf_addstr(evidence, "; its answer is in needs[].answer");
	}
	return a;
}

static json_t *skills_of(const struct handoff_context *ctx, const struct task *t,
			 struct strbuf *reading)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->skills.nr; i++) {
		const struct skill *skill = route_find_skill(ctx->skills, t->skills.v[i]);
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(t->skills.v[i]));
		json_object_set_new(o, "path", plain(skill ? skill->path : NULL));
		json_object_set_new(o, "description", plain(skill ? skill->description : NULL));
		json_object_set_new(o, "resolved", json_boolean(skill && skill->resolved));
		json_array_append_new(a, o);
		if (!skill || !skill->resolved) {
			strbuf_addf(reading, "\n- %s: no SKILL.md was found for it; apply "
				    "your own '%s' skill if you have one", t->skills.v[i],
				    t->skills.v[i]);
			continue;
		}
		strbuf_addf(reading, "\n- %s: read %s and follow it", skill->name, skill->path);
		if (skill->declared)
			strbuf_addf(reading, " (its front matter names it '%s')", skill->declared);
		if (skill->description)
			strbuf_addf(reading, " (%s)", skill->description);
	}
	return a;
}

/* The instruction's last sentence: what waits behind the task (none
 * when `blocks` is empty). handoff_merge() rewrites it, so it is made
 * here only. */
static void add_waiting(struct strbuf *text, const json_t *blocks, bool adhoc)
{
	size_t i;
	json_t *b;

	if (!json_array_size(blocks))
		return;
	strbuf_addstr(text, " Waiting behind it:");
	json_array_foreach(blocks, i, b)
		strbuf_addf(text, "%s %s", i ? "," : "", json_string_value(b));
	strbuf_addstr(text, adhoc ? "; they were not run."
		      : "; the next squad run continues with them.");
}

static json_t *entry(const struct handoff_context *ctx, size_t n)
{
	const struct squadfile *sf = ctx->sf;
	const struct task *t = &sf->tasks[n];
	const struct task_result *res = &ctx->results[n];
	bool escalation = res->status == TASK_ESCALATED;
	const char *of = ctx->adhoc ? "an ad-hoc run (squad exec)" : ctx->squadfile_path;
	struct strbuf text = STRBUF_INIT, evidence = STRBUF_INIT, reading = STRBUF_INIT;
	struct strbuf done = STRBUF_INIT, what = STRBUF_INIT;
	json_t *o = json_object(), *blocks;

	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "kind", json_string(escalation ? "escalation" : "skill"));
	json_object_set_new(o, "desc", plain(t->desc));
	json_object_set_new(o, "skills", skills_of(ctx, t, &reading));
	json_object_set_new(o, "prompt", written(sf, t->prompt));
	json_object_set_new(o, "run", t->run_argv.nr ? written_list(sf, &t->run_argv)
						     : written(sf, t->run));
	/* a skill task is never run by squad: its worker is the tactician */
	json_object_set_new(o, "worker", json_string(escalation ? sf->workers[t->worker].name
							      : "tactician"));
	{
		struct strbuf dir = STRBUF_INIT;

		strbuf_addstr(&dir, sf->root);
		if (t->dir && t->dir[0] == '/') {
			strbuf_reset(&dir);
			strbuf_addstr(&dir, t->dir);
		} else if (t->dir) {
			strbuf_addf(&dir, "/%s", t->dir);
		}
		json_object_set_new(o, "dir", written(sf, dir.buf));
		strbuf_release(&dir);
	}
	json_object_set_new(o, "inputs", written_list(sf, &t->inputs));
	if (ctx->plan->changed) {
		/* the changed paths that brought this task into the run */
		json_t *changed = json_array();
		const struct strvec *list = &ctx->plan->changed_inputs[n];

		for (size_t i = 0; i < list->nr; i++)
			json_array_append_new(changed, plain(list->v[i]));
		json_object_set_new(o, "changed", changed);
	}
	json_object_set_new(o, "needs", needs_of(ctx, n, &evidence));
	json_object_set_new(o, "blocks", blocks = blocks_of(ctx, n));
	json_object_set_new(o, "fingerprint", json_string(plan_fingerprint(ctx->plan, n)));

	if (!ctx->adhoc) {
		squad_call(&done, ctx);
		strbuf_addstr(&done, " done ");
		strbuf_add_shell_quoted(&done, t->name);
		strbuf_addstr(&done, " --note '<one line: what you did and found>'");
	}
	json_object_set_new(o, "done_command", json_string(done.buf));

	if (t->prompt)
		strbuf_addf(&what, "%s", json_string_value(json_object_get(o, "prompt")));
	else if (t->run || t->run_argv.nr)
		strbuf_addf(&what, "Do what this command does, and judge its result: %s",
			    t->run ? json_string_value(json_object_get(o, "run")) : "(see run)");
	else
		strbuf_addstr(&what, t->desc ? t->desc : "(no prompt was given; see desc)");

	strbuf_rtrim(&what);
	if (escalation) {
		json_t *failure = json_object();
		struct strbuf tries = STRBUF_INIT;

		json_object_set_new(failure, "exit_code", res->exit_code >= 0
				    ? json_integer(res->exit_code) : json_null());
		json_object_set_new(failure, "attempts", json_integer(res->attempts));
		json_object_set_new(failure, "reason", plain(res->reason));
		json_object_set_new(failure, "log", plain(res->log_path));
		json_object_set_new(failure, "log_tail", log_tail(res->log_path));
		json_object_set_new(o, "failure", failure);
		add_agent_work(o, res);

		/* a spent budget escalates a task before its first attempt */
		if (res->attempts)
			strbuf_addf(&tries, "failed after %u attempt%s", res->attempts,
				    res->attempts == 1 ? "" : "s");
		else
			strbuf_addstr(&tries, "was not run");
		strbuf_addf(&text, "Task '%s' of %s %s%s%s and was "
			    "escalated to you. Take it over: find the cause from its log "
			    "(failure.log_tail holds the last lines, the whole log is %s), fix "
			    "it or do the work yourself.\nThe task: %s\nIt runs in %s.",
			    t->name, of, tries.buf,
			    res->reason ? ": " : "", res->reason ? res->reason : "",
			    res->log_path ? res->log_path : "(no log)", what.buf,
			    json_string_value(json_object_get(o, "dir")));
		strbuf_release(&tries);
	} else {
		strbuf_addf(&text, "Task '%s' of %s is yours: it is tagged with skills, and "
			    "squad never runs such tasks itself.\nWhat to do: %s\nWork in %s.",
			    t->name, of, what.buf,
			    json_string_value(json_object_get(o, "dir")));
	}
	if (reading.len)
		strbuf_addf(&text, "\nSkills to apply:%s", reading.buf);
	if (evidence.len)
		strbuf_addf(&text, "\nEvidence from the tasks it needs (needs[] has the "
			    "details):%s", evidence.buf);
	if (ctx->adhoc)
		strbuf_addstr(&text, "\nAn ad-hoc task has nothing to report back to squad: "
			      "finish it yourself, and give its result where it was asked for.");
	else
		strbuf_addf(&text, "\nWhen you are done, report back with:\n  %s\n(add "
			    "--failed if it cannot be done).", done.buf);
	if (ctx->adhoc)
		; /* no next run */
	else if (escalation && t->prompt && t->expect)
		strbuf_addf(&text, " The next run takes your note as the task's answer if it "
			    "matches its expect (%s), and runs the task again otherwise.",
			    t->expect);
	else if (escalation && t->prompt)
		strbuf_addstr(&text, " The next run takes your note as the task's answer "
			      "(without a note, it runs the task again).");
	else if (escalation)
		/* a red never turns green by a word */
		strbuf_addstr(&text, " Reporting it done means \"fixed, check again\": the "
			      "next run runs it again, and only its real result counts.");
	add_waiting(&text, blocks, ctx->adhoc);
	strbuf_utf8_sanitize(&text);
	json_object_set_new(o, "instruction", json_string(text.buf));
	strbuf_release(&text);
	strbuf_release(&evidence);
	strbuf_release(&reading);
	strbuf_release(&done);
	strbuf_release(&what);
	return o;
}

/* A `review` entry: the kept patch of an isolated task (changes.h),
 * from what .squad/changes/ holds for it; NULL when it cannot be read. */
static json_t *review_entry(const struct handoff_context *ctx, size_t n)
{
	const struct squadfile *sf = ctx->sf;
	const struct task *t = &sf->tasks[n];
	const struct task_record *rec = state_get(ctx->st, t->name);
	struct strbuf text = STRBUF_INIT, patch = STRBUF_INIT, cmd = STRBUF_INIT, dir = STRBUF_INIT;
	struct strbuf ignored = STRBUF_INIT;
	json_t *o = NULL, *review = NULL, *change;
	const char *fp = ctx->plan->in[n] ? plan_fingerprint(ctx->plan, n) : NULL;
	const char *reason, *diffstat;

	if (changes_read_review(ctx->st, t->name, &text, &ignored) != 0 ||
	    !(review = json_loadb(text.buf, text.len, 0, NULL)) || !json_is_object(review))
		goto out;
	if ((!fp || !*fp) && rec && rec->fingerprint)
		fp = rec->fingerprint;
	strbuf_addf(&patch, "%s/" STATE_CHANGES_DIR "/", ctx->st->dir);
	state_task_file_name(t->name, ".patch", &patch);
	reason = string_or(json_object_get(review, "reason"), "changes: review");
	diffstat = string_or(json_object_get(review, "diffstat"), "");

	o = json_object();
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "kind", json_string("review"));
	json_object_set_new(o, "desc", plain(t->desc));
	json_object_set_new(o, "skills", json_array());
	json_object_set_new(o, "prompt", written(sf, t->prompt));
	json_object_set_new(o, "run", t->run_argv.nr ? written_list(sf, &t->run_argv)
						     : written(sf, t->run));
	json_object_set_new(o, "worker", json_string(sf->workers[t->worker].name));
	/* as the task's own folder is named in the other entries */
	if (t->dir && t->dir[0] == '/')
		strbuf_addstr(&dir, t->dir);
	else if (t->dir)
		strbuf_addf(&dir, "%s/%s", sf->root, t->dir);
	else
		strbuf_addstr(&dir, sf->root);
	json_object_set_new(o, "dir", written(sf, dir.buf));
	json_object_set_new(o, "inputs", written_list(sf, &t->inputs));
	json_object_set_new(o, "needs", json_array());
	json_object_set_new(o, "blocks", json_array());
	json_object_set_new(o, "fingerprint", json_string(fp && *fp ? fp
					: "0000000000000000000000000000000000000000"));
	change = json_object();
	json_object_set_new(change, "patch", plain(patch.buf));
	json_object_set_new(change, "diffstat", plain(diffstat));
	json_object_set_new(change, "files", json_integer(json_integer_value(
					  json_object_get(review, "files"))));
	json_object_set_new(change, "reason", plain(reason));
	json_object_set_new(change, "answer", plain(json_string_value(
					  json_object_get(review, "answer"))));
	if (!ctx->adhoc) {
		squad_call(&cmd, ctx);
		strbuf_addstr(&cmd, " apply ");
		strbuf_add_shell_quoted(&cmd, t->name);
	} else {
		/* an exec's change is kept in its own folder */
		handoff_exec_apply_command(&cmd, ctx->squad_command, sf->root, ctx->st->dir,
					   t->name);
	}
	json_object_set_new(change, "apply_command", json_string(cmd.buf));
	json_object_set_new(o, "change", change);
	strbuf_reset(&cmd);
	if (!ctx->adhoc) {
		squad_call(&cmd, ctx);
		strbuf_addstr(&cmd, " done ");
		strbuf_add_shell_quoted(&cmd, t->name);
	}
	json_object_set_new(o, "done_command", json_string(cmd.buf));

	strbuf_reset(&text);
	strbuf_addf(&text, "Task '%s' ran in a worktree of its own and its change waits for "
		    "your review (%s). The patch is %s (change.diffstat sums it up",
		    t->name, reason, patch.buf);
	if (json_string_value(json_object_get(review, "answer")))
		strbuf_addstr(&text, "; the agent's answer is change.answer");
	strbuf_addstr(&text, "). Read it, and judge whether it does what the task asked.");
	if (ctx->adhoc)
		strbuf_addf(&text, " If it is right, apply it to the working tree with:\n  %s\n"
			    "(it never overwrites an edit of yours: when it does not apply, "
			    "nothing is written).",
			    json_string_value(json_object_get(change, "apply_command")));
	else
		strbuf_addf(&text, " If it is right, apply it to the working tree with:\n  %s\n"
			    "(it never overwrites an edit of yours: when it does not apply, "
			    "nothing is written). If it is not, discard it with:\n  %s --failed\n"
			    "Either clears this entry; '%s' alone clears it and keeps the patch.",
			    json_string_value(json_object_get(change, "apply_command")),
			    cmd.buf, cmd.buf);
	strbuf_utf8_sanitize(&text);
	json_object_set_new(o, "instruction", json_string(text.buf));
out:
	json_decref(review);
	strbuf_release(&ignored);
	strbuf_release(&text);
	strbuf_release(&patch);
	strbuf_release(&cmd);
	strbuf_release(&dir);
	return o;
}

/* Written (or removed) by the fd of .squad/ held since state_open(): a
 * task that swapped .squad for a symlink cannot send it elsewhere. */
static int write_manifest(const struct state *st, json_t *manifest, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	char *text;
	int ret;

	manifest_path(st->dir, &path);
	if (!json_array_size(json_object_get(manifest, "tasks"))) {
		ret = unlinkat(st->dir_fd, STATE_HANDOFF, 0) < 0 && errno != ENOENT ? -1 : 0;
		if (ret)
			strbuf_addf(err, "cannot remove '%s': %s", path.buf, strerror(errno));
		strbuf_release(&path);
		return ret;
	}
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	ret = state_write_in(st, STATE_HANDOFF, text, strlen(text), err);
	free(text);
	strbuf_release(&path);
	return ret;
}

int handoff_write(const struct handoff_context *ctx, size_t *reviews, struct strbuf *err)
{
	json_t *manifest = json_object(), *tasks = json_array();
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	int count, ret;

	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(manifest, "version", json_integer(MANIFEST_VERSION));
	json_object_set_new(manifest, "created", json_string(created));
	json_object_set_new(manifest, "squadfile", plain(ctx->squadfile_path));
	{
		json_t *targets = json_array();
		struct strbuf resume = STRBUF_INIT;
		const struct strvec *names = ctx->run_targets ? ctx->run_targets
							      : &ctx->plan->targets;

		if (!ctx->adhoc)
			squad_call(&resume, ctx);
		/* a shard resumes as that shard */
		if (!ctx->adhoc && ctx->shard_n)
			strbuf_addf(&resume, " --shard %u/%u", ctx->shard_k, ctx->shard_n);
		for (size_t i = 0; i < names->nr; i++) {
			json_array_append_new(targets, json_string(names->v[i]));
			if (ctx->adhoc)
				continue;
			strbuf_addch(&resume, ' ');
			strbuf_add_shell_quoted(&resume, names->v[i]);
		}
		json_object_set_new(manifest, "targets", targets);
		json_object_set_new(manifest, "resume_command", json_string(resume.buf));
		strbuf_release(&resume);
		if (ctx->shard_n) {
			json_t *shard = json_object();

			json_object_set_new(shard, "index", json_integer(ctx->shard_k));
			json_object_set_new(shard, "count", json_integer(ctx->shard_n));
			json_object_set_new(manifest, "shard", shard);
		}
	}
	if (ctx->git && ctx->git->in_repo) {
		json_t *git = json_object();
		json_t *dirty = json_array();

		json_object_set_new(git, "head", plain(ctx->git->head));
		json_object_set_new(git, "branch", plain(ctx->git->branch));
		for (size_t i = 0; i < ctx->git->dirty.nr; i++)
			json_array_append_new(dirty, plain(ctx->git->dirty.v[i]));
		json_object_set_new(git, "dirty", dirty);
		json_object_set_new(manifest, "git", git);
	}
	for (size_t i = 0; i < ctx->plan->nr_order; i++) {
		size_t n = (size_t)ctx->plan->order[i];

		if (task_status_for_tactician(ctx->results[n].status))
			json_array_append_new(tasks, entry(ctx, n));
	}
	{
		/* kept changes wait for review whether this run ran them or not */
		bool *kept = ctx->st ? changes_reviews(ctx->st, ctx->sf) : NULL;

		if (reviews)
			*reviews = 0;
		for (size_t n = 0; kept && n < ctx->sf->nr_tasks; n++) {
			json_t *e = kept[n] ? review_entry(ctx, n) : NULL;

			if (e) {
				json_array_append_new(tasks, e);
				if (reviews)
					++*reviews;
			}
		}
		free(kept);
	}
	count = (int)json_array_size(tasks);
	json_object_set_new(manifest, "tasks", tasks);
	ret = write_manifest(ctx->st, manifest, err);
	json_decref(manifest);
	return ret < 0 ? -1 : count;
}

/* The manifest held in `text` (len bytes, the content of `path`), or
 * NULL with the reason in err: not JSON, from a newer squad, or not a
 * version MANIFEST_VERSION manifest. */
static json_t *parse_manifest(const char *path, const char *text, size_t len,
			      struct strbuf *err)
{
	json_error_t jerr;
	json_t *manifest = json_loadb(text, len, 0, &jerr);
	json_int_t version = json_integer_value(json_object_get(manifest, "version"));
	size_t had = err->len;

	if (!manifest)
		strbuf_addf(err, "cannot read '%s': %s (line %d); run squad again to "
			    "write a fresh one", path, jerr.text, jerr.line);
	else if (version > MANIFEST_VERSION)
		strbuf_addf(err, "'%s' was written by a newer squad (manifest version %lld); "
			    "upgrade squad, or run this one again to write a fresh one",
			    path, (long long)version);
	else if (!json_is_array(json_object_get(manifest, "tasks")) ||
		 version != MANIFEST_VERSION)
		strbuf_addf(err, "'%s' is not a version %d manifest; run squad again to "
			    "write a fresh one", path, MANIFEST_VERSION);
	if (err->len > had) {
		json_decref(manifest);
		manifest = NULL;
	}
	return manifest;
}

static json_t *read_manifest(const char *squad_dir, struct strbuf *err, bool *missing)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	json_t *manifest = NULL;

	manifest_path(squad_dir, &path);
	*missing = access(path.buf, F_OK) < 0 && errno == ENOENT;
	if (*missing)
		goto out;
	/* squad's own file: a symlink in its place is not followed; read
	 * whole, as jansson's json_loadfd() makes one read() per byte */
	if (file_read(path.buf, &text) < 0) {
		if (errno == ELOOP)
			strbuf_addf(err, "'%s' is a symlink; squad will not follow it "
				    "(remove it, and run squad again to write a fresh one)",
				    path.buf);
		else
			strbuf_addf(err, "cannot read '%s': %s", path.buf,
				    errno == EINVAL ? "not a regular file" : strerror(errno));
		goto out;
	}
	manifest = parse_manifest(path.buf, text.buf, text.len, err);
out:
	strbuf_release(&text);
	strbuf_release(&path);
	return manifest;
}

int handoff_done(struct state *st, const char *task, bool failed, const char *note,
		 struct strbuf *err)
{
	bool missing;
	json_t *manifest = read_manifest(st->dir, err, &missing), *tasks, *e;
	struct task_record rec = { 0 };
	size_t i, found = (size_t)-1;
	int ret = -1;

	if (missing) {
		strbuf_addf(err, "no task waits for the tactician (there is no %s/handoff.json)",
			    st->dir);
		return 1;
	}
	if (!manifest)
		return -1;
	tasks = json_object_get(manifest, "tasks");
	json_array_foreach(tasks, i, e)
		if (!strcmp(name_of(e, ""), task))
			found = i;
	if (found == (size_t)-1) {
		strbuf_addstr(err, "task '");
		strbuf_add_printable(err, task);
		strbuf_addstr(err, "' is not waiting for the tactician; waiting:");
		json_array_foreach(tasks, i, e) {
			strbuf_addch(err, ' ');
			strbuf_add_printable(err, name_of(e, "?"));
		}
		ret = 1;
		goto out;
	}
	if (!strcmp(string_or(json_object_get(json_array_get(tasks, found), "kind"), ""),
		    "review")) {
		/* no mark: the task did run; --failed discards its patch */
		if (changes_drop(st, task, failed, err) < 0)
			goto out;
		json_array_remove(tasks, found);
		ret = write_manifest(st, manifest, err) < 0 ? -1 : 2;
		goto out;
	}
	rec.task = (char *)task;
	rec.status = failed ? RECORD_DONE_FAILED : RECORD_DONE;
	rec.exit_code = failed ? 1 : 0;
	rec.finished = (long long)time(NULL);
	rec.fingerprint = (char *)string_or(json_object_get(json_array_get(tasks, found),
							   "fingerprint"), "");
	rec.note = (char *)note;
	if (state_put(st, &rec, err) < 0 || state_compact(st, err) < 0)
		goto out;
	json_array_remove(tasks, found);
	ret = write_manifest(st, manifest, err);
out:
	json_decref(manifest);
	return ret;
}

int handoff_forget(struct state *st, const char *task, struct strbuf *err)
{
	bool missing;
	json_t *manifest = read_manifest(st->dir, err, &missing), *tasks, *e;
	size_t i;
	int ret = 0;

	if (missing)
		return 0;
	if (!manifest)
		return -1;
	tasks = json_object_get(manifest, "tasks");
	json_array_foreach(tasks, i, e)
		if (!strcmp(name_of(e, ""), task) &&
		    !strcmp(string_or(json_object_get(e, "kind"), ""), "review")) {
			json_array_remove(tasks, i);
			ret = write_manifest(st, manifest, err);
			break;
		}
	json_decref(manifest);
	return ret;
}

int handoff_undo(struct state *st, const char *task, struct strbuf *err)
{
	const struct task_record *mark = state_get(st, task);
	struct task_record rec = { 0 };

	if (!mark || (mark->status != RECORD_DONE && mark->status != RECORD_DONE_FAILED)) {
		strbuf_addstr(err, "task '");
		strbuf_add_printable(err, task);
		strbuf_addstr(err, "' has no done mark to take back");
		return 1;
	}
	/* as it stood before the mark: failed (an escalation) or never run
	 * (a skill task), which the next run treats alike */
	rec.task = (char *)task;
	rec.status = RECORD_FAILED;
	rec.exit_code = -1;
	rec.duration_ms = mark->duration_ms;
	rec.finished = (long long)time(NULL);
	rec.fingerprint = mark->fingerprint;
	if (state_put(st, &rec, err) < 0 || state_compact(st, err) < 0)
		return -1;
	return 0;
}

/* Each line of text under a prefix; control characters (a hand-edited
 * manifest, a task's colours in a summary) as escapes, not as acts on
 * the terminal. */
static void indent(struct strbuf *out, const char *text, const char *prefix)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		char *line = xstrndup(text, len);

		strbuf_addstr(out, prefix);
		strbuf_add_printable(out, line);
		strbuf_addch(out, '\n');
		free(line);
		text += len + (text[len] == '\n');
	}
}

/* At most this many tool calls of a list are shown to a person (the
 * last ones); --json and the task's log have the rest. */
#define SHOW_MAX_TOOLS 8

/* One line per tool call of `tools` (a manifest's {calls, omitted}):
 * "    execute touch x: completed", the command or path rather than the
 * title when the agent gave one, and squad's decision on a refusal;
 * under a heading that says whose and how many, and how many are not
 * shown. Nothing when there are none. */
static void show_tools(struct strbuf *out, const json_t *tools, const char *whose)
{
	json_t *calls = json_object_get(tools, "calls"), *c;
	json_int_t omitted = json_integer_value(json_object_get(tools, "omitted"));
	size_t nr = json_array_size(calls), first = nr > SHOW_MAX_TOOLS ? nr - SHOW_MAX_TOOLS : 0;
	size_t i;

	if (omitted < 0)
		omitted = 0;
	if (!nr && !omitted)
		return;
	strbuf_addstr(out, "  tool calls");
	if (whose) {
		strbuf_addstr(out, " of ");
		strbuf_add_printable(out, whose);
	}
	strbuf_addf(out, ": %lld\n", (long long)nr + (long long)omitted);
	if (first || omitted)
		strbuf_addf(out, "    (%lld earlier not shown: see --json and the log)\n",
			    (long long)first + (long long)omitted);
	json_array_foreach(calls, i, c) {
		const char *what = string_or(json_object_get(c, "target"), NULL);
		const char *decision = string_or(json_object_get(c, "decision"), NULL);
		struct strbuf line = STRBUF_INIT;

		if (i < first)
			continue;
		if (!what)
			what = string_or(json_object_get(c, "title"), "?");
		strbuf_addf(&line, "%s %s: %s", string_or(json_object_get(c, "kind"), "call"),
			    what, string_or(json_object_get(c, "status"), "?"));
		if (decision && !strncmp(decision, "denied", 6))
			strbuf_addf(&line, " (%s)", decision);
		/* a command may be long, or many lines: one line, cut */
		for (size_t k = 0; k < line.len; k++)
			if (line.buf[k] == '\n' || line.buf[k] == '\r')
				line.buf[k] = ' ';
		if (line.len > 160) {
			size_t cut = 157;

			/* not inside a UTF-8 character */
			while (cut && ((unsigned char)line.buf[cut] & 0xC0) == 0x80)
				cut--;
			strbuf_setlen(&line, cut);
			strbuf_addstr(&line, "...");
		}
		strbuf_addstr(out, "    ");
		strbuf_add_printable(out, line.buf);
		strbuf_addch(out, '\n');
		strbuf_release(&line);
	}
}

/* The manifest for a person or a program; see handoff_show(). */
static void show(const char *path, json_t *manifest, bool json, struct strbuf *out)
{
	json_t *tasks, *e;
	size_t i;

	if (json) {
		char *text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		strbuf_addf(out, "%s\n", text);
		free(text);
		return;
	}
	tasks = json_object_get(manifest, "tasks");
	strbuf_addf(out, "%zu %s for the tactician (%s):\n", json_array_size(tasks),
		    json_array_size(tasks) == 1 ? "task waits" : "tasks wait", path);
	json_array_foreach(tasks, i, e) {
		json_t *skills = json_object_get(e, "skills"), *s, *blocks = json_object_get(e, "blocks");
		size_t j;

		/* a field of the wrong type (a hand-edited file) reads as "?" */
		strbuf_addch(out, '\n');
		strbuf_add_printable(out, name_of(e, "?"));
		strbuf_addstr(out, " (");
		strbuf_add_printable(out, string_or(json_object_get(e, "kind"), "?"));
		strbuf_addstr(out, ")\n  worker: ");
		strbuf_add_printable(out, string_or(json_object_get(e, "worker"), "?"));
		strbuf_addch(out, '\n');
		json_array_foreach(skills, j, s) {
			bool resolved = json_is_true(json_object_get(s, "resolved"));

			strbuf_addstr(out, "  skill: ");
			strbuf_add_printable(out, name_of(s, "?"));
			strbuf_addstr(out, resolved ? " -> " : " (unresolved)");
			if (resolved)
				strbuf_add_printable(out, string_or(json_object_get(s, "path"), "?"));
			strbuf_addch(out, '\n');
		}
		if (json_array_size(blocks)) {
			strbuf_addstr(out, "  blocks:");
			json_array_foreach(blocks, j, s) {
				strbuf_addch(out, ' ');
				strbuf_add_printable(out, string_or(s, "?"));
			}
			strbuf_addch(out, '\n');
		}
		/* what the agents did: this task's own calls (an escalation),
		 * and those of the agent tasks it waits on */
		show_tools(out, json_object_get(e, "tools"), NULL);
		json_array_foreach(json_object_get(e, "needs"), j, s)
			show_tools(out, json_object_get(s, "tools"), name_of(s, "?"));
		indent(out, string_or(json_object_get(e, "instruction"), ""), "  | ");
	}
}

int handoff_show(const char *squad_dir, bool json, struct strbuf *out, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	bool missing;
	json_t *manifest = read_manifest(squad_dir, err, &missing);

	if (missing)
		return 1;
	if (!manifest)
		return -1;
	manifest_path(squad_dir, &path);
	show(path.buf, manifest, json, out);
	json_decref(manifest);
	strbuf_release(&path);
	return 0;
}

int handoff_show_manifest(const char *path, const char *text, size_t len, bool json,
			  struct strbuf *out, struct strbuf *err)
{
	json_t *manifest = parse_manifest(path, text, len, err);

	if (!manifest)
		return -1;
	show(path, manifest, json, out);
	json_decref(manifest);
	return 0;
}

/* --- handoff_merge(): the shards' manifests as one run's --- */

/* A manifest is a few KiB a task; anything past this is not one. */
#define MERGE_MAX_BYTES (64u << 20)

struct merge_source {
	const char *path;
	json_t *manifest;
	unsigned index, count; /* its "shard"; count 0: not a shard's */
};

/* Read the manifest at `path` (a file the user named: symlinks are
 * followed) into src. Returns 0, or -1 with the reason in err. */
static int merge_load(struct merge_source *src, const char *path, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	json_t *shard;
	int ret = -1;

	src->path = path;
	if (fd < 0 || strbuf_read_fd(&text, fd, MERGE_MAX_BYTES) < 0) {
		strbuf_addf(err, "cannot read '%s': %s", path,
			    errno == EFBIG ? "too large for a manifest" : strerror(errno));
		goto out;
	}
	src->manifest = parse_manifest(path, text.buf, text.len, err);
	if (!src->manifest)
		goto out;
	shard = json_object_get(src->manifest, "shard");
	if (shard) {
		json_int_t k = json_integer_value(json_object_get(shard, "index"));
		json_int_t n = json_integer_value(json_object_get(shard, "count"));

		if (k < 1 || n < k || n > 1000) {
			strbuf_addf(err, "'%s': its \"shard\" is not an index and a count "
				    "(1 <= index <= count <= 1000)", path);
			goto out;
		}
		src->index = (unsigned)k;
		src->count = (unsigned)n;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&text);
	return ret;
}

/* `text` with every `from` that ends a path (followed by the end, '/',
 * a blank or punctuation, not by more of a name) written `to`. */
static void replace_path(struct strbuf *out, const char *text, const char *from,
			 const char *to)
{
	size_t len = strlen(from);
	const char *hit;

	/* "" is in every string: a Squadfile at / has an empty root */
	while (len && (hit = strstr(text, from))) {
		char next = hit[len];
		bool ends = !next || strchr("/ \t\n.,;:)'\"", next);

		strbuf_add(out, text, (size_t)(hit - text));
		strbuf_addstr(out, ends ? to : from);
		text = hit + len;
	}
	strbuf_addstr(out, text);
}

/* Every string in `v` (a manifest, in place) with the paths of `from`'s
 * Squadfile and folder as those of `to`'s. */
static void relocate(json_t *v, const char *from_file, const char *from_root,
		     const char *to_file, const char *to_root)
{
	const char *key;
	json_t *item;
	size_t i;
	void *tmp;

	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, key, item)
			if (json_is_string(item)) {
				struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

				replace_path(&a, json_string_value(item), from_file, to_file);
				replace_path(&b, a.buf, from_root, to_root);
				json_object_set_new(v, key, json_string(b.buf));
				strbuf_release(&a);
				strbuf_release(&b);
			} else {
				relocate(item, from_file, from_root, to_file, to_root);
			}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (json_is_string(item)) {
				struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

				replace_path(&a, json_string_value(item), from_file, to_file);
				replace_path(&b, a.buf, from_root, to_root);
				json_array_set_new(v, i, json_string(b.buf));
				strbuf_release(&a);
				strbuf_release(&b);
			} else {
				relocate(item, from_file, from_root, to_file, to_root);
			}
	}
}

/* A shard ran in a folder of its own (CI runners give each job one):
 * its manifest told as if it had run beside `squadfile`, where the
 * merge is, so that the paths it names (the Squadfile, the task's
 * folder, `squad done`'s -f) are this checkout's. */
static void merge_relocate(struct merge_source *src, const char *squadfile)
{
	/* a copy: the manifest's own string is replaced on the way */
	char *from = xstrdup(string_or(json_object_get(src->manifest, "squadfile"), ""));
	char *from_root, *to_root;

	if (!*from || !strcmp(from, squadfile) || !strchr(from, '/')) {
		free(from);
		return;
	}
	from_root = xstrndup(from, (size_t)(strrchr(from, '/') - from));
	to_root = xstrndup(squadfile, (size_t)(strrchr(squadfile, '/') - squadfile));
	relocate(src->manifest, from, from_root, squadfile, to_root);
	free(from);
	free(from_root);
	free(to_root);
}

/* Do a and b come from one run? Same Squadfile, targets, commit, and
 * shards of the same split, each once. */
static int merge_check_pair(const struct merge_source *a, const struct merge_source *b,
			    struct strbuf *err)
{
	static const char *const same[] = { "squadfile", "targets" };
	json_t *ga = json_object_get(a->manifest, "git"), *gb = json_object_get(b->manifest, "git");

	for (size_t i = 0; i < ARRAY_SIZE(same); i++)
		if (!json_equal(json_object_get(a->manifest, same[i]),
				json_object_get(b->manifest, same[i]))) {
			strbuf_addf(err, "'%s' and '%s' are not from one run: their \"%s\" "
				    "differ", a->path, b->path, same[i]);
			return -1;
		}
	if (ga && gb && !json_equal(json_object_get(ga, "head"), json_object_get(gb, "head"))) {
		strbuf_addf(err, "'%s' and '%s' are not from one run: they ran on different "
			    "commits", a->path, b->path);
		return -1;
	}
	if (a->count != b->count) {
		strbuf_addf(err, "'%s' and '%s' are not shards of one split (%s)", a->path,
			    b->path, !a->count || !b->count ? "one is no shard's"
			    : "different shard counts");
		return -1;
	}
	if (a->count && a->index == b->index) {
		strbuf_addf(err, "'%s' and '%s' are both shard %u/%u", a->path, b->path,
			    a->index, a->count);
		return -1;
	}
	return 0;
}

/* A task that does something itself; a group (needs only) is no
 * shard's own (see main.c's shard_plan), so no shard may have seen it. */
static bool does_work(const struct task *t)
{
	return t->run || t->run_argv.nr || t->prompt || t->skills.nr;
}

/* The single run's resume_command from a shard's: the " --shard K/N"
 * squad wrote before the targets taken out. Returns 0, or -1 when the
 * command is not what squad writes. */
static int merge_resume(const struct merge_source *src, const json_t *targets,
			struct strbuf *out, struct strbuf *err)
{
	const char *resume = string_or(json_object_get(src->manifest, "resume_command"), "");
	struct strbuf tail = STRBUF_INIT, shard = STRBUF_INIT;
	size_t len = strlen(resume), i;
	json_t *t;
	int ret = -1;

	json_array_foreach(targets, i, t) {
		strbuf_addch(&tail, ' ');
		strbuf_add_shell_quoted(&tail, string_or(t, ""));
	}
	if (!src->count) {
		strbuf_addstr(out, resume);
		ret = 0;
		goto out;
	}
	strbuf_addf(&shard, " --shard %u/%u%s", src->index, src->count, tail.buf);
	if (len >= shard.len && !strcmp(resume + len - shard.len, shard.buf)) {
		strbuf_add(out, resume, len - shard.len);
		strbuf_add(out, tail.buf, tail.len);
		ret = 0;
	} else {
		strbuf_addf(err, "'%s': its resume_command is not one squad writes for "
			    "shard %u/%u", src->path, src->index, src->count);
	}
out:
	strbuf_release(&tail);
	strbuf_release(&shard);
	return ret;
}

/* The merged entry of task n: the first copy, its blocks those of the
 * single run and its instruction's last sentence told again. A shard
 * saw only what waits behind n in its own part of the DAG (the closure
 * of its own tasks): the union over its copies holds every task that
 * does work and waits behind n; the groups no shard ran are found in
 * the graph, as a group behind a waiting task waits too. The order is
 * blocks_of()'s: breadth first over the dependents, as the graph has
 * them. */
static json_t *merge_entry(const struct squadfile *sf, const struct plan *plan,
			   size_t n, json_t *const *copies, size_t nr_copies,
			   const char *const *paths, struct strbuf *err)
{
	const struct graph *g = plan->graph;
	size_t nr = sf->nr_tasks, head = 0, tail = 0;
	bool *behind = xcalloc(nr + 1, sizeof(bool)), *seen = xcalloc(nr + 1, sizeof(bool));
	int *queue = xmalloc((nr + 1) * sizeof(int));
	json_t *e = json_deep_copy(copies[0]), *blocks = json_array(), *b;
	struct strbuf old = STRBUF_INIT, text = STRBUF_INIT;
	const char *instruction = string_or(json_object_get(e, "instruction"), "");
	size_t i;

	for (size_t c = 0; c < nr_copies; c++)
		json_array_foreach(json_object_get(copies[c], "blocks"), i, b) {
			long d = squadfile_find_task(sf, string_or(b, ""));

			if (d < 0) {
				strbuf_addf(err, "'%s': a task waits behind '%s' that the "
					    "Squadfile has not: ", paths[c], sf->tasks[n].name);
				strbuf_add_printable(err, string_or(b, "?"));
				goto fail;
			}
			behind[d] = true;
		}
	queue[tail++] = (int)n;
	seen[n] = true;
	while (head < tail) {
		int t = queue[head++];

		for (size_t r = g->rdep_start[t]; r < g->rdep_start[t + 1]; r++) {
			int d = g->rdeps[r];

			if (seen[d] || !plan->in[d] || (!behind[d] && does_work(&sf->tasks[d])))
				continue;
			seen[d] = true;
			queue[tail++] = d;
			json_array_append_new(blocks, json_string(sf->tasks[d].name));
		}
	}
	add_waiting(&old, json_object_get(e, "blocks"), false);
	if (strlen(instruction) < old.len ||
	    strcmp(instruction + strlen(instruction) - old.len, old.buf)) {
		strbuf_addf(err, "'%s': the instruction of '%s' is not one squad writes",
			    paths[0], sf->tasks[n].name);
		goto fail;
	}
	strbuf_add(&text, instruction, strlen(instruction) - old.len);
	add_waiting(&text, blocks, false);
	json_object_set_new(e, "instruction", json_string(text.buf));
	json_object_set_new(e, "blocks", blocks);
	blocks = NULL;
	goto out;
fail:
	json_decref(e);
	e = NULL;
out:
	json_decref(blocks);
	strbuf_release(&old);
	strbuf_release(&text);
	free(behind);
	free(seen);
	free(queue);
	return e;
}

int handoff_merge(const struct squadfile *sf, const struct graph *g, const char *squadfile,
		  const struct strvec *paths, const struct state *st, struct strbuf *json,
		  struct strbuf *err)
{
	struct merge_source *src = xcalloc(paths->nr + 1, sizeof(*src));
	json_t *manifest = NULL, *tasks = NULL, *first, *e;
	json_t **copies = xcalloc(paths->nr + 1, sizeof(json_t *));
	const char **copy_paths = xcalloc(paths->nr + 1, sizeof(char *));
	struct strvec targets = STRVEC_INIT;
	struct strbuf resume = STRBUF_INIT;
	struct plan plan;
	const char *created = "";
	int ret = -1;
	size_t i;
	char *text;

	memset(&plan, 0, sizeof(plan));
	if (!paths->nr) {
		strbuf_addstr(err, "--merge wants the manifests to merge (the shards' handoff.json)");
		goto out;
	}
	for (size_t s = 0; s < paths->nr; s++) {
		if (merge_load(&src[s], paths->v[s], err) < 0)
			goto out;
		if (strchr(squadfile, '/'))
			merge_relocate(&src[s], squadfile);
		if (s && merge_check_pair(&src[0], &src[s], err) < 0)
			goto out;
		for (size_t t = 1; t < s; t++)
			if (merge_check_pair(&src[t], &src[s], err) < 0)
				goto out;
		if (strcmp(string_or(json_object_get(src[s].manifest, "created"), ""), created) > 0)
			created = string_or(json_object_get(src[s].manifest, "created"), "");
	}
	first = src[0].manifest;
	json_array_foreach(json_object_get(first, "targets"), i, e)
		strvec_push(&targets, string_or(e, ""));
	/* the single run's order: its plan's, which the Squadfile gives */
	if (plan_build(&plan, sf, g, NULL, &targets, NULL, err) < 0)
		goto out;
	if (merge_resume(&src[0], json_object_get(first, "targets"), &resume, err) < 0)
		goto out;
	for (size_t s = 0; s < paths->nr; s++)
		json_array_foreach(json_object_get(src[s].manifest, "tasks"), i, e) {
			long n = squadfile_find_task(sf, name_of(e, ""));

			if (n < 0 || !plan.in[n]) {
				strbuf_addf(err, "'%s': '", src[s].path);
				strbuf_add_printable(err, name_of(e, "?"));
				strbuf_addstr(err, n < 0 ? "' is not a task of the Squadfile"
					      : "' is not a task of the run's targets");
				goto out;
			}
		}

	manifest = json_object();
	tasks = json_array();
	json_object_set_new(manifest, "version", json_integer(MANIFEST_VERSION));
	json_object_set_new(manifest, "created", json_string(created));
	json_object_set(manifest, "squadfile", json_object_get(first, "squadfile"));
	json_object_set(manifest, "targets", json_object_get(first, "targets"));
	json_object_set_new(manifest, "resume_command", json_string(resume.buf));
	if (json_object_get(first, "git"))
		json_object_set(manifest, "git", json_object_get(first, "git"));
	json_object_set_new(manifest, "tasks", tasks); /* filled below, in place */
	for (size_t o = 0; o < plan.nr_order; o++) {
		size_t n = (size_t)plan.order[o], nr_copies = 0;
		json_t *merged;

		for (size_t s = 0; s < paths->nr; s++)
			json_array_foreach(json_object_get(src[s].manifest, "tasks"), i, e)
				if (!strcmp(name_of(e, ""), sf->tasks[n].name)) {
					copy_paths[nr_copies] = src[s].path;
					copies[nr_copies++] = e;
					break;
				}
		if (!nr_copies)
			continue;
		merged = merge_entry(sf, &plan, n, copies, nr_copies, copy_paths, err);
		if (!merged)
			goto out;
		json_array_append_new(tasks, merged);
	}
	if (st && write_manifest(st, manifest, err) < 0)
		goto out;
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	strbuf_addf(json, "%s\n", text);
	free(text);
	ret = (int)json_array_size(tasks);
out:
	for (size_t s = 0; s < paths->nr; s++)
		json_decref(src[s].manifest);
	json_decref(manifest);
	free(src);
	free(copies);
	free(copy_paths);
	plan_release(&plan);
	strvec_clear(&targets);
	strbuf_release(&resume);
	return ret;
}
