/* strmap.c - string -> int hash map; see strmap.h. */
#include "strmap.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: short task names hash fast and spread well enough. */
static size_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

static struct strmap_entry *find_slot(const struct strmap *map, const char *key)
{
	size_t mask = map->cap - 1;
	size_t i = hash_key(key) & mask;

	while (map->slots[i].key && strcmp(map->slots[i].key, key))
		i = (i + 1) & mask;
	return &map->slots[i];
}

int strmap_get(const struct strmap *map, const char *key)
{
	struct strmap_entry *e;

	if (!map->cap)
		return -1;
	e = find_slot(map, key);
	return e->key ? e->value : -1;
}

static void rehash(struct strmap *map, size_t cap)
{
	struct strmap_entry *old = map->slots;
	size_t old_cap = map->cap;

	map->slots = xcalloc(cap, sizeof(*map->slots));
	map->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*find_slot(map, old[i].key) = old[i];
	free(old);
}

void strmap_reserve(struct strmap *map, size_t nr)
{
	size_t cap = map->cap ? map->cap : 64;

	while ((nr + 1) * 2 > cap)
		cap *= 2;
	if (cap > map->cap)
		rehash(map, cap);
}

int strmap_put(struct strmap *map, const char *key, int value)
{
	struct strmap_entry *e;
	int prev;

	if ((map->nr + 1) * 2 > map->cap)
		rehash(map, map->cap ? map->cap * 2 : 64);
	e = find_slot(map, key);
	prev = e->key ? e->value : -1;
	if (!e->key)
		map->nr++;
	e->key = key;
	e->value = value;
	return prev;
}

void strmap_release(struct strmap *map)
{
	free(map->slots);
	map->slots = NULL;
	map->cap = map->nr = 0;
}
