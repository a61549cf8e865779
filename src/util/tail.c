/* tail.c - the end of a log; see tail.h. */
#include "util/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tail_read(int fd, off_t start, size_t max, struct strbuf *out)
{
	struct stat sb;
	off_t from;
	char buf[65536];

	if (fd < 0 || fstat(fd, &sb) < 0)
		return;
	from = sb.st_size > (off_t)max ? sb.st_size - (off_t)max : 0;
	if (from < start)
		from = start;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), from);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_add(out, buf, (size_t)n);
		from += n;
	}
}

int tail_lines(const char *path, int lines, size_t max, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	const char *start, *end;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	int seen = 0;
	struct stat sb;
	bool cut;

	if (fd < 0)
		return -1;
	tail_read(fd, 0, max, &text);
	cut = fstat(fd, &sb) == 0 && sb.st_size > (off_t)text.len;
	close(fd);
	end = text.buf + text.len;
	while (end > text.buf && strchr(" \t\r\n", end[-1]))
		end--;
	start = end;
	while (start > text.buf && !(start[-1] == '\n' && ++seen == lines))
		start--;
	if (start > text.buf)
		cut = true;
	while (start < end && ((unsigned char)*start & 0xc0) == 0x80)
		start++;
	strbuf_add(out, start, (size_t)(end - start));
	strbuf_release(&text);
	return cut ? 1 : 0;
}
