/* xalloc.h - allocation that never returns NULL.
 *
 * Every allocation in squad goes through these wrappers. On out-of-memory
 * they print one line and abort, so callers need no NULL checks and every
 * error path stays about the real error.
 */
#ifndef SQUAD_XALLOC_H
#define SQUAD_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow array `ptr` (of `alloc` elements) so that it holds at least `nr`
 * elements; capacity grows geometrically so appends are amortised O(1). */
#define ALLOC_GROW(ptr, nr, alloc)                                          \
	do {                                                                \
		if ((size_t)(nr) > (size_t)(alloc)) {                       \
			size_t alloc_grow_n_ = (size_t)(alloc) * 3 / 2 + 16; \
			if (alloc_grow_n_ < (size_t)(nr))                   \
				alloc_grow_n_ = (size_t)(nr);               \
			(ptr) = xrealloc((ptr), alloc_grow_n_ * sizeof(*(ptr))); \
			(alloc) = alloc_grow_n_;                            \
		}                                                           \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
