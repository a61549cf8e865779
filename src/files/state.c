/* state.c - lock, journal and log paths under .squad/; see state.h. */
#include "files/state.h"
#include "files/fileio.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_HEADER "# squad state 1\n"
#define STATE_MAGIC "# squad state "

static const char *const status_names[] = {
	[RECORD_OK] = "ok",
	[RECORD_FAILED] = "failed",
	[RECORD_DONE] = "done",
	[RECORD_DONE_FAILED] = "done-failed",
};

const char *record_status_name(enum record_status s)
{
	return status_names[s];
}

static uint32_t crc32_of(const char *data, size_t len)
{
	static uint32_t table[256];
	uint32_t crc = 0xffffffffu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ (unsigned char)data[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}


void state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = st->journal_fd = -1;
	st->dir_fd = st->logs_fd = st->inputs_fd = -1;
}

void state_root_path(struct strbuf *path, const char *root, const char *name)
{
	strbuf_addf(path, "%s/" STATE_DIR_NAME, root);
	if (name)
		strbuf_addf(path, "/%s", name);
}

void state_path(const struct state *st, const char *name, struct strbuf *path)
{
	strbuf_addf(path, "%s/%s", st->dir, name);
}

static int open_dir(struct state *st, const char *dir, bool lazy, struct strbuf *err);

int state_open(struct state *st, const char *root, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	int ret;

	state_root_path(&dir, root, NULL);
	ret = open_dir(st, dir.buf, false, err);
	strbuf_release(&dir);
	return ret;
}

/* An exec's folder is new at each run, its tasks are often silent and
 * never save input lists: logs/ waits for the first log (lazy_folder()),
 * inputs/ for the first list, and the folder is its own lock. Each file
 * or folder made is an inode ext4 must find and, when the folder is
 * pruned, free again. */
int state_open_dir(struct state *st, const char *dir, struct strbuf *err)
{
	int ret = open_dir(st, dir, true, err);

	st->lock_is_dir = true;
	return ret;
}

/* The folder `dir`, and unless `lazy` its logs/ and inputs/. */
static int open_dir(struct state *st, const char *dir, bool lazy, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	bool created;

	state_init(st);
	st->dir = xstrdup(dir);

	created = mkdir(st->dir, 0777) == 0;
	if (!created && errno != EEXIST) {
		strbuf_addf(err, "cannot create '%s': %s", st->dir, strerror(errno));
		return -1;
	}
	/* every file of .squad is opened relative to these fds, held for
	 * the whole run: a task that swaps .squad or logs/ for a symlink
	 * cannot send a later write out of the project */
	st->dir_fd = file_open_folder(AT_FDCWD, st->dir, st->dir, false, err);
	if (st->dir_fd < 0)
		return -1;
	if (created && state_write_in(st, ".gitignore", "*\n", 2, err) < 0)
		return -1;
	for (int i = 0; i < (lazy ? 0 : 2); i++) {
		const char *sub = i ? STATE_INPUTS : STATE_LOGS;
		int *fd = i ? &st->inputs_fd : &st->logs_fd;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", st->dir, sub);
		if (mkdirat(st->dir_fd, sub, 0777) < 0 && errno != EEXIST) {
			strbuf_addf(err, "cannot create '%s': %s", path.buf, strerror(errno));
			strbuf_release(&path);
			return -1;
		}
		*fd = file_open_folder(st->dir_fd, sub, path.buf, false, err);
		if (*fd < 0) {
			strbuf_release(&path);
			return -1;
		}
	}
	strbuf_release(&path);
	return 0;
}

/* Remove the temp files of file_write() (NAME.tmp.PID) that a
 * process killed mid-write (kill -9 during compaction) left in .squad/:
 * those whose process is gone. A live process's file is kept: it may be
 * writing it right now. Best effort: a file that stays is only litter. */
static void remove_stale_temps(const struct state *st)
{
	int fd = openat(st->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		const char *tmp = NULL;
		char *end;
		long pid;

		/* the last ".tmp.": a task's name may hold one of its own */
		for (const char *p = de->d_name; (p = strstr(p, ".tmp.")); p++)
			tmp = p;
		if (!tmp || tmp == de->d_name)
			continue;
		errno = 0;
		pid = strtol(tmp + 5, &end, 10);
		if (errno || end == tmp + 5 || *end || pid <= 0 || pid > INT_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int state_lock(struct state *st, bool wait, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;

	if (st->lock_fd < 0 && st->lock_is_dir) {
		/* a description of its own: the flock is not dir_fd's */
		state_path(st, ".", &path);
		st->lock_fd = openat(st->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else if (st->lock_fd < 0) {
		state_path(st, STATE_LOCK, &path);
		st->lock_fd = openat(st->dir_fd, STATE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				     0666);
	}
	if (path.len) {
		if (st->lock_fd < 0) {
			file_open_error(err, path.buf, errno);
			strbuf_release(&path);
			return -1;
		}
		strbuf_release(&path);
	}
	while (flock(st->lock_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return 1;
		strbuf_addf(err, "cannot lock '%s%s': %s", st->dir,
			    st->lock_is_dir ? "" : "/" STATE_LOCK, strerror(errno));
		return -1;
	}
	if (!st->lock_is_dir)
		remove_stale_temps(st); /* an exec's folder is new */
	return 0;
}

static char *json_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? xstrdup(s) : NULL;
}

static void put_in_memory(struct state *st, struct task_record *rec)
{
	int at = strmap_get(&st->index, rec->task);

	if (at >= 0) {
		struct task_record old = st->records[at];

		/* the index borrows the record's own name as its key: point
		 * it at the new name before the old one is freed */
		st->records[at] = *rec;
		strmap_put(&st->index, st->records[at].task, at);
		task_record_release(&old);
		st->stale_lines++;
	} else {
		ALLOC_GROW(st->records, st->nr + 1, st->alloc);
		st->records[st->nr] = *rec;
		strmap_put(&st->index, st->records[st->nr].task, (int)st->nr);
		st->nr++;
	}
}

/* The string at *p (after its opening quote) as format_line() writes
 * it: printable ASCII, \" \\ \n and \u escapes of valid UTF-16. Returns
 * it (to free), or NULL for anything else, left to jansson. */
/* Four hex digits at s, or -1. */
static long hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int c = s[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static char *fast_string(const char **p, const char *end)
{
	struct strbuf out = STRBUF_INIT;
	const char *s = *p;

	while (s < end && *s != '"') {
		unsigned char c = (unsigned char)*s++;
		uint32_t cp;

		if (c < 0x20 || c >= 0x80)
			goto other;
		if (c != '\\') {
			strbuf_addch(&out, c);
			continue;
		}
		if (s >= end)
			goto other;
		c = (unsigned char)*s++;
		if (c == '"' || c == '\\') {
			strbuf_addch(&out, c);
			continue;
		} else if (c == 'n') {
			strbuf_addch(&out, '\n');
			continue;
		} else if (c != 'u' || end - s < 4 || hex4(s) < 0) {
			goto other;
		}
		cp = (uint32_t)hex4(s);
		s += 4;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			long low;

			if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
			    (low = hex4(s + 2)) < 0xdc00 || low > 0xdfff)
				goto other;
			s += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (uint32_t)(low - 0xdc00);
		} else if (!cp || (cp >= 0xdc00 && cp <= 0xdfff)) {
			goto other;
		}
		if (cp < 0x80) {
			strbuf_addch(&out, (int)cp);
		} else if (cp < 0x800) {
			strbuf_addch(&out, (int)(0xc0 | cp >> 6));
			strbuf_addch(&out, (int)(0x80 | (cp & 0x3f)));
		} else if (cp < 0x10000) {
			strbuf_addch(&out, (int)(0xe0 | cp >> 12));
			strbuf_addch(&out, (int)(0x80 | ((cp >> 6) & 0x3f)));
			strbuf_addch(&out, (int)(0x80 | (cp & 0x3f)));
		} else {
			strbuf_addch(&out, (int)(0xf0 | cp >> 18));
			strbuf_addch(&out, (int)(0x80 | ((cp >> 12) & 0x3f)));
			strbuf_addch(&out, (int)(0x80 | ((cp >> 6) & 0x3f)));
			strbuf_addch(&out, (int)(0x80 | (cp & 0x3f)));
		}
	}
	if (s >= end)
		goto other;
	*p = s + 1;
	return strbuf_detach(&out, NULL);
other:
	strbuf_release(&out);
	return NULL;
}

static bool fast_number(const char **p, const char *end, long long *v)
{
	const char *s = *p;
	bool minus = s < end && *s == '-';
	int digits = 0;

	s += minus;
	if (end - s > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return false; /* a leading zero: not JSON */
	for (*v = 0; s < end && *s >= '0' && *s <= '9' && digits < 18; s++, digits++)
		*v = *v * 10 + (*s - '0');
	if (!digits || (s < end && *s >= '0' && *s <= '9'))
		return false;
	*v = minus ? -*v : *v;
	*p = s;
	return true;
}

static bool fast_key(const char **p, const char *end, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(end - *p) < n + 3 || (*p)[0] != '"' || memcmp(*p + 1, key, n) ||
	    (*p)[n + 1] != '"' || (*p)[n + 2] != ':')
		return false;
	*p += n + 3;
	return true;
}

/* The JSON of a line exactly as format_line() writes it, without
 * jansson: a no-op run reads thousands of these, and jansson's parse
 * was a fifth of its time. Returns 0, or -1 for any other shape (a
 * hand-edited or damaged line), which then goes to jansson. */
static int parse_json_fast(const char *s, size_t len, struct task_record *rec)
{
	static const char *const texts[] = { "task", "fingerprint", "summary", "answer", "note" };
	const char *end = s + len;
	char **fields[] = { &rec->task, &rec->fingerprint, &rec->summary, &rec->answer,
			    &rec->note };
	static const char *const numbers[] = { "exit_code", "duration_ms", "finished", "attempts" };
	long long n[4];
	size_t status_len;
	bool found = false;

	const char *quote;

	memset(rec, 0, sizeof(*rec));
	if (s >= end || *s++ != '{' || !fast_key(&s, end, "status") || s >= end || *s++ != '"' ||
	    !(quote = memchr(s, '"', (size_t)(end - s))))
		return -1;
	status_len = (size_t)(quote - s);
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names); i++)
		if (strlen(status_names[i]) == status_len && !memcmp(s, status_names[i], status_len))
			rec->status = (enum record_status)i, found = true;
	if (!found || (size_t)(end - s) <= status_len)
		return -1;
	s += status_len + 1;
	for (size_t i = 0; i < 4; i++)
		if (s >= end || *s++ != ',' || !fast_key(&s, end, numbers[i]) ||
		    !fast_number(&s, end, &n[i]))
			return -1;
	rec->exit_code = (int)n[0];
	rec->duration_ms = (long)n[1];
	rec->finished = n[2];
	rec->attempts = (unsigned)n[3];
	if (end - s > 15 && !memcmp(s, ",\"log_cut\":true", 15)) {
		rec->log_cut = true;
		s += 15;
	}
	for (size_t i = 0; i < 5; i++) {
		if (s >= end || *s != ',' || (s++, !fast_key(&s, end, texts[i])))
			continue;
		if (s >= end || *s++ != '"' || !(*fields[i] = fast_string(&s, end)))
			goto other;
	}
	if (s + 1 != end || *s != '}' || !rec->task)
		goto other;
	return 0;
other:
	task_record_release(rec);
	return -1;
}

/* One journal line: "crc32hex JSON". Returns 0 and fills rec, or -1. */
static int parse_line(const char *line, size_t len, struct task_record *rec)
{
	unsigned long crc;
	char *end;
	json_t *obj, *v;
	const char *status;
	int ret = -1;

	if (len < 10 || line[8] != ' ')
		return -1;
	crc = strtoul(line, &end, 16);
	if (end != line + 8 || crc != crc32_of(line + 9, len - 9))
		return -1;
	if (parse_json_fast(line + 9, len - 9, rec) == 0)
		return 0;
	obj = json_loadb(line + 9, len - 9, 0, NULL);
	if (!obj)
		return -1;
	memset(rec, 0, sizeof(*rec));
	status = json_string_value(json_object_get(obj, "status"));
	rec->task = json_str(obj, "task");
	if (!rec->task || !status)
		goto out;
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names); i++)
		if (!strcmp(status, status_names[i]))
			rec->status = (enum record_status)i, ret = 0;
	if (ret < 0)
		goto out;
	if ((v = json_object_get(obj, "exit_code")))
		rec->exit_code = (int)json_integer_value(v);
	rec->duration_ms = (long)json_integer_value(json_object_get(obj, "duration_ms"));
	rec->finished = json_integer_value(json_object_get(obj, "finished"));
	rec->attempts = (unsigned)json_integer_value(json_object_get(obj, "attempts"));
	rec->log_cut = json_is_true(json_object_get(obj, "log_cut"));
	rec->fingerprint = json_str(obj, "fingerprint");
	rec->summary = json_str(obj, "summary");
	rec->answer = json_str(obj, "answer");
	rec->note = json_str(obj, "note");
out:
	json_decref(obj);
	if (ret < 0)
		task_record_release(rec);
	return ret;
}

int state_parse(struct state *st, const char *text, size_t len, const char *path,
		struct strbuf *err)
{
	const char *p = text, *end = text + len;
	/* `text` need not end in a NUL: every look is bounded by len */
	bool magic = len >= strlen(STATE_MAGIC) && !memcmp(p, STATE_MAGIC, strlen(STATE_MAGIC));
	bool header = len >= strlen(STATE_HEADER) && !memcmp(p, STATE_HEADER, strlen(STATE_HEADER));

	if (magic && !header) {
		const char *nl = memchr(p, '\n', len);

		strbuf_addf(err, "'%s' was written by a newer squad (%.*s); upgrade "
			    "squad, or remove the file to start fresh", path,
			    (int)((nl ? nl : end) - (p + 2)), p + 2);
		return -1;
	}
	if (len && !header)
		st->unkempt = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct task_record rec;

		if (!nl) {
			st->unkempt = true;
			break; /* a torn last line: the writer died mid-append */
		}
		if (*p != '#') {
			if (parse_line(p, (size_t)(nl - p), &rec) == 0) {
				put_in_memory(st, &rec);
			} else {
				st->stale_lines++;
				st->unkempt = true;
			}
		}
		p = nl + 1;
	}
	return 0;
}

int state_load(struct state *st, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct stat sb;
	int ret = -1;

	strbuf_addf(&path, "%s/state", st->dir);
	/* O_NONBLOCK: a FIFO in its place would wait in open() for a reader */
	st->journal_fd = openat(st->dir_fd, STATE_JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				O_NOFOLLOW | O_NONBLOCK, 0666);
	if (st->journal_fd < 0) {
		file_open_error(err, path.buf, errno);
		goto out;
	}
	if (fstat(st->journal_fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		strbuf_addf(err, "'%s' is not a regular file; squad will not write to it "
			    "(remove it to start fresh)", path.buf);
		goto out;
	}
	if (file_read_at(st->dir_fd, STATE_JOURNAL, &text) < 0) {
		strbuf_addf(err, "cannot read '%s': %s", path.buf,
			    errno == EINVAL ? "not a regular file" : strerror(errno));
		goto out;
	}
	if (state_parse(st, text.buf, text.len, path.buf, err) < 0)
		goto out;
	if (!text.len && write(st->journal_fd, STATE_HEADER, strlen(STATE_HEADER)) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

const struct task_record *state_get(const struct state *st, const char *task)
{
	int at = strmap_get(&st->index, task);

	return at >= 0 ? &st->records[at] : NULL;
}

/* Append `"key":"s"` (after a comma), everything past ASCII as \u
 * escapes, so that each journal line is 7-bit. Appends nothing and
 * returns -1 when s is not valid UTF-8: such a field is left out, never
 * written half. */
static int add_json_field(struct strbuf *out, const char *key, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t start = out->len;

	strbuf_addstr(out, ",\"");
	strbuf_addstr(out, key);
	strbuf_addstr(out, "\":\"");
	while (p < end) {
		uint32_t cp;
		size_t n = utf8_decode(p, (size_t)(end - p), &cp);

		if (!n) {
			strbuf_setlen(out, start);
			return -1;
		}
		p += n;
		if (cp == '"' || cp == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (int)cp);
		} else if (cp == '\n') {
			strbuf_addstr(out, "\\n");
		} else if (cp >= 0x20 && cp < 0x80) {
			strbuf_addch(out, (int)cp);
		} else if (cp < 0x10000) {
			strbuf_addf(out, "\\u%04x", (unsigned)cp);
		} else {
			cp -= 0x10000;
			strbuf_addf(out, "\\u%04x\\u%04x", (unsigned)(0xd800 | cp >> 10),
				    (unsigned)(0xdc00 | (cp & 0x3ff)));
		}
	}
	strbuf_addch(out, '"');
	return 0;
}

/* Append `prefix` and v in decimal; by hand, as all of format_line():
 * vsnprintf was most of its cost. */
static void add_json_number(struct strbuf *out, const char *prefix, long long v)
{
	char digits[24], *p = digits + sizeof(digits);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	strbuf_addstr(out, prefix);
	strbuf_add(out, p, (size_t)(digits + sizeof(digits) - p));
}

/* One journal line: "CRC32 JSON\n". Written by hand rather than through
 * jansson, which made this a fifth of squad's own time on a run of
 * 2,000 short tasks. */
static void format_line(const struct task_record *rec, struct strbuf *out)
{
	size_t start = out->len, json;

	strbuf_addstr(out, "00000000 ");
	json = out->len;
	strbuf_addstr(out, "{\"status\":\"");
	strbuf_addstr(out, status_names[rec->status]);
	add_json_number(out, "\",\"exit_code\":", rec->exit_code);
	add_json_number(out, ",\"duration_ms\":", rec->duration_ms);
	add_json_number(out, ",\"finished\":", rec->finished);
	add_json_number(out, ",\"attempts\":", rec->attempts);
	if (rec->log_cut)
		strbuf_addstr(out, ",\"log_cut\":true");
	add_json_field(out, "task", rec->task);
#define OPT(field) if (rec->field) add_json_field(out, #field, rec->field)
	OPT(fingerprint);
	OPT(summary);
	OPT(answer);
	OPT(note);
#undef OPT
	strbuf_addch(out, '}');
	snprintf(out->buf + start, 9, "%08x", crc32_of(out->buf + json, out->len - json));
	out->buf[start + 8] = ' ';
	strbuf_addch(out, '\n');
}

char *state_bounded_text(const char *s)
{
	static const char cut[] = "\n[cut: squad keeps 64 KiB of a text; the whole is in the "
				  "task's log]";
	struct strbuf sb = STRBUF_INIT;
	size_t len;

	if (!s || (len = strlen(s)) <= STATE_MAX_TEXT)
		return s ? xstrdup(s) : NULL;
	len = STATE_MAX_TEXT - (sizeof(cut) - 1);
	while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--; /* not inside a character */
	strbuf_add(&sb, s, len);
	strbuf_addstr(&sb, cut);
	return strbuf_detach(&sb, NULL);
}

int state_put(struct state *st, const struct task_record *rec, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	struct task_record copy = *rec;
	int ret = 0;

	copy.task = xstrdup(rec->task);
	copy.fingerprint = state_bounded_text(rec->fingerprint);
	copy.summary = state_bounded_text(rec->summary);
	copy.answer = state_bounded_text(rec->answer);
	copy.note = state_bounded_text(rec->note);
	format_line(&copy, &line);
	put_in_memory(st, &copy);
	/* one write() of one line: O_APPEND makes it land whole or torn at
	 * the end, which the reader drops */
	if (st->journal_fd >= 0 &&
	    write(st->journal_fd, line.buf, line.len) != (ssize_t)line.len) {
		strbuf_addf(err, "cannot append to '%s/state': %s", st->dir,
			    errno ? strerror(errno) : "short write");
		ret = -1;
	}
	strbuf_release(&line);
	return ret;
}

void state_format(const struct state *st, struct strbuf *out)
{
	strbuf_addstr(out, STATE_HEADER);
	for (size_t i = 0; i < st->nr; i++)
		format_line(&st->records[i], out);
}

bool state_wants_compaction(const struct state *st)
{
	/* no journal (never loaded, as an exec's): nothing to rewrite */
	if (st->journal_fd < 0)
		return false;
	return st->unkempt || (st->stale_lines > 100 && st->stale_lines > st->nr);
}

int state_compact(struct state *st, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	state_format(st, &text);
	ret = state_write_in(st, STATE_JOURNAL, text.buf, text.len, err);
	if (!ret) {
		/* appends must go to the new file from now on */
		if (st->journal_fd >= 0)
			close(st->journal_fd);
		st->journal_fd = openat(st->dir_fd, STATE_JOURNAL,
					O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		st->stale_lines = 0;
		st->unkempt = false;
	}
	strbuf_release(&text);
	return ret;
}

void state_close(struct state *st)
{
	for (size_t i = 0; i < st->nr; i++)
		task_record_release(&st->records[i]);
	free(st->records);
	strmap_release(&st->index);
	if (st->journal_fd >= 0)
		close(st->journal_fd);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* drops the flock */
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	if (st->logs_fd >= 0)
		close(st->logs_fd);
	if (st->inputs_fd >= 0)
		close(st->inputs_fd);
	free(st->dir);
	state_init(st);
}

void task_record_release(struct task_record *rec)
{
	free(rec->task);
	free(rec->fingerprint);
	free(rec->summary);
	free(rec->answer);
	free(rec->note);
	memset(rec, 0, sizeof(*rec));
}

/* The file name of `task` in a folder of .squad: the task name with
 * every byte outside [A-Za-z0-9._-] (and a leading '.') as %XX, cut
 * with a hash when long, then `ext`. */
static void task_file_name(const char *task, const char *ext, struct strbuf *name)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = name->len;

	for (const unsigned char *p = (const unsigned char *)task; *p; p++) {
		bool safe = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			    (*p == '.' && p != (const unsigned char *)task);

		if (safe) {
			strbuf_addch(name, *p);
		} else {
			strbuf_addch(name, '%');
			strbuf_addch(name, hex[*p >> 4]);
			strbuf_addch(name, hex[*p & 15]);
		}
	}
	if (name->len - start > 160) {
		/* file names are at most 255 bytes: keep a prefix, add a hash */
		uint32_t h1 = crc32_of(task, strlen(task));
		uint32_t h2 = crc32_of(name->buf + start, name->len - start);

		strbuf_setlen(name, start + 140);
		strbuf_addf(name, "~%08x%08x", h1, h2);
	}
	strbuf_addstr(name, ext);
}

void state_task_file_name(const char *task, const char *ext, struct strbuf *name)
{
	task_file_name(task, ext, name);
}

int state_open_changes(const struct state *st, bool create, struct strbuf *err)
{
	struct strbuf shown = STRBUF_INIT;
	int fd;

	strbuf_addf(&shown, "%s/" STATE_CHANGES_DIR, st->dir);
	fd = file_open_folder(st->dir_fd, STATE_CHANGES_DIR, shown.buf, create, err);
	strbuf_release(&shown);
	return fd;
}

void state_log_path(const struct state *st, const char *task, struct strbuf *path)
{
	strbuf_addf(path, "%s/" STATE_LOGS "/", st->dir);
	task_file_name(task, STATE_LOG_EXT, path);
}

/* The fd of logs/ or inputs/ (`sub`) in *fd, made and opened now when
 * state_open_dir() left it for later: relative to the folder's own fd,
 * and never through a symlink a task put in its place. Returns the fd,
 * or -1 with errno (and the reason in err when given). */
static int lazy_folder(const struct state *st, int *fd, const char *sub, struct strbuf *err)
{
	struct strbuf shown = STRBUF_INIT, ignored = STRBUF_INIT;

	if (*fd >= 0 || st->dir_fd < 0)
		return *fd >= 0 ? *fd : (errno = EBADF, -1);
	strbuf_addf(&shown, "%s/%s", st->dir, sub);
	*fd = file_open_folder(st->dir_fd, sub, shown.buf, true, err ? err : &ignored);
	strbuf_release(&shown);
	strbuf_release(&ignored);
	return *fd;
}

int state_open_log(struct state *st, const char *task, const char *ext, int flags,
		   struct strbuf *path)
{
	struct strbuf name = STRBUF_INIT;
	int fd, saved;

	task_file_name(task, ext, &name);
	if (path)
		strbuf_addf(path, "%s/" STATE_LOGS "/%s", st->dir, name.buf);
	if (lazy_folder(st, &st->logs_fd, STATE_LOGS, NULL) < 0) {
		saved = errno;
		strbuf_release(&name);
		errno = saved;
		return -1;
	}
	fd = openat(st->logs_fd, name.buf, flags | O_CLOEXEC | O_NOFOLLOW, 0666);
	saved = errno;
	strbuf_release(&name);
	errno = saved;
	return fd;
}

int state_unlink_log(const struct state *st, const char *name)
{
	return unlinkat(st->logs_fd, name, 0);
}

DIR *state_open_logs(const struct state *st)
{
	int fd = openat(st->logs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}

int state_load_inputs(const struct state *st, const char *task, struct strbuf *list)
{
	struct strbuf name = STRBUF_INIT;
	int ret;

	task_file_name(task, STATE_INPUTS_EXT, &name);
	ret = file_read_at(st->inputs_fd, name.buf, list);
	strbuf_release(&name);
	return ret;
}

int state_write_in(const struct state *st, const char *name, const char *data, size_t len,
		   struct strbuf *err)
{
	return file_write_at(st->dir_fd, st->dir, name, data, len, err);
}

int state_write_sub(const struct state *st, int dir_fd, const char *sub, const char *name,
		    const char *data, size_t len, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT, shown = STRBUF_INIT, shown_tmp = STRBUF_INIT;
	struct file_target t = { dir_fd, name, NULL, st->dir_fd, NULL, NULL };
	int ret;

	strbuf_addf(&tmp, "%s.%s.tmp.%ld", sub, name, (long)getpid());
	strbuf_addf(&shown, "%s/%s/%s", st->dir, sub, name);
	strbuf_addf(&shown_tmp, "%s/%s", st->dir, tmp.buf);
	t.shown = shown.buf;
	t.tmp = tmp.buf;
	t.shown_tmp = shown_tmp.buf;
	ret = file_replace(&t, false, data, len, err);
	strbuf_release(&tmp);
	strbuf_release(&shown);
	strbuf_release(&shown_tmp);
	return ret;
}

int state_save_inputs(struct state *st, const char *task, const struct strbuf *list,
		      struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, tmp = STRBUF_INIT, shown = STRBUF_INIT,
		      shown_tmp = STRBUF_INIT;
	struct file_target t = { -1, NULL, NULL, st->dir_fd, NULL, NULL };
	int ret;

	if (lazy_folder(st, &st->inputs_fd, STATE_INPUTS, err) < 0)
		return -1;
	t.dir = st->inputs_fd;
	task_file_name(task, STATE_INPUTS_EXT, &name);
	/* the temp file in .squad/ itself, where state_lock() clears what
	 * a killed squad left: a scan of inputs/ would cost every run a
	 * readdir of one name per task */
	strbuf_addf(&tmp, STATE_INPUTS ".%s.tmp.%ld", name.buf, (long)getpid());
	strbuf_addf(&shown, "%s/" STATE_INPUTS "/%s", st->dir, name.buf);
	strbuf_addf(&shown_tmp, "%s/%s", st->dir, tmp.buf);
	t.name = name.buf;
	t.shown = shown.buf;
	t.tmp = tmp.buf;
	t.shown_tmp = shown_tmp.buf;
	ret = file_replace(&t, false, list->buf, list->len, err);
	strbuf_release(&name);
	strbuf_release(&tmp);
	strbuf_release(&shown);
	strbuf_release(&shown_tmp);
	return ret;
}
