/* stash.c - unstaged changes set aside for a run and put back; see stash.h. */
#include "files/stash.h"
#include "files/fileio.h"
#include "files/files.h"
#include "files/gitinfo.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAGIC "squad-stash 1"

/* What a path holds. squad sets aside files and symlinks; anything else
 * (a folder) is only ever moved to .squad/kept/, never deleted. */
enum kind {
	KIND_NONE = '-',
	KIND_FILE = 'f',
	KIND_LINK = 'l',
	KIND_OTHER = 'd',
	KIND_DIR = 'D',  /* a folder set-aside emptied and removed: back with its mode */
};

struct snapshot {
	char kind;      /* enum kind */
	unsigned mode;  /* permission bits, for a file */
	char oid[41];   /* git blob id of the content (a symlink's: its target) */
};

struct stash_entry {
	char *path;             /* relative to the top */
	struct snapshot saved;  /* the working tree's: what is put back */
	struct snapshot aside;  /* the index's: what the run sees (mode unused) */
	char *made_dir;         /* the topmost folder squad made for it, or NULL */
	struct strbuf *bytes;   /* while saving: what git checks out there */
	bool exec;              /* ... as an executable file */
};

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* SQUAD_TEST_FAULT=STEP: die here as kill -9 would; =sigint:STEP: a
 * Ctrl-C comes here (stash.h lists the steps). Always compiled in, so
 * that the binary tested is the one shipped. */
static void fault(const char *step)
{
	const char *want = getenv("SQUAD_TEST_FAULT");

	if (!want)
		return;
	if (!strcmp(want, step))
		raise(SIGKILL);
	if (!strncmp(want, "sigint:", 7) && !strcmp(want + 7, step))
		raise(SIGINT);
}

/* SQUAD_TEST_FAULT=STEP for a step that fails (an error, not a kill):
 * is it this one? */
static bool failing(const char *step, struct strbuf *err)
{
	const char *want = getenv("SQUAD_TEST_FAULT");

	if (!want || strcmp(want, step))
		return false;
	strbuf_addf(err, "%s: failed on purpose (SQUAD_TEST_FAULT)", step);
	return true;
}

/* While files move, a Ctrl-C waits: it is taken afterwards, with every
 * file in its place (see take_signals). */
static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&set, stop_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Consume the stop signals that came while they were blocked: were there any? */
static bool take_signals(void)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pending, one;
	bool any = false;

	if (sigpending(&pending) < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		if (sigismember(&pending, stop_signals[i]) != 1)
			continue;
		sigemptyset(&one);
		sigaddset(&one, stop_signals[i]);
		sigtimedwait(&one, NULL, &zero);
		any = true;
	}
	return any;
}

/* What `path` holds now. Returns 0, or -1 (errno) when it cannot be read. */
static int snapshot_of(const char *path, struct snapshot *snap)
{
	struct strbuf data = STRBUF_INIT;
	struct stat st;

	memset(snap, 0, sizeof(*snap));
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -1;
		snap->kind = KIND_NONE;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		snap->kind = KIND_FILE;
		snap->mode = st.st_mode & 07777;
		if (strbuf_read_file(&data, path) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n;

		snap->kind = KIND_LINK;
		strbuf_grow(&data, (size_t)st.st_size + 1);
		n = readlink(path, data.buf, data.alloc);
		if (n < 0) {
			strbuf_release(&data);
			return -1;
		}
		strbuf_setlen(&data, (size_t)n);
	} else {
		snap->kind = KIND_OTHER;
		return 0;
	}
	files_hash(data.buf, data.len, snap->oid);
	strbuf_release(&data);
	return 0;
}

/* Does `now` hold what `want` describes? The mode counts when asked. */
static bool same(const struct snapshot *now, const struct snapshot *want, bool mode)
{
	if (now->kind != want->kind)
		return false;
	if (now->kind == KIND_NONE || now->kind == KIND_OTHER)
		return now->kind == KIND_NONE;
	return !strcmp(now->oid, want->oid) &&
	       (!mode || now->kind != KIND_FILE || now->mode == want->mode);
}

/* Make the folders above `full` (an absolute path below top). */
static void make_parents(const char *top, const char *full)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash;

	for (slash = strchr(full + strlen(top), '/'); slash; slash = strchr(slash + 1, '/')) {
		strbuf_reset(&dir);
		strbuf_add(&dir, full, (size_t)(slash - full));
		mkdir(dir.buf, 0777);
	}
	strbuf_release(&dir);
}

/* Remove the folders above `full` that are empty now, up to the top
 * (the tasks see no untracked folder), each added to the stash as a
 * KIND_DIR entry with its mode. */
static void remove_empty_parents(struct stash *s, const char *full)
{
	struct strbuf dir = STRBUF_INIT;
	size_t top = strlen(s->top);
	struct stat st;
	char *slash;

	strbuf_addstr(&dir, full);
	while ((slash = strrchr(dir.buf, '/')) && (size_t)(slash - dir.buf) >= top) {
		strbuf_setlen(&dir, (size_t)(slash - dir.buf));
		if (lstat(dir.buf, &st) < 0 || rmdir(dir.buf) < 0)
			break;
		ALLOC_GROW(s->entries, s->nr + 1, s->alloc);
		memset(&s->entries[s->nr], 0, sizeof(s->entries[s->nr]));
		s->entries[s->nr].path = xstrdup(dir.buf + top);
		s->entries[s->nr].saved.kind = KIND_DIR;
		s->entries[s->nr].saved.mode = st.st_mode & 07777;
		s->entries[s->nr].aside.kind = KIND_NONE;
		s->nr++;
	}
	strbuf_release(&dir);
}

/* The topmost folder above `rel` that the working tree lacks, or NULL. */
static char *missing_parent(const char *top, const char *rel)
{
	struct strbuf dir = STRBUF_INIT;
	struct stat st;
	char *made = NULL;

	for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s%.*s", top, (int)(slash - rel), rel);
		if (lstat(dir.buf, &st) < 0 && errno == ENOENT) {
			made = xstrndup(rel, (size_t)(slash - rel));
			break;
		}
	}
	strbuf_release(&dir);
	return made;
}

/* Remove the folders squad made for a path the working tree did not
 * have, deepest first, as long as they are empty. */
static void remove_made_dirs(const struct stash *s, const struct stash_entry *e)
{
	struct strbuf dir = STRBUF_INIT;
	size_t stop;
	char *slash;

	if (!e->made_dir)
		return;
	strbuf_addf(&dir, "%s%s", s->top, e->path);
	stop = strlen(s->top) + strlen(e->made_dir);
	while ((slash = strrchr(dir.buf, '/')) && (size_t)(slash - dir.buf) >= stop) {
		strbuf_setlen(&dir, (size_t)(slash - dir.buf));
		if (rmdir(dir.buf) < 0)
			break;
	}
	strbuf_release(&dir);
}

/* Entry i's file in .squad/stash: its name there (relative to
 * s->dir_fd), and its path, for messages. */
static void blob_name(const struct stash *s, size_t i, struct strbuf *name, struct strbuf *shown)
{
	strbuf_reset(name);
	strbuf_addf(name, "%zu", i);
	strbuf_reset(shown);
	strbuf_addf(shown, "%s/%zu", s->dir, i);
}

/* Hold .squad/stash (made first when `create`). Returns 0, or -1 with
 * the reason in err and errno kept (ENOENT: there is none). */
static int open_stash_dir(struct stash *s, bool create, struct strbuf *err)
{
	if (s->dir_fd < 0)
		s->dir_fd = file_open_folder(AT_FDCWD, s->dir, s->dir, create, err);
	return s->dir_fd < 0 ? -1 : 0;
}

/* --- the manifest ------------------------------------------------------ */

/* NUL-separated: any byte but NUL can be in a path. */
static int write_manifest(const struct stash *s, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	strbuf_add(&text, MANIFEST_MAGIC, sizeof(MANIFEST_MAGIC));
	strbuf_add(&text, s->top, strlen(s->top) + 1);
	for (size_t i = 0; i < s->nr; i++) {
		const struct stash_entry *e = &s->entries[i];

		strbuf_addf(&text, "%c %o %s", e->saved.kind, e->saved.mode,
			    e->saved.oid[0] ? e->saved.oid : "-");
		strbuf_addch(&text, '\0');
		strbuf_addf(&text, "%c %s", e->aside.kind, e->aside.oid[0] ? e->aside.oid : "-");
		strbuf_addch(&text, '\0');
		strbuf_add(&text, e->made_dir ? e->made_dir : "", strlen(e->made_dir ? e->made_dir : "") + 1);
		strbuf_add(&text, e->path, strlen(e->path) + 1);
	}
	ret = file_write_at(s->dir_fd, s->dir, STATE_STASH_MANIFEST, text.buf, text.len, err);
	strbuf_release(&text);
	return ret;
}

static bool parse_snapshot(const char *field, struct snapshot *snap, bool with_mode)
{
	char kind, oid[41];
	unsigned mode = 0;
	int n = with_mode ? sscanf(field, "%c %o %40s", &kind, &mode, oid)
			  : sscanf(field, "%c %40s", &kind, oid);

	if (n != (with_mode ? 3 : 2) ||
	    (kind != KIND_NONE && kind != KIND_FILE && kind != KIND_LINK &&
	     (!with_mode || kind != KIND_DIR)))
		return false;
	memset(snap, 0, sizeof(*snap));
	snap->kind = kind;
	snap->mode = mode;
	if (kind != KIND_NONE && kind != KIND_DIR) {
		if (strlen(oid) != 40)
			return false;
		memcpy(snap->oid, oid, sizeof(snap->oid));
	}
	return true;
}

/* A path git could list: relative, no empty, "." or ".." part, nothing
 * in .git. A manifest naming another is not squad's. */
static bool valid_rel(const char *rel)
{
	if (!*rel || *rel == '/')
		return false;
	for (const char *p = rel; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 4 && !strncmp(p, ".git", 4)))
			return false;
	}
	return true;
}

static int read_manifest(struct stash *s, const char *text, size_t len, const char *path,
			 struct strbuf *err)
{
	const char *p = text, *end = text + len;
	const char *field[4];

	if (!len || text[len - 1] || strcmp(p, MANIFEST_MAGIC))
		goto bad;
	p += strlen(p) + 1;
	if (p >= end || *p != '/')
		goto bad;
	s->top = xstrdup(p);
	p += strlen(p) + 1;
	while (p < end) {
		struct stash_entry *e;

		for (int f = 0; f < 4; f++) {
			if (p >= end)
				goto bad;
			field[f] = p;
			p += strlen(p) + 1;
		}
		ALLOC_GROW(s->entries, s->nr + 1, s->alloc);
		e = &s->entries[s->nr];
		memset(e, 0, sizeof(*e));
		if (!parse_snapshot(field[0], &e->saved, true) ||
		    !parse_snapshot(field[1], &e->aside, false) || !valid_rel(field[3]) ||
		    (*field[2] && (!valid_rel(field[2]) ||
				   strncmp(field[3], field[2], strlen(field[2])) ||
				   field[3][strlen(field[2])] != '/')))
			goto bad;
		e->made_dir = *field[2] ? xstrdup(field[2]) : NULL;
		e->path = xstrdup(field[3]);
		s->nr++;
	}
	return 0;
bad:
	strbuf_addf(err, "'%s' is not a manifest squad wrote; the files it lists are in "
		    "that folder: move them back by hand, then remove it", path);
	return -1;
}

/* Remove the stash folder: only squad's own temp files, never a file
 * set aside (one left there keeps the folder). */
static void remove_stash_dir(const struct stash *s)
{
	struct dirent *d;
	int fd = s->dir_fd >= 0 ? dup(s->dir_fd) : -1;
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "aside", 5) || !strncmp(d->d_name, "manifest.tmp.", 13))
			unlinkat(s->dir_fd, d->d_name, 0);
	closedir(dir);
	/* by its path, the one call that cannot go by the fd: rmdir() of a
	 * symlink fails, so a swapped folder is left alone */
	rmdir(s->dir);
}

/* --- putting back ------------------------------------------------------ */

/* Move what is at `full` now to .squad/kept/, and say so. */
static int keep(struct stash *s, size_t i, const char *full, long long stamp,
		struct strbuf *notes, struct strbuf *err)
{
	struct strbuf to = STRBUF_INIT;
	const char *base = strrchr(full, '/') + 1;
	struct stat st;

	if (s->kept_fd < 0 &&
	    (s->kept_fd = file_open_folder(AT_FDCWD, s->kept, s->kept, true, err)) < 0)
		return -1;
	strbuf_addf(&to, "%lld-%zu-%s", stamp, i, base);
	/* a name of its own: rename() would replace a kept file */
	for (unsigned n = 2; fstatat(s->kept_fd, to.buf, &st, AT_SYMLINK_NOFOLLOW) == 0; n++) {
		strbuf_reset(&to);
		strbuf_addf(&to, "%lld-%zu-%u-%s", stamp, i, n, base);
	}
	if (renameat(AT_FDCWD, full, s->kept_fd, to.buf) < 0) {
		strbuf_addf(err, "cannot move '%s' to '%s/%s': %s", full, s->kept, to.buf,
			    strerror(errno));
		strbuf_release(&to);
		return -1;
	}
	strbuf_addf(notes, "'%s' changed while it was set aside; that version is kept as '%s/%s'\n",
		    s->entries[i].path, s->kept, to.buf);
	strbuf_release(&to);
	return 0;
}

/* Put entry i back. What is in .squad/stash/ is what remains to be put
 * back: a file already back (or never moved out) has no copy there. */
static int put_back(struct stash *s, size_t i, long long stamp, struct strbuf *notes,
		    struct strbuf *err)
{
	const struct stash_entry *e = &s->entries[i];
	struct strbuf full = STRBUF_INIT, blob = STRBUF_INIT, shown = STRBUF_INIT;
	struct snapshot now;
	struct stat st;
	int ret = -1;

	strbuf_addf(&full, "%s%s", s->top, e->path);
	blob_name(s, i, &blob, &shown);
	if (i == 0 && failing("restore-error", err))
		goto out;
	if (snapshot_of(full.buf, &now) < 0) {
		strbuf_addf(err, "cannot read '%s': %s", full.buf, strerror(errno));
		goto out;
	}
	if (e->saved.kind != KIND_NONE && fstatat(s->dir_fd, blob.buf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		/* back already, or never moved: what is there is the user's */
		ret = 0;
		goto out;
	}
	if (same(&now, &e->saved, true)) {
		unlinkat(s->dir_fd, blob.buf, 0);
		remove_made_dirs(s, e);
		ret = 0;
		goto out;
	}
	if (now.kind != KIND_NONE && !same(&now, &e->aside, false)) {
		if (keep(s, i, full.buf, stamp, notes, err) < 0)
			goto out;
	} else if (now.kind != KIND_NONE && e->saved.kind == KIND_NONE && unlink(full.buf) < 0) {
		strbuf_addf(err, "cannot remove '%s': %s", full.buf, strerror(errno));
		goto out;
	}
	if (e->saved.kind == KIND_NONE) {
		remove_made_dirs(s, e);
	} else {
		make_parents(s->top, full.buf);
		if (renameat(s->dir_fd, blob.buf, AT_FDCWD, full.buf) < 0) {
			strbuf_addf(err, "cannot put '%s' back: %s (it is in '%s')", full.buf,
				    strerror(errno), shown.buf);
			goto out;
		}
	}
	ret = 0;
out:
	strbuf_release(&full);
	strbuf_release(&blob);
	strbuf_release(&shown);
	return ret;
}

/* A folder set-aside removed: there again (the files put back in it made
 * it, or this does), with its mode. */
static int put_back_dir(const struct stash *s, const struct stash_entry *e, struct strbuf *err)
{
	struct strbuf full = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&full, "%s%s", s->top, e->path);
	make_parents(s->top, full.buf);
	mkdir(full.buf, 0700);
	if (chmod(full.buf, e->saved.mode) < 0) {
		strbuf_addf(err, "cannot put the folder '%s' back: %s", full.buf, strerror(errno));
		ret = -1;
	}
	strbuf_release(&full);
	return ret;
}

/* Put every entry back, then drop the manifest. On an error the others
 * are still tried, and the manifest stays for the next run. */
static int restore_all(struct stash *s, struct strbuf *notes, struct strbuf *err)
{
	long long stamp = (long long)time(NULL);
	bool failed = false;

	fault("restore");
	for (size_t i = 0; i < s->nr; i++) {
		struct strbuf why = STRBUF_INIT;

		if ((s->entries[i].saved.kind == KIND_DIR ? put_back_dir(s, &s->entries[i], &why)
		     : put_back(s, i, stamp, notes, &why)) < 0) {
			if (!failed)
				strbuf_add(err, why.buf, why.len);
			failed = true;
		}
		strbuf_release(&why);
		if (i == 0)
			fault("restore-one");
	}
	if (failed)
		return -1;
	fault("restore-manifest");
	if (unlinkat(s->dir_fd, STATE_STASH_MANIFEST, 0) < 0 && errno != ENOENT) {
		strbuf_addf(err, "cannot remove '%s/manifest': %s", s->dir, strerror(errno));
		return -1;
	}
	fault("restore-cleanup");
	remove_stash_dir(s);
	return 0;
}

static void set_dirs(struct stash *s, const char *state_dir)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/" STATE_STASH, state_dir);
	s->dir = strbuf_detach(&path, NULL);
	strbuf_addf(&path, "%s/" STATE_KEPT, state_dir);
	s->kept = strbuf_detach(&path, NULL);
}

/* Is the folder `path` inside the folder `top` (both as they resolve)? */
static bool under(const char *path, const char *top)
{
	char *real_path = realpath(path, NULL), *real_top = realpath(top, NULL);
	bool in = real_path && real_top && !strncmp(real_path, real_top, strlen(real_top)) &&
		  real_path[strlen(real_top)] == '/';

	free(real_path);
	free(real_top);
	return in;
}

int stash_recover(const char *state_dir, struct strbuf *notes, struct strbuf *err)
{
	struct stash s = STASH_INIT;
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT;
	size_t said;
	sigset_t old;
	int ret = 0;

	set_dirs(&s, state_dir);
	strbuf_addf(&path, "%s/manifest", s.dir);
	said = err->len;
	if (open_stash_dir(&s, false, err) < 0) {
		if (errno != ENOENT)
			ret = -1; /* a symlink, say: said in err */
		else
			strbuf_setlen(err, said); /* nothing was set aside */
		goto out;
	}
	if (file_read_at(s.dir_fd, STATE_STASH_MANIFEST, &text) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, "cannot read '%s': %s", path.buf, strerror(errno));
			ret = -1;
		} else {
			remove_stash_dir(&s); /* cut short before it held anything */
		}
		goto out;
	}
	if (read_manifest(&s, text.buf, text.len, path.buf, err) < 0) {
		ret = -1;
		goto out;
	}
	if (!under(state_dir, s.top)) {
		strbuf_addf(err, "the working tree was at '%s' when its files were set aside in "
			    "'%s'; move them back by hand (the manifest lists them), then remove "
			    "that folder", s.top, s.dir);
		ret = -1;
		goto out;
	}
	block_signals(&old);
	if (restore_all(&s, notes, err) < 0)
		ret = -1;
	else
		for (size_t i = 0; i < s.nr; i++)
			ret += s.entries[i].saved.kind != KIND_DIR;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	stash_release(&s);
	strbuf_release(&text);
	strbuf_release(&path);
	return ret;
}

/* --- setting aside ----------------------------------------------------- */

/* Add the path git lists, unless there is nothing to set aside there. */
static int add_entry(struct stash *s, struct gitinfo_unstaged *u, struct strbuf *err)
{
	struct stash_entry e;
	struct strbuf full = STRBUF_INIT;
	int ret = -1;

	memset(&e, 0, sizeof(e));
	strbuf_addf(&full, "%s%s", s->top, u->path);
	if (snapshot_of(full.buf, &e.saved) < 0) {
		strbuf_addf(err, "cannot read '%s': %s", full.buf, strerror(errno));
		goto out;
	}
	if (e.saved.kind == KIND_OTHER) {
		ret = 0; /* an untracked repository inside this one */
		if (u->in_commit) {
			strbuf_addf(err, "cannot set '%s' aside: a folder stands where the index has "
				    "a file", u->path);
			ret = -1;
		}
		goto out;
	}
	if (u->in_commit) {
		e.aside.kind = u->link ? KIND_LINK : KIND_FILE;
		files_hash(u->content.buf, u->content.len, e.aside.oid);
		e.bytes = &u->content;
		e.exec = u->exec;
		if (e.saved.kind == KIND_NONE)
			e.made_dir = missing_parent(s->top, u->path);
	} else if (e.saved.kind == KIND_NONE) {
		ret = 0; /* gone since git looked */
		goto out;
	} else {
		e.aside.kind = KIND_NONE;
	}
	e.path = xstrdup(u->path);
	ALLOC_GROW(s->entries, s->nr + 1, s->alloc);
	s->entries[s->nr++] = e;
	ret = 0;
out:
	strbuf_release(&full);
	return ret;
}

/* Write `data` as a new file (or symlink) named `tmp` in .squad/stash/. */
static int write_new(const struct stash *s, const char *tmp, const struct strbuf *data,
		     bool link, bool exec, struct strbuf *err)
{
	struct stat st;
	int fd;

	unlinkat(s->dir_fd, tmp, 0);
	if (link) {
		if (symlinkat(data->buf, s->dir_fd, tmp) == 0)
			return 0;
		strbuf_addf(err, "cannot create '%s/%s': %s", s->dir, tmp, strerror(errno));
		return -1;
	}
	if (file_write_at(s->dir_fd, s->dir, tmp, data->buf, data->len, err) < 0)
		return -1;
	/* executable as git makes it: x wherever the umask left r */
	fd = openat(s->dir_fd, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (exec && (fd < 0 || fstat(fd, &st) < 0 ||
		     fchmod(fd, st.st_mode | ((st.st_mode & 0444) >> 2)) < 0)) {
		strbuf_addf(err, "cannot make '%s/%s' executable: %s", s->dir, tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Move entry i's file into the stash; put the index's version there. */
static int set_aside(struct stash *s, size_t i, struct strbuf *err)
{
	const struct stash_entry *e = &s->entries[i];
	struct strbuf full = STRBUF_INIT, blob = STRBUF_INIT, shown = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&full, "%s%s", s->top, e->path);
	blob_name(s, i, &blob, &shown);
	if (i == 1 && failing("save-error", err))
		goto out;
	if (e->saved.kind != KIND_NONE && renameat(AT_FDCWD, full.buf, s->dir_fd, blob.buf) < 0) {
		strbuf_addf(err, "cannot move '%s' to '%s': %s", full.buf, shown.buf,
			    strerror(errno));
		goto out;
	}
	if (i == 0)
		fault("save-moved");
	if (e->aside.kind == KIND_NONE) {
		remove_empty_parents(s, full.buf); /* moves s->entries: e is stale */
	} else {
		if (write_new(s, "aside", e->bytes, e->aside.kind == KIND_LINK, e->exec, err) < 0)
			goto out;
		make_parents(s->top, full.buf);
		if (renameat(s->dir_fd, "aside", AT_FDCWD, full.buf) < 0) {
			strbuf_addf(err, "cannot write '%s': %s", full.buf, strerror(errno));
			unlinkat(s->dir_fd, "aside", 0);
			goto out;
		}
	}
	if (i == 0)
		fault("save-aside");
	ret = 0;
out:
	strbuf_release(&full);
	strbuf_release(&blob);
	strbuf_release(&shown);
	return ret;
}

int stash_save(struct stash *s, const char *state_dir, const char *path, struct strbuf *err)
{
	struct gitinfo_unstaged *list = NULL;
	struct strbuf top = STRBUF_INIT, skip = STRBUF_INIT;
	char *real_top = NULL, *real_state = NULL;
	size_t nr = 0, done = 0, files;
	sigset_t old;
	int ret = -1;

	block_signals(&old);
	set_dirs(s, state_dir);
	if (gitinfo_unstaged(path, &list, &nr, &top, err) < 0)
		goto out;
	s->top = strbuf_detach(&top, NULL);
	/* .squad/ is squad's: never set aside, whatever git thinks of it */
	real_top = realpath(s->top, NULL);
	real_state = realpath(state_dir, NULL);
	if (real_top && real_state && !strncmp(real_state, real_top, strlen(real_top)) &&
	    real_state[strlen(real_top)] == '/')
		strbuf_addf(&skip, "%s/", real_state + strlen(real_top) + 1);
	for (size_t i = 0; i < nr; i++)
		if ((!skip.len || strncmp(list[i].path, skip.buf, skip.len)) &&
		    add_entry(s, &list[i], err) < 0)
			goto out;
	if (!s->nr) {
		ret = 0;
		goto out;
	}
	if (open_stash_dir(s, true, err) < 0)
		goto out;
	fault("save-manifest");
	if (write_manifest(s, err) < 0)
		goto out;
	s->active = true;
	files = s->nr; /* the folders emptied come after */
	for (; done < files; done++)
		if (set_aside(s, done, err) < 0)
			break;
	/* the folders' modes: lost (made 0777 less the umask) only if
	 * killed before this */
	if (done == files && s->nr > files && write_manifest(s, err) < 0)
		done = 0;
	if (done < files) {
		/* what was moved goes back; the error is the set-aside's */
		struct strbuf notes = STRBUF_INIT, why = STRBUF_INIT;

		if (restore_all(s, &notes, &why) == 0) {
			s->active = false;
		} else {
			strbuf_addf(err, "; and putting back failed: %s (the next squad run tries "
				    "again)", why.buf);
		}
		strbuf_release(&notes);
		strbuf_release(&why);
		goto out;
	}
	fault("save-done");
	ret = 0;
out:
	if (ret == 0 && take_signals()) {
		struct strbuf notes = STRBUF_INIT;

		ret = 1;
		if (s->active && restore_all(s, &notes, err) < 0)
			ret = -1;
		else
			s->active = false;
		strbuf_release(&notes);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* the index's bytes are the list's, and only needed until here */
	for (size_t i = 0; i < s->nr; i++)
		s->entries[i].bytes = NULL;
	gitinfo_unstaged_free(list, nr);
	strbuf_release(&top);
	strbuf_release(&skip);
	free(real_top);
	free(real_state);
	return ret;
}

int stash_restore(struct stash *s, struct strbuf *notes, struct strbuf *err)
{
	sigset_t old;
	int ret;

	if (!s->active)
		return 0;
	block_signals(&old);
	ret = restore_all(s, notes, err);
	s->active = false; /* done, or left to the next run's stash_recover() */
	if (ret == 0)
		ret = take_signals() ? 1 : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

void stash_release(struct stash *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->entries[i].path);
		free(s->entries[i].made_dir);
	}
	free(s->entries);
	free(s->dir);
	free(s->kept);
	free(s->top);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->kept_fd >= 0)
		close(s->kept_fd);
	memset(s, 0, sizeof(*s));
	s->dir_fd = s->kept_fd = -1;
}
