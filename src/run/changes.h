/* changes.h - an isolated task's change (isolate: worktree): its
 * worktree while an attempt runs, and its patch when the task ends,
 * applied, kept for review or thrown away as `changes:` says.
 *
 * isolate.h does the git work; this module is what the scheduler
 * (run.c) and the commands (squad diff, apply, done) ask of it. The
 * scheduler's steps, per task:
 *
 *   1. change_begin() when an attempt starts: a worktree of the user's
 *      tree, and views of the Squadfile and the task whose root and dir
 *      are inside it (what the attempt's command is built from);
 *   2. change_end() when the attempt ends, however it ends: its patch
 *      taken (replacing an earlier attempt's), the worktree removed;
 *      change_abort() when the attempt never started;
 *   3. change_settle() when the task is over: outcome_change() decides,
 *      and the patch is applied, kept in .squad/changes/ (TASK.patch,
 *      and TASK.review while it waits for the tactician) or dropped;
 *   4. change_release().
 *
 * A kept patch is `git apply`'s input (binary, renames, modes); it is
 * printed by `squad diff` and applied by `squad apply` (changes_apply()).
 * Files under .squad/changes/ are written atomically by state.c.
 */
#ifndef SQUAD_CHANGES_H
#define SQUAD_CHANGES_H

#include <stdbool.h>

#include "files/isolate.h"
#include "job/result.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct change {
	struct isolate iso;
	bool active;           /* a worktree exists now */
	bool ran;              /* an attempt ran isolated: its result supersedes a
				* patch kept by an earlier run */
	struct strbuf patch;   /* the last attempt's change (empty: none) */
	struct strbuf stat;    /* its diffstat */
	char *error;           /* why the last attempt's change could not be taken */
	/* what the attempt's command is built from: the Squadfile and the
	 * task with their root and dir inside the worktree */
	struct squadfile sf_view;
	struct task task_view;
	char *root_view, *dir_view;
};

#define CHANGE_INIT { .iso = ISOLATE_INIT, .patch = STRBUF_INIT, .stat = STRBUF_INIT }

/* The paths applied changes wrote in this run, and whose they were: a
 * later patch that conflicts there names the task. */
struct change_ledger {
	struct strvec paths;
	struct strvec tasks;
};

#define CHANGE_LEDGER_INIT { STRVEC_INIT, STRVEC_INIT }

void change_ledger_release(struct change_ledger *l);

/* Make a worktree for an attempt of `t` (of `sf`) under `state_dir`, and
 * the views. The task's folder (its dir, else the Squadfile's) must be
 * inside the working tree. The outputs of the tasks it needs that git
 * ignores (not in the snapshot) are copied in from the user's tree. Returns 0, or -1 with the reason in err
 * (nothing made). */
int change_begin(struct change *c, const struct squadfile *sf, const struct task *t,
		 const char *state_dir, struct strbuf *err);

/* The attempt is over: take its patch and remove the worktree. Returns
 * the number of files changed, or -1 when the change could not be
 * taken (c->error and err say why; the worktree is removed anyway). */
int change_end(struct change *c, struct strbuf *err);

/* Remove the worktree of an attempt that did not start. */
void change_abort(struct change *c);

/* The task `t` is over with `status`: do with its last patch what
 * outcome_change() says. The tree applied to is the one holding
 * `root`; `st` keeps the patch (NULL: nothing is kept); `answer` is an
 * agent's answer (or NULL), for the review entry. What became of the
 * change goes into res's change fields (may be NULL; the strings it
 * sets are the caller's to free), what happened to `log`, one line
 * each, for the task's log. Returns 0, or -1 when a patch to keep
 * could not be written (err). */
int change_settle(struct change *c, const struct state *st, const char *root,
		  const struct task *t, enum task_status status, const char *answer,
		  struct change_ledger *ledger, struct task_result *res, struct strbuf *log,
		  struct strbuf *err);

void change_release(struct change *c);

/* The patch kept for `task` in .squad/changes/, appended to `patch`, its
 * path to `path` (may be NULL). Returns 0, 1 when there is none, -1 on
 * error (err). Needs no lock. */
int changes_read(const char *squad_dir, const char *task, struct strbuf *patch,
		 struct strbuf *path, struct strbuf *err);

/* The review kept for `task` (a JSON object: diffstat, files, reason,
 * answer) into `json`. Returns 0, 1 when the task has none, -1 on error. */
int changes_read_review(const struct state *st, const char *task, struct strbuf *json,
			struct strbuf *err);

/* Which of sf's tasks have a review waiting: an array of sf->nr_tasks
 * flags (free() it), or NULL when none has (one readdir). */
bool *changes_reviews(const struct state *st, const struct squadfile *sf);

/* `squad apply TASK` (lock held): apply the kept patch of `task` to the
 * working tree holding `root`, by isolate_apply()'s rule (never over an
 * edit of the user's; all or nothing), then drop its review. The paths
 * written go to `touched`, those in conflict to `conflicts`. Returns 0,
 * 1 when it does not apply (nothing written, err says why), 2 when
 * there is no kept patch, -1 on error. */
int changes_apply(const struct state *st, const char *root, const char *task,
		  struct strvec *touched, struct strvec *conflicts, struct strbuf *err);

/* Drop the review of `task`, and with `patch_too` its patch. Returns 0,
 * or -1 (err). Neither there is no error. */
int changes_drop(const struct state *st, const char *task, bool patch_too, struct strbuf *err);

#endif
