/* diag.h - FILE:LINE:COL diagnostics and "did you mean" suggestions.
 *
 * Modules that read user input collect problems into a diag_list instead
 * of printing them, so that all problems of one pass reach the user
 * together, sorted by position, and only main decides where they go.
 */
#ifndef SQUAD_DIAG_H
#define SQUAD_DIAG_H

#include <stddef.h>

#include "util/strbuf.h"
#include "util/strmap.h"

/* A position in a file, 1-based. line 0 means "the file as a whole". */
struct mark {
	unsigned line;
	unsigned col;
};

enum diag_level {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	enum diag_level level;
	struct mark mark;
	char *message;
	char *key;     /* "LEVEL LINE:COL MESSAGE", for spotting repeats */
};

struct diag_list {
	const char *file; /* borrowed; printed in front of every mark */
	struct diag *items;
	size_t nr, alloc;
	size_t errors; /* how many items are DIAG_ERROR */
	struct strmap seen; /* items' keys */
};

#define DIAG_LIST_INIT(file) { (file), NULL, 0, 0, 0, STRMAP_INIT }

/* Add a problem. Control characters in the message (from a name that
 * quotes the file, say) are kept as escapes ("\x1b", "\n"), so that what
 * a file holds never acts on the terminal. A problem already reported at
 * the same place in the same words is not added again: a YAML alias
 * makes the reader visit one node many times, and its problems are said
 * once. */
void diag_error(struct diag_list *dl, struct mark at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warning(struct diag_list *dl, struct mark at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append every diagnostic, sorted by position (stable), one per line, as
 * "FILE:LINE:COL: error: message". */
void diag_format(struct diag_list *dl, struct strbuf *out);
void diag_list_release(struct diag_list *dl);

/* The candidate closest to `word` by edit distance (adjacent swaps count
 * as one edit), or NULL when none is close enough to be a likely typo.
 * `candidates` is a NULL-terminated array, or `nr` long when nr >= 0. */
const char *diag_suggest(const char *word, const char *const *candidates, long nr);

/* Appends "; did you mean 'X'?" to sb when diag_suggest() finds one. */
void diag_add_suggestion(struct strbuf *sb, const char *word,
			 const char *const *candidates, long nr);

#endif
