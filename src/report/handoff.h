/* handoff.h - the hand-off manifest (.squad/handoff.json) and `done`.
 *
 * After a run, every task left to the tactician becomes an entry of the
 * manifest: a skill-tagged task whose dependencies succeeded ("skill"),
 * or a task that still failed after its retries and may escalate
 * ("escalation"); and every isolated task whose change waits in
 * .squad/changes/ for review ("review", with the patch's path, its
 * diffstat and the agent's answer under `change`). Each entry carries what the tactician needs to act
 * without asking: the task as written, its skills' SKILL.md paths, the
 * results of the tasks it needs (logs by path, a summary line, an
 * agent's answer), what waits behind it, and a self-contained
 * instruction ending in the exact `squad done` command to report back.
 *
 * Strings are taken from the Squadfile as written, with only `vars`
 * expanded: values from the environment never enter the manifest.
 * The file is written atomically (temp + rename), and removed when a run
 * leaves nothing for the tactician. The shape is grammar/handoff.schema.json.
 */
#ifndef SQUAD_HANDOFF_H
#define SQUAD_HANDOFF_H

#include <stdbool.h>

#include "files/gitinfo.h"
#include "plan/plan.h"
#include "model/route.h"
#include "job/result.h"
#include "files/state.h"
#include "util/strbuf.h"

struct handoff_context {
	const struct squadfile *sf;
	const char *squadfile_path; /* absolute */
	const char *squad_command;  /* how to call squad back, e.g. "squad" */
	const struct plan *plan;
	const struct task_result *results;
	const struct skills *skills;
	const struct gitinfo *git;  /* NULL outside a repository */
	const struct state *st;
	/* the tasks of `squad exec` (exec.h): no 'squad done' nor resume
	 * for them (done_command and resume_command are empty), and the
	 * instruction says so */
	bool adhoc;
	/* a shard's run (--shard K/N; shard_n 0: none): the manifest
	 * names the run's targets, not the shard's own tasks, resumes
	 * with --shard K/N, and says which shard wrote it ("shard"), so
	 * that handoff_merge() can put the shards' manifests together */
	const struct strvec *run_targets; /* NULL: the plan's targets */
	unsigned shard_k, shard_n;
};

/* Write the manifest for the run described by `ctx`, or remove it when
 * no task waits for the tactician. Returns the number of entries, or -1
 * with the reason in err; how many of them are changes kept for review
 * goes to `reviews` (may be NULL). */
int handoff_write(const struct handoff_context *ctx, size_t *reviews, struct strbuf *err);

/* Record the tactician's result for `task` (lock held): it must be an
 * entry of the manifest. Writes a done mark with `note` into the state,
 * for the fingerprint the entry was handed out with (so the mark holds
 * for exactly that version of the task), and the manifest without that
 * entry. What the mark means is plan.h's: it settles a skill task, may
 * answer a prompt, and only sends a command back to be checked again. Returns 0, 1 when `task` is not waiting (err lists those that
 * are), -1 on error. */
int handoff_done(struct state *st, const char *task, bool failed, const char *note,
		 struct strbuf *err);

/* A `review` entry (an isolated task's kept change, changes.h) is no
 * mark: handoff_done() on one drops its review (and with `failed` its
 * patch) and the entry, writes nothing into the state, and returns 2.
 * handoff_forget() drops the review entry of `task` from the manifest
 * (after `squad apply`), if there is one. Returns 0 or -1 (err). */
int handoff_forget(struct state *st, const char *task, struct strbuf *err);

/* The command that applies the kept change of `task` of the `squad exec`
 * run whose folder is `exec_dir` (.squad/exec/ID of the project at
 * `root`), shell-quoted, appended to sb: SQUAD -C ROOT apply --exec ID
 * TASK, SQUAD being how the caller calls squad back. */
void handoff_exec_apply_command(struct strbuf *sb, const char *squad_command, const char *root,
				const char *exec_dir, const char *task);

/* Take back the tactician's mark on `task` (lock held): the task is as
 * it was before `squad done`, and the next run hands it off (a skill
 * task) or runs it (any other) again. Returns 0, 1 when `task` has no
 * done mark (reason in err), -1 on error. */
int handoff_undo(struct state *st, const char *task, struct strbuf *err);

/* The manifest for a person (name, kind, skills, instruction, what it
 * blocks), or for a program (the JSON as it is). Returns 0, 1 when there
 * is no manifest (nothing waits), -1 when it cannot be read. */
int handoff_show(const char *squad_dir, bool json, struct strbuf *out, struct strbuf *err);

/* handoff_show() of a manifest already in memory: `len` bytes of `text`,
 * the content of `path` (named in the output and in messages). Returns
 * 0, or -1 when it is not a manifest this squad reads (reason in err). */
int handoff_show_manifest(const char *path, const char *text, size_t len, bool json,
			  struct strbuf *out, struct strbuf *err);

/* Put together the manifests of the shards of one run (`paths`, each
 * written by a `squad --shard K/N`) as the single run of all of them
 * would have written it: the same entries in the same order (the plan
 * of the run's targets in `sf`, the Squadfile the shards ran), a task
 * handed off by several shards once (the first file's copy), its
 * `blocks` every task of the run waiting behind it and its instruction
 * saying so, the run's resume_command (without --shard), and the latest
 * `created`. A shard that ran in another folder (each CI job has its
 * own) is told as if it had run beside `squadfile` (this Squadfile's
 * absolute path, where the merge is): the paths in its strings that
 * start with its Squadfile's path or folder are rewritten to this one's. A manifest of a run without --shard may be given alone.
 * With `st`, the result replaces st's manifest (removed when nothing
 * waits), atomically; either way its JSON text is appended to `json`.
 * Returns the number of entries, or -1 with the reason in err: a file
 * that is unreadable or no manifest, manifests of different runs
 * (Squadfile, targets, commit, shard count), a shard given twice, a
 * task the Squadfile or the run has not. */
int handoff_merge(const struct squadfile *sf, const struct graph *g, const char *squadfile,
		  const struct strvec *paths, const struct state *st, struct strbuf *json,
		  struct strbuf *err);

#endif
