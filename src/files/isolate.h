/* isolate.h - a task's own worktree of the user's tree, and its change
 * handed back as a patch (libgit2, never a `git` subprocess).
 *
 * A task with `isolate: worktree` runs in a copy of what the user sees
 * now: HEAD plus what is staged, unstaged and untracked (not ignored) in
 * the working tree. The caller's steps:
 *
 *   1. isolate_sweep() once per run (the state's lock held): removes the
 *      worktrees a squad killed by SIGKILL left behind.
 *   2. isolate_create(): the snapshot is written as a commit (objects in
 *      the user's object store, no ref: git's gc collects them), and
 *      checked out into STATE/worktrees/PID-N/, a linked worktree whose
 *      git folder is STATE/worktrees/PID-N.git/ (HEAD detached at the
 *      snapshot, so `git status` and `git diff` work in it). Nothing of
 *      the user's tree, index or refs changes.
 *   3. The task runs there.
 *   4. isolate_change(): what the task changed against the snapshot, as
 *      a patch `git apply` takes (binary, renames, modes, deletions;
 *      untracked files the task made count, ignored ones do not), and
 *      its diffstat.
 *   5. isolate_remove(): always, whatever the task did.
 *
 * isolate_apply() applies such a patch to the user's tree. It never
 * overwrites an edit of the user's: the patch must apply to the tree as
 * it is now (the user's edits to other lines of a file stay), or nothing
 * is written at all and the paths that conflict are named. The files
 * are written through treewrite.h: journalled in .squad/applying/, each
 * written whole and renamed into place, so that a kill -9 midway leaves
 * the tree as it was or as the patch makes it once the next squad has
 * started. The index is not touched: the change shows as unstaged.
 */
#ifndef SQUAD_ISOLATE_H
#define SQUAD_ISOLATE_H

#include <stdbool.h>

#include "util/strbuf.h"
#include "util/strvec.h"

struct isolate {
	char *dir;      /* the worktree's top, with a trailing '/' */
	char *gitdir;   /* its git folder */
	char *top;      /* the user's working tree's top, with a '/' */
	char base[41];  /* the snapshot commit's id (hex) */
};

#define ISOLATE_INIT { NULL, NULL, NULL, { 0 } }

/* Remove every worktree in `state_dir`/worktrees/ whose squad (the PID
 * in its name) is no longer alive. Returns how many were removed. */
int isolate_sweep(const char *state_dir);

/* Make a worktree of the current state of the working tree that holds
 * `path`, under `state_dir`/worktrees/ (`state_dir` must be outside
 * what git tracks: squad's .squad/ ignores itself). Returns 0, or -1
 * with the reason in err (not in a repository, conflicts in the index,
 * libgit2's errors); what was made is removed again. */
int isolate_create(struct isolate *iso, const char *path, const char *state_dir,
		   struct strbuf *err);

/* The change made in the worktree since isolate_create(): the patch is
 * appended to `patch`, its diffstat ("N files changed, ...", one line per
 * file) to `stat` (may be NULL). Returns the number of files changed (0:
 * no change, `patch` left as it was), or -1 with the reason in err. */
int isolate_change(const struct isolate *iso, struct strbuf *patch, struct strbuf *stat,
		   struct strbuf *err);

/* Remove the worktree and its git folder, and free what `iso` holds.
 * Safe on an ISOLATE_INIT or already removed one. Returns 0, or -1
 * (reason in err) when something could not be removed. */
int isolate_remove(struct isolate *iso, struct strbuf *err);

/* Apply the `len` bytes of `patch` (as isolate_change() makes it) to
 * the working tree that holds `path`, journalled under `squad_dir` (the
 * project's .squad, where treewrite_recover() looks) as `what`
 * (treewrite_begin()). The paths it
 * writes (both of a rename) are appended to `touched` (may be NULL).
 * Returns 0 when applied, 1 when it does not apply to the tree as it is
 * (nothing written; the conflicting paths in `conflicts`, may be NULL,
 * and why in err), -1 on another error (reason in err; nothing written,
 * unless err says the originals could not be put back). */
int isolate_apply(const char *path, const char *squad_dir, const char *what, const char *patch,
		  size_t len, struct strvec *touched, struct strvec *conflicts, struct strbuf *err);

/* The paths a patch changes (both of a rename), appended to `paths`.
 * Returns 0, or -1 when it is not a patch (reason in err). */
int isolate_patch_paths(const char *patch, size_t len, struct strvec *paths,
			struct strbuf *err);

#endif
