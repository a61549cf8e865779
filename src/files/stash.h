/* stash.h - set the working tree's unstaged changes aside, then put them back.
 *
 * A pre-commit check must see what the commit will hold, not what the
 * working tree holds. `squad --stash` (what the installed hook runs) makes
 * the working tree match the index for the run, as the pre-commit
 * framework does, and then puts every file back as it was:
 *
 *   1. stash_save() lists each path whose working-tree state differs from
 *      the index (gitinfo_unstaged(): changed, deleted, mode or type
 *      changed, untracked, git add -N; not ignored files, not submodules;
 *      and here not .squad/), and writes that
 *      list to .squad/stash/manifest (temp file + rename) BEFORE it
 *      touches the working tree. Then, path by path, it moves the working
 *      tree's file into .squad/stash/ (a rename: content, mode, mtime and
 *      inode kept) and puts the index's version in its place (or nothing,
 *      for an untracked file; a folder that leaves empty is removed, and
 *      added to the manifest with its mode).
 *   2. The tasks run.
 *   3. stash_restore() renames each file back, removes what the working
 *      tree did not have, and removes the manifest last.
 *
 * Every step can be cut short (kill -9 included): the manifest says what
 * was set aside, and stash_recover() - which every run calls first - puts
 * it back. Each path is restored only from what is still in .squad/stash/,
 * so restoring twice is harmless. A file that is neither what squad put
 * there nor what it set aside (a task, or the user after a kill, wrote
 * it) is not overwritten blindly: it is moved to .squad/kept/ first and
 * named in the notes. Nothing of the user's is deleted. A manifest that
 * is not squad's (a path outside the tree or in .git, a working tree
 * that moved since) is refused, and nothing is moved.
 *
 * The index is the one git commits: $GIT_INDEX_FILE when git sets it (as
 * for `git commit -a` or `git commit PATH`), else the repository's.
 *
 * SQUAD_TEST_FAULT=STEP makes squad kill itself (SIGKILL) at that step,
 * for the tests that prove the recovery; unset, it does nothing. The
 * steps: save-manifest (nothing written yet), save-moved (the first
 * path moved out), save-aside (the first path holds the index version),
 * save-done (all set aside), restore (before restoring), restore-one
 * (the first path back), restore-manifest (all back, manifest still
 * there), restore-cleanup (manifest gone, folder not yet). Two steps
 * fail instead, as a full disk would: save-error (setting the second
 * path aside), restore-error (putting the first back). And
 * SQUAD_TEST_FAULT=sigint:STEP sends squad a SIGINT at that step: it
 * waits until every file is in place (set aside, then all put back).
 */
#ifndef SQUAD_STASH_H
#define SQUAD_STASH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

struct stash_entry;

struct stash {
	char *dir;                  /* .squad/stash, for messages */
	char *kept;                 /* .squad/kept, for messages */
	/* The two folders, held once opened (never through a symlink):
	 * every file squad moves in or out of them goes by these fds, so
	 * a folder swapped for a link meanwhile leads nothing astray. */
	int dir_fd, kept_fd;
	char *top;                  /* the working tree's top, with a '/' */
	struct stash_entry *entries;
	size_t nr, alloc;
	bool active;                /* set aside: stash_restore() owes it back */
};

#define STASH_INIT { .dir_fd = -1, .kept_fd = -1 }

/* Put back what a squad cut short left set aside in `state_dir`/stash
 * (the caller holds the state's lock). Returns how many paths it put
 * back (0: nothing was set aside), or -1 when some could not be (reason
 * in err; the manifest stays for the next try). Notes for the user (a
 * file kept aside) are appended to `notes`, one line each. */
int stash_recover(const char *state_dir, struct strbuf *notes, struct strbuf *err);

/* Set aside every unstaged change and untracked file of the working tree
 * that holds `path`, with the stash kept in `state_dir` (the caller
 * holds the state's lock). Returns 0 (s->active when anything was set
 * aside; nothing to do leaves it false), 1 when SIGINT, SIGTERM or
 * SIGHUP came meanwhile (everything is back already: the caller exits as
 * interrupted), or -1 (reason in err; what had been set aside is back,
 * or if even that failed, the manifest stays for stash_recover()). */
int stash_save(struct stash *s, const char *state_dir, const char *path, struct strbuf *err);

/* Put back what stash_save() set aside; s->active is false after it,
 * whatever happened. Returns 0, 1 when a signal came while it worked
 * (all is back; the caller exits as interrupted), or -1 (reason in err;
 * the manifest stays for the next run's stash_recover()). Notes (files
 * kept aside) are appended to `notes`. */
int stash_restore(struct stash *s, struct strbuf *notes, struct strbuf *err);

/* Free what `s` holds; does not restore. */
void stash_release(struct stash *s);

#endif
