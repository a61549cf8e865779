/* fileio.h - files read and written safely: every write squad makes to
 * a file replaces it atomically (a temp file and a rename), never
 * through a symlink, never replacing a device; every read is bounded.
 *
 * The rules are the same for .squad/ (state.c builds its names on
 * these) and for the files a user names (a --junit report, the hook, a
 * Squadfile of `squad init`), so they live here once, below state. */
#ifndef SQUAD_FILEIO_H
#define SQUAD_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

/* The largest file squad reads back (the journal, the manifest, a
 * patch): far above what a run writes, and a bound on what a sparse or
 * hostile file can make squad allocate. */
#define FILE_MAX_READ ((size_t)1 << 30)

/* Read the whole of `path` into sb (appending): opened with O_NOFOLLOW,
 * refused when larger than FILE_MAX_READ. Returns 0, or -1 with errno
 * set (ELOOP: a symlink; EFBIG: too large; EINVAL: not a regular file,
 * a FIFO say, refused without waiting in open()); sb then keeps what it
 * had. */
int file_read(const char *path, struct strbuf *sb);

/* As file_read(), for `name` in the folder `dir` (an fd, or AT_FDCWD
 * for a path). */
int file_read_at(int dir, const char *name, struct strbuf *sb);

/* Write `data` to `path`, a file the user named (a --junit report, the
 * hook, a Squadfile of `squad init`): a regular file (or none) is
 * replaced atomically, by a temp file beside it (PATH.tmp.PID) and a
 * rename; a character or block device or a FIFO is written through
 * (opened without O_CREAT, never replaced; a FIFO waits for its reader
 * as a shell's `>` does); a symlink, a socket or a folder is refused.
 * Returns 0, or -1 (reason in err; a failed write of a device, say a
 * full one, is an error too). */
int file_write(const char *path, const char *data, size_t len, struct strbuf *err);

/* As file_write(), for a file of squad's own named by its path
 * (.squad/files, .squad/git, written before any task runs): anything
 * but a regular file in its place is refused. */
int file_write_own(const char *path, const char *data, size_t len, struct strbuf *err);

/* As file_write_own(), for `name` in a folder of squad's held by
 * `dir_fd` (shown in messages as `dir_shown`), by way of NAME.tmp.PID
 * beside it. */
int file_write_at(int dir_fd, const char *dir_shown, const char *name, const char *data,
		  size_t len, struct strbuf *err);

/* Where a file goes, for file_replace(): `name` in the folder `dir` (an
 * fd, or AT_FDCWD with a path), by way of the temp file `tmp` in
 * `tmp_dir` (a folder on the same file system: .squad/ for the files of
 * its subfolders, so that a killed squad's temps are found in one
 * place); `shown` and `shown_tmp` name them in messages. */
struct file_target {
	int dir;
	const char *name, *shown;
	int tmp_dir;
	const char *tmp, *shown_tmp;
};

/* Write `data` to t->tmp, then rename it over t->name. What is at
 * t->name decides: a regular file (or nothing) is replaced atomically;
 * a symlink is refused (never followed, never replaced); a device or a
 * FIFO is written through when `through`, refused when not (a file of
 * squad's own); a socket or a folder is refused. Returns 0, or -1
 * (reason in err; the temp file is gone). */
int file_replace(const struct file_target *t, bool through, const char *data, size_t len,
		 struct strbuf *err);

/* Open the folder `name` in `at` (an fd, or AT_FDCWD for a path; shown
 * in messages as `shown`), never through a symlink; with `create`, make
 * it first when it is missing. Returns its fd, or -1 with the reason in
 * err and errno kept (ENOENT: it is not there). */
int file_open_folder(int at, const char *name, const char *shown, bool create,
		     struct strbuf *err);

/* Why open(path, ... O_NOFOLLOW) failed, in words into err: ELOOP
 * there means that someone put a symlink in the place of a file. */
void file_open_error(struct strbuf *err, const char *path, int errnum);

#endif
