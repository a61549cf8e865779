/* files.h - the files of a folder tree: their stat data, the walk that
 * lists them, and their blob ids.
 *
 * The bottom of the git/files layer: it knows the file system and git's
 * blob format, and nothing of libgit2 or of squad's caches. What the
 * walk may be told by those (which files git leaves out, which ids the
 * index vouches for, which folders' names are known) comes in through
 * `struct walk_rules`, filled by gitinfo.h and filecache.h and put
 * together by inputs.h.
 *
 * The caller's steps: file_list_walk(); file_list_oid() for each file
 * whose id is needed; file_list_release().
 */
#ifndef SQUAD_FILES_H
#define SQUAD_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/strbuf.h"
#include "util/strvec.h"

/* The stat data squad keeps of a file (.squad/files, .squad/git). */
struct file_stat {
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec, size;
	uint64_t ino;
};

struct stat;
struct file_stat file_stat_of(const struct stat *st);

/* Was the file with the stat data `st` last changed before `since`, by
 * the coarse clock that stamps file times? Only then can its stat data
 * vouch for what a reader saw after `since`: a later change shows as
 * another ctime (ctime, not mtime: an mtime can be set to any time, a
 * ctime is always that of the change). */
bool file_stat_settled(const struct file_stat *st, const struct timespec *since);

/* The git blob id (SHA-1, hex) of data: the content hash squad uses for
 * fingerprints, the same a file gets in git's index. */
void files_hash(const char *data, size_t len, char hex[41]);

/* A folder as a walk listed it: its names, sorted as the walk visits
 * them, each NUL-terminated, a folder's with a '/' after it, and one
 * the walk's rules left out with a '/' before it. */
struct folder_listing {
	char *path;          /* relative to the root: "" or ending in '/' */
	struct file_stat st; /* size unused */
	char *names;
	size_t names_len;
};

/* The regular files of a tree, sorted by path as strcmp() sorts them.
 * `oid` is the blob id when the walk's rules vouched for the file as it
 * is on disk, else "" (file_list_oid() hashes it). */
struct file_list {
	char *root;          /* the folder paths are relative to, with '/' */
	char **paths;
	char (*oid)[41];
	struct file_stat *stats; /* as lstat saw each file */
	size_t nr, alloc;
	size_t hashed;       /* ids computed by reading the file */
	struct timespec listed_at; /* coarse clock, before the first lstat */
	struct folder_listing *folders; /* every folder walked */
	size_t nr_folders, alloc_folders;
	size_t folders_read; /* listed with readdir, not from known names */
	bool stopped;        /* rules.trusted: a folder or root they had no word on */
};

/* What a walk is told, besides what it reads from the disk. Each hook
 * may be NULL (nothing is left out, no id is known, every folder is
 * read). */
struct walk_rules {
	void *data; /* passed to each hook */
	/* 1 when the folder `rel` (ending in '/') is left out, 0 when it
	 * is walked, -1 when the rules cannot tell (the walk stops:
	 * files->stopped). `root` says it is one of the walk's roots. */
	int (*skip_folder)(void *data, const char *rel, bool root);
	/* Is the regular file `rel`, as `st` describes it, left out? When
	 * not, `oid` may get its blob id (it is "" on the way in). */
	bool (*skip_file)(void *data, const char *rel, const struct stat *st, char oid[41]);
	/* The names the folder `rel` held when it was listed with the stat
	 * data `st` (as folder_listing's, marks included), or NULL. Called
	 * from both threads of a walk: it must only read. */
	const char *(*known_names)(void *data, const char *rel, const struct file_stat *st,
				   size_t *names_len);
	/* The marks of known names are the rules' decisions as they stand:
	 * marked names are left out without asking, other names are taken
	 * in without asking, and a folder whose names are not known, or a
	 * root skip_folder cannot tell, stops the walk. */
	bool trusted;
	/* skip_folder and skip_file are not safe on two threads at once:
	 * the walk calls them one at a time. */
	bool one_at_a_time;
};

/* List the files under `root` (a folder, with a trailing '/'), but .git
 * and .squad folders: only under `roots` (folders relative to `root`,
 * "" or ending in '/', sorted; NULL: the whole tree). Each file costs
 * one lstat; a folder whose names the rules know costs no readdir. With
 * two CPUs or more, the second half of a long list of roots is walked
 * by a second thread. `files` is overwritten, and takes `root` (an
 * allocated string: file_list_release() frees it). `rules` may be NULL.
 * A folder that cannot be opened is left out, as are its files: the
 * walk does not fail. */
void file_list_walk(struct file_list *files, char *root, const struct strvec *roots,
		    const struct walk_rules *rules);

/* The blob id of files->paths[i]: as the walk found it, else by hashing
 * the file (once; kept in files->oid). "-" when it cannot be read. */
const char *file_list_oid(struct file_list *files, size_t i);

/* Free what the list holds, and empty it. */
void file_list_release(struct file_list *files);

#endif
