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

#include <jansson.h>

/* The batch query's answer: a few hundred bytes a hash at most. */
#define QUERY_MAX ((size_t)16 << 20)

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
	void (*easy_cleanup)(CURL *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
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
#undef curl_multi_setopt
#define curl_easy_cleanup curl.easy_cleanup
#define curl_multi_init curl.multi_init
#define curl_multi_setopt curl.multi_setopt
#define curl_multi_add_handle curl.multi_add_handle
#define curl_multi_remove_handle curl.multi_remove_handle
#define curl_multi_perform curl.multi_perform
#define curl_multi_poll curl.multi_poll
#define curl_multi_info_read curl.multi_info_read
#define curl_multi_cleanup curl.multi_cleanup

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
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_setopt, "curl_multi_setopt");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_poll, "curl_multi_poll"); /* libcurl >= 7.66 */
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_cleanup, "curl_multi_cleanup");
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
	size_t expect; /* Content-Length, when given: the body's room at once */
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
	if (!rp->body->len && rp->expect > n && (!rp->max || rp->expect <= rp->max))
		strbuf_grow(rp->body, rp->expect); /* one allocation, no copies */
	strbuf_add(rp->body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "x-artifact-tag:";
	static const char length[] = "content-length:";
	struct reply *rp = arg;
	size_t n = size * nmemb;

	if (n > sizeof(length) - 1 && !strncasecmp(data, length, sizeof(length) - 1)) {
		char num[24];
		size_t len = n - (sizeof(length) - 1);

		if (len >= sizeof(num))
			len = sizeof(num) - 1;
		memcpy(num, data + sizeof(length) - 1, len);
		num[len] = '\0';
		rp->expect = (size_t)strtoull(num, NULL, 10);
	}

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

	for (const char *p = hash ? hash : ""; *p; p++)
		if (!isalnum((unsigned char)*p)) {
			strbuf_addstr(err, "cache key is not alphanumeric");
			return -1;
		}
	while (len && r->url[len - 1] == '/')
		len--;
	strbuf_add(url, r->url, len);
	strbuf_addstr(url, "/v8/artifacts");
	if (hash)
		strbuf_addf(url, "/%s", hash);
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
 * each request. Every handle made is listed, so that
 * cache_http_release() frees them on the thread that ends the run,
 * before the pool's threads exit (freed in a thread's own exit, they
 * would make OpenSSL allocate its per-thread state anew, for ever); a
 * thread whose handle was freed makes a new one (the generation). */
static __thread CURL *kept;
static __thread unsigned kept_gen_seen;
static unsigned kept_gen = 1;
static CURL **all_kept;
static size_t nr_kept, alloc_kept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static CURL *handle(void)
{
	pthread_mutex_lock(&kept_lock);
	if (kept && kept_gen_seen == kept_gen) {
		pthread_mutex_unlock(&kept_lock);
		curl_easy_reset(kept);
		return kept;
	}
	if ((kept = curl_easy_init())) {
		kept_gen_seen = kept_gen;
		if (nr_kept == alloc_kept) {
			alloc_kept = alloc_kept ? 2 * alloc_kept : 8;
			all_kept = xrealloc(all_kept, alloc_kept * sizeof(*all_kept));
		}
		all_kept[nr_kept++] = kept;
	}
	pthread_mutex_unlock(&kept_lock);
	return kept;
}

void cache_http_release(void)
{
	pthread_mutex_lock(&kept_lock);
	for (size_t i = 0; i < nr_kept; i++)
		curl_easy_cleanup(all_kept[i]);
	free(all_kept);
	all_kept = NULL;
	nr_kept = alloc_kept = 0;
	kept_gen++;
	pthread_mutex_unlock(&kept_lock);
}

/* One transfer's state: what libcurl fills and what it must keep
 * alive until the transfer is over. */
struct xfer {
	CURL *c;
	struct reply rp;
	struct curl_slist *headers;
	struct strbuf url;
	char errbuf[CURL_ERROR_SIZE];
	const char *method;
};

/* Set `x->c` (reset) up for one request. `method`: "GET", "HEAD",
 * "PUT" (body, tag, duration) or "POST" (a JSON body; hash NULL).
 * 0, or -1 with the reason in err. */
static int setup(struct xfer *x, const struct cache_remote *r, const char *method,
		 const char *hash, const void *body, size_t len, const char *tag,
		 long duration_ms, struct strbuf *err)
{
	CURL *c = x->c;
	struct strbuf h = STRBUF_INIT;

	x->method = method;
	x->errbuf[0] = '\0';
	strbuf_init(&x->url, 0);
	x->headers = NULL;
	if (artifact_url(c, r, hash, &x->url, err) < 0)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, x->url.buf);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
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
		x->headers = curl_slist_append(x->headers, h.buf);
		/* the token does not outlive the request in our memory */
		memset(h.buf, 0, h.len);
		strbuf_reset(&h);
	}
	if (!strcmp(method, "PUT")) {
		x->headers = curl_slist_append(x->headers, "Content-Type: application/octet-stream");
		if (tag) {
			strbuf_addf(&h, "x-artifact-tag: %s", tag);
			x->headers = curl_slist_append(x->headers, h.buf);
			strbuf_reset(&h);
		}
		strbuf_addf(&h, "x-artifact-duration: %ld", duration_ms);
		x->headers = curl_slist_append(x->headers, h.buf);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "POST")) {
		x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->rp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x->rp);
	strbuf_release(&h);
	return 0;
}

/* A transfer is over with `cc`: its HTTP status, or -1 with the reason
 * in err. Frees what setup() made (not the reply). */
static long finish(struct xfer *x, const struct cache_remote *r, CURLcode cc,
		   struct strbuf *err)
{
	long status = -1;

	if (cc != CURLE_OK) {
		/* the URL carries no secret (the token is a header) */
		if (x->rp.too_big)
			strbuf_addf(err, "%s %s: artifact larger than %zu bytes", x->method,
				    r->url, x->rp.max);
		else
			strbuf_addf(err, "%s %s: %s", x->method, r->url,
				    x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	strbuf_release(&x->url);
	return status;
}

/* One request on this thread's kept handle. Returns the HTTP status,
 * or -1 with the reason in err. */
static long request(const struct cache_remote *r, const char *method, const char *hash,
		    const void *body, size_t len, const char *tag, long duration_ms,
		    struct reply *rp, struct strbuf *err)
{
	struct xfer x;
	long status;

	if (cache_http_init() < 0) {
		strbuf_addstr(err, "cannot load libcurl (libcurl.so.4)");
		return -1;
	}
	memset(&x, 0, sizeof(x));
	if (!(x.c = handle())) {
		strbuf_addstr(err, "cannot start an HTTP request");
		return -1;
	}
	x.rp = *rp;
	if (setup(&x, r, method, hash, body, len, tag, duration_ms, err) < 0) {
		finish(&x, r, CURLE_OK, err);
		return -1;
	}
	status = finish(&x, r, curl_easy_perform(x.c), err);
	*rp = x.rp;
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
	struct reply rp = { body, max_bytes, NULL, 0, 0 };
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
	struct reply rp = { NULL, 0, NULL, 0, 0 };
	long status = request(r, "HEAD", hash, NULL, 0, NULL, 0, &rp, err);

	free(rp.tag);
	return classify(r, "HEAD", status, err);
}

enum cache_http_result cache_http_put(const struct cache_remote *r, const char *hash,
				      const void *body, size_t len, const char *tag,
				      long duration_ms, struct strbuf *err)
{
	struct reply rp = { NULL, 0, NULL, 0, 0 };
	long status = request(r, "PUT", hash, body, len, tag, duration_ms, &rp, err);

	free(rp.tag);
	return classify(r, "PUT", status, err);
}

int cache_http_query_read(const char *answer, size_t len, const char *const *hashes, size_t nr,
			  bool *have)
{
	json_t *got = json_loadb(answer, len, 0, NULL);

	for (size_t i = 0; i < nr; i++)
		have[i] = false;
	if (!json_is_object(got)) {
		json_decref(got);
		return -1;
	}
	/* {hash: {size, taskDurationMs, tag?}}: present; null, absent or
	 * {error: ...}: not there */
	for (size_t i = 0; i < nr; i++) {
		json_t *e = json_object_get(got, hashes[i]);

		have[i] = json_is_object(e) && !json_object_get(e, "error");
	}
	json_decref(got);
	return 0;
}

enum cache_http_result cache_http_query(const struct cache_remote *r, const char *const *hashes,
					size_t nr, bool *have, struct strbuf *err)
{
	struct strbuf body = STRBUF_INIT, answer = STRBUF_INIT;
	struct reply rp = { &answer, QUERY_MAX, NULL, 0, 0 };
	enum cache_http_result res = CACHE_HTTP_ERROR;
	json_t *list = json_array(), *doc = json_object();
	char *text;
	long status;

	for (size_t i = 0; i < nr; i++) {
		have[i] = false;
		json_array_append_new(list, json_string(hashes[i]));
	}
	json_object_set_new(doc, "hashes", list);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	strbuf_addstr(&body, text);
	free(text);
	status = request(r, "POST", NULL, body.buf, body.len, NULL, 0, &rp, err);
	free(rp.tag);
	if (status == 404 || status == 405 || status == 501) {
		/* a server without the batch query (turborepo-remote-cache
		 * 2.12 has none): the caller asks hash by hash */
		res = CACHE_HTTP_MISS;
		goto out;
	}
	if (status != 200) {
		res = classify(r, "POST", status, err);
		if (res != CACHE_HTTP_ERROR) { /* a 202 or so: not an answer */
			strbuf_addf(err, "POST %s: HTTP %ld", r->url, status);
			res = CACHE_HTTP_ERROR;
		}
		goto out;
	}
	if (cache_http_query_read(answer.buf, answer.len, hashes, nr, have) < 0) {
		strbuf_addf(err, "POST %s: the answer is not a JSON object", r->url);
		goto out;
	}
	res = CACHE_HTTP_HIT;
out:
	strbuf_release(&body);
	strbuf_release(&answer);
	return res;
}

void cache_http_item_release(struct cache_http_item *item)
{
	strbuf_release(&item->body);
	strbuf_release(&item->err);
	free(item->tag);
	item->tag = NULL;
}

/* cache_http_many()'s multi handle, kept for the process (its
 * connections with it); freed when the process ends. */
static CURLM *kept_multi;
static pthread_mutex_t multi_lock = PTHREAD_MUTEX_INITIALIZER;

int cache_http_many(const struct cache_remote *r, bool get, struct cache_http_item *items,
		    size_t nr, size_t at_once, size_t max_bytes, size_t max_total,
		    void (*on_done)(void *data, size_t i), void *data)
{
	struct xfer *x;
	size_t next = 0, running = 0, total = 0;
	CURLM *m;
	int still = 0;

	for (size_t i = 0; i < nr; i++) {
		items[i].done = false;
		items[i].res = CACHE_HTTP_ERROR;
	}
	if (cache_http_init() < 0) {
		for (size_t i = 0; i < nr; i++)
			strbuf_addstr(&items[i].err, "cannot load libcurl (libcurl.so.4)");
		return -1;
	}
	if (!at_once)
		at_once = 1;
	/* one multi handle for the process, kept: its connections, open
	 * after the HEADs, carry the GETs that follow. One caller at a time. */
	pthread_mutex_lock(&multi_lock);
	if (!kept_multi)
		kept_multi = curl_multi_init();
	if (!(m = kept_multi)) {
		pthread_mutex_unlock(&multi_lock);
		for (size_t i = 0; i < nr; i++)
			strbuf_addstr(&items[i].err, "cannot start HTTP requests");
		return -1;
	}
	/* as `curl --parallel`: at most at_once transfers, each on a
	 * connection of its own kept open for the next (keep-alive) */
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)at_once);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)at_once);
	x = xcalloc(at_once, sizeof(*x));
	for (;;) {
		CURLMsg *msg;
		int left;

		/* start what there is room for, the bound on bytes allowing */
		for (size_t s = 0; s < at_once && next < nr && (!max_total || total < max_total); s++) {
			struct cache_http_item *it;

			if (x[s].method)
				continue; /* busy */
			it = &items[next];
			if (!x[s].c && !(x[s].c = curl_easy_init()))
				break;
			curl_easy_reset(x[s].c);
			memset(&x[s].rp, 0, sizeof(x[s].rp));
			x[s].rp.body = get ? &it->body : NULL;
			x[s].rp.max = max_bytes;
			if (setup(&x[s], r, get ? "GET" : "HEAD", it->hash, NULL, 0, NULL, 0,
				  &it->err) < 0) {
				finish(&x[s], r, CURLE_OK, &it->err);
				x[s].method = NULL;
				it->done = true;
				if (on_done)
					on_done(data, next);
				next++;
				continue;
			}
			curl_easy_setopt(x[s].c, CURLOPT_PRIVATE, (void *)next);
			curl_multi_add_handle(m, x[s].c);
			running++;
			next++;
		}
		if (!running)
			break;
		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct cache_http_item *it;
			struct xfer *done = NULL;
			void *priv = NULL;
			long status;

			if (msg->msg != CURLMSG_DONE)
				continue;
			for (size_t s = 0; s < at_once; s++)
				if (x[s].c == msg->easy_handle)
					done = &x[s];
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&priv);
			it = &items[(size_t)priv];
			curl_multi_remove_handle(m, done->c);
			status = finish(done, r, msg->data.result, &it->err);
			it->res = classify(r, done->method, status, &it->err);
			if (it->res == CACHE_HTTP_HIT && get) {
				it->tag = done->rp.tag;
				done->rp.tag = NULL;
				total += it->body.len;
			} else {
				strbuf_reset(&it->body);
			}
			free(done->rp.tag);
			done->rp.tag = NULL;
			done->method = NULL;
			it->done = true;
			running--;
			if (on_done)
				on_done(data, (size_t)priv);
		}
		if (running && still)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	for (size_t s = 0; s < at_once; s++)
		if (x[s].c)
			curl_easy_cleanup(x[s].c);
	free(x);
	pthread_mutex_unlock(&multi_lock);
	return 0;
}
