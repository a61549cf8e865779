/* cache_http.h - a client of the Turborepo Remote Cache API (libcurl):
 * GET, PUT and HEAD /v8/artifacts/HASH, POST /v8/artifacts (which of
 * many hashes the server has), and many GETs or HEADs at once over one
 * multi handle, its connections kept open; with a Bearer token and the
 * team as `teamId` (or `slug`), the artifact's signature in
 * x-artifact-tag. The same API as Vercel's cache and the self-hosted
 * servers (npm turborepo-remote-cache).
 *
 * A cache must never fail or stall a run: every request is bounded by a
 * connect timeout and a total timeout, and every failure (down, slow,
 * refused, a 5xx) comes back as CACHE_HTTP_ERROR with a reason the
 * caller may show. The reason names the server's URL and the HTTP
 * status, never the token (the Authorization header is not echoed, and
 * libcurl's verbose output is never turned on).
 */
#ifndef SQUAD_CACHE_HTTP_H
#define SQUAD_CACHE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

struct cache_remote {
	const char *url;    /* http(s)://host[:port][/prefix], no trailing '/' needed */
	const char *token;  /* Bearer token, or NULL */
	const char *team;   /* teamId, or NULL */
	const char *slug;   /* slug (Vercel's other team name), or NULL */
	long connect_ms;    /* 0: 2000 */
	long total_ms;      /* 0: 30000 */
};

enum cache_http_result {
	CACHE_HTTP_ERROR = -1, /* down, slow, refused, bad answer: run the task */
	CACHE_HTTP_MISS = 0,   /* 404 */
	CACHE_HTTP_HIT = 1,    /* 200 */
};

/* Loads libcurl (dlopen) and runs curl_global_init, once per process
 * whatever the thread (libcurl >= 7.84 makes that safe); the first
 * request does it, so a run that asks nothing never loads libcurl.
 * 0, or -1 when libcurl cannot be had (then every request fails with
 * CACHE_HTTP_ERROR, its reason saying so). */
int cache_http_init(void);

/* GET the artifact `hash` into `body` (at most max_bytes; 0: no bound),
 * its x-artifact-tag into *tag (NULL when absent; the caller frees). */
enum cache_http_result cache_http_get(const struct cache_remote *r, const char *hash,
				      size_t max_bytes, struct strbuf *body, char **tag,
				      struct strbuf *err);

/* Does the server have `hash`? (HEAD) */
enum cache_http_result cache_http_head(const struct cache_remote *r, const char *hash,
				       struct strbuf *err);

/* PUT `body` as the artifact `hash`, with `tag` (may be NULL) and
 * `duration_ms` (x-artifact-duration). CACHE_HTTP_HIT when stored. */
enum cache_http_result cache_http_put(const struct cache_remote *r, const char *hash,
				      const void *body, size_t len, const char *tag,
				      long duration_ms, struct strbuf *err);

/* Which of `hashes` (nr of them) does the server have? POST
 * /v8/artifacts, Vercel's batch query. CACHE_HTTP_HIT: answered, have[i]
 * set for each; CACHE_HTTP_MISS: the server has no batch query (404,
 * 405, 501: ask hash by hash, cache_http_many());
 * CACHE_HTTP_ERROR: down, refused or a bad answer (reason in err). */
enum cache_http_result cache_http_query(const struct cache_remote *r, const char *const *hashes,
					size_t nr, bool *have, struct strbuf *err);

/* Read a batch query's answer (`len` bytes from the server): have[i]
 * for each of `hashes`, true when the answer holds an object without
 * `error` for it. 0, or -1 (every have[i] false) when it is not a JSON
 * object. Pure: fuzzed (fuzz_artifact). */
int cache_http_query_read(const char *answer, size_t len, const char *const *hashes, size_t nr,
			  bool *have);

/* One artifact of cache_http_many(): the caller sets `hash` and zeroes
 * the rest (strbufs initialized); cache_http_item_release() frees. */
struct cache_http_item {
	const char *hash;
	bool done;                  /* asked and answered (or failed) */
	enum cache_http_result res; /* when done */
	struct strbuf body;         /* GET's artifact, on a hit */
	char *tag;                  /* its x-artifact-tag, or NULL */
	struct strbuf err;          /* the reason, on CACHE_HTTP_ERROR */
};

void cache_http_item_release(struct cache_http_item *item);

/* GET (`get`) or HEAD each of `items` over one multi handle, at most
 * `at_once` transfers at a time on as many kept-open connections (as
 * `curl --parallel --parallel-max N` does); each body at most max_bytes
 * (0: no bound). Once the bodies fetched hold max_total bytes (0: no
 * bound), no further transfer starts: those items stay not done. Each
 * request bounded as the single ones are. `on_done` (may be NULL) is
 * called with `data` and the item's index as soon as each item is done,
 * on the caller's thread; it may take the item's body and tag. 0, or -1
 * when libcurl cannot be had (every item's err says so). Thread safe:
 * one caller at a time uses the process's multi handle, the others
 * wait. */
int cache_http_many(const struct cache_remote *r, bool get, struct cache_http_item *items,
		    size_t nr, size_t at_once, size_t max_bytes, size_t max_total,
		    void (*on_done)(void *data, size_t i), void *data);

/* Free the easy handles kept for single requests (one per thread that
 * made one), with no request in flight: at the end of a run. A later
 * request makes a new one. */
void cache_http_release(void);

#endif
