/* tail.h - the end of a log: what a report shows of a task's output.
 *
 * A log can be any size (a test suite's output, a runaway loop): every
 * reader here reads at most the bytes it was asked for, from the end.
 */
#ifndef SQUAD_TAIL_H
#define SQUAD_TAIL_H

#include <stddef.h>
#include <sys/types.h>

#include "util/strbuf.h"

/* What reports show of a failed task's log: its last lines, bounded in
 * bytes (the JUnit <failure> text, the manifest's log_tail). */
#define TAIL_LINES 40
#define TAIL_BYTES 8192

/* Append the last `max` bytes of the file at `fd`, none before offset
 * `start`, to out (read with pread: fd's offset is left alone). Nothing
 * is appended when fd cannot be read. */
void tail_read(int fd, off_t start, size_t max, struct strbuf *out);

/* Append the last `lines` lines of the file at `path`, at most `max`
 * bytes, to out: trailing whitespace dropped, starting at a character
 * (a byte cut can land inside one). Returns 1 when something before
 * them was left out, 0 when they are the whole file, -1 (nothing
 * appended) when it cannot be opened. */
int tail_lines(const char *path, int lines, size_t max, struct strbuf *out);

#endif
