/* fuzz_common.h - helpers the libFuzzer harnesses share: a scratch
 * folder, files written from the input, and splitting an input in parts.
 *
 * Everything here lives for the whole process (the scratch folder is
 * removed at exit); nothing is allocated per input, so libFuzzer's leak
 * check sees only what the code under test leaks.
 */
#ifndef SQUAD_FUZZ_COMMON_H
#define SQUAD_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/strvec.h"

static char fuzz_dir_buf[4096] __attribute__((unused));

static inline int fuzz_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb, (void)type, (void)ftw;
	remove(path); /* best effort: the folder is scratch */
	return 0;
}

static inline void fuzz_rm_dir(void)
{
	if (fuzz_dir_buf[0])
		nftw(fuzz_dir_buf, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove the scratch folders in `tmp` of harness processes that are
 * gone: libFuzzer leaves with _Exit() on a signal or a crash, so their
 * atexit() never ran. */
static inline void fuzz_rm_stale(const char *tmp)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(tmp);

	if (!d)
		return;
	while ((de = readdir(d))) {
		long pid;
		char *end;

		if (strncmp(de->d_name, "squad-fuzz.", 11))
			continue;
		pid = strtol(de->d_name + 11, &end, 10);
		if (end == de->d_name + 11 || *end != '.' || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
		nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

/* A scratch folder of this process, on tmpfs when there is one (each
 * input is written to a file: memory is much faster than a disk), named
 * squad-fuzz.PID.XXXXXX. */
static inline const char *fuzz_dir(void)
{
	const char *tmp;

	if (fuzz_dir_buf[0])
		return fuzz_dir_buf;
	tmp = getenv("SQUAD_FUZZ_TMPDIR");
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	fuzz_rm_stale(tmp);
	snprintf(fuzz_dir_buf, sizeof(fuzz_dir_buf), "%s/squad-fuzz.%ld.XXXXXX", tmp,
		 (long)getpid());
	if (!mkdtemp(fuzz_dir_buf)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_rm_dir);
	return fuzz_dir_buf;
}

/* Write `len` bytes to `path` (replacing it); abort on failure: a
 * harness that cannot write its input must not report a clean run. */
static inline void fuzz_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	size_t done = 0;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		if (n <= 0) {
			perror(path);
			abort();
		}
		done += (size_t)n;
	}
	close(fd);
}

/* A small fixed environment: runs do not depend on the caller's, and
 * code that copies the environment per task (worker_build_command())
 * copies a few entries, not the fuzzing shell's dozens. */
static inline void fuzz_fixed_environ(void)
{
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", "/nonexistent", 1);
	setenv("SQUAD_FUZZ_VAR", "from the environment", 1);
}

/* An input cut at its NUL bytes: up to FUZZ_MAX_PARTS NUL-terminated
 * strings in one buffer (the last part takes the rest, NULs included). */
#define FUZZ_MAX_PARTS 8

struct fuzz_parts {
	char *buf;                    /* owned: the input, NUL-terminated */
	const char *part[FUZZ_MAX_PARTS];
	size_t len[FUZZ_MAX_PARTS];
	size_t nr;
};

static inline void fuzz_parts_split(struct fuzz_parts *fp, const uint8_t *data, size_t size,
			     size_t max_parts)
{
	size_t start = 0;

	memset(fp, 0, sizeof(*fp));
	fp->buf = malloc(size + 1);
	if (!fp->buf)
		abort();
	memcpy(fp->buf, data, size);
	fp->buf[size] = '\0';
	if (max_parts > FUZZ_MAX_PARTS)
		max_parts = FUZZ_MAX_PARTS;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && (fp->buf[i] != '\0' || fp->nr + 1 == max_parts))
			continue;
		fp->part[fp->nr] = fp->buf + start;
		fp->len[fp->nr] = i - start;
		fp->nr++;
		fp->buf[i] = '\0';
		start = i + 1;
		if (fp->nr == max_parts)
			break;
	}
}

/* Part i, or `fallback` when the input has fewer parts. */
static inline const char *fuzz_part(const struct fuzz_parts *fp, size_t i, const char *fallback)
{
	return i < fp->nr ? fp->part[i] : fallback;
}

static inline void fuzz_parts_release(struct fuzz_parts *fp)
{
	free(fp->buf);
	memset(fp, 0, sizeof(*fp));
}

/* Push each '\n'-separated line of `text` (at most `max`) onto `sv`. */
static inline void fuzz_push_lines(struct strvec *sv, const char *text, size_t max)
{
	while (text && *text && sv->nr < max) {
		size_t len = strcspn(text, "\n");
		char *line = malloc(len + 1);

		if (!line)
			abort();
		memcpy(line, text, len);
		line[len] = '\0';
		strvec_push_nodup(sv, line);
		text += len + (text[len] == '\n');
	}
}

#endif
