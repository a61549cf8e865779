/* test_strmap.c - the string-keyed map: lookups through collisions and
 * growth, and a reserve that spares the rehashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "util/strmap.h"

#define NR_KEYS 5000

static char keys[NR_KEYS][16];

static void make_keys(void)
{
	for (int i = 0; i < NR_KEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "t%d_%d", i / 50, i % 50);
}

static void test_grows_and_finds_every_key(void **state)
{
	struct strmap map = STRMAP_INIT;

	(void)state;
	make_keys();
	assert_int_equal(strmap_get(&map, "t0_0"), -1);
	for (int i = 0; i < NR_KEYS; i++)
		assert_int_equal(strmap_put(&map, keys[i], i), -1);
	assert_int_equal(map.nr, NR_KEYS);
	for (int i = 0; i < NR_KEYS; i++)
		assert_int_equal(strmap_get(&map, keys[i]), i);
	assert_int_equal(strmap_get(&map, "t0_50"), -1);
	/* a second put replaces and reports the value it replaced */
	assert_int_equal(strmap_put(&map, keys[7], 70), 7);
	assert_int_equal(strmap_get(&map, keys[7]), 70);
	assert_int_equal(map.nr, NR_KEYS);
	strmap_release(&map);
}

static void test_reserve_spares_rehashes(void **state)
{
	struct strmap map = STRMAP_INIT;
	const struct strmap_entry *slots;
	size_t cap;

	(void)state;
	make_keys();
	strmap_put(&map, keys[0], 0);
	strmap_reserve(&map, NR_KEYS);
	slots = map.slots;
	cap = map.cap;
	assert_true(cap >= 2 * NR_KEYS);
	assert_int_equal(strmap_get(&map, keys[0]), 0); /* kept through the resize */
	for (int i = 1; i < NR_KEYS; i++)
		strmap_put(&map, keys[i], i);
	assert_ptr_equal(map.slots, slots); /* no rehash on the way */
	assert_int_equal(map.cap, cap);
	for (int i = 0; i < NR_KEYS; i++)
		assert_int_equal(strmap_get(&map, keys[i]), i);
	/* reserving less than there is room for changes nothing */
	strmap_reserve(&map, 10);
	assert_ptr_equal(map.slots, slots);
	strmap_release(&map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_finds_every_key),
		cmocka_unit_test(test_reserve_spares_rehashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
