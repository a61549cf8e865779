/* cache.h - the result cache's keys and signatures (issue 21, first part).
 *
 * A cache key must be the same for the same work on any machine and in
 * any folder, and differ whenever anything that can change the result
 * differs. plan.c's fingerprint is close but local: the task's
 * description (worker_describe()) may carry the absolute root of the
 * checkout (${SQUAD_ROOT} expanded), and it is a SHA-1 meant for a
 * state file, not for a store shared with other machines. The key here
 * is a SHA-256 of:
 *   - a version tag, so a change of this format never meets old entries;
 *   - the description with every occurrence of the checkout's root
 *     replaced by a fixed token;
 *   - the inputs as plan.c records them ("relpath\tblobid\n" lines:
 *     paths relative to the top of the tree, content ids);
 *   - the dependencies' cache keys, in the graph's order.
 *
 * Signatures are turborepo's x-artifact-tag: base64 of HMAC-SHA256,
 * keyed by the shared signing key, over the artifact's body, then its
 * hash, then the team (empty when none). Verification is constant-time.
 *
 * Pure functions: no I/O, nothing printed; the key is never logged here
 * (it is not a secret, the signing key is).
 */
#ifndef SQUAD_CACHE_H
#define SQUAD_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#define CACHE_KEY_HEX 64 /* hex digits of a key, without the NUL */

/* The token that stands for the checkout's root in a key's text. */
#define CACHE_ROOT_TOKEN "${SQUAD_ROOT}"

/* The key of one task into `key` (65 bytes, NUL-terminated lower-case
 * hex). `describe`/`describe_len`: worker_describe()'s text (may hold
 * NULs); `root`: the checkout's root as it appears in that text, with
 * or without a trailing '/' (NULL or "": nothing replaced); `inputs`:
 * plan.c's "relpath\tblobid\n" lines (may be NULL); `deps`: the
 * dependencies' keys (nr_deps of them). */
void cache_key(const char *describe, size_t describe_len, const char *root,
	       const char *inputs, const char *const *deps, size_t nr_deps,
	       char key[CACHE_KEY_HEX + 1]);

/* The x-artifact-tag of `body` stored under `hash` for `team` (may be
 * NULL), signed with `secret` (secret_len bytes, at least 1). Returns a
 * NUL-terminated base64 string the caller frees, or NULL when the
 * crypto library fails. */
char *cache_sign(const unsigned char *secret, size_t secret_len, const char *hash,
		 const char *team, const void *body, size_t body_len);

/* Does `tag` (may be NULL: unsigned) sign `body` as cache_sign() would?
 * False for a missing, malformed or wrong tag. */
bool cache_verify(const unsigned char *secret, size_t secret_len, const char *hash,
		  const char *team, const void *body, size_t body_len, const char *tag);

#endif
