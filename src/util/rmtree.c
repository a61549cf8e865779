/* rmtree.c - remove a folder tree; see rmtree.h. */
#include "util/rmtree.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rmtree_at(int dfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0, saved = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	/* Linux says EISDIR for a folder, POSIX EPERM */
	if (errno != EISDIR && errno != EPERM && errno != EACCES)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fchmod(fd, 0700);
	d = fdopendir(fd);
	if (!d) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    rmtree_at(dirfd(d), de->d_name) < 0) {
			saved = errno;
			rc = -1;
		}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		saved = errno;
		rc = -1;
	}
	if (rc < 0)
		errno = saved;
	return rc;
}

int rmtree(const char *path)
{
	char *p = xstrdup(path);
	size_t len = strlen(p);
	int rc;

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	rc = rmtree_at(AT_FDCWD, p);
	free(p);
	return rc;
}
