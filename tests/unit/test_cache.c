/* test_cache.c - cache.h: keys that are the same for the same content
 * in any folder and differ for any change, and turborepo-style
 * artifact signatures (x-artifact-tag) that refuse tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "files/files.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* A fresh folder holding src/a.c and src/b.c with the given texts. */
static void make_tree(char *dir, size_t size, const char *a, const char *b)
{
	char path[512];
	FILE *f;

	snprintf(dir, size, "%s/squad-cache-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/src", dir);
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/src/a.c", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(a, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/src/b.c", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(b, f);
	fclose(f);
}

static void remove_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The key of a task in `dir` as plan.c would describe it: a command
 * that names the checkout's absolute root (as ${SQUAD_ROOT} expands),
 * and the walk's relative paths with their blob ids as inputs. */
static void key_of_tree(const char *dir, const char *flags, const char *dep,
			char key[CACHE_KEY_HEX + 1])
{
	struct file_list files = { 0 };
	struct strbuf describe = STRBUF_INIT, inputs = STRBUF_INIT, rootslash = STRBUF_INIT;
	const char *deps[1] = { dep };

	strbuf_addf(&rootslash, "%s/", dir);
	file_list_walk(&files, strbuf_detach(&rootslash, NULL), NULL, NULL);
	assert_int_equal(files.nr, 2);
	for (size_t i = 0; i < files.nr; i++)
		strbuf_addf(&inputs, "%s\t%s\n", files.paths[i], file_list_oid(&files, i));
	strbuf_addstr(&describe, "task");
	strbuf_addch(&describe, '\0');
	strbuf_addstr(&describe, "build");
	strbuf_addch(&describe, '\0');
	strbuf_addstr(&describe, "run");
	strbuf_addch(&describe, '\0');
	strbuf_addf(&describe, "cc %s -o %s/out src/a.c", flags, dir);
	strbuf_addch(&describe, '\0');
	cache_key(describe.buf, describe.len, dir, inputs.buf, deps, dep ? 1 : 0, key);
	strbuf_release(&describe);
	strbuf_release(&inputs);
	file_list_release(&files);
}

static void test_key_same_content_two_folders(void **unused)
{
	char one[256], two[256];
	char k1[CACHE_KEY_HEX + 1], k2[CACHE_KEY_HEX + 1];

	(void)unused;
	make_tree(one, sizeof(one), "int a;\n", "int b;\n");
	make_tree(two, sizeof(two), "int a;\n", "int b;\n");
	assert_string_not_equal(one, two);
	key_of_tree(one, "-g", NULL, k1);
	key_of_tree(two, "-g", NULL, k2);
	assert_int_equal(strlen(k1), CACHE_KEY_HEX);
	assert_string_equal(k1, k2);
	/* and again: a key is a pure function of what it is given */
	key_of_tree(one, "-g", NULL, k2);
	assert_string_equal(k1, k2);
	remove_tree(one);
	remove_tree(two);
}

static void test_key_changes_with_every_input(void **unused)
{
	char base[256], edited[256];
	char k0[CACHE_KEY_HEX + 1], k[CACHE_KEY_HEX + 1];

	(void)unused;
	make_tree(base, sizeof(base), "int a;\n", "int b;\n");
	make_tree(edited, sizeof(edited), "int a;\n", "int b; \n");
	key_of_tree(base, "-g", NULL, k0);
	/* one byte of one input file */
	key_of_tree(edited, "-g", NULL, k);
	assert_string_not_equal(k0, k);
	/* the command */
	key_of_tree(base, "-O2", NULL, k);
	assert_string_not_equal(k0, k);
	/* a dependency's key */
	key_of_tree(base, "-g", "0000", k);
	assert_string_not_equal(k0, k);
	key_of_tree(base, "-g", "0001", k0);
	assert_string_not_equal(k0, k);
	remove_tree(base);
	remove_tree(edited);
}

/* Only the root as a whole path component stands for the checkout:
 * a sibling folder whose name starts with the root's is a real path. */
static void test_key_root_only_as_component(void **unused)
{
	char k1[CACHE_KEY_HEX + 1], k2[CACHE_KEY_HEX + 1];
	const char a[] = "run\0cat /w/a/x /w/ab/y";
	const char b[] = "run\0cat /w/b/x /w/ab/y";
	const char c[] = "run\0cat /w/b/x /w/bb/y";

	(void)unused;
	cache_key(a, sizeof(a), "/w/a", "", NULL, 0, k1);
	cache_key(b, sizeof(b), "/w/b/", "", NULL, 0, k2);
	assert_string_equal(k1, k2);
	cache_key(c, sizeof(c), "/w/b", "", NULL, 0, k2);
	assert_string_not_equal(k1, k2);
	/* "/" as a root would mangle every path: nothing is replaced */
	cache_key(a, sizeof(a), "/", "", NULL, 0, k1);
	cache_key(b, sizeof(b), "/", "", NULL, 0, k2);
	assert_string_not_equal(k1, k2);
}

/* Fields are length-framed: moving bytes from one to the next is
 * another key. */
static void test_key_fields_framed(void **unused)
{
	char k1[CACHE_KEY_HEX + 1], k2[CACHE_KEY_HEX + 1];
	const char *d1[] = { "ab", "c" }, *d2[] = { "a", "bc" };

	(void)unused;
	cache_key("x", 1, NULL, "in", d1, 2, k1);
	cache_key("x", 1, NULL, "in", d2, 2, k2);
	assert_string_not_equal(k1, k2);
	cache_key("xi", 2, NULL, "n", NULL, 0, k1);
	cache_key("x", 1, NULL, "in", NULL, 0, k2);
	assert_string_not_equal(k1, k2);
}

static const unsigned char secret[] = "team-shared-signing-key";

static void test_sign_verify_round_trip(void **unused)
{
	const char body[] = "artifact bytes\0with a NUL";
	char *tag;

	(void)unused;
	tag = cache_sign(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body));
	assert_non_null(tag);
	assert_int_equal(strlen(tag), 44); /* base64 of 32 bytes */
	assert_true(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body,
				 sizeof(body), tag));
	/* deterministic */
	{
		char *again = cache_sign(secret, sizeof(secret) - 1, "abc123", "team_x", body,
					 sizeof(body));
		assert_string_equal(tag, again);
		free(again);
	}
	free(tag);
}

/* RFC 4231 test case 2 (key "Jefe"): with an empty body, hash "what do
 * ya want " and team "for nothing?" the message is the RFC's, so the
 * tag is the base64 of its published MAC. */
static void test_sign_known_answer(void **unused)
{
	char *tag;

	(void)unused;
	tag = cache_sign((const unsigned char *)"Jefe", 4, "what do ya want ", "for nothing?", "", 0);
	assert_non_null(tag);
	/* 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843 */
	assert_string_equal(tag, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	free(tag);
}

static void test_verify_refuses_tampering(void **unused)
{
	char body[] = "artifact bytes";
	char *tag;

	(void)unused;
	tag = cache_sign(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body));
	assert_non_null(tag);
	/* unsigned, empty, malformed */
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body), NULL));
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body), ""));
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body), "!!!"));
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body), "YWJj"));
	/* another hash, team or key */
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc124", "team_x", body, sizeof(body), tag));
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_y", body, sizeof(body), tag));
	assert_false(cache_verify(secret, sizeof(secret) - 2, "abc123", "team_x", body, sizeof(body), tag));
	/* one flipped bit of the body, one byte less */
	body[3] ^= 1;
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body), tag));
	body[3] ^= 1;
	assert_false(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body) - 1, tag));
	assert_true(cache_verify(secret, sizeof(secret) - 1, "abc123", "team_x", body, sizeof(body), tag));
	/* no key: nothing can be signed or verified */
	assert_null(cache_sign(secret, 0, "abc123", "team_x", body, sizeof(body)));
	assert_false(cache_verify(secret, 0, "abc123", "team_x", body, sizeof(body), tag));
	free(tag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_same_content_two_folders),
		cmocka_unit_test(test_key_changes_with_every_input),
		cmocka_unit_test(test_key_root_only_as_component),
		cmocka_unit_test(test_key_fields_framed),
		cmocka_unit_test(test_sign_verify_round_trip),
		cmocka_unit_test(test_sign_known_answer),
		cmocka_unit_test(test_verify_refuses_tampering),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
