/* strvec.h - a NULL-terminated vector of owned strings (an argv).
 *
 * `v[nr]` is always NULL, so `v` can be passed to execv() as it is.
 * Every string pushed is copied; strvec_clear() frees them all.
 */
#ifndef SQUAD_STRVEC_H
#define SQUAD_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern const char *strvec_empty[];
#define STRVEC_INIT { (char **)strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
/* Push without copying: the vector takes ownership of `s`. */
void strvec_push_nodup(struct strvec *sv, char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strvec_clear(struct strvec *sv);
/* Index of `s` in sv, or -1. */
long strvec_find(const struct strvec *sv, const char *s);

#endif
