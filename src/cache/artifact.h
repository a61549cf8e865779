/* artifact.h - a cached result's bytes: a task's outputs packed into a
 * zstd-compressed tar (libarchive), with a metadata entry.
 *
 * The archive holds, in this order: ARTIFACT_META (opaque bytes the
 * caller gives: status, log, answer...), then each output: a regular
 * file with its mode bits (0777 only: no set-id), a folder, or a
 * symbolic link with its target as it is (never followed when packed).
 *
 * Unpacking reads archives from anywhere (another machine, a server), so
 * it trusts nothing: every name must be relative, without "." or ".."
 * components, empty components or NUL; only files, folders and links are
 * accepted (no hard links, devices, fifos); nothing is written through a
 * symbolic link, whether the archive planted it or it was there (an
 * archive cannot plant a link and then write through it); the total
 * unpacked size is bounded.
 * The first refused entry stops the unpacking with the reason in err.
 * Entries already written stay: the caller unpacks into a fresh folder
 * when it needs all or nothing.
 */
#ifndef SQUAD_ARTIFACT_H
#define SQUAD_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"
#include "util/strvec.h"

#define ARTIFACT_META ".squad-result"

/* Pack `meta` (meta_len bytes) and the outputs `paths` (relative to the
 * folder `root`; a folder is packed with everything under it) into
 * `out`. Returns 0, or -1 with the reason in err (a path that escapes,
 * one that is missing, a read error, a kind of file not supported). */
int artifact_pack(const char *root, const struct strvec *paths, const void *meta,
		  size_t meta_len, struct strbuf *out, struct strbuf *err);

/* Unpack `data` (len bytes, as artifact_pack() makes them) under the
 * folder `root` (which must exist), the metadata into `meta`; at most
 * `max_bytes` of file content in all (0: no bound). Files replace what
 * is there. Returns 0, or -1 with the reason in err. */
int artifact_unpack(const void *data, size_t len, const char *root, uint64_t max_bytes,
		    struct strbuf *meta, struct strbuf *err);

/* Is `path` a name an artifact may hold: relative, no ".", ".." or
 * empty components, not too long? */
int artifact_path_ok(const char *path);

#endif
