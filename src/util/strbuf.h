/* strbuf.h - growable, always NUL-terminated byte string.
 *
 * A strbuf is a value: declare it with STRBUF_INIT, append to it, and
 * strbuf_release() it when done. `buf` is never NULL, so it can be printed
 * right after init. strbuf_detach() hands the bytes to the caller (free()).
 */
#ifndef SQUAD_STRBUF_H
#define SQUAD_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_empty[];
#define STRBUF_INIT { 0, 0, strbuf_empty }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Append `s` as one word for /bin/sh: as it is when no character in it
 * means anything to the shell, else in single quotes. */
void strbuf_add_shell_quoted(struct strbuf *sb, const char *s);

/* Append `s` with control characters as C escapes: "\n", "\t", "\x1b",
 * and C1 controls (U+0080-U+009F) as "\u009b". Invisible characters
 * that change how the text around them is shown are escaped the same
 * way ("\u202e"): the bidirectional controls of "Trojan Source"
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and
 * paragraph separators (U+2028, U+2029), and the invisible U+200B,
 * U+2060-U+206F and U+FEFF (U+200C and U+200D stay: scripts and emoji
 * need them). Text from a file or a task (a name, a hand-edited
 * manifest) then never acts on a terminal, nor reads other than it is.
 * strbuf_add_printable_len() takes `len` bytes of `s` (NULs included,
 * as "\x00"). */
void strbuf_add_printable(struct strbuf *sb, const char *s);
void strbuf_add_printable_len(struct strbuf *sb, const char *s, size_t len);

/* Strip trailing whitespace (spaces, tabs, newlines). */
void strbuf_rtrim(struct strbuf *sb);

/* Replace every byte that is not part of valid UTF-8 with '?', in place,
 * so the text can go into JSON. */
void strbuf_utf8_sanitize(struct strbuf *sb);
void utf8_sanitize(char *s, size_t len);

/* The length of the valid UTF-8 sequence at p (at most `left` bytes) and
 * its code point in *cp, or 0 when it is not valid UTF-8 (overlong, a
 * surrogate, past U+10FFFF, cut short): the rules jansson reads by. */
size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp);

/* Read the whole file at `path` into sb (appending). Returns 0, or -1 with
 * errno set; on error sb keeps what it had before. */
int strbuf_read_file(struct strbuf *sb, const char *path);

/* Read `fd` to its end into sb (appending), at most `max` bytes: one
 * more is an error (errno EFBIG), so that /dev/zero or a huge file ends
 * at once. Does not close fd. Returns 0, or -1 with errno set; on error
 * sb keeps what it had before. */
int strbuf_read_fd(struct strbuf *sb, int fd, size_t max);

#endif
