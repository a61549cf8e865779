/* filecache.c - .squad/files; see filecache.h.
 *
 * One line per folder, then one per file, each sorted by path as file
 * lists are, so that applying is one merge of two sorted lists:
 *
 *   squad-files 3
 *   d MTIME_SEC MTIME_NSEC CTIME_SEC CTIME_NSEC INODE LEN NAMES PATH
 *   OID MTIME_SEC MTIME_NSEC CTIME_SEC CTIME_NSEC SIZE INODE PATH
 *
 * NAMES are LEN bytes: the folder's names in the walk's order, a
 * folder's with a '/' after it, one git leaves out with a '/' before
 * it, each ended by a NUL (a name holds neither NUL nor '/'). A path or
 * name with a newline is not kept.
 */
#include "files/filecache.h"
#include "files/fileio.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FILECACHE_HEADER "squad-files 3\n"

static bool is_oid(const char *s)
{
	for (int i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[40] == ' ';
}

/* `n` numbers, each followed by a space, from *p on; false when they
 * are not there. By hand: strtoull() was most of reading 20,000 lines. */
static bool parse_numbers(const char **p, uint64_t *v, int n)
{
	for (int i = 0; i < n; i++) {
		int digits = 0;

		for (v[i] = 0; **p >= '0' && **p <= '9' && digits < 19; (*p)++, digits++)
			v[i] = v[i] * 10 + (uint64_t)(**p - '0');
		if (!digits || *(*p)++ != ' ')
			return false;
	}
	return true;
}

bool filecache_parse_stat(const char **p, struct file_stat *st)
{
	uint64_t v[6];

	if (!parse_numbers(p, v, 6))
		return false;
	*st = (struct file_stat){ (int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3],
				  (int64_t)v[4], v[5] };
	return true;
}

void filecache_add_stat(struct strbuf *out, const struct file_stat *st)
{
	strbuf_addf(out, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRIu64
		    " ", st->mtime_sec, st->mtime_nsec, st->ctime_sec, st->ctime_nsec, st->size,
		    st->ino);
}

/* A file line (without its '\n') into oid, stat data and path; false
 * when it is not whole. */
static bool parse_file_line(const char *line, char oid[41], struct file_stat *st,
			    const char **path)
{
	const char *p = line + 41;

	if (!is_oid(line) || !filecache_parse_stat(&p, st) || !*p)
		return false;
	memcpy(oid, line, 40);
	oid[40] = '\0';
	*path = p;
	return true;
}

/* Could these be the names a walk lists in a folder: each once, a
 * folder's with one '/' after it, maybe git's mark before it, in the
 * walk's order (strcmp's, the '/' after included, the mark not)?
 * Anything else could take the walk out of its folder ("..") or through
 * one folder twice. */
static bool names_ok(const char *names, size_t len)
{
	const char *prev = NULL;

	for (size_t off = 0, n; off < len; off += n + 1) {
		const char *name = names + off;
		size_t bare;

		n = strlen(name);
		name += n && name[0] == '/';
		bare = n - (name - (names + off));
		bare -= bare && name[bare - 1] == '/';
		if (!bare || memchr(name, '/', bare) || (prev && strcmp(prev, name) >= 0) ||
		    (bare == 1 && name[0] == '.') || (bare == 2 && !memcmp(name, "..", 2)) ||
		    (bare == 4 && !memcmp(name, ".git", 4)) ||
		    (bare == strlen(STATE_DIR_NAME) && !memcmp(name, STATE_DIR_NAME, bare)))
			return false;
		prev = name;
	}
	return true;
}

/* A folder line that ends at `end` (its '\n', now a NUL) into the
 * cache's list; false when it is not whole. */
static bool parse_folder_line(struct filecache *fc, const char *line, const char *end)
{
	const char *p = line + 2;
	struct cached_folder *f;
	uint64_t v[6];

	if (!parse_numbers(&p, v, 6) || v[5] > (uint64_t)(end - p) || p[v[5]] != ' ' ||
	    (v[5] && p[v[5] - 1]) || !names_ok(p, v[5]))
		return false;
	ALLOC_GROW(fc->folders, fc->nr + 1, fc->alloc);
	f = &fc->folders[fc->nr];
	f->st = (struct file_stat){ (int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3],
				    0, v[4] };
	f->names = p;
	f->names_len = v[5];
	f->path = p + v[5] + 1;
	strmap_put(&fc->index, f->path, (int)fc->nr++);
	return true;
}

/* A folder's size says nothing of its names: times and inode only. */
static bool same_folder_stat(const struct file_stat *a, const struct file_stat *b)
{
	return a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec &&
	       a->ino == b->ino;
}

static bool same_stat(const struct file_stat *a, const struct file_stat *b)
{
	return same_folder_stat(a, b) && a->size == b->size;
}

void filecache_load(struct filecache *fc, const char *path)
{
	size_t header = strlen(FILECACHE_HEADER);
	char *line, *nl;

	if (file_read(path, &fc->text) < 0 || fc->text.len < header ||
	    memcmp(fc->text.buf, FILECACHE_HEADER, header)) {
		strbuf_reset(&fc->text);
		return;
	}
	/* the folder lines; the file lines are read by filecache_apply() */
	for (line = fc->text.buf + header; line[0] == 'd' && line[1] == ' ' &&
	     (nl = memchr(line, '\n', fc->text.len - (size_t)(line - fc->text.buf)));
	     line = nl + 1) {
		*nl = '\0';
		parse_folder_line(fc, line, nl);
	}
	/* the file lines, each cut at its '\n'; a torn last one is left out */
	fc->files_at = (size_t)(line - fc->text.buf);
	fc->files_end = fc->files_at;
	while ((nl = memchr(fc->text.buf + fc->files_end, '\n', fc->text.len - fc->files_end))) {
		*nl = '\0';
		fc->files_end = (size_t)(nl + 1 - fc->text.buf);
	}
}

void filecache_release(struct filecache *fc)
{
	strbuf_release(&fc->text);
	strmap_release(&fc->index);
	free(fc->folders);
	memset(fc, 0, sizeof(*fc));
}


const char *filecache_folder(const struct filecache *fc, const char *path,
			     const struct file_stat *st, size_t *names_len)
{
	int at = strmap_get(&fc->index, path);

	if (at < 0 || !same_folder_stat(&fc->folders[at].st, st))
		return NULL;
	*names_len = fc->folders[at].names_len;
	return fc->folders[at].names;
}

size_t filecache_apply(const struct filecache *fc, struct file_list *files)
{
	size_t i = 0, filled = 0;
	const char *line, *end = fc->text.buf + fc->files_end;

	for (line = fc->text.buf + fc->files_at; line < end; line += strlen(line) + 1) {
		char oid[41];
		struct file_stat st;
		const char *file;
		int cmp = 1;

		if (!parse_file_line(line, oid, &st, &file))
			continue;
		while (i < files->nr && (cmp = strcmp(files->paths[i], file)) < 0)
			i++;
		if (i == files->nr)
			break;
		if (cmp == 0 && !files->oid[i][0] && same_stat(&files->stats[i], &st)) {
			memcpy(files->oid[i], oid, 41);
			filled++;
		}
	}
	return filled;
}

int filecache_save(const struct file_list *files, const char *path, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	strbuf_addstr(&text, FILECACHE_HEADER);
	for (size_t i = 0; i < files->nr_folders; i++) {
		const struct folder_listing *f = &files->folders[i];

		if (strchr(f->path, '\n') || memchr(f->names, '\n', f->names_len) ||
		    !file_stat_settled(&f->st, &files->listed_at))
			continue;
		strbuf_addf(&text, "d %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRIu64
			    " %zu ", f->st.mtime_sec, f->st.mtime_nsec, f->st.ctime_sec,
			    f->st.ctime_nsec, f->st.ino, f->names_len);
		strbuf_add(&text, f->names, f->names_len);
		strbuf_addf(&text, " %s\n", f->path);
	}
	for (size_t i = 0; i < files->nr; i++) {
		const struct file_stat *st = &files->stats[i];

		if (strlen(files->oid[i]) != 40 || strchr(files->paths[i], '\n') ||
		    !file_stat_settled(st, &files->listed_at))
			continue;
		strbuf_add(&text, files->oid[i], 40);
		strbuf_addch(&text, ' ');
		filecache_add_stat(&text, st);
		strbuf_addstr(&text, files->paths[i]);
		strbuf_addch(&text, '\n');
	}
	ret = file_write_own(path, text.buf, text.len, err);
	strbuf_release(&text);
	return ret;
}
