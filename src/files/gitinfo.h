/* gitinfo.h - what squad asks of git, through libgit2 (never a `git`
 * subprocess): HEAD, branch and the dirty paths of a working tree, the
 * paths a commit would take or that differ from a revision, and, for a
 * walk of its files (files.h, inputs.h), which of them git leaves out
 * and which blob ids its index vouches for. Only this module and
 * isolate.h (worktrees and patches) call libgit2; it knows nothing of
 * squad's caches.
 */
#ifndef SQUAD_GITINFO_H
#define SQUAD_GITINFO_H

#include <stdbool.h>
#include <time.h>

#include "util/strbuf.h"
#include "util/strvec.h"

struct gitinfo {
	bool in_repo;
	char *workdir;       /* top of the working tree, with a trailing '/' */
	char *head;          /* commit id (hex), or NULL on an unborn branch */
	char *branch;        /* short name, or NULL when HEAD is detached */
	struct strvec dirty; /* paths (from workdir) changed or untracked */
};

/* Fill `gi` for the repository holding `path` (gi->in_repo = false
 * outside one). Returns 0, or -1 with libgit2's message in err. */
int gitinfo_read(struct gitinfo *gi, const char *path, struct strbuf *err);
void gitinfo_release(struct gitinfo *gi);

/* The paths a commit would take: staged in the index against HEAD (all
 * of the index on an unborn branch; the index is $GIT_INDEX_FILE when
 * set, as git sets it for a hook). A rename gives both paths. Paths
 * are relative to the top of the working tree. Returns 0, or -1 with the
 * reason in err (not a repository included). */
int gitinfo_staged(const char *path, struct strvec *paths, struct strbuf *err);

/* A path where the working tree differs from the index a commit takes,
 * and what git would check out there. */
struct gitinfo_unstaged {
	char *path;             /* from the top of the working tree */
	bool in_commit;         /* the index has it (false: untracked, or git add -N) */
	bool link;              /* ... as a symlink; `content` is its target */
	bool exec;              /* ... as an executable file */
	struct strbuf content;  /* the bytes git checks out (filters applied) */
};

/* Every path of the working tree holding `path` that differs from the
 * index a commit takes ($GIT_INDEX_FILE when set): changed, deleted,
 * mode or type changed, untracked and not ignored (files, one by one;
 * an untracked repository as its folder), added with -N; not submodules
 * nor paths outside a sparse checkout. The top of the working tree, with
 * a '/', is appended to `workdir`. Returns 0 with the list (free it with
 * gitinfo_unstaged_free()), or -1 with the reason in err: not in a
 * repository, a bare one, merge conflicts in the index, libgit2's
 * errors (the list is then empty). */
int gitinfo_unstaged(const char *path, struct gitinfo_unstaged **list, size_t *nr,
		     struct strbuf *workdir, struct strbuf *err);
void gitinfo_unstaged_free(struct gitinfo_unstaged *list, size_t nr);

/* The paths that differ between `ref` (a revision: HEAD, main, HEAD~2)
 * and the working tree, untracked files that are not ignored included. */
int gitinfo_changed(const char *path, const char *ref, struct strvec *paths,
		    struct strbuf *err);

/* The folder `path`'s files are relative to: the top of its working
 * tree, or `path` itself outside a repository; with a trailing '/'. */
int gitinfo_workdir(const char *path, struct strbuf *root);

/* Could `path` be inside a working tree: has it, or a folder above it,
 * a .git? When not, libgit2 (and its set-up) is not needed at all: a
 * bare repository has no working tree, and squad treats it as none.
 * The nearest such folder, with a '/', goes to `top` (when not NULL):
 * the one libgit2 would open. No libgit2 call. */
bool gitinfo_find_top(const char *path, struct strbuf *top);

/* A working tree, as a walk of its files (files.h) asks about it: its
 * index and ignore rules, read once. Opaque. The caller's steps:
 * gitinfo_tree_open(); the questions below, one thread at a time;
 * gitinfo_tree_close(). */
struct gitinfo_tree;

/* Open the working tree holding the folder `path` (taking what
 * gitinfo_preload() opened for it) and read its index. Returns 1 with
 * *tree set, 0 when `path` is in no working tree (a bare repository
 * included; *tree NULL), -1 with libgit2's message in err. */
int gitinfo_tree_open(struct gitinfo_tree **tree, const char *path, struct strbuf *err);
/* The top of the working tree, with a trailing '/'; owned by `t`. */
const char *gitinfo_tree_workdir(const struct gitinfo_tree *t);
/* The coarse clock before git's state was first read for `t` (by the
 * preload, or by gitinfo_tree_open()). */
struct timespec gitinfo_tree_since(const struct gitinfo_tree *t);

/* Does git leave out the folder `rel` (from the top, ending in '/'):
 * ignored with nothing of it tracked, or a submodule? */
bool gitinfo_tree_skips_folder(struct gitinfo_tree *t, const char *rel);
/* Does git leave out the regular file `rel` that lstat saw as `st`
 * (untracked and ignored)? When not and the index's stat data vouches
 * for it as it is on disk (git's rules: size, mtime, inode, not racily
 * clean), `oid` gets its blob id from the index. */
struct stat;
bool gitinfo_tree_skips_file(struct gitinfo_tree *t, const char *rel, const struct stat *st,
			     char oid[41]);

/* Where git's state for `t` is read from: its git folder and common
 * folder (they differ in a linked worktree), both owned by `t`; and
 * core.excludesFile as configured, into
 * `excludes_file` (left empty when not set). */
void gitinfo_tree_state(struct gitinfo_tree *t, const char **gitdir, const char **commondir,
			struct strbuf *excludes_file);
void gitinfo_tree_close(struct gitinfo_tree *t);

/* The path of the hook `name` (pre-commit) of the repository holding
 * `path`: in core.hooksPath (relative to the top of the working tree
 * when not absolute), else in the common git folder's hooks/ (linked
 * worktrees share it); and the top of the working tree, with a trailing
 * '/', into `workdir`. Returns 0, or
 * -1 with the reason in err: not in a repository, a bare one (no commit
 * runs a hook there), a configuration libgit2 cannot read. */
int gitinfo_hook_path(const char *path, const char *name, struct strbuf *hook,
		      struct strbuf *workdir, struct strbuf *err);

/* For isolate.c, the one other module that calls libgit2 (worktrees and
 * patches): the repository whose working tree holds `path`, libgit2 set
 * up first. Returns 0 with *repo set (git_repository_free() it), or -1
 * with the reason in err: "'PATH' is not in a git repository", or in a
 * bare one (no working tree). */
struct git_repository;
int gitinfo_open_worktree(struct git_repository **repo, const char *path, struct strbuf *err);

/* Append "`what`: libgit2's last message" to err. Returns -1. */
int gitinfo_error(struct strbuf *err, const char *what);

/* Load libgit2 (gitlib.h) and set it up, once per process. Returns 0,
 * or -1 with the reason in err when libgit2 cannot be loaded; each
 * gitinfo call that needs libgit2 does this first, and fails so. */
int gitinfo_global_init(struct strbuf *err);
/* Also frees what gitinfo_preload() opened and nothing took. */
void gitinfo_global_shutdown(void);

/* Set libgit2 up, open the repository that holds the folder `path` and
 * read its index on a thread of their own, while the caller goes on
 * (parses the Squadfile, reads the state): libgit2's set-up decodes every
 * certificate of the system and the index read checks a SHA-1 of the
 * whole index, a sixth of a no-op run in a repository. The next
 * gitinfo_tree_open() of the same folder takes them; every other
 * gitinfo call waits for the thread first, and gitinfo_global_shutdown()
 * frees what was not taken. Nothing happens outside a working tree. */
void gitinfo_preload(const char *path);

#endif
