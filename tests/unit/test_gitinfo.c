/* test_gitinfo.c - blob ids, as git computes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitinfo.h"

/* The ids `git hash-object` gives: empty, one line, and more than one
 * read buffer's worth (64 KiB) of bytes. */
static void test_hash_is_git_blob_id(void **unused)
{
	char hex[41];
	size_t big = 200000;
	char *data = malloc(big);

	(void)unused;
	gitinfo_hash("", 0, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	gitinfo_hash("hello\n", 6, hex);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	gitinfo_hash(data, big, hex);
	assert_string_equal(hex, "5c2ea5d482bf8dd5219d3a4e8d49f3b4f29bb016");
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_git_blob_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
