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
 * The file is a cache: a line that does not read back whole is skipped,
 * and a missing or unreadable file only means hashing again.
 */
#ifndef SQUAD_FILECACHE_H
#define SQUAD_FILECACHE_H

#include "gitinfo.h"
#include "util/strbuf.h"

/* Fill the ids of `files` that the cache at `path` vouches for. Returns
 * how many it filled. */
size_t filecache_apply(struct file_list *files, const char *path);

/* Write the cache at `path` (temp file + rename) from the ids `files`
 * knows now, when any of them had to be hashed (else the cache holds
 * them already). Returns 0, or -1 with the reason in err. */
int filecache_save(const struct file_list *files, const char *path, struct strbuf *err);

#endif
