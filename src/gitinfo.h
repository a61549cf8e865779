/* gitinfo.h - what squad asks of git, through libgit2 (never a `git`
 * subprocess): HEAD, branch and the dirty paths of a working tree.
 */
#ifndef SQUAD_GITINFO_H
#define SQUAD_GITINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <stddef.h>

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

/* The paths that differ between `ref` (a revision: HEAD, main, HEAD~2)
 * and the working tree, untracked files that are not ignored included. */
int gitinfo_changed(const char *path, const char *ref, struct strvec *paths,
		    struct strbuf *err);

struct file_stat {
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec, size;
	uint64_t ino;
};

struct stat;
/* The stat data squad keeps of a file (filecache.h, gitstamp.h). */
struct file_stat file_stat_of(const struct stat *st);

/* A folder as a walk listed it (its names, sorted as the walk visits
 * them), for filecache.h to keep. */
struct folder_listing {
	char *path;          /* relative to the root: "" or ending in '/' */
	struct file_stat st; /* size unused */
	char *names;         /* each NUL-terminated, a folder's with a '/' */
	size_t names_len;
};

struct filecache;
struct gitstamp;

/* The files of a working tree that inputs may name, sorted by path: in a
 * repository, the index's entries and the untracked files that are not
 * ignored; outside one, every file under the folder (but .git, .squad).
 * `oid` is the blob id when the index's stat data vouches for the file as
 * it is on disk, else "" (the file must be hashed). */
struct file_list {
	char *root;          /* the folder paths are relative to, with '/' */
	char **paths;
	char (*oid)[41];
	struct file_stat *stats; /* as lstat saw each file */
	size_t nr, alloc;
	size_t hashed;       /* ids computed by reading the file */
	struct timespec listed_at; /* coarse clock, before the first lstat */
	bool in_repo;
	struct folder_listing *folders; /* every folder walked */
	size_t nr_folders, alloc_folders;
	size_t folders_read; /* listed with readdir, not from a cache */
	/* In a repository: git's decisions came from the stamp of the
	 * last walk (libgit2 not used), or were asked of libgit2 again and
	 * are to be kept (the cache and this new stamp); gitstamp.h. */
	bool trusted, restamp;
	bool need_git;       /* a trusted walk met what only libgit2 can tell */
	struct gitstamp *stamp; /* owned; NULL outside a repository */
	struct timespec git_since; /* coarse clock, before git's state was read */
};

/* Only files under `roots` are listed: folders relative to the top of the
 * tree, "" or ending in '/', sorted (NULL: the whole tree). Each file
 * costs one lstat; the index gives blob ids, git's ignore rules are
 * asked about untracked paths only. A folder `cache` (filecache.h; may be
 * NULL) vouches for unchanged folders' names: no readdir for those, and
 * when gitinfo_preload() found the stamp of the last walk to hold, for
 * the names git left out as well: no libgit2 at all (files->trusted). */
int gitinfo_files(struct file_list *files, const char *path, const struct strvec *roots,
		  const struct filecache *cache, struct strbuf *err);

/* The folder `path`'s files are relative to: the top of its working
 * tree, or `path` itself outside a repository; with a trailing '/'. */
int gitinfo_workdir(const char *path, struct strbuf *root);
/* The blob id of files->paths[i]: from the index, else by hashing the
 * file (once; cached). Returns "" when it cannot be read. */
const char *gitinfo_file_oid(struct file_list *files, size_t i);
void file_list_release(struct file_list *files);

/* The git blob id (SHA-1, hex) of data: the content hash squad uses for
 * fingerprints, the same a file gets in git's index. */
void gitinfo_hash(const char *data, size_t len, char hex[41]);

/* libgit2's global set-up, once per process. */
void gitinfo_global_init(void);
/* Also frees what gitinfo_preload() opened and nothing took. */
void gitinfo_global_shutdown(void);

/* Set libgit2 up, open the repository that holds the folder `path` and
 * read its index on a thread of their own, while the caller goes on
 * (parses the Squadfile, reads the state): libgit2's set-up decodes every
 * certificate of the system and the index read checks a SHA-1 of the
 * whole index, a sixth of a no-op run in a repository. The next
 * gitinfo_files() of the same folder takes them; every other gitinfo
 * call waits for the thread first, and gitinfo_global_shutdown() frees
 * what was not taken. Nothing happens outside a working tree, nor when
 * the stamp `path`/.squad/git holds (gitstamp.h): the walk needs none of
 * it then. */
void gitinfo_preload(const char *path);

#endif
