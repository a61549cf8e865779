/* strmap.h - map from a borrowed string key to an int value.
 *
 * Open addressing with linear probing; lookups and inserts are O(1) on
 * average. The map does not copy keys: each key must outlive the map
 * (squad keys task names owned by the model).
 */
#ifndef SQUAD_STRMAP_H
#define SQUAD_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	const char *key;
	int value;
};

struct strmap {
	struct strmap_entry *slots;
	size_t cap; /* a power of two, or 0 */
	size_t nr;
};

#define STRMAP_INIT { NULL, 0, 0 }

/* Value for key, or -1 when absent. */
int strmap_get(const struct strmap *map, const char *key);
/* Set key to value (value >= 0). Returns the previous value, or -1. */
int strmap_put(struct strmap *map, const char *key, int value);
/* Make room for `nr` keys in all, so that filling a map whose size is
 * known costs no rehash on the way. */
void strmap_reserve(struct strmap *map, size_t nr);
void strmap_release(struct strmap *map);

#endif
