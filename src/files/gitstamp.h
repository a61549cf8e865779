/* gitstamp.h - has git's view of a working tree changed since a walk?
 *
 * In a repository, which files a walk lists hangs on git's state: the
 * index (what is tracked, what is a submodule) and the ignore rules
 * (every .gitignore on the way, .git/info/exclude, core.excludesFile
 * and the config files that could name one). Reading that state through
 * libgit2 (its set-up, the index with its checksum, the rules) costs
 * more than the rest of a no-op run. So a walk that asked libgit2
 * records, in .squad/files, which names git left out (filecache.h), and
 * here the stat data of each file that state came from, as git's
 * untracked cache does. While every one of them is as it was, and each
 * folder is (its names unchanged), those decisions hold without libgit2.
 *
 * A stamp is kept only when it can be believed: no file it watches was
 * changed after the walk began to read them (the racy-git rule, by
 * ctime), and no config file includes others (their paths are not
 * watched). .squad/files is watched too, so that a cache and a stamp
 * written by different runs are never taken together.
 *
 * .squad/git:
 *   squad-git 1
 *   w WORKDIR
 *   s KIND MTIME_SEC MTIME_NSEC CTIME_SEC CTIME_NSEC SIZE INODE PATH
 *   r SKIPPED ROOT
 * KIND is f (a file), d (a folder: its inode only), - (none there), or
 * c (the cache file, written by the run itself). SKIPPED is 1 for a
 * root of the walk that git leaves out, else 0.
 */
#ifndef SQUAD_GITSTAMP_H
#define SQUAD_GITSTAMP_H

#include <stdbool.h>
#include <time.h>

#include "files/files.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"

struct gitstamp {
	char *workdir;          /* top of the working tree, with a '/' */
	struct strvec paths;    /* watched, absolute */
	struct strbuf kinds;    /* a KIND per path: as read, or '?' to stat */
	struct file_stat *stats; /* per path, as read (NULL for a new stamp) */
	struct strmap watched;  /* path -> its slot, keys in paths */
	struct strvec roots;    /* the walk's roots */
	struct strbuf skipped;  /* per root: '1' left out, '0' walked */
	struct strmap root_at;  /* root -> its slot, keys in roots */
	bool unusable;          /* not to be kept (a config includes others) */
};

#define GITSTAMP_INIT { NULL, STRVEC_INIT, STRBUF_INIT, NULL, STRMAP_INIT, STRVEC_INIT, \
			STRBUF_INIT, STRMAP_INIT, false }

/* Read the stamp at `file`. Returns 0, or -1 (and leaves it empty) when
 * there is none or it does not read back whole. */
int gitstamp_read(struct gitstamp *gs, const char *file);

/* Is every watched file as the stamp has it (the cache file included)? */
bool gitstamp_holds(const struct gitstamp *gs);

/* For a new stamp (workdir set by the caller): watch `path`, a file of
 * git's state (once; again is a no-op). A config file is read for
 * include directives: one makes the stamp unusable. */
void gitstamp_watch(struct gitstamp *gs, const char *path);
void gitstamp_watch_config(struct gitstamp *gs, const char *path);

/* For a new stamp, after a walk that asked git (its roots told with
 * gitstamp_root()): watch every file git's decisions came from. Those
 * are where the repository is (files->root's .git), the index and the
 * config files in `gitdir` and `commondir` (gitinfo_tree_state()),
 * /etc/gitconfig and those under HOME and XDG_CONFIG_HOME, the exclude
 * files (info/exclude, `excludes_file` when not "": core.excludesFile),
 * the .gitignore of each folder walked and of each folder above a root.
 * Sets the workdir to files->root when it has none. A relative
 * excludes_file or HOME makes the stamp unusable (libgit2 would look
 * elsewhere). */
void gitstamp_watch_git(struct gitstamp *gs, const char *gitdir, const char *commondir,
			const char *excludes_file, const struct file_list *files);
/* The walk's decision for one of its roots. */
void gitstamp_root(struct gitstamp *gs, const char *root, bool skipped);
/* 1 when `root` was left out, 0 when walked, -1 when the stamp has no
 * word on it. */
int gitstamp_root_skipped(const struct gitstamp *gs, const char *root);

/* Write the stamp at `file` (temp file + rename) with each watched
 * file's stat data as it is now and that of `cache_file`, when each was
 * last changed before `since` (the moment before git's state was first
 * read or checked). Returns 1 when written, 0 when the stamp is not to
 * be kept (and removes any old one), -1 with the reason in err. */
int gitstamp_write(const struct gitstamp *gs, const char *file, const char *cache_file,
		   const struct timespec *since, struct strbuf *err);

void gitstamp_release(struct gitstamp *gs);

#endif
