/* filecache.c - .squad/files; see filecache.h.
 *
 * One line per file, sorted by path as file lists are, so that applying
 * is one merge of two sorted lists:
 *
 *   squad-files 1
 *   OID MTIME_SEC MTIME_NSEC CTIME_SEC CTIME_NSEC SIZE INODE PATH
 */
#include "filecache.h"
#include "state.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FILECACHE_HEADER "squad-files 1\n"

static bool is_oid(const char *s)
{
	for (int i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[40] == ' ';
}

/* One line (without its '\n') into oid, stat data and path; false when
 * it is not whole. */
static bool parse_line(char *line, char oid[41], struct file_stat *st, const char **path)
{
	char *p = line + 41;
	uint64_t v[6];

	if (!is_oid(line))
		return false;
	/* by hand: strtoull() was most of reading 20,000 lines */
	for (int i = 0; i < 6; i++) {
		int digits = 0;

		for (v[i] = 0; *p >= '0' && *p <= '9' && digits < 19; p++, digits++)
			v[i] = v[i] * 10 + (uint64_t)(*p - '0');
		if (!digits || *p++ != ' ')
			return false;
	}
	if (!*p)
		return false;
	memcpy(oid, line, 40);
	oid[40] = '\0';
	*st = (struct file_stat){ (int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3],
				  (int64_t)v[4], v[5] };
	*path = p;
	return true;
}

static bool same_stat(const struct file_stat *a, const struct file_stat *b)
{
	return a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec &&
	       a->size == b->size && a->ino == b->ino;
}

size_t filecache_apply(struct file_list *files, const char *path)
{
	struct strbuf text = STRBUF_INIT;
	size_t i = 0, filled = 0, header = strlen(FILECACHE_HEADER);
	char *line, *nl;

	if (strbuf_read_file(&text, path) < 0 || text.len < header ||
	    memcmp(text.buf, FILECACHE_HEADER, header)) {
		strbuf_release(&text);
		return 0;
	}
	for (line = text.buf + header; (nl = memchr(line, '\n', text.len - (size_t)(line - text.buf)));
	     line = nl + 1) {
		char oid[41];
		struct file_stat st;
		const char *file;
		int cmp = 1;

		*nl = '\0';
		if (!parse_line(line, oid, &st, &file))
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
	strbuf_release(&text);
	return filled;
}

/* Changed before the listing began, by the coarse clock that stamps
 * file times: a later change shows as another ctime. (ctime, not mtime:
 * an mtime can be set to any time, a ctime is always that of the
 * change.) */
static bool settled(const struct file_list *files, const struct file_stat *st)
{
	return st->ctime_sec < files->listed_at.tv_sec ||
	       (st->ctime_sec == files->listed_at.tv_sec &&
		st->ctime_nsec < files->listed_at.tv_nsec);
}

int filecache_save(const struct file_list *files, const char *path, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	if (!files->hashed)
		return 0;
	strbuf_addstr(&text, FILECACHE_HEADER);
	for (size_t i = 0; i < files->nr; i++) {
		const struct file_stat *st = &files->stats[i];

		if (strlen(files->oid[i]) != 40 || strchr(files->paths[i], '\n') ||
		    !settled(files, st))
			continue;
		strbuf_add(&text, files->oid[i], 40);
		strbuf_addf(&text, " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
			    " %" PRIu64 " ", st->mtime_sec, st->mtime_nsec, st->ctime_sec,
			    st->ctime_nsec, st->size, st->ino);
		strbuf_addstr(&text, files->paths[i]);
		strbuf_addch(&text, '\n');
	}
	ret = state_write_file(path, text.buf, text.len, err);
	strbuf_release(&text);
	return ret;
}
