/* cache_http.c - the Turborepo Remote Cache API over libcurl: see
 * cache_http.h. */
#include "cache/cache_http.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* plain functions, not curl.h's type-checking macros: they are called
 * through the pointers below */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "util/xalloc.h"

/* libcurl, opened on first use (CMakeLists.txt says why it is not
 * linked): the few functions this file calls. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_reset)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} curl;

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init curl.easy_init
#define curl_easy_setopt curl.easy_setopt
#define curl_easy_perform curl.easy_perform
#define curl_easy_getinfo curl.easy_getinfo
#define curl_easy_reset curl.easy_reset
#define curl_easy_strerror curl.easy_strerror
#define curl_easy_escape curl.easy_escape
#define curl_free curl.free
#define curl_slist_append curl.slist_append
#define curl_slist_free_all curl.slist_free_all

static int loaded = -1; /* -1 not tried, 0 failed, 1 loaded */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	loaded = 0;
	if (!h)
		return;
#define SYM(field, name) \
	if (!(*(void **)&curl.field = dlsym(h, name))) \
		return;
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_reset, "curl_easy_reset");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_escape, "curl_easy_escape");
	SYM(free, "curl_free");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	/* the handle is kept: libcurl stays loaded for the process */
	loaded = curl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int cache_http_init(void)
{
	pthread_once(&load_once, load);
	return loaded == 1 ? 0 : -1;
}

struct reply {
	struct strbuf *body;
	size_t max;
	char *tag;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reply *rp = arg;
	size_t n = size * nmemb;

	if (!rp->body)
		return n;
	if (rp->max && rp->body->len + n > rp->max) {
		rp->too_big = 1;
		return 0; /* aborts the transfer */
	}
	strbuf_add(rp->body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "x-artifact-tag:";
	struct reply *rp = arg;
	size_t n = size * nmemb;

	if (n > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		const char *v = data + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1);

		while (len && isspace((unsigned char)*v))
			v++, len--;
		while (len && isspace((unsigned char)v[len - 1]))
			len--;
		free(rp->tag);
		rp->tag = xmalloc(len + 1);
		memcpy(rp->tag, v, len);
		rp->tag[len] = '\0';
	}
	return n;
}

/* URL of the artifact `hash`, with the team's query. Only hex-like
 * hashes are accepted, so the path needs no escaping. */
static int artifact_url(CURL *c, const struct cache_remote *r, const char *hash,
			struct strbuf *url, struct strbuf *err)
{
	size_t len = strlen(r->url);

	for (const char *p = hash; *p; p++)
		if (!isalnum((unsigned char)*p)) {
			strbuf_addstr(err, "cache key is not alphanumeric");
			return -1;
		}
	while (len && r->url[len - 1] == '/')
		len--;
	strbuf_add(url, r->url, len);
	strbuf_addf(url, "/v8/artifacts/%s", hash);
	if (r->team || r->slug) {
		const char *key = r->team ? "teamId" : "slug";
		char *v = curl_easy_escape(c, r->team ? r->team : r->slug, 0);

		if (!v) {
			strbuf_addstr(err, "out of memory");
			return -1;
		}
		strbuf_addf(url, "?%s=%s", key, v);
		curl_free(v);
	}
	return 0;
}

/* One easy handle per thread, kept: its connections stay open between
 * requests to the same server (keep-alive). Reset to no options for
 * each request. Freed when the process ends. */
static __thread CURL *kept;

static CURL *handle(void)
{
	if (kept)
		curl_easy_reset(kept);
	else
		kept = curl_easy_init();
	return kept;
}

/* One request. `method`: "GET", "HEAD" or "PUT". Returns the HTTP
 * status, or -1 with the reason in err. */
static long request(const struct cache_remote *r, const char *method, const char *hash,
		    const void *body, size_t len, const char *tag, long duration_ms,
		    struct reply *rp, struct strbuf *err)
{
	CURL *c = cache_http_init() < 0 ? NULL : handle();
	struct curl_slist *headers = NULL;
	struct strbuf url = STRBUF_INIT, h = STRBUF_INIT;
	char curl_err[CURL_ERROR_SIZE] = "";
	long status = -1;
	CURLcode cc;

	if (loaded != 1) {
		strbuf_addstr(err, "cannot load libcurl (libcurl.so.4)");
		return -1;
	}
	if (!c) {
		strbuf_addstr(err, "cannot start an HTTP request");
		return -1;
	}
	if (artifact_url(c, r, hash, &url, err) < 0)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url.buf);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_ms > 0 ? r->connect_ms : 2000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->total_ms > 0 ? r->total_ms : 30000L);
	/* http(s) only: a URL from a Squadfile must not reach file:// or
	 * another protocol, nor redirect to one */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "squad/" SQUAD_VERSION);
	if (r->token) {
		strbuf_addf(&h, "Authorization: Bearer %s", r->token);
		headers = curl_slist_append(headers, h.buf);
		/* the token does not outlive the request in our memory */
		memset(h.buf, 0, h.len);
		strbuf_reset(&h);
	}
	if (!strcmp(method, "PUT")) {
		headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
		if (tag) {
			strbuf_addf(&h, "x-artifact-tag: %s", tag);
			headers = curl_slist_append(headers, h.buf);
			strbuf_reset(&h);
		}
		strbuf_addf(&h, "x-artifact-duration: %ld", duration_ms);
		headers = curl_slist_append(headers, h.buf);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rp);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		/* the URL carries no secret (the token is a header) */
		if (rp->too_big)
			strbuf_addf(err, "%s %s: artifact larger than %zu bytes", method,
				    r->url, rp->max);
		else
			strbuf_addf(err, "%s %s: %s", method, r->url,
				    curl_err[0] ? curl_err : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
	curl_slist_free_all(headers);
	strbuf_release(&url);
	strbuf_release(&h);
	return status;
}

static enum cache_http_result classify(const struct cache_remote *r, const char *method,
				       long status, struct strbuf *err)
{
	if (status < 0)
		return CACHE_HTTP_ERROR;
	if (status == 200 || status == 202)
		return CACHE_HTTP_HIT;
	if (status == 404)
		return CACHE_HTTP_MISS;
	strbuf_addf(err, "%s %s: HTTP %ld%s", method, r->url, status,
		    status == 401 || status == 403 ? " (is SQUAD_CACHE_TOKEN right?)" : "");
	return CACHE_HTTP_ERROR;
}

enum cache_http_result cache_http_get(const struct cache_remote *r, const char *hash,
				      size_t max_bytes, struct strbuf *body, char **tag,
				      struct strbuf *err)
{
	struct reply rp = { body, max_bytes, NULL, 0 };
	long status = request(r, "GET", hash, NULL, 0, NULL, 0, &rp, err);
	enum cache_http_result res = classify(r, "GET", status, err);

	if (res == CACHE_HTTP_HIT) {
		*tag = rp.tag;
		return res;
	}
	free(rp.tag);
	*tag = NULL;
	strbuf_reset(body);
	return res;
}

enum cache_http_result cache_http_head(const struct cache_remote *r, const char *hash,
				       struct strbuf *err)
{
	struct reply rp = { NULL, 0, NULL, 0 };
	long status = request(r, "HEAD", hash, NULL, 0, NULL, 0, &rp, err);

	free(rp.tag);
	return classify(r, "HEAD", status, err);
}

enum cache_http_result cache_http_put(const struct cache_remote *r, const char *hash,
				      const void *body, size_t len, const char *tag,
				      long duration_ms, struct strbuf *err)
{
	struct reply rp = { NULL, 0, NULL, 0 };
	long status = request(r, "PUT", hash, body, len, tag, duration_ms, &rp, err);

	free(rp.tag);
	return classify(r, "PUT", status, err);
}
