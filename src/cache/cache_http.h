/* cache_http.h - a client of the Turborepo Remote Cache API (libcurl):
 * GET, PUT and HEAD /v8/artifacts/HASH, with a Bearer token and the
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

#endif
