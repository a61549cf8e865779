/* fileio.c - files read and written safely; see fileio.h. */
#include "files/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void file_open_error(struct strbuf *err, const char *path, int errnum)
{
	if (errnum == ELOOP)
		strbuf_addf(err, "'%s' is a symlink; squad will not follow it "
			    "(remove it to start fresh)", path);
	else if (errnum == ENXIO) /* O_NONBLOCK's answer for a FIFO without reader */
		strbuf_addf(err, "'%s' is not a regular file; squad will not write to it "
			    "(remove it to start fresh)", path);
	else
		strbuf_addf(err, "cannot open '%s': %s", path, strerror(errnum));
}


int file_open_folder(int at, const char *name, const char *shown, bool create,
		      struct strbuf *err)
{
	struct stat sb;
	int fd, saved;

	if (create && mkdirat(at, name, 0777) < 0 && errno != EEXIST) {
		saved = errno;
		strbuf_addf(err, "cannot create '%s': %s", shown, strerror(errno));
		errno = saved;
		return -1;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	saved = errno;
	if ((errno == ELOOP || errno == ENOTDIR) && fstatat(at, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		strbuf_addf(err, "'%s' is %s, not a folder; squad will not follow it "
			    "(remove it to start fresh)", shown,
			    S_ISLNK(sb.st_mode) ? "a symlink" : "a file");
	else
		strbuf_addf(err, "cannot open '%s': %s", shown, strerror(errno));
	errno = saved;
	return -1;
}

int file_read_at(int dir, const char *name, struct strbuf *sb)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO in the place of a file of squad's own would
	 * wait in open() for a writer; it is refused below */
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), ret, saved;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* room for the whole file, and for the read() that finds its end */
	if (st.st_size > 0) {
		if ((unsigned long long)st.st_size > FILE_MAX_READ) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		strbuf_grow(sb, (size_t)st.st_size + 4096);
	}
	/* EFBIG too when it grew while we read it */
	ret = strbuf_read_fd(sb, fd, FILE_MAX_READ);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int file_read(const char *path, struct strbuf *sb)
{
	return file_read_at(AT_FDCWD, path, sb);
}

/* Write all of data to fd. Returns 0, or -1 with errno set (ENOSPC for
 * a write that wrote nothing). */
static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = ENOSPC;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A device or a FIFO the user named is written through, never replaced:
 * opened without O_CREAT and checked again once open, in case it was
 * swapped meanwhile. */
static int write_through(const struct file_target *t, const char *data, size_t len,
			 struct strbuf *err)
{
	struct stat sb;
	int fd = openat(t->dir, t->name, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		file_open_error(err, t->shown, errno);
		return -1;
	}
	if (fstat(fd, &sb) < 0 ||
	    !(S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
		strbuf_addf(err, "'%s' changed while squad opened it; not written", t->shown);
		close(fd);
		return -1;
	}
	if (write_all(fd, data, len) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", t->shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", t->shown, strerror(errno));
		return -1;
	}
	return 0;
}

int file_replace(const struct file_target *t, bool through, const char *data, size_t len,
		 struct strbuf *err)
{
	struct stat sb;
	int fd;

	if (fstatat(t->dir, t->name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(sb.st_mode)) {
		bool device = S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) || S_ISFIFO(sb.st_mode);

		if (device && through)
			return write_through(t, data, len, err);
		strbuf_addf(err, "'%s' is %s; squad will not %s it", t->shown,
			    S_ISLNK(sb.st_mode) ? "a symlink" : S_ISDIR(sb.st_mode) ? "a folder"
			    : S_ISSOCK(sb.st_mode) ? "a socket" : S_ISFIFO(sb.st_mode) ? "a FIFO"
			    : "a device", S_ISLNK(sb.st_mode) ? "write through" : "replace");
		return -1;
	}
	fd = openat(t->tmp_dir, t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    0666);
	if (fd < 0) {
		strbuf_addf(err, "cannot create '%s': %s", t->shown_tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", t->shown_tmp, strerror(errno));
		close(fd);
		unlinkat(t->tmp_dir, t->tmp, 0);
		return -1;
	}
	if (close(fd) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", t->shown_tmp, strerror(errno));
		unlinkat(t->tmp_dir, t->tmp, 0);
		return -1;
	}
	if (renameat(t->tmp_dir, t->tmp, t->dir, t->name) < 0) {
		strbuf_addf(err, "cannot replace '%s': %s", t->shown, strerror(errno));
		unlinkat(t->tmp_dir, t->tmp, 0);
		return -1;
	}
	return 0;
}

/* A path's file, by way of PATH.tmp.PID; `through` as file_replace()'s. */
static int write_path(const char *path, bool through, const char *data, size_t len,
		      struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	struct file_target t = { AT_FDCWD, path, path, AT_FDCWD, NULL, NULL };
	int ret;

	strbuf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	t.tmp = t.shown_tmp = tmp.buf;
	ret = file_replace(&t, through, data, len, err);
	strbuf_release(&tmp);
	return ret;
}

int file_write(const char *path, const char *data, size_t len, struct strbuf *err)
{
	return write_path(path, true, data, len, err);
}

int file_write_own(const char *path, const char *data, size_t len, struct strbuf *err)
{
	return write_path(path, false, data, len, err);
}

int file_write_at(int dir_fd, const char *dir_shown, const char *name, const char *data,
		   size_t len, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT, shown = STRBUF_INIT, shown_tmp = STRBUF_INIT;
	struct file_target t = { dir_fd, name, NULL, dir_fd, NULL, NULL };
	int ret;

	strbuf_addf(&tmp, "%s.tmp.%ld", name, (long)getpid());
	strbuf_addf(&shown, "%s/%s", dir_shown, name);
	strbuf_addf(&shown_tmp, "%s/%s", dir_shown, tmp.buf);
	t.shown = shown.buf;
	t.tmp = tmp.buf;
	t.shown_tmp = shown_tmp.buf;
	ret = file_replace(&t, false, data, len, err);
	strbuf_release(&tmp);
	strbuf_release(&shown);
	strbuf_release(&shown_tmp);
	return ret;
}

