/* diag.c - positioned diagnostics and typo suggestions; see diag.h. */
#include "model/diag.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((format(printf, 4, 0)))
void add(struct diag_list *dl, enum diag_level level, struct mark at,
	 const char *fmt, va_list ap)
{
	struct strbuf raw = STRBUF_INIT, sb = STRBUF_INIT;
	struct diag *d;

	strbuf_vaddf(&raw, fmt, ap);
	/* a message quotes what the file holds (a name with an ESC in it,
	 * say): it must reach the terminal as text, on one line */
	strbuf_add_printable(&sb, raw.buf);
	strbuf_reset(&raw);
	strbuf_addf(&raw, "%d %u:%u %s", (int)level, at.line, at.col, sb.buf);
	if (strmap_get(&dl->seen, raw.buf) >= 0) {
		strbuf_release(&raw);
		strbuf_release(&sb);
		return; /* said already */
	}
	ALLOC_GROW(dl->items, dl->nr + 1, dl->alloc);
	d = &dl->items[dl->nr];
	d->level = level;
	d->mark = at;
	d->message = strbuf_detach(&sb, NULL);
	d->key = strbuf_detach(&raw, NULL);
	strmap_put(&dl->seen, d->key, (int)dl->nr++);
	if (level == DIAG_ERROR)
		dl->errors++;
}

void diag_error(struct diag_list *dl, struct mark at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(dl, DIAG_ERROR, at, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag_list *dl, struct mark at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(dl, DIAG_WARNING, at, fmt, ap);
	va_end(ap);
}

/* qsort is not stable, and comparing addresses does not make it so (the
 * elements move while it sorts): each item carries its place in the
 * order of discovery instead. */
struct numbered {
	struct diag d;
	size_t seq;
};

static int by_position(const void *a, const void *b)
{
	const struct numbered *x = a, *y = b;

	if (x->d.mark.line != y->d.mark.line)
		return x->d.mark.line < y->d.mark.line ? -1 : 1;
	if (x->d.mark.col != y->d.mark.col)
		return x->d.mark.col < y->d.mark.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_by_position(struct diag_list *dl)
{
	struct numbered *tmp = xmalloc(dl->nr * sizeof(*tmp));

	for (size_t i = 0; i < dl->nr; i++) {
		tmp[i].d = dl->items[i];
		tmp[i].seq = i;
	}
	qsort(tmp, dl->nr, sizeof(*tmp), by_position);
	for (size_t i = 0; i < dl->nr; i++)
		dl->items[i] = tmp[i].d;
	free(tmp);
}

void diag_format(struct diag_list *dl, struct strbuf *out)
{
	if (dl->nr > 1)
		sort_by_position(dl);
	for (size_t i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];
		const char *level = d->level == DIAG_ERROR ? "error" : "warning";

		if (d->mark.line)
			strbuf_addf(out, "%s:%u:%u: %s: %s\n", dl->file,
				    d->mark.line, d->mark.col, level, d->message);
		else
			strbuf_addf(out, "%s: %s: %s\n", dl->file, level, d->message);
	}
}

void diag_list_release(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->nr; i++) {
		free(dl->items[i].message);
		free(dl->items[i].key);
	}
	free(dl->items);
	strmap_release(&dl->seen);
	dl->items = NULL;
	dl->nr = dl->alloc = dl->errors = 0;
}

/* Optimal string alignment distance, two rows of len(b)+1. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *prev2 = xcalloc(lb + 1, sizeof(size_t));
	size_t *prev = xcalloc(lb + 1, sizeof(size_t));
	size_t *cur = xcalloc(lb + 1, sizeof(size_t));
	size_t result;

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	result = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return result;
}

const char *diag_suggest(const char *word, const char *const *candidates, long nr)
{
	const char *best = NULL;
	size_t best_distance = (size_t)-1;
	size_t len = strlen(word);
	/* a third of the word, at least one edit, at most three */
	size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;

	if (len > 256)
		return NULL; /* names that long are not typos; spare the O(n*m) */
	for (long i = 0; nr < 0 ? candidates[i] != NULL : i < nr; i++) {
		size_t d;

		if (strlen(candidates[i]) > 256)
			continue;
		d = edit_distance(word, candidates[i]);
		if (d < best_distance) {
			best_distance = d;
			best = candidates[i];
		}
	}
	return best_distance <= limit && best_distance > 0 ? best : NULL;
}

void diag_add_suggestion(struct strbuf *sb, const char *word,
			 const char *const *candidates, long nr)
{
	const char *s = diag_suggest(word, candidates, nr);

	if (s)
		strbuf_addf(sb, "; did you mean '%s'?", s);
}
