/* test_tail.c - the end of a log: bounded in bytes and lines, trailing
 * blanks dropped, never starting inside a character, offsets kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/tail.h"

static char path[] = "/tmp/squad-test-tail-XXXXXX";

static void write_log(const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void lines_are_the_last_ones_without_trailing_blanks(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	write_log("one\ntwo\nthree\n\n  \n");
	assert_int_equal(tail_lines(path, 2, 100, &out), 1);
	assert_string_equal(out.buf, "two\nthree");
	strbuf_reset(&out);
	assert_int_equal(tail_lines(path, 10, 100, &out), 0);
	assert_string_equal(out.buf, "one\ntwo\nthree");
	strbuf_release(&out);
}

static void bytes_bound_it_and_a_character_is_never_cut(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	/* "é" is two bytes: the last 5 bytes start inside it */
	write_log("aaaa\xc3\xa9" "bcd\n");
	assert_int_equal(tail_lines(path, 10, 5, &out), 1);
	assert_string_equal(out.buf, "bcd");
	strbuf_release(&out);
}

static void a_missing_file_gives_nothing(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(tail_lines("/nonexistent/squad/log", 1, 10, &out), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(tail_lines(NULL, 1, 10, &out), -1);
	strbuf_release(&out);
}

static void read_keeps_to_its_start_and_the_fd_offset(void **state)
{
	struct strbuf out = STRBUF_INIT;
	int fd;

	(void)state;
	write_log("first attempt: 12 passed\nsecond attempt: FAILED\n");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* from the second attempt's start only, however much is asked */
	tail_read(fd, 25, 1 << 20, &out);
	assert_string_equal(out.buf, "second attempt: FAILED\n");
	strbuf_reset(&out);
	tail_read(fd, 0, 7, &out);
	assert_string_equal(out.buf, "FAILED\n");
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
	strbuf_reset(&out);
	tail_read(-1, 0, 7, &out);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_are_the_last_ones_without_trailing_blanks),
		cmocka_unit_test(bytes_bound_it_and_a_character_is_never_cut),
		cmocka_unit_test(a_missing_file_gives_nothing),
		cmocka_unit_test(read_keeps_to_its_start_and_the_fd_offset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
