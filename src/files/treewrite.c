/* treewrite.c - all-or-nothing writes to the user's tree, journalled in
 * .squad/applying/; see treewrite.h. */
#include "files/treewrite.h"
#include "files/state.h"
#include "files/fileio.h"
#include "util/rmtree.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files of a journal folder. */
#define TW_JOURNAL "journal"
#define TW_LOCK "lock"
#define TW_STAGED "staged" /* every new file is written as a temp file */
#define TW_UNDO "undo"     /* the originals are being put back */
#define TW_HEADER "squad-apply 1"

/* What was at a path before: the journal's letters. */
enum orig_kind {
	ORIG_NONE = '-',
	ORIG_FILE = 'f',
	ORIG_LINK = 'l',
};

struct tw_entry {
	char *rel;
	bool remove;      /* else put */
	char *data;       /* put: the new bytes (a symlink's target) */
	size_t len;
	unsigned mode;    /* put: TREEWRITE_* */
	char orig;        /* enum orig_kind */
};

struct treewrite {
	char *top;             /* the working tree, ending in '/' */
	char *dir;             /* the journal folder, for messages */
	int apply_fd;          /* SQUAD_DIR/applying/ */
	int dir_fd;            /* the journal folder */
	int lock_fd;
	char id[64];           /* PID-N: the journal folder's name */
	char *what;            /* what is written, in words, or NULL */
	struct tw_entry *e;
	size_t nr, alloc;
	struct strvec made;    /* the folders a commit makes, parents first */
	unsigned step;         /* SQUAD_TEST_FAULT's count */
	bool ended;            /* the commit is over: its folder may go */
	bool keep;             /* ... unless putting the originals back failed */
};

/* SQUAD_TEST_FAULT=apply-stop:N / apply-fail:N at the Nth step. Always
 * compiled in, so that the binary tested is the one shipped. */
static int fault_step(struct treewrite *tw, struct strbuf *err)
{
	const char *want = getenv("SQUAD_TEST_FAULT");
	unsigned n = ++tw->step;

	if (!want || strncmp(want, "apply-", 6))
		return 0;
	if (!strncmp(want, "apply-stop:", 11) && strtoul(want + 11, NULL, 10) == n)
		raise(SIGSTOP);
	if (!strncmp(want, "apply-fail:", 11) && strtoul(want + 11, NULL, 10) == n) {
		strbuf_addf(err, "cannot write the change: step %u failed on purpose "
			    "(SQUAD_TEST_FAULT)", n);
		return -1;
	}
	return 0;
}

/* --- the journal's text --------------------------------------------- */

/* A path on a journal line: every byte that is not printable ASCII, a
 * space and '%' as %XX. */
static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '%')
			strbuf_addf(sb, "%%%02X", c);
		else
			strbuf_addch(sb, c);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* add_escaped() undone; NULL when `s` is not what it writes. */
static char *unescape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s != '%') {
			strbuf_addch(&sb, *s);
			continue;
		}
		if (hexval(s[1]) < 0 || hexval(s[2]) < 0 || hexval(s[1]) * 16 + hexval(s[2]) == 0) {
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_addch(&sb, hexval(s[1]) * 16 + hexval(s[2]));
		s += 2;
	}
	return strbuf_detach(&sb, NULL);
}

/* A path inside the tree: relative, no empty, "." or ".." part, nothing
 * in .git. A journal naming another is not squad's, and not followed. */
static bool safe_rel(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return false;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 4 && !strncmp(p, ".git", 4)))
			return false;
		p += n;
		if (*p)
			p++;
	}
	return true;
}

static void format_journal(const struct treewrite *tw, struct strbuf *out)
{
	strbuf_addstr(out, TW_HEADER "\ntop ");
	add_escaped(out, tw->top);
	strbuf_addf(out, "\nid %s\n", tw->id);
	if (tw->what) {
		strbuf_addstr(out, "what ");
		add_escaped(out, tw->what);
		strbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < tw->made.nr; i++) {
		strbuf_addstr(out, "mkdir ");
		add_escaped(out, tw->made.v[i]);
		strbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < tw->nr; i++) {
		strbuf_addf(out, "%s %c ", tw->e[i].remove ? "del" : "put", tw->e[i].orig);
		add_escaped(out, tw->e[i].rel);
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "end\n");
}

/* Read a journal (format_journal()'s text) into `tw`. Returns 0, or -1
 * when it is not one (a line squad does not write, a path outside the
 * tree, no "end"). */
static int parse_journal(struct treewrite *tw, char *text)
{
	bool header = false, end = false;
	char *line = text, *nl;

	for (; *line; line = nl + 1) {
		char *value;

		nl = strchr(line, '\n');
		if (!nl || end)
			return -1;
		*nl = '\0';
		if (!header) {
			if (strcmp(line, TW_HEADER))
				return -1;
			header = true;
		} else if (!strncmp(line, "top ", 4) && !tw->top) {
			tw->top = unescape(line + 4);
			if (!tw->top || tw->top[0] != '/' || tw->top[strlen(tw->top) - 1] != '/')
				return -1;
		} else if (!strncmp(line, "id ", 3) && !tw->id[0]) {
			size_t len = strlen(line + 3);

			if (len >= sizeof(tw->id) || strchr(line + 3, '/') || strchr(line + 3, '%'))
				return -1;
			memcpy(tw->id, line + 3, len + 1);
		} else if (!strncmp(line, "what ", 5) && !tw->what) {
			if (!(tw->what = unescape(line + 5)))
				return -1;
		} else if (!strncmp(line, "mkdir ", 6)) {
			if (!(value = unescape(line + 6)) || !safe_rel(value)) {
				free(value);
				return -1;
			}
			strvec_push(&tw->made, value);
			free(value);
		} else if ((!strncmp(line, "put ", 4) || !strncmp(line, "del ", 4)) &&
			   line[4] && strchr("-fl", line[4]) && line[5] == ' ') {
			struct tw_entry *e;

			if (!(value = unescape(line + 6)) || !safe_rel(value)) {
				free(value);
				return -1;
			}
			ALLOC_GROW(tw->e, tw->nr + 1, tw->alloc);
			e = &tw->e[tw->nr++];
			memset(e, 0, sizeof(*e));
			e->rel = value;
			e->remove = line[0] == 'd';
			e->orig = line[4];
		} else if (!strcmp(line, "end")) {
			end = true;
		} else {
			return -1;
		}
	}
	return end && tw->top && tw->id[0] ? 0 : -1;
}

/* --- files ------------------------------------------------------------ */

static void name_orig(struct strbuf *sb, size_t i)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "orig-%zu", i);
}

/* The absolute path of entry i's temp file, into sb. */
static void temp_path(const struct treewrite *tw, size_t i, struct strbuf *sb)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s%s.squad-apply-%s-%zu", tw->top, tw->e[i].rel, tw->id, i);
}

static void full_path(const struct treewrite *tw, const char *rel, struct strbuf *sb)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s%s", tw->top, rel);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy the regular file or symlink `from` (in the folder `from_dir`) to
 * `to` (in `to_dir`), which must not exist: bytes and permission bits,
 * synced. Returns 0, or -1 with errno set. */
static int copy_node(int from_dir, const char *from, int to_dir, const char *to)
{
	struct stat sb;
	char buf[65536];
	int in = -1, out = -1, rc = -1, saved;
	ssize_t n;

	if (fstatat(from_dir, from, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISLNK(sb.st_mode)) {
		char target[PATH_MAX];

		n = readlinkat(from_dir, from, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlinkat(target, to_dir, to);
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	in = openat(from_dir, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = openat(to_dir, to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) < 0)
			goto out;
	}
	if (fchmod(out, sb.st_mode & 07777) < 0 || fdatasync(out) < 0)
		goto out;
	rc = 0;
out:
	saved = errno;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !rc) {
		saved = errno;
		rc = -1;
	}
	errno = saved;
	return rc;
}

/* Write a new file (or symlink) at the absolute `path`, which must not
 * exist, synced. Returns 0, or -1 with errno set. */
static int write_new(const char *path, const char *data, size_t len, unsigned mode, mode_t mask)
{
	int fd, saved;

	if (mode == TREEWRITE_LINK) {
		char *target = xstrndup(data, len);
		int rc = symlink(target, path);

		free(target);
		return rc;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 ||
	    fchmod(fd, (mode == TREEWRITE_EXEC ? 0777 : 0666) & ~mask) < 0 || fdatasync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* Do two files (or symlinks) hold the same? `a` in the folder a_dir. */
static bool same_node(int a_dir, const char *a, const char *b)
{
	struct stat sa, sb;
	char x[65536], y[65536];
	int fa = -1, fb = -1;
	bool same = false;

	if (fstatat(a_dir, a, &sa, AT_SYMLINK_NOFOLLOW) < 0 || lstat(b, &sb) < 0 ||
	    (sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
		return false;
	if (S_ISLNK(sa.st_mode)) {
		ssize_t n = readlinkat(a_dir, a, x, sizeof(x)), m = readlink(b, y, sizeof(y));

		return n >= 0 && n == m && !memcmp(x, y, (size_t)n);
	}
	if (!S_ISREG(sa.st_mode) || sa.st_size != sb.st_size ||
	    (sa.st_mode & 07777) != (sb.st_mode & 07777))
		return false;
	fa = openat(a_dir, a, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fa >= 0 && fb >= 0) {
		for (;;) {
			ssize_t n = read(fa, x, sizeof(x)), m;

			if (n < 0)
				break;
			m = n ? read(fb, y, (size_t)n) : read(fb, y, 1);
			if (n == 0) {
				same = m == 0;
				break;
			}
			if (m != n || memcmp(x, y, (size_t)n))
				break;
		}
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

/* Is entry i's path still what was there before the write began? */
static bool still_original(const struct treewrite *tw, size_t i, struct strbuf *scratch)
{
	struct strbuf orig = STRBUF_INIT;
	struct stat sb;
	bool same;

	full_path(tw, tw->e[i].rel, scratch);
	if (tw->e[i].orig == ORIG_NONE)
		return lstat(scratch->buf, &sb) < 0 && errno == ENOENT;
	name_orig(&orig, i);
	same = same_node(tw->dir_fd, orig.buf, scratch->buf);
	strbuf_release(&orig);
	return same;
}

/* Make the folders above `rel` that are missing. */
static int make_parents(const char *top, const char *rel)
{
	struct strbuf p = STRBUF_INIT;
	const char *slash = rel;
	int rc = 0;

	while ((slash = strchr(slash, '/'))) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s%.*s", top, (int)(slash - rel), rel);
		if (mkdir(p.buf, 0777) < 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		slash++;
	}
	strbuf_release(&p);
	return rc;
}

/* Remove `rel`, and the folders above it that this leaves empty. */
static int remove_path(const char *top, const char *rel)
{
	struct strbuf p = STRBUF_INIT;
	char *slash;
	int rc = 0;

	strbuf_addf(&p, "%s%s", top, rel);
	if (unlink(p.buf) < 0 && errno != ENOENT)
		rc = -1;
	while (rc == 0 && (slash = strrchr(p.buf + strlen(top), '/'))) {
		strbuf_setlen(&p, (size_t)(slash - p.buf));
		if (rmdir(p.buf) < 0)
			break;
	}
	strbuf_release(&p);
	return rc;
}

/* Remove the temp files of the puts and the folders the write made
 * (those still empty), newest first. */
static void remove_temps(const struct treewrite *tw)
{
	struct strbuf p = STRBUF_INIT;

	for (size_t i = 0; i < tw->nr; i++) {
		if (tw->e[i].remove)
			continue;
		temp_path(tw, i, &p);
		unlink(p.buf);
	}
	for (size_t i = tw->made.nr; i-- > 0;) {
		full_path(tw, tw->made.v[i], &p);
		rmdir(p.buf);
	}
	strbuf_release(&p);
}

/* Create the mark `name` in the journal folder, synced with its folder. */
static int mark(const struct treewrite *tw, const char *name)
{
	int fd = openat(tw->dir_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);

	if (fd < 0 || fsync(fd) < 0 || close(fd) < 0)
		return -1;
	return fsync(tw->dir_fd);
}

static bool has_mark(const struct treewrite *tw, const char *name)
{
	struct stat sb;

	return fstatat(tw->dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Put every path that is not what it was back as it was: its temp file
 * removed, the original copied beside it and renamed over it (or the
 * path removed, when nothing was there), then the folders the write
 * made removed when empty. Run twice, it does nothing more. Returns 0,
 * or -1 with the paths it could not put back in err. */
static int put_back(const struct treewrite *tw, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT, orig = STRBUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < tw->nr; i++) {
		const struct tw_entry *e = &tw->e[i];

		temp_path(tw, i, &tmp);
		unlink(tmp.buf);
		if (still_original(tw, i, &path))
			continue;
		if (e->orig == ORIG_NONE) {
			if (remove_path(tw->top, e->rel) == 0)
				continue;
		} else {
			name_orig(&orig, i);
			if (make_parents(tw->top, e->rel) == 0 &&
			    copy_node(tw->dir_fd, orig.buf, AT_FDCWD, tmp.buf) == 0 &&
			    rename(tmp.buf, path.buf) == 0)
				continue;
			unlink(tmp.buf);
		}
		strbuf_addf(err, "%s'%s': %s", rc ? ", " : "cannot put back ", e->rel,
			    strerror(errno));
		rc = -1;
	}
	remove_temps(tw);
	strbuf_release(&path);
	strbuf_release(&tmp);
	strbuf_release(&orig);
	return rc;
}

/* --- a write ---------------------------------------------------------- */

static struct treewrite *treewrite_new(void)
{
	struct treewrite *tw = xcalloc(1, sizeof(*tw));

	tw->apply_fd = tw->dir_fd = tw->lock_fd = -1;
	strvec_init(&tw->made);
	return tw;
}

struct treewrite *treewrite_begin(const char *squad_dir, const char *top, const char *what,
				  struct strbuf *err)
{
	static unsigned seq; /* writes by this squad */
	struct treewrite *tw = treewrite_new();
	struct strbuf path = STRBUF_INIT;
	int at;

	tw->top = xstrdup(top);
	tw->what = what ? xstrdup(what) : NULL;
	strbuf_addf(&path, "%s/" STATE_APPLYING, squad_dir);
	at = file_open_folder(AT_FDCWD, path.buf, path.buf, true, err);
	if (at < 0)
		goto fail;
	tw->apply_fd = at;
	/* a folder left by an earlier squad of the same PID is another's
	 * to recover: never reused */
	do
		snprintf(tw->id, sizeof(tw->id), "%ld-%u", (long)getpid(), ++seq);
	while (mkdirat(at, tw->id, 0777) < 0 && errno == EEXIST && seq < UINT_MAX);
	strbuf_addf(&path, "/%s", tw->id);
	tw->dir = xstrdup(path.buf);
	if ((tw->dir_fd = openat(at, tw->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (tw->lock_fd = openat(tw->dir_fd, TW_LOCK,
				  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666)) < 0 ||
	    flock(tw->lock_fd, LOCK_EX) < 0) {
		strbuf_addf(err, "cannot make the journal '%s': %s", tw->dir, strerror(errno));
		tw->ended = true;
		goto fail;
	}
	strbuf_release(&path);
	return tw;
fail:
	strbuf_release(&path);
	treewrite_free(tw);
	return NULL;
}

static struct tw_entry *find_entry(struct treewrite *tw, const char *rel)
{
	for (size_t i = 0; i < tw->nr; i++)
		if (!strcmp(tw->e[i].rel, rel))
			return &tw->e[i];
	return NULL;
}

void treewrite_put(struct treewrite *tw, const char *rel, const char *data, size_t len,
		   unsigned mode)
{
	struct tw_entry *e = find_entry(tw, rel);

	/* a path both removed and written (renamed away, made anew) is
	 * written */
	if (e) {
		free(e->data);
	} else {
		ALLOC_GROW(tw->e, tw->nr + 1, tw->alloc);
		e = &tw->e[tw->nr++];
		memset(e, 0, sizeof(*e));
		e->rel = xstrdup(rel);
	}
	e->remove = false;
	e->data = xmalloc(len + 1);
	memcpy(e->data, data, len);
	e->len = len;
	e->mode = mode;
	e->orig = ORIG_NONE;
}

void treewrite_remove(struct treewrite *tw, const char *rel)
{
	struct tw_entry *e;

	if (find_entry(tw, rel))
		return;
	ALLOC_GROW(tw->e, tw->nr + 1, tw->alloc);
	e = &tw->e[tw->nr++];
	memset(e, 0, sizeof(*e));
	e->rel = xstrdup(rel);
	e->remove = true;
	e->orig = ORIG_NONE;
}

/* Steps a and b: the originals saved, the folders to make found, the
 * journal written. Nothing of the tree is touched. */
static int prepare(struct treewrite *tw, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, name = STRBUF_INIT, text = STRBUF_INIT;
	struct stat sb;
	int fd = -1, rc = -1;

	for (size_t i = 0; i < tw->nr; i++) {
		struct tw_entry *e = &tw->e[i];

		if (!safe_rel(e->rel)) {
			strbuf_addf(err, "cannot write '%s': not a path inside the tree", e->rel);
			goto out;
		}
		full_path(tw, e->rel, &path);
		if (lstat(path.buf, &sb) < 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				goto fail;
			e->orig = ORIG_NONE;
		} else if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) {
			e->orig = S_ISREG(sb.st_mode) ? ORIG_FILE : ORIG_LINK;
			name_orig(&name, i);
			if (copy_node(AT_FDCWD, path.buf, tw->dir_fd, name.buf) < 0)
				goto fail;
		} else {
			strbuf_addf(err, "cannot write '%s': a folder or special file is there",
				    e->rel);
			goto out;
		}
		/* the folders above a new file that are not there yet */
		for (const char *s = e->rel; !e->remove && (s = strchr(s, '/')); s++) {
			strbuf_reset(&name);
			strbuf_add(&name, e->rel, (size_t)(s - e->rel));
			full_path(tw, name.buf, &path);
			if (strvec_find(&tw->made, name.buf) >= 0)
				continue;
			if (lstat(path.buf, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
				strbuf_addf(err, "cannot write '%s': '%s' is not a folder", e->rel,
					    name.buf);
				goto out;
			}
			if (lstat(path.buf, &sb) < 0)
				strvec_push(&tw->made, name.buf);
		}
	}
	format_journal(tw, &text);
	fd = openat(tw->dir_fd, TW_JOURNAL ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0666);
	if (fd < 0 || write_all(fd, text.buf, text.len) < 0 || fsync(fd) < 0 ||
	    renameat(tw->dir_fd, TW_JOURNAL ".tmp", tw->dir_fd, TW_JOURNAL) < 0 ||
	    fsync(tw->dir_fd) < 0) {
		strbuf_addf(err, "cannot write the journal '%s/" TW_JOURNAL "': %s", tw->dir,
			    strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
fail:
	strbuf_addf(err, "cannot keep the original of '%s' in '%s': %s", path.buf, tw->dir,
		    strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&path);
	strbuf_release(&name);
	strbuf_release(&text);
	return rc;
}

int treewrite_commit(struct treewrite *tw, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	mode_t mask = umask(0);
	int rc = -1;

	umask(mask);
	tw->ended = true;
	if (prepare(tw, err) < 0 || fault_step(tw, err) < 0)
		goto undo_temps;
	/* c: every new file written beside its path, nothing replaced yet */
	for (size_t i = 0; i < tw->made.nr; i++) {
		full_path(tw, tw->made.v[i], &path);
		if (mkdir(path.buf, 0777) < 0 && errno != EEXIST) {
			strbuf_addf(err, "cannot make the folder '%s': %s", tw->made.v[i],
				    strerror(errno));
			goto undo_temps;
		}
	}
	for (size_t i = 0; i < tw->nr; i++) {
		const struct tw_entry *e = &tw->e[i];

		if (e->remove)
			continue;
		temp_path(tw, i, &tmp);
		if (write_new(tmp.buf, e->data, e->len, e->mode, mask) < 0) {
			strbuf_addf(err, "cannot write '%s': %s", e->rel, strerror(errno));
			goto undo_temps;
		}
		if (fault_step(tw, err) < 0)
			goto undo_temps;
	}
	/* d: from here on a kill is finished by the next squad */
	if (mark(tw, TW_STAGED) < 0) {
		strbuf_addf(err, "cannot write the journal '%s': %s", tw->dir, strerror(errno));
		goto undo_temps;
	}
	if (fault_step(tw, err) < 0)
		goto undo;
	/* e */
	for (size_t i = 0; i < tw->nr; i++) {
		const struct tw_entry *e = &tw->e[i];

		if (e->remove)
			continue;
		temp_path(tw, i, &tmp);
		full_path(tw, e->rel, &path);
		if (rename(tmp.buf, path.buf) < 0) {
			strbuf_addf(err, "cannot write '%s': %s", e->rel, strerror(errno));
			goto undo;
		}
		if (fault_step(tw, err) < 0)
			goto undo;
	}
	for (size_t i = 0; i < tw->nr; i++) {
		if (!tw->e[i].remove)
			continue;
		if (remove_path(tw->top, tw->e[i].rel) < 0) {
			strbuf_addf(err, "cannot remove '%s': %s", tw->e[i].rel, strerror(errno));
			goto undo;
		}
		if (fault_step(tw, err) < 0)
			goto undo;
	}
	if (fault_step(tw, err) < 0)
		goto undo;
	rc = 0;
	goto out;
undo_temps:
	/* nothing of the user's was replaced yet */
	unlinkat(tw->dir_fd, TW_STAGED, 0);
	remove_temps(tw);
	goto out;
undo:
	strbuf_addstr(err, "; ");
	if (mark(tw, TW_UNDO) < 0 || unlinkat(tw->dir_fd, TW_STAGED, 0) < 0 ||
	    put_back(tw, err) < 0) {
		strbuf_addf(err, "; the journal %s stays, and the next squad puts your files "
			    "back", tw->dir);
		tw->keep = true;
	} else {
		strbuf_addstr(err, "your files are as they were");
	}
out:
	strbuf_release(&path);
	strbuf_release(&tmp);
	return rc;
}

void treewrite_free(struct treewrite *tw)
{
	if (!tw)
		return;
	if (tw->apply_fd >= 0 && tw->ended && !tw->keep)
		rmtree_at(tw->apply_fd, tw->id);
	if (tw->lock_fd >= 0)
		close(tw->lock_fd);
	if (tw->dir_fd >= 0)
		close(tw->dir_fd);
	if (tw->apply_fd >= 0)
		close(tw->apply_fd);
	for (size_t i = 0; i < tw->nr; i++) {
		free(tw->e[i].rel);
		free(tw->e[i].data);
	}
	free(tw->e);
	strvec_clear(&tw->made);
	free(tw->top);
	free(tw->dir);
	free(tw->what);
	free(tw);
}

/* --- the next squad --------------------------------------------------- */

/* Is the journal's tree the one that holds .squad (`squad_real`)? */
static bool holds(const char *top, const char *squad_real)
{
	char *real = realpath(top, NULL);
	size_t n = real ? strlen(real) : 0;
	bool in = real && !strncmp(squad_real, real, n) &&
		  (squad_real[n] == '/' || (n == 1 && real[0] == '/'));

	free(real);
	return in;
}

/* The roll forward of a staged write: what is not renamed yet is, over
 * a path still as it was; a path the user changed since is left. */
static int finish(const struct treewrite *tw, struct strbuf *notes, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	struct stat sb;
	size_t left = 0, done = 0;
	int rc = 0;

	for (size_t i = 0; i < tw->nr; i++) {
		const struct tw_entry *e = &tw->e[i];

		temp_path(tw, i, &tmp);
		if (!e->remove && lstat(tmp.buf, &sb) < 0)
			continue; /* renamed before the kill */
		full_path(tw, e->rel, &path);
		if (e->remove && lstat(path.buf, &sb) < 0)
			continue; /* removed before the kill */
		if (!still_original(tw, i, &path)) {
			strbuf_addf(notes, "squad: left '%s' as it is: it changed after the "
				    "squad that was applying a change to it was killed\n", e->rel);
			unlink(tmp.buf);
			left++;
			continue;
		}
		if (e->remove ? remove_path(tw->top, e->rel) < 0 : rename(tmp.buf, path.buf) < 0) {
			strbuf_addf(err, "cannot finish writing '%s': %s", e->rel, strerror(errno));
			rc = -1;
			break;
		}
		done++;
	}
	if (!rc)
		strbuf_addf(notes, "squad: finished %s, which a killed squad was applying to "
			    "%s: %zu of its %zu path%s written now%s\n",
			    tw->what ? tw->what : "a change", tw->top, done, tw->nr,
			    tw->nr == 1 ? "" : "s", left ? ", some left as you changed them" : "");
	strbuf_release(&path);
	strbuf_release(&tmp);
	return rc;
}

/* Recover the journal folder `name` in applying/ (`at`). Returns 1
 * when it was recovered, 0 when its squad still lives, -1 (err). */
static int recover_one(int at, const char *name, const char *squad_real, struct strbuf *notes,
		       struct strbuf *err)
{
	struct treewrite *tw = treewrite_new();
	struct strbuf text = STRBUF_INIT;
	char *end;
	long pid = strtol(name, &end, 10);
	int rc = -1;

	tw->dir_fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tw->dir_fd < 0) {
		/* not a folder: not squad's making, and nothing to recover */
		rc = rmtree_at(at, name) < 0 ? 0 : 1;
		goto out;
	}
	tw->lock_fd = openat(tw->dir_fd, TW_LOCK, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (tw->lock_fd >= 0 ? flock(tw->lock_fd, LOCK_EX | LOCK_NB) < 0
	    : (end != name && *end == '-' && pid > 0 && (kill((pid_t)pid, 0) == 0 ||
							  errno == EPERM))) {
		rc = 0; /* its squad lives: it is writing now */
		goto out;
	}
	if (file_read_at(tw->dir_fd, TW_JOURNAL, &text) < 0) {
		/* killed before its journal was whole: nothing written yet */
		rc = errno == ENOENT ? (rmtree_at(at, name), 1) : 0;
		goto out;
	}
	tw->dir = xstrdup(name);
	if (parse_journal(tw, text.buf) < 0 || strcmp(tw->id, name) || !holds(tw->top, squad_real)) {
		strbuf_addf(err, "the journal '%s/" TW_JOURNAL "' in .squad/" STATE_APPLYING
			    " is not squad's, or not of this tree: left alone (remove it when "
			    "you have checked your files)", name);
		goto out;
	}
	if (has_mark(tw, TW_UNDO)) {
		if (put_back(tw, err) < 0)
			goto out;
		strbuf_addf(notes, "squad: put back your files that a killed squad was "
			    "changing in %s (applying %s)\n", tw->top,
			    tw->what ? tw->what : "a change");
	} else if (has_mark(tw, TW_STAGED)) {
		if (finish(tw, notes, err) < 0)
			goto out;
	} else {
		/* killed while writing its temp files: nothing of the user's
		 * was replaced */
		remove_temps(tw);
		strbuf_addf(notes, "squad: undid %s, which a killed squad had begun to apply to "
			    "%s: none of it was written\n", tw->what ? tw->what : "a change",
			    tw->top);
	}
	rmtree_at(at, name);
	rc = 1;
out:
	strbuf_release(&text);
	treewrite_free(tw);
	return rc;
}

int treewrite_recover(const char *squad_dir, struct strbuf *notes, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	char *squad_real = NULL;
	int at, n = 0, rc;
	DIR *d;

	strbuf_addf(&path, "%s/" STATE_APPLYING, squad_dir);
	at = open(path.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	strbuf_release(&path);
	if (at < 0)
		return 0; /* the usual case: no write was ever cut short */
	d = fdopendir(dup(at));
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&names, de->d_name);
	if (d)
		closedir(d);
	squad_real = realpath(squad_dir, NULL);
	for (size_t i = 0; i < names.nr && squad_real; i++) {
		rc = recover_one(at, names.v[i], squad_real, notes, err);
		if (rc < 0) {
			n = -1;
			break;
		}
		n += rc;
	}
	free(squad_real);
	strvec_clear(&names);
	close(at);
	return n;
}
