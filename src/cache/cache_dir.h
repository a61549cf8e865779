/* cache_dir.h - the result cache in a folder: the local one (the
 * default, under the user's cache folder, bounded in size with LRU
 * eviction) or a shared one (NFS, say) that several machines read and
 * write.
 *
 * Layout: DIR/v1/KEY holds an artifact's bytes (artifact.h), and
 * DIR/v1/KEY.tag its signature when it has one (cache.h). Each file is
 * written whole by a temp file and a rename (file_write_own()), so a
 * reader on any machine sees an old entry or a new one, never half of
 * one; files are read without following symbolic links. A hit touches
 * the entry's time: eviction removes the least recently used first.
 */
#ifndef SQUAD_CACHE_DIR_H
#define SQUAD_CACHE_DIR_H

#include <stdint.h>

#include "util/strbuf.h"

/* The default folder into `out`: $XDG_CACHE_HOME/squad, else
 * $HOME/.cache/squad. -1 (reason in err) when neither is set. */
int cache_dir_default(struct strbuf *out, struct strbuf *err);

/* The entry `key` of `dir`: 1 (bytes into body, the tag into *tag or
 * NULL; the caller frees it), 0 (none), -1 (reason in err). */
int cache_dir_get(const char *dir, const char *key, struct strbuf *body, char **tag,
		  struct strbuf *err);

/* Store `body` (and `tag`, may be NULL) as `key` in `dir` (made when
 * missing); then, when `max_bytes` is not 0, remove the least recently
 * used entries until the folder holds at most max_bytes. 0 or -1. */
int cache_dir_put(const char *dir, const char *key, const void *body, size_t len,
		  const char *tag, uint64_t max_bytes, struct strbuf *err);

/* Remove least recently used entries of `dir` until it holds at most
 * max_bytes. Returns how many were removed, or -1. */
int cache_dir_evict(const char *dir, uint64_t max_bytes, struct strbuf *err);

#endif
