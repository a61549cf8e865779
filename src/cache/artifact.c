/* artifact.c - packing and unpacking a cached result: see artifact.h. */
#include "cache/artifact.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/* libarchive, opened on first use: linked, it and what it links (libxml2,
 * ICU, libstdc++...) would cost every squad start some milliseconds,
 * and most runs never pack or unpack. The functions this file calls,
 * typed as archive.h declares them. */
#define ARCHIVE_FUNCTIONS(X) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_size) \
	X(archive_error_string) \
	X(archive_read_data) \
	X(archive_read_data_block) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_memory) \
	X(archive_read_support_filter_zstd) \
	X(archive_read_support_format_tar) \
	X(archive_write_add_filter_zstd) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_data_block) \
	X(archive_write_disk_new) \
	X(archive_write_disk_set_options) \
	X(archive_write_finish_entry) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_format_pax_restricted) \

static struct {
#define DECLARE(name) __typeof__(&name) name;
	ARCHIVE_FUNCTIONS(DECLARE)
#undef DECLARE
} la;

static int la_loaded = -1; /* 0 failed, 1 loaded */
static pthread_once_t la_once = PTHREAD_ONCE_INIT;

static void la_load(void)
{
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);

	la_loaded = 0;
	if (!h)
		return;
#define FIND(name) \
	if (!(*(void **)&la.name = dlsym(h, #name))) \
		return;
	ARCHIVE_FUNCTIONS(FIND)
#undef FIND
	la_loaded = 1; /* the handle is kept for the process */
}

/* 0, or -1 with the reason in err. */
static int la_ready(struct strbuf *err)
{
	pthread_once(&la_once, la_load);
	if (la_loaded == 1)
		return 0;
	strbuf_addstr(err, "cannot load libarchive (libarchive.so.13)");
	return -1;
}

#define archive_entry_filetype la.archive_entry_filetype
#define archive_entry_free la.archive_entry_free
#define archive_entry_hardlink la.archive_entry_hardlink
#define archive_entry_new la.archive_entry_new
#define archive_entry_pathname la.archive_entry_pathname
#define archive_entry_perm la.archive_entry_perm
#define archive_entry_set_filetype la.archive_entry_set_filetype
#define archive_entry_set_gid la.archive_entry_set_gid
#define archive_entry_set_pathname la.archive_entry_set_pathname
#define archive_entry_set_perm la.archive_entry_set_perm
#define archive_entry_set_size la.archive_entry_set_size
#define archive_entry_set_symlink la.archive_entry_set_symlink
#define archive_entry_set_uid la.archive_entry_set_uid
#define archive_entry_size la.archive_entry_size
#define archive_error_string la.archive_error_string
#define archive_read_data la.archive_read_data
#define archive_read_data_block la.archive_read_data_block
#define archive_read_free la.archive_read_free
#define archive_read_new la.archive_read_new
#define archive_read_next_header la.archive_read_next_header
#define archive_read_open_memory la.archive_read_open_memory
#define archive_read_support_filter_zstd la.archive_read_support_filter_zstd
#define archive_read_support_format_tar la.archive_read_support_format_tar
#define archive_write_add_filter_zstd la.archive_write_add_filter_zstd
#define archive_write_close la.archive_write_close
#define archive_write_data la.archive_write_data
#define archive_write_data_block la.archive_write_data_block
#define archive_write_disk_new la.archive_write_disk_new
#define archive_write_disk_set_options la.archive_write_disk_set_options
#define archive_write_finish_entry la.archive_write_finish_entry
#define archive_write_free la.archive_write_free
#define archive_write_header la.archive_write_header
#define archive_write_new la.archive_write_new
#define archive_write_open la.archive_write_open
#define archive_write_set_bytes_in_last_block la.archive_write_set_bytes_in_last_block
#define archive_write_set_format_pax_restricted la.archive_write_set_format_pax_restricted

#define MAX_NAME 4096
#define MAX_META (64u << 20) /* a log larger than this is not cached */

int artifact_path_ok(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/' || strlen(path) >= MAX_NAME)
		return 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p) /* a trailing '/' */
			return 0;
	}
	return 1;
}

struct packer {
	struct archive *a;
	struct strbuf *out;
	const char *root;
	struct strbuf *err;
};

static la_ssize_t write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	struct packer *p = data;

	(void)a;
	strbuf_add(p->out, buf, len);
	return (la_ssize_t)len;
}

static int pack_error(struct packer *p, const char *what, const char *path)
{
	strbuf_addf(p->err, "%s %s: %s", what, path, archive_error_string(p->a) ?
		    archive_error_string(p->a) : "archive error");
	return -1;
}

static int add_one(struct packer *p, const char *rel);

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_folder(struct packer *p, const char *rel, const char *full)
{
	DIR *d = opendir(full);
	struct dirent *de;
	struct strvec names = STRVEC_INIT;
	int rc = 0;

	if (!d) {
		strbuf_addf(p->err, "cannot read folder %s: %s", rel, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&names, de->d_name);
	closedir(d);
	/* sorted: the same outputs make the same bytes on every machine */
	qsort(names.v, names.nr, sizeof(*names.v), cmp_names);
	for (size_t i = 0; i < names.nr && !rc; i++) {
		struct strbuf child = STRBUF_INIT;

		strbuf_addf(&child, "%s/%s", rel, names.v[i]);
		rc = add_one(p, child.buf);
		strbuf_release(&child);
	}
	strvec_clear(&names);
	return rc;
}

static int add_one(struct packer *p, const char *rel)
{
	struct strbuf full = STRBUF_INIT;
	struct archive_entry *e;
	struct stat st;
	int rc = 0;

	if (!artifact_path_ok(rel)) {
		strbuf_addf(p->err, "output %s is not a path under the project", rel);
		return -1;
	}
	strbuf_addf(&full, "%s/%s", p->root, rel);
	if (lstat(full.buf, &st) < 0) {
		strbuf_addf(p->err, "output %s: %s", rel, strerror(errno));
		strbuf_release(&full);
		return -1;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, rel);
	archive_entry_set_perm(e, st.st_mode & 0777);
	/* no owner, no times: the bytes depend on the content only */
	if (S_ISREG(st.st_mode)) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, st.st_size);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(full.buf, target, sizeof(target) - 1);

		if (n < 0) {
			strbuf_addf(p->err, "output %s: %s", rel, strerror(errno));
			rc = -1;
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, target);
	} else if (S_ISDIR(st.st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
	} else {
		strbuf_addf(p->err, "output %s is neither a file, a folder nor a symbolic link", rel);
		rc = -1;
		goto out;
	}
	if (archive_write_header(p->a, e) != ARCHIVE_OK) {
		rc = pack_error(p, "cannot pack", rel);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		int fd = open(full.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char buf[65536];
		ssize_t n;
		int64_t left = st.st_size;

		if (fd < 0) {
			strbuf_addf(p->err, "output %s: %s", rel, strerror(errno));
			rc = -1;
			goto out;
		}
		/* exactly the size the header announced, even if it changes */
		while (left > 0 && (n = read(fd, buf, left < (int64_t)sizeof(buf) ?
					    (size_t)left : sizeof(buf))) > 0) {
			if (archive_write_data(p->a, buf, (size_t)n) < 0) {
				close(fd);
				rc = pack_error(p, "cannot pack", rel);
				goto out;
			}
			left -= n;
		}
		close(fd);
		if (left) {
			strbuf_addf(p->err, "output %s changed while it was packed", rel);
			rc = -1;
			goto out;
		}
	} else if (S_ISDIR(st.st_mode)) {
		rc = add_folder(p, rel, full.buf);
	}
out:
	archive_entry_free(e);
	strbuf_release(&full);
	return rc;
}

static int pack(const char *root, const struct strvec *paths, const void *meta,
		size_t meta_len, struct strbuf *out, struct strbuf *err)
{
	struct packer p = { archive_write_new(), out, root, err };
	struct archive_entry *e;
	int rc = 0;

	if (!p.a)
		return strbuf_addstr(err, "out of memory"), -1;
	if (archive_write_set_format_pax_restricted(p.a) != ARCHIVE_OK ||
	    archive_write_add_filter_zstd(p.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(p.a, 1) != ARCHIVE_OK ||
	    archive_write_open(p.a, &p, NULL, write_cb, NULL) != ARCHIVE_OK) {
		strbuf_addf(err, "cannot pack: %s", archive_error_string(p.a));
		archive_write_free(p.a);
		return -1;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, ARTIFACT_META);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)meta_len);
	if (archive_write_header(p.a, e) != ARCHIVE_OK ||
	    (meta_len && archive_write_data(p.a, meta, meta_len) < 0))
		rc = pack_error(&p, "cannot pack", ARTIFACT_META);
	archive_entry_free(e);
	for (size_t i = 0; !rc && paths && i < paths->nr; i++)
		rc = add_one(&p, paths->v[i]);
	if (archive_write_close(p.a) != ARCHIVE_OK && !rc)
		rc = pack_error(&p, "cannot pack", "the archive");
	archive_write_free(p.a);
	return rc;
}

/* Read one entry's data into `into`, at most `max` bytes. */
static int read_meta(struct archive *a, struct archive_entry *e, struct strbuf *into,
		     struct strbuf *err)
{
	char buf[65536];
	la_ssize_t n;

	if (archive_entry_size(e) > (la_int64_t)MAX_META) {
		strbuf_addstr(err, "the result in the artifact is too large");
		return -1;
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (into->len + (size_t)n > MAX_META) {
			strbuf_addstr(err, "the result in the artifact is too large");
			return -1;
		}
		strbuf_add(into, buf, (size_t)n);
	}
	if (n < 0) {
		strbuf_addf(err, "broken artifact: %s", archive_error_string(a));
		return -1;
	}
	return 0;
}

/* Is a folder on the way from `real` to `rel` a symbolic link (one the
 * archive planted or one already there)? Nothing is written through
 * one: libarchive would replace it (EXTRACT_UNLINK), squad refuses. */
static int through_link(const char *real, const char *rel)
{
	struct strbuf path = STRBUF_INIT;
	const char *slash = rel;
	struct stat st;
	int found = 0;

	while (!found && (slash = strchr(slash, '/'))) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/", real);
		strbuf_add(&path, rel, (size_t)(slash - rel));
		found = !lstat(path.buf, &st) && S_ISLNK(st.st_mode);
		slash++;
	}
	strbuf_release(&path);
	return found;
}

int artifact_pack(const char *root, const struct strvec *paths, const void *meta,
		  size_t meta_len, struct strbuf *out, struct strbuf *err)
{
	return la_ready(err) < 0 ? -1 : pack(root, paths, meta, meta_len, out, err);
}

static int unpack(const void *data, size_t len, const char *root, uint64_t max_bytes,
		  struct strbuf *meta, struct strbuf *err)
{
	struct archive *a = archive_read_new();
	struct archive *disk = archive_write_disk_new();
	struct archive_entry *e;
	char *real = realpath(root, NULL);
	struct strbuf own = STRBUF_INIT;
	uint64_t total = 0;
	int rc = 0, r = ARCHIVE_OK, seen_meta = 0;

	if (!a || !disk || !real) {
		strbuf_addf(err, "cannot unpack into %s: %s", root,
			    real ? "out of memory" : strerror(errno));
		rc = -1;
		goto out;
	}
	/* the one format and filter artifact_pack() writes, nothing else:
	 * less code reachable from a server's bytes */
	archive_read_support_format_tar(a);
	archive_read_support_filter_zstd(a);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_UNLINK);
	/* not SECURE_NOABSOLUTEPATHS: each name is checked relative above,
	 * then set under the root's real path (no chdir: the process has
	 * other threads) */
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		strbuf_addf(err, "broken artifact: %s", archive_error_string(a));
		rc = -1;
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		struct strbuf full = STRBUF_INIT;

		/* a copy: the entry's name is replaced below, errors still
		 * show it; tar writes a folder's name with a '/' after it */
		strbuf_reset(&own);
		if (name) {
			strbuf_addstr(&own, name);
			if (type == AE_IFDIR && own.len && own.buf[own.len - 1] == '/')
				strbuf_setlen(&own, own.len - 1);
			name = own.buf;
		}
		if (!name || !artifact_path_ok(name)) {
			strbuf_addf(err, "artifact entry \"%s\" escapes the project: refused",
				    name ? name : "");
			rc = -1;
			break;
		}
		if (!strcmp(name, ARTIFACT_META) && type == AE_IFREG && !seen_meta) {
			seen_meta = 1;
			if (read_meta(a, e, meta, err) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (through_link(real, name)) {
			strbuf_addf(err, "artifact entry %s would be written through a symbolic link: refused",
				    name);
			rc = -1;
			break;
		}
		if (archive_entry_hardlink(e) ||
		    (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
			strbuf_addf(err, "artifact entry %s is not a file, folder or symbolic link: refused", name);
			rc = -1;
			break;
		}
		if (type == AE_IFREG) {
			la_int64_t size = archive_entry_size(e);

			if (size < 0 || (max_bytes && (total += (uint64_t)size) > max_bytes)) {
				strbuf_addf(err, "artifact is larger than the cache allows (%s)", name);
				rc = -1;
				break;
			}
		}
		archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
		archive_entry_set_uid(e, getuid());
		archive_entry_set_gid(e, getgid());
		strbuf_addf(&full, "%s/%s", real, name);
		archive_entry_set_pathname(e, full.buf);
		strbuf_release(&full);
		if (archive_write_header(disk, e) != ARCHIVE_OK) {
			strbuf_addf(err, "cannot restore %s: %s", name,
				    archive_error_string(disk));
			rc = -1;
			break;
		}
		if (type == AE_IFREG && archive_entry_size(e) > 0) {
			const void *buf;
			size_t n;
			la_int64_t off;

			while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(disk, buf, n, off) < 0)
					break;
			if (r != ARCHIVE_EOF) {
				strbuf_addf(err, "broken artifact at %s: %s", name,
					    archive_error_string(r < 0 ? a : disk));
				rc = -1;
				break;
			}
		}
		if (archive_write_finish_entry(disk) != ARCHIVE_OK) {
			strbuf_addf(err, "cannot restore %s: %s", name, archive_error_string(disk));
			rc = -1;
			break;
		}
	}
	if (!rc && r != ARCHIVE_EOF) {
		strbuf_addf(err, "broken artifact: %s", archive_error_string(a));
		rc = -1;
	}
	if (!rc && !seen_meta) {
		strbuf_addstr(err, "broken artifact: no result in it");
		rc = -1;
	}
out:
	strbuf_release(&own);
	if (disk) {
		archive_write_close(disk);
		archive_write_free(disk);
	}
	if (a)
		archive_read_free(a);
	free(real);
	return rc;
}

int artifact_unpack(const void *data, size_t len, const char *root, uint64_t max_bytes,
		    struct strbuf *meta, struct strbuf *err)
{
	return la_ready(err) < 0 ? -1 : unpack(data, len, root, max_bytes, meta, err);
}
