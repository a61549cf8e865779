/* filecache.h - blob ids of input files, kept by their stat data.
 *
 * In a repository, git's index vouches for tracked files; outside one
 * (and for untracked files) every input would be read and hashed on
 * every run, even when nothing changed. squad keeps the ids it computed
 * in .squad/files, as git's index does: a file whose size, inode, mtime
 * and ctime (seconds and nanoseconds) are those it had when it was
 * hashed gets its id back without being read (ctime too, as git checks
 * it: `cp -p` or `touch -r` can set an old mtime, nothing sets ctime). Only files last changed
 * before the listing began are kept (files->listed_at): a change made
 * in the same clock tick as the hashing could leave the stat data as it
 * was, so such a file is hashed again next time ("racily clean").
 *
 * Folders are kept the same way, with the names they held: a folder
 * whose stat data is as it was when it was listed gets its names back
 * without a readdir (adding, removing or renaming an entry changes the
 * folder's mtime and ctime), as git's untracked cache does. Its files
 * are still stat()ed one by one: a change to a file's content does not
 * show in its folder. In a repository each name git leaves out is
 * marked; those marks are believed only while .squad/git holds
 * (gitstamp.h).
 *
 * The file is a cache: a line that does not read back whole is skipped,
 * and a missing or unreadable file only means listing and hashing again.
 *
 * The caller's steps (inputs.c takes them): filecache_load(); a walk
 * (file_list_walk()) that takes unchanged folders' names from
 * filecache_folder(); filecache_apply() for the ids; filecache_release();
 * after planning, filecache_save() when anything was hashed or read.
 */
#ifndef SQUAD_FILECACHE_H
#define SQUAD_FILECACHE_H

#include "files/files.h"
#include "util/strbuf.h"
#include "util/strmap.h"

struct filecache {
	struct strbuf text;     /* the file as read, lines cut at '\n' */
	size_t files_at, files_end; /* its file lines in text, each NUL-ended */
	struct strmap index;    /* folder path -> folders[] */
	struct cached_folder {
		const char *path;      /* into text */
		struct file_stat st;
		const char *names;     /* into text: as folder_listing's */
		size_t names_len;
	} *folders;
	size_t nr, alloc;
};

#define FILECACHE_INIT { STRBUF_INIT, 0, 0, STRMAP_INIT, NULL, 0, 0 }

/* Read the cache at `path`; a missing or unreadable one leaves it empty. */
void filecache_load(struct filecache *fc, const char *path);
void filecache_release(struct filecache *fc);

/* The names the folder `path` ("" or ending in '/') held when it was
 * listed with the stat data `st`, as a walk records them in file_list's
 * folders; NULL when it was not, or had other stat data. The pointer is
 * into `fc` (not NUL-terminated as a whole). Only reads `fc`: safe on
 * two threads at once. */
const char *filecache_folder(const struct filecache *fc, const char *path,
			     const struct file_stat *st, size_t *names_len);

/* Fill the ids of `files` that the cache vouches for. Returns how many
 * it filled. */
size_t filecache_apply(const struct filecache *fc, struct file_list *files);

/* A file's stat data as both .squad caches write it: "MTIME_SEC
 * MTIME_NSEC CTIME_SEC CTIME_NSEC SIZE INODE ", each number followed by
 * a space; and read back from *p, which moves past it (false when they
 * are not all there). */
void filecache_add_stat(struct strbuf *out, const struct file_stat *st);
bool filecache_parse_stat(const char **p, struct file_stat *st);

/* Write the cache at `path` (temp file + rename) from the ids and the
 * folders `files` knows now, those last changed before the listing
 * began (file_stat_settled()). The caller writes it only when it learnt
 * something: an id hashed, a folder read, git's marks asked again
 * (inputs_save()). Returns 0, or -1 with the reason in err. */
int filecache_save(const struct file_list *files, const char *path, struct strbuf *err);

#endif
