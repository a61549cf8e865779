/* treewrite.h - files of the user's working tree written all or
 * nothing, across a kill -9 too.
 *
 * `squad apply`, and a `changes: apply` task, write several files of
 * the user's tree. A squad killed midway must leave it exactly as it
 * was or exactly as the patch makes it, with no temp file behind, and
 * never lose an edit of the user's. The caller's steps:
 *
 *   1. treewrite_begin(): this write's journal folder,
 *      SQUAD_DIR/applying/PID-N/, locked (flock) for as long as this
 *      process lives;
 *   2. treewrite_put() and treewrite_remove(), once a path;
 *   3. treewrite_commit(), which
 *      a. copies the user's files at those paths (bytes and mode) into
 *         the journal folder (orig-I),
 *      b. writes the journal: the tree's top, each path, the name of
 *         its temp file, the folders it will make (temp file + rename:
 *         it is there whole or not at all),
 *      c. writes each new file whole as a temp file beside its path
 *         (PATH.squad-apply-PID-N-I), synced to disk,
 *      d. marks the journal `staged`: every new file is written,
 *      e. renames each temp file over its path, removes each path to
 *         remove (and the folders that leaves empty),
 *      f. removes the journal folder;
 *      a failure before d removes its temp files and folders (the tree
 *      is as it was), one in e puts the originals back;
 *   4. treewrite_free().
 *
 * treewrite_recover() is the next squad's side (any command that opens
 * .squad/ calls it): a journal folder whose lock nobody holds is of a
 * squad that died. Not `staged`: its temp files and the folders it made
 * are removed, the tree is as it was. `staged`: the renames and
 * removals not yet done are done, the tree is as the patch makes it;
 * but a path that is no longer the original (the user edited it after
 * the kill) is left as it is and named. Being put back (`undo`): the
 * originals are put back.
 *
 * SQUAD_TEST_FAULT=apply-stop:N stops squad (SIGSTOP) at the Nth step
 * of a commit, for a test to kill -9 it there; apply-fail:N makes that
 * step fail as a full disk would. The steps: the journal written (1);
 * each temp file written; the mark; each rename or removal; all done,
 * before the journal folder is removed. Unset, they do nothing.
 */
#ifndef SQUAD_TREEWRITE_H
#define SQUAD_TREEWRITE_H

#include <stddef.h>

#include "util/strbuf.h"

struct treewrite;

/* Git's modes for treewrite_put(). */
#define TREEWRITE_FILE 0100644u
#define TREEWRITE_EXEC 0100755u
#define TREEWRITE_LINK 0120000u

/* Start a write to the working tree `top` (absolute, ending in '/'),
 * journalled under `squad_dir` (a .squad folder; applying/ is made in
 * it). `what` (may be NULL) says in words what is written ("the change
 * of task 'fmt'"): kept in the journal, for the next squad's notes.
 * Returns it, or NULL with the reason in err. */
struct treewrite *treewrite_begin(const char *squad_dir, const char *top, const char *what,
				  struct strbuf *err);

/* `rel` (relative to the top) is to hold the `len` bytes of `data`
 * (copied; a symlink's target for TREEWRITE_LINK) with `mode`. */
void treewrite_put(struct treewrite *tw, const char *rel, const char *data, size_t len,
		   unsigned mode);

/* `rel` is to be removed, and the folders that leaves empty. */
void treewrite_remove(struct treewrite *tw, const char *rel);

/* Do it, all or nothing (see above). Returns 0, or -1 with the reason
 * in err: then nothing of the tree changed, unless putting the
 * originals back failed too (err says so; the journal stays for the
 * next squad to finish). */
int treewrite_commit(struct treewrite *tw, struct strbuf *err);

/* Free it; its journal folder is removed when the commit ended. */
void treewrite_free(struct treewrite *tw);

/* Finish or undo each write journalled under `squad_dir` whose squad
 * died (see above). What was done is appended to `notes`, a line each.
 * Returns how many were recovered, or -1 (err) when one could not be:
 * its journal stays for the next try. */
int treewrite_recover(const char *squad_dir, struct strbuf *notes, struct strbuf *err);

#endif
