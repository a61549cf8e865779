/* rmtree.h - remove a folder tree, never following a symlink.
 *
 * squad's own trees (a task's worktree, an old `squad exec` folder) are
 * removed with everything in them. A symlink inside is removed itself,
 * never followed, so a task that plants one cannot make squad delete
 * anything outside the tree. A folder a task made read-only is made
 * writable (0700) first: the tree is squad's to remove.
 */
#ifndef SQUAD_RMTREE_H
#define SQUAD_RMTREE_H

/* Remove `name` in the folder `dfd` (an fd, or AT_FDCWD for a path)
 * and, when it is a folder, everything in it. A file or symlink is just
 * unlinked. Returns 0 (also when nothing is there), or -1 with errno
 * set when something could not be removed; it removes what it can
 * either way. */
int rmtree_at(int dfd, const char *name);

/* rmtree_at() of a path, a trailing '/' allowed. */
int rmtree(const char *path);

#endif
