/* state.c - lock, journal and log paths under .squad/; see state.h. */
#include "state.h"
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

/* Why open(path, ... O_NOFOLLOW) failed, in words: ELOOP there means
 * that someone put a symlink in the place of a file of .squad. */
static void open_error(struct strbuf *err, const char *path, int errnum)
{
	if (errnum == ELOOP)
		strbuf_addf(err, "'%s' is a symlink; squad will not follow it "
			    "(remove it to start fresh)", path);
	else
		strbuf_addf(err, "cannot open '%s': %s", path, strerror(errnum));
}

void state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = st->journal_fd = -1;
}

int state_open(struct state *st, const char *root, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	int ret;

	strbuf_addf(&dir, "%s/.squad", root);
	ret = state_open_dir(st, dir.buf, err);
	strbuf_release(&dir);
	return ret;
}

int state_open_dir(struct state *st, const char *dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;

	state_init(st);
	st->dir = xstrdup(dir);

	if (lstat(st->dir, &sb) < 0) {
		if (errno != ENOENT || mkdir(st->dir, 0777) < 0) {
			strbuf_addf(err, "cannot create '%s': %s", st->dir, strerror(errno));
			return -1;
		}
		strbuf_addf(&path, "%s/.gitignore", st->dir);
		if (state_write_file(path.buf, "*\n", 2, err) < 0) {
			strbuf_release(&path);
			return -1;
		}
		strbuf_release(&path);
	} else if (S_ISLNK(sb.st_mode) || !S_ISDIR(sb.st_mode)) {
		strbuf_addf(err, "'%s' is %s, not a folder; squad will not follow it "
			    "(remove it to start fresh)", st->dir,
			    S_ISLNK(sb.st_mode) ? "a symlink" : "a file");
		return -1;
	}
	/* once here, not once per task; a symlink in their place would
	 * send every log out of the project */
	for (const char *const *sub = (const char *const[]){ "logs", "inputs", NULL }; *sub; sub++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", st->dir, *sub);
		if (mkdir(path.buf, 0777) < 0 && errno != EEXIST) {
			strbuf_addf(err, "cannot create '%s': %s", path.buf, strerror(errno));
			strbuf_release(&path);
			return -1;
		}
		if (lstat(path.buf, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
			strbuf_addf(err, "'%s' is %s, not a folder; squad will not follow it "
				    "(remove it to start fresh)", path.buf,
				    S_ISLNK(sb.st_mode) ? "a symlink" : "a file");
			strbuf_release(&path);
			return -1;
		}
	}
	strbuf_release(&path);
	return 0;
}

/* Remove the temp files of state_write_file() (NAME.tmp.PID) that a
 * process killed mid-write (kill -9 during compaction) left in .squad/:
 * those whose process is gone. A live process's file is kept: it may be
 * writing it right now. Best effort: a file that stays is only litter. */
static void remove_stale_temps(const struct state *st)
{
	DIR *d = opendir(st->dir);
	struct dirent *de;

	if (!d)
		return;
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

	if (st->lock_fd < 0) {
		strbuf_addf(&path, "%s/lock", st->dir);
		st->lock_fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (st->lock_fd < 0) {
			open_error(err, path.buf, errno);
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
		strbuf_addf(err, "cannot lock '%s/lock': %s", st->dir, strerror(errno));
		return -1;
	}
	remove_stale_temps(st);
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
	int ret = -1;

	strbuf_addf(&path, "%s/state", st->dir);
	st->journal_fd = open(path.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			      0666);
	if (st->journal_fd < 0) {
		open_error(err, path.buf, errno);
		goto out;
	}
	if (state_read_file(path.buf, &text) < 0) {
		strbuf_addf(err, "cannot read '%s': %s", path.buf, strerror(errno));
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

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int state_put(struct state *st, const struct task_record *rec, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	struct task_record copy = *rec;
	int ret = 0;

	copy.task = xstrdup(rec->task);
	copy.fingerprint = dup_or_null(rec->fingerprint);
	copy.summary = dup_or_null(rec->summary);
	copy.answer = dup_or_null(rec->answer);
	copy.note = dup_or_null(rec->note);
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
	return st->unkempt || (st->stale_lines > 100 && st->stale_lines > st->nr);
}

int state_compact(struct state *st, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT;
	int ret;

	state_format(st, &text);
	strbuf_addf(&path, "%s/state", st->dir);
	ret = state_write_file(path.buf, text.buf, text.len, err);
	if (!ret) {
		/* appends must go to the new file from now on */
		if (st->journal_fd >= 0)
			close(st->journal_fd);
		st->journal_fd = open(path.buf, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		st->stale_lines = 0;
		st->unkempt = false;
	}
	strbuf_release(&text);
	strbuf_release(&path);
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

static int write_by_rename(const char *path, const char *tmp, const char *data, size_t len,
			   struct strbuf *err);

/* .squad/FOLDER/ENCODED-TASK-NAME.EXT, the folder created when missing. */
static void task_file(const struct state *st, const char *folder, const char *task,
		      const char *ext, struct strbuf *path);

void state_log_path(const struct state *st, const char *task, struct strbuf *path)
{
	task_file(st, "logs", task, ".log", path);
}

int state_save_inputs(const struct state *st, const char *task, const struct strbuf *list,
		      struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	int ret;

	task_file(st, "inputs", task, ".txt", &path);
	/* the temp file in .squad/ itself, where state_lock() clears what
	 * a killed squad left: a scan of inputs/ would cost every run a
	 * readdir of one name per task */
	strbuf_addf(&tmp, "%s/inputs.%s.tmp.%ld", st->dir, strrchr(path.buf, '/') + 1,
		    (long)getpid());
	ret = write_by_rename(path.buf, tmp.buf, list->buf, list->len, err);
	strbuf_release(&path);
	strbuf_release(&tmp);
	return ret;
}

int state_load_inputs(const struct state *st, const char *task, struct strbuf *list)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	task_file(st, "inputs", task, ".txt", &path);
	ret = strbuf_read_file(list, path.buf);
	strbuf_release(&path);
	return ret;
}

static void task_file(const struct state *st, const char *folder, const char *task,
		      const char *ext, struct strbuf *path)
{
	static const char hex[] = "0123456789abcdef";
	size_t start;

	strbuf_addf(path, "%s/%s", st->dir, folder);
	strbuf_addch(path, '/');
	start = path->len;
	for (const unsigned char *p = (const unsigned char *)task; *p; p++) {
		bool safe = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			    (*p == '.' && p != (const unsigned char *)task);

		if (safe) {
			strbuf_addch(path, *p);
		} else {
			strbuf_addch(path, '%');
			strbuf_addch(path, hex[*p >> 4]);
			strbuf_addch(path, hex[*p & 15]);
		}
	}
	if (path->len - start > 160) {
		/* file names are at most 255 bytes: keep a prefix, add a hash */
		uint32_t h1 = crc32_of(task, strlen(task));
		uint32_t h2 = crc32_of(path->buf + start, path->len - start);

		strbuf_setlen(path, start + 140);
		strbuf_addf(path, "~%08x%08x", h1, h2);
	}
	strbuf_addstr(path, ext);
}

int state_read_file(const char *path, struct strbuf *sb)
{
	size_t old_len = sb->len;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), saved;

	if (fd < 0)
		return -1;
	/* room for the whole file, and for the read() that finds its end */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((unsigned long long)st.st_size > STATE_MAX_FILE) {
			errno = EFBIG;
			goto error;
		}
		strbuf_grow(sb, (size_t)st.st_size + 4096);
	}
	for (;;) {
		ssize_t n;

		if (sb->alloc - sb->len < 4096)
			strbuf_grow(sb, 65536);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto error;
		if (n == 0)
			break;
		strbuf_setlen(sb, sb->len + (size_t)n);
		if (sb->len - old_len > STATE_MAX_FILE) {
			errno = EFBIG; /* it grew while we read it */
			goto error;
		}
	}
	close(fd);
	return 0;
error:
	saved = errno;
	close(fd);
	strbuf_setlen(sb, old_len);
	errno = saved;
	return -1;
}

/* Write `data` to `tmp`, then rename it over `path`. */
static int write_by_rename(const char *path, const char *tmp, const char *data, size_t len,
			   struct strbuf *err)
{
	struct stat sb;
	size_t done = 0;
	int fd;

	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		strbuf_addf(err, "'%s' is a symlink; squad will not write through it", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0) {
		strbuf_addf(err, "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			strbuf_addf(err, "cannot write '%s': %s", tmp,
				    n < 0 ? strerror(errno) : "no space");
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		strbuf_addf(err, "cannot replace '%s': %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int state_write_file(const char *path, const char *data, size_t len, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	int ret;

	strbuf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	ret = write_by_rename(path, tmp.buf, data, len, err);
	strbuf_release(&tmp);
	return ret;
}
