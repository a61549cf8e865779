/* regex.h - PCRE2 patterns, compiled once (JIT where available).
 *
 * Squadfile patterns (routing `match`, task `expect`, worker
 * `rate_limit_pattern`) are compiled when the Squadfile is loaded, so a bad
 * pattern is a Squadfile error with its column, and matching at run time
 * costs no compilation.
 */
#ifndef SQUAD_REGEX_H
#define SQUAD_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

struct regex;

/* Compile `pattern` (UTF-8). Returns the regex, or NULL with PCRE2's
 * message in `err` and the byte offset of the problem in `*err_offset`.
 * Free with regex_free(). */
struct regex *regex_compile(const char *pattern, struct strbuf *err, size_t *err_offset);
void regex_free(struct regex *re);

/* Does `re` match anywhere in subject[0..len)? When `capture` is not
 * NULL and the match has a first group, the group is appended to it,
 * else the whole match. */
bool regex_match(const struct regex *re, const char *subject, size_t len,
		 struct strbuf *capture);

/* The last line of subject[0..len) that `re` matches, appended to
 * `line` (without its newline). Returns whether one matched. When the
 * pattern has a group, the group's text of that line is appended instead. */
bool regex_last_matching_line(const struct regex *re, const char *subject,
			      size_t len, struct strbuf *line);

#endif
