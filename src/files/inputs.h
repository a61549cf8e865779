/* inputs.h - the files that tasks' inputs may name, with their blob ids.
 *
 * Where the rooms of the git/files layer meet. A walk of the working
 * tree (files.h) is told which files git leaves out and which ids the
 * index vouches for by libgit2 (gitinfo.h), or, while the stamp of the
 * last walk holds (gitstamp.h), by the marks that walk left in
 * .squad/files (filecache.h): then libgit2 is not even set up. The
 * cache also gives unchanged folders' names (no readdir) and files' ids
 * by their stat data (no hashing).
 *
 * The caller's steps: inputs_preload() as early as it can; then
 * filecache_load(); inputs_list() with the cache; filecache_apply() to
 * in->files; filecache_release(); file_list_oid() for the ids it needs;
 * inputs_save(); inputs_release(); at exit inputs_shutdown().
 */
#ifndef SQUAD_INPUTS_H
#define SQUAD_INPUTS_H

#include <stdbool.h>
#include <time.h>

#include "files/files.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct filecache;
struct gitstamp;

struct inputs {
	struct file_list files;
	bool in_repo;
	/* git's decisions came from the stamp of the last walk (libgit2
	 * not used) */
	bool trusted;
	/* they were asked of libgit2 again and are to be kept: the cache
	 * with its marks, and the new stamp */
	bool restamp;
	struct gitstamp *stamp;    /* owned; NULL outside a repository */
	struct timespec git_since; /* coarse clock, before git's state was read */
};

/* Before the Squadfile is parsed: when the folder `path` is in a
 * working tree, check the stamp in `path`/.squad/git (a few stat calls);
 * when it does not hold, gitinfo_preload() sets libgit2 up and reads the
 * index on a thread of its own. Once per process; nothing happens
 * outside a working tree. */
void inputs_preload(const char *path);

/* The folder `path`'s files are relative to, with a trailing '/': the
 * top of its working tree (from the stamp inputs_preload() found to
 * hold, else gitinfo_workdir()), or `path` outside one. Returns 0. */
int inputs_workdir(const char *path, struct strbuf *root);

/* List into `in` the files of the working tree holding the folder
 * `path` (of `path` itself outside one) that inputs may name, sorted by
 * path: in a repository, the index's entries and the untracked files
 * that are not ignored; outside one, every file (but .git, .squad).
 * Only files under `roots` are listed: folders relative to the top, ""
 * or ending in '/', sorted (NULL: the whole tree). `cache` (may be
 * NULL) vouches for unchanged folders' names, and, when the stamp
 * inputs_preload() found holds, for git's decisions too (in->trusted);
 * a folder or root it has no word on sends the walk back to libgit2.
 * Returns 0, or -1 with libgit2's message in err (`in` is then empty
 * but for what inputs_release() frees). */
int inputs_list(struct inputs *in, const char *path, const struct strvec *roots,
		const struct filecache *cache, struct strbuf *err);

/* Keep what this listing learnt for the next run: when an id was
 * hashed, a folder read or git's decisions asked of libgit2, write the
 * cache at `cache_file` (filecache_save()) and then, in a repository,
 * the stamp at `stamp_file` (gitstamp_write(): it watches the cache
 * file too). Both are caches: a failure costs time, not correctness.
 * Returns 0 (written, or nothing to write), or -1 with the reason in
 * err. */
int inputs_save(const struct inputs *in, const char *cache_file, const char *stamp_file,
		struct strbuf *err);

void inputs_release(struct inputs *in);

/* Free what inputs_preload() found and nothing took, and libgit2's
 * global state (gitinfo_global_shutdown()). */
void inputs_shutdown(void);

#endif
