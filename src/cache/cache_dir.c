/* cache_dir.c - the result cache in a folder: see cache_dir.h. */
#include "cache/cache_dir.h"
#include "files/fileio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/state.h"
#include "util/xalloc.h"

#define LAYOUT "v1"

int cache_dir_default(struct strbuf *out, struct strbuf *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	/* XDG: a relative value is invalid and must be ignored */
	if (xdg && *xdg == '/')
		strbuf_addf(out, "%s/squad", xdg);
	else if (home && *home)
		strbuf_addf(out, "%s/.cache/squad", home);
	else {
		strbuf_addstr(err, "no cache folder: neither XDG_CACHE_HOME nor HOME is set");
		return -1;
	}
	return 0;
}

static int key_ok(const char *key, struct strbuf *err)
{
	if (!*key || strlen(key) > 128)
		goto bad;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p))
			goto bad;
	return 1;
bad:
	strbuf_addstr(err, "cache key is not alphanumeric");
	return 0;
}

/* mkdir -p of `path`; an existing folder is fine. */
static int make_dirs(const char *path, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	int rc = 0;

	strbuf_addstr(&p, path);
	for (size_t i = 1; i <= p.len && !rc; i++) {
		if (i < p.len && p.buf[i] != '/')
			continue;
		p.buf[i] = '\0';
		if (mkdir(p.buf, 0777) < 0 && errno != EEXIST) {
			strbuf_addf(err, "cannot make the cache folder %s: %s", p.buf, strerror(errno));
			rc = -1;
		}
		if (i < p.len)
			p.buf[i] = '/';
	}
	strbuf_release(&p);
	return rc;
}

int cache_dir_get(const char *dir, const char *key, struct strbuf *body, char **tag,
		  struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, t = STRBUF_INIT;
	int rc;

	*tag = NULL;
	if (!key_ok(key, err))
		return -1;
	strbuf_addf(&path, "%s/" LAYOUT "/%s", dir, key);
	if (file_read(path.buf, body) < 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc < 0)
			strbuf_addf(err, "cannot read %s: %s", path.buf, strerror(errno));
		strbuf_reset(body);
		goto out;
	}
	/* least recently used: a hit is a use (utimensat: now) */
	utimensat(AT_FDCWD, path.buf, NULL, AT_SYMLINK_NOFOLLOW);
	strbuf_addstr(&path, ".tag");
	if (file_read(path.buf, &t) == 0) {
		strbuf_rtrim(&t);
		*tag = strbuf_detach(&t, NULL);
	}
	rc = 1;
out:
	strbuf_release(&path);
	strbuf_release(&t);
	return rc;
}

int cache_dir_put(const char *dir, const char *key, const void *body, size_t len,
		  const char *tag, uint64_t max_bytes, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc = -1;

	if (!key_ok(key, err))
		return -1;
	strbuf_addf(&path, "%s/" LAYOUT, dir);
	if (make_dirs(path.buf, err) < 0)
		goto out;
	strbuf_addf(&path, "/%s.tag", key);
	/* the tag first: a reader that finds the body finds its tag too
	 * (an old tag beside a new body fails verification: a miss) */
	if (tag ? file_write_own(path.buf, tag, strlen(tag), err) < 0
		: (unlink(path.buf) < 0 && errno != ENOENT))
		goto out;
	strbuf_setlen(&path, path.len - 4);
	if (file_write_own(path.buf, body, len, err) < 0)
		goto out;
	rc = 0;
	if (max_bytes && cache_dir_evict(dir, max_bytes, err) < 0)
		rc = -1;
out:
	strbuf_release(&path);
	return rc;
}

struct entry {
	char *name;
	struct timespec used;
	uint64_t size; /* with its tag */
};

static int by_use(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

int cache_dir_evict(const char *dir, uint64_t max_bytes, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct entry *v = NULL;
	size_t nr = 0, alloc = 0;
	uint64_t total = 0;
	struct dirent *de;
	int removed = 0, fd;
	DIR *d;

	strbuf_addf(&path, "%s/" LAYOUT, dir);
	fd = open(path.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		strbuf_release(&path);
		return errno == ENOENT ? 0 : (strbuf_addf(err, "cannot read the cache folder %s: %s",
							  dir, strerror(errno)), -1);
	}
	while ((de = readdir(d))) {
		struct stat st, ts;
		struct strbuf tagname = STRBUF_INIT;

		/* entries only; tags are counted with theirs, temp files of
		 * writers in flight are theirs to rename */
		if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (nr == alloc)
			v = xrealloc(v, (alloc = alloc ? 2 * alloc : 64) * sizeof(*v));
		v[nr].name = xstrdup(de->d_name);
		v[nr].used = st.st_mtim;
		v[nr].size = (uint64_t)st.st_size;
		strbuf_addf(&tagname, "%s.tag", de->d_name);
		if (!fstatat(fd, tagname.buf, &ts, AT_SYMLINK_NOFOLLOW))
			v[nr].size += (uint64_t)ts.st_size;
		strbuf_release(&tagname);
		total += v[nr].size;
		nr++;
	}
	qsort(v, nr, sizeof(*v), by_use);
	for (size_t i = 0; i < nr && total > max_bytes; i++) {
		struct strbuf tagname = STRBUF_INIT;

		strbuf_addf(&tagname, "%s.tag", v[i].name);
		/* another machine may have removed it first: fine */
		if (unlinkat(fd, v[i].name, 0) == 0 || errno == ENOENT) {
			unlinkat(fd, tagname.buf, 0);
			total -= v[i].size;
			removed++;
		}
		strbuf_release(&tagname);
	}
	for (size_t i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
	closedir(d);
	strbuf_release(&path);
	return removed;
}
