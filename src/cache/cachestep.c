/* cachestep.c - the shared result cache in a run: see cachestep.h. */
#include "cache/cachestep.h"
#include "cache/artifact.h"
#include "cache/cache.h"
#include "cache/cache_dir.h"
#include "cache/cache_http.h"
#include "model/expand.h"
#include "model/glob.h"
#include "util/strmap.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "job/worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The local folder's bound when the Squadfile sets none. */
#define DEFAULT_MAX_BYTES (5ULL << 30)
/* What one artifact may unpack to, and download as: a cache is for
 * build results, not for disks. */
#define MAX_UNPACK (8ULL << 30)
#define MAX_DOWNLOAD ((size_t)2 << 30)
/* A log larger than this is stored cut, and said so on a hit. */
#define LOG_MAX ((size_t)64 << 20)
/* A manifest is a list of input ids: bounded all the same. */
#define MANIFEST_MAX ((size_t)64 << 20)
/* A cache must cost a run time, never the run: a server that does not
 * answer is given up after these. */
#define CONNECT_MS 2000
#define TOTAL_MS 20000
/* Remote hits are fetched all at once, before the first is restored:
 * this many transfers at a time (curl --parallel's default is 50; a
 * self-hosted server is one node process), and at most this many bytes
 * held in memory; what is past it is fetched when its task is ready. */
#define FETCH_AT_ONCE 16
#define PREFETCH_MAX ((size_t)1 << 30)
#define META_VERSION 1

enum remote_kind { REMOTE_NONE, REMOTE_HTTP, REMOTE_DIR };

struct cachestep {
	const struct squadfile *sf;
	const struct plan *plan;
	struct cachestep_options o;
	char *dir;                  /* the local folder, or NULL */
	unsigned long long max_bytes;
	enum remote_kind remote;
	char *url;                  /* REMOTE_HTTP: the server; REMOTE_DIR: the folder */
	char *token, *team;         /* the token is never printed */
	bool write;                 /* upload to the shared store */
	long total_ms;              /* a request's bound (SQUAD_CACHE_TIMEOUT) */
	unsigned char *sign_key;    /* never printed; NULL: nothing signed or checked */
	size_t sign_len;
	char (*keys)[CACHE_KEY_HEX + 1];
	char (*defs)[CACHE_KEY_HEX + 1]; /* each task's definition alone */
	bool *cacheable;
	pthread_mutex_t lock;       /* guards the flags below */
	bool remote_down;           /* said once; not asked again */
	bool local_failed;          /* said once */
	bool local_grew;            /* something was put: evict at the end */
	/* the shared server's answers for the whole plan, asked once, by
	 * the first lookup that reaches the server (prefetch()) */
	pthread_mutex_t pre_lock;   /* guards the three below */
	pthread_cond_t pre_ready;   /* a PRE_PENDING task was settled */
	bool pre_started;
	struct prefetched *pre;     /* per task, once started */
};

/* What prefetch() learnt of a task's artifact on the server. */
struct prefetched {
	enum {
		PRE_UNKNOWN,  /* not asked: a GET when its task is ready */
		PRE_PENDING,  /* being fetched: its lookup waits */
		PRE_ABSENT,   /* the server does not have it */
		PRE_PRESENT,  /* it has it (taken, or known from the query) */
		PRE_FETCHED,  /* here, for its lookup to take */
	} state;
	struct strbuf body;         /* PRE_FETCHED: taken by the lookup */
	char *tag;
};

const char *cache_source_name(enum cache_source s)
{
	return s == CACHE_LOCAL ? "local" : s == CACHE_REMOTE ? "remote" : NULL;
}

/* --- settings ------------------------------------------------------- */

static const char *env_value(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? v : NULL;
}

/* Does the task hand back a change (changes: apply or review)? */
static bool keeps_change(const struct task *t)
{
	return t->isolation == ISOLATION_WORKTREE && t->changes != CHANGES_DISCARD;
}

/* Can a result of `t` be a cache entry at all, whatever its needs? A
 * command or a prompt with declared inputs, never a skill task (the
 * tactician's) nor an isolated task that hands back a change to the
 * tree, which an entry does not carry: a hit would drop it. */
static bool may_cache(const struct task *t)
{
	return (t->run || t->run_argv.nr || t->prompt) && t->inputs.nr && !t->skills.nr &&
	       !keeps_change(t);
}

static bool is_off(const char *v)
{
	return v && (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false") ||
		     !strcmp(v, "no"));
}

/* A setting as written, with the Squadfile's vars and the environment
 * expanded (a URL may come from ${CACHE_URL}) and a leading "~/" as
 * $HOME. Unexpandable text stays as written. */
static char *setting(const struct squadfile *sf, const char *text)
{
	struct expand_scope scope = { .vars = &sf->vars, .environ = true, .keep_unknown = true };
	struct strbuf out = STRBUF_INIT;
	const char *home = getenv("HOME");

	if (!strncmp(text, "~/", 2) && home && *home) {
		strbuf_addstr(&out, home);
		text++;
	}
	if (expand_vars(&out, text, &scope, NULL, NULL) < 0) {
		strbuf_reset(&out);
		strbuf_addstr(&out, text);
	}
	return strbuf_detach(&out, NULL);
}

/* A folder as an absolute path: relative to `base` (the Squadfile's
 * folder for a setting written there), else to the current folder (for
 * one from the environment). */
static char *absolute(const char *path, const char *base)
{
	struct strbuf out = STRBUF_INIT;
	char *cwd;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = base ? NULL : getcwd(NULL, 0);
	strbuf_addf(&out, "%s/%s", base ? base : cwd ? cwd : ".", path);
	free(cwd);
	return strbuf_detach(&out, NULL);
}

int cachestep_open(struct cachestep **out, const struct squadfile *sf,
		   const struct cachestep_options *o, struct strbuf *err)
{
	const struct squadfile_cache *sc = &sf->cache;
	struct cachestep *c;
	const char *v, *url_env = env_value("SQUAD_CACHE_URL"), *dir_env = env_value("SQUAD_CACHE_DIR");
	char *url = NULL;

	*out = NULL;
	if (is_off(env_value("SQUAD_CACHE")) || (sc->off && !url_env && !dir_env))
		return 0;
	c = xcalloc(1, sizeof(*c));
	c->sf = sf;
	c->o = *o;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->pre_lock, NULL);
	pthread_cond_init(&c->pre_ready, NULL);

	/* the local folder: SQUAD_CACHE_DIR, cache.dir, else the user's */
	if (dir_env || (sc->dir && !sc->off)) {
		char *d = dir_env ? xstrdup(dir_env) : setting(sf, sc->dir);

		if (!is_off(d))
			c->dir = absolute(d, dir_env ? NULL : sf->root);
		free(d);
	} else if (!sc->off) {
		struct strbuf d = STRBUF_INIT, ignored = STRBUF_INIT;

		/* no HOME, no XDG_CACHE_HOME: no local folder, not an error */
		if (cache_dir_default(&d, &ignored) == 0)
			c->dir = strbuf_detach(&d, NULL);
		strbuf_release(&d);
		strbuf_release(&ignored);
	}
	c->max_bytes = sc->max_bytes ? sc->max_bytes : DEFAULT_MAX_BYTES;
	if ((v = env_value("SQUAD_CACHE_MAX_SIZE"))) {
		long long n = squadfile_parse_size(v);

		if (n <= 0) {
			strbuf_addf(err, "SQUAD_CACHE_MAX_SIZE must be a size such as '10GB' or "
				    "'512MiB', not '%s'", v);
			goto fail;
		}
		c->max_bytes = (unsigned long long)n;
	}

	c->total_ms = TOTAL_MS;
	if ((v = env_value("SQUAD_CACHE_TIMEOUT"))) {
		long ms = squadfile_parse_duration(v);

		if (ms <= 0) {
			strbuf_addf(err, "SQUAD_CACHE_TIMEOUT must be a duration such as '5s' or "
				    "'500ms', not '%s'", v);
			goto fail;
		}
		c->total_ms = ms;
	}

	/* the shared store: SQUAD_CACHE_URL, else cache.url */
	url = url_env ? xstrdup(url_env) : sc->url && !sc->off ? setting(sf, sc->url) : NULL;
	if (url && *url) {
		if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
			const char *host = strstr(url, "://") + 3;

			/* the URL is shown in warnings: it must carry no secret */
			if (memchr(host, '@', strcspn(host, "/?#"))) {
				strbuf_addf(err, "%s must not carry a user or password (it is shown "
					    "in warnings): give the token in SQUAD_CACHE_TOKEN",
					    url_env ? "SQUAD_CACHE_URL" : "cache.url");
				goto fail;
			}
			c->remote = REMOTE_HTTP;
			c->url = url;
		} else if (strstr(url, "://")) {
			strbuf_addf(err, "%s must be an http:// or https:// URL or a folder, "
				    "not a '%.*s' URL", url_env ? "SQUAD_CACHE_URL" : "cache.url",
				    (int)(strstr(url, "://") - url), url);
			goto fail;
		} else {
			c->remote = REMOTE_DIR;
			c->url = absolute(url, url_env ? NULL : sf->root);
			free(url);
		}
		url = NULL;
	}
	free(url);
	url = NULL;
	if ((v = env_value("SQUAD_CACHE_TOKEN")) || (v = env_value(sc->token_env)))
		c->token = xstrdup(v);
	if ((v = env_value("SQUAD_CACHE_TEAM")))
		c->team = xstrdup(v);
	else if (sc->team)
		c->team = setting(sf, sc->team);
	c->write = o->write || sc->write == 1;
	if ((v = getenv("SQUAD_CACHE_WRITE")) && *v)
		c->write = o->write || !is_off(v);
	if ((v = env_value("SQUAD_CACHE_SIGNING_KEY")) || (v = env_value(sc->signing_key_env))) {
		c->sign_len = strlen(v);
		c->sign_key = xmalloc(c->sign_len);
		memcpy(c->sign_key, v, c->sign_len);
	} else if (sc->signing_key_env) {
		/* the project signs its artifacts: without the key, nothing
		 * read could be checked, nor anything written be trusted */
		strbuf_addf(err, "cache.signing_key_env names %s, which is not set: set it, or "
			    "turn the cache off for this run with SQUAD_CACHE=off",
			    sc->signing_key_env);
		goto fail;
	}
	if (!c->dir && c->remote == REMOTE_NONE) {
		cachestep_free(c);
		return 0;
	}
	json_object_seed(0); /* before any thread makes an object */
	*out = c;
	return 0;
fail:
	free(url);
	cachestep_free(c);
	return -1;
}

/* --- keys ----------------------------------------------------------- */

static const struct worker *worker_of(const struct cachestep *c, const struct task *t)
{
	if (c->o.worker_override >= 0)
		return &c->sf->workers[c->o.worker_override];
	return &c->sf->workers[t->worker];
}

void cachestep_plan(struct cachestep *c, const struct plan *plan)
{
	const struct squadfile *sf = c->sf;
	const struct graph *g = plan->graph;
	size_t nr = sf->nr_tasks;
	struct strbuf text = STRBUF_INIT;
	const char **deps = xcalloc(nr + 1, sizeof(char *));
	bool *need = xcalloc(nr + 1, sizeof(bool));

	c->plan = plan;
	c->keys = xcalloc(nr + 1, sizeof(*c->keys));
	c->defs = xcalloc(nr + 1, sizeof(*c->defs));
	c->cacheable = xcalloc(nr + 1, sizeof(bool));
	/* Only the keys a lookup or a store can use: of the tasks that will
	 * run and can be cached, and of what they need. A no-op run
	 * (everything up to date, a group of them "run" at the top) hashes
	 * nothing. Dependents come after their dependencies in the order:
	 * walk it back. */
	for (size_t i = plan->nr_order; i-- > 0;) {
		size_t n = (size_t)plan->order[i];
		const struct task *t = &sf->tasks[n];

		need[n] = need[n] || c->o.every_key ||
			  (plan->action[n] == PLAN_RUN && may_cache(t));
		if (need[n])
			for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
				need[g->deps[e]] = true;
	}
	/* the order has dependencies first: their keys are ready */
	for (size_t i = 0; i < plan->nr_order; i++) {
		size_t n = (size_t)plan->order[i], nr_deps = 0;
		const struct task *t = &sf->tasks[n];
		bool deps_in = true;

		if (!need[n])
			continue;
		strbuf_reset(&text);
		worker_describe_declared(sf, t, worker_of(c, t), &text);
		for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++) {
			if (!plan->in[g->deps[e]])
				deps_in = false;
			deps[nr_deps++] = c->keys[g->deps[e]];
		}
		cache_key(text.buf, text.len, sf->root, NULL, NULL, 0, c->defs[n]);
		cache_key(text.buf, text.len, sf->root,
			  plan->inputs && plan->inputs[n].len ? plan->inputs[n].buf : NULL,
			  deps, nr_deps, c->keys[n]);
		c->cacheable[n] = may_cache(t) && deps_in;
	}
	free(deps);
	free(need);
	strbuf_release(&text);
}

const char *cachestep_key(const struct cachestep *c, size_t n)
{
	return c->keys[n];
}

bool cachestep_serves(const struct cachestep *c, size_t n)
{
	return c && c->cacheable && c->cacheable[n] && !c->o.no_read;
}

bool cachestep_keeps(const struct cachestep *c, size_t n)
{
	return c && c->cacheable && c->cacheable[n];
}

/* The key under which task n's latest manifest is kept: one per task
 * name, the same on every machine. */
static void latest_key(const struct task *t, char key[CACHE_KEY_HEX + 1])
{
	struct strbuf text = STRBUF_INIT;

	strbuf_addstr(&text, "squad-latest-manifest-v1");
	strbuf_add(&text, t->name, strlen(t->name) + 1);
	cache_key(text.buf, text.len, NULL, NULL, NULL, 0, key);
	strbuf_release(&text);
}

/* --- the stores ----------------------------------------------------- */

static void remote_failed(struct cachestep *c, const char *why, struct strbuf *notice)
{
	bool first;

	pthread_mutex_lock(&c->lock);
	first = !c->remote_down;
	c->remote_down = true;
	pthread_mutex_unlock(&c->lock);
	if (first)
		strbuf_addf(notice, "cache: %s; the run goes on without the shared cache\n", why);
}

static bool remote_up(struct cachestep *c)
{
	bool up;

	pthread_mutex_lock(&c->lock);
	up = c->remote != REMOTE_NONE && !c->remote_down;
	pthread_mutex_unlock(&c->lock);
	return up;
}

static void local_failed(struct cachestep *c, const char *why, struct strbuf *notice)
{
	bool first;

	pthread_mutex_lock(&c->lock);
	first = !c->local_failed;
	c->local_failed = true;
	pthread_mutex_unlock(&c->lock);
	if (first)
		strbuf_addf(notice, "cache: the local folder: %s\n", why);
}

static void remote_of(const struct cachestep *c, struct cache_remote *r)
{
	memset(r, 0, sizeof(*r));
	r->url = c->url;
	r->token = c->token;
	r->team = c->team;
	r->total_ms = c->total_ms;
	r->connect_ms = CONNECT_MS < c->total_ms ? CONNECT_MS : c->total_ms;
}

/* Get `key` from the shared store: 1, 0 (none) or -1 (said, and the
 * store is given up for this run). */
static int remote_get(struct cachestep *c, const char *key, size_t max, struct strbuf *body,
		      char **tag, struct strbuf *notice)
{
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (!remote_up(c))
		return 0;
	if (c->remote == REMOTE_HTTP) {
		struct cache_remote r;

		remote_of(c, &r);
		switch (cache_http_get(&r, key, max, body, tag, &err)) {
		case CACHE_HTTP_HIT:
			rc = 1;
			break;
		case CACHE_HTTP_MISS:
			rc = 0;
			break;
		default:
			rc = -1;
		}
	} else {
		strbuf_addf(&err, "the shared folder %s: ", c->url);
		rc = cache_dir_get(c->url, key, body, tag, &err);
	}
	if (rc < 0)
		remote_failed(c, err.buf, notice);
	strbuf_release(&err);
	return rc;
}

/* Put `key` on the shared store. `once`: an artifact, whose bytes a
 * key decides: not uploaded again when the server has it (HEAD first;
 * prefetch() may know already). The latest manifest is not `once`: its
 * key is the task's name, its bytes change. */
static void remote_put(struct cachestep *c, const char *key, const struct strbuf *body,
		       const char *tag, long duration_ms, bool once, struct strbuf *notice)
{
	struct strbuf err = STRBUF_INIT;

	if (!c->write || !remote_up(c))
		return;
	if (c->remote == REMOTE_HTTP) {
		struct cache_remote r;
		enum cache_http_result there = CACHE_HTTP_MISS;

		remote_of(c, &r);
		if (once)
			there = cache_http_head(&r, key, &err);
		if (there == CACHE_HTTP_ERROR)
			remote_failed(c, err.buf, notice);
		else if (there == CACHE_HTTP_MISS &&
			 cache_http_put(&r, key, body->buf, body->len, tag, duration_ms, &err) !=
			 CACHE_HTTP_HIT)
			remote_failed(c, err.buf, notice);
	} else {
		strbuf_addf(&err, "the shared folder %s: ", c->url);
		if (cache_dir_put(c->url, key, body->buf, body->len, tag, 0, &err) < 0)
			remote_failed(c, err.buf, notice);
	}
	strbuf_release(&err);
}

static char *sign(const struct cachestep *c, const char *key, const struct strbuf *body)
{
	if (!c->sign_key)
		return NULL;
	return cache_sign(c->sign_key, c->sign_len, key, c->team, body->buf, body->len);
}

/* Is `tag` right for `body` under `key`? Always, without a signing key. */
static bool signed_ok(const struct cachestep *c, const char *key, const struct strbuf *body,
		      const char *tag)
{
	return !c->sign_key ||
	       cache_verify(c->sign_key, c->sign_len, key, c->team, body->buf, body->len, tag);
}

/* Into the local folder; its bound is kept once, when the run is over
 * (cachestep_free): an eviction scans the whole folder, and a run of
 * 200 hits would scan it 200 times. */
static int local_put(struct cachestep *c, const char *key, const struct strbuf *body,
		     const char *tag, struct strbuf *err)
{
	pthread_mutex_lock(&c->lock);
	c->local_grew = true;
	pthread_mutex_unlock(&c->lock);
	return cache_dir_put(c->dir, key, body->buf, body->len, tag, 0, err);
}

/* --- a hit ---------------------------------------------------------- */

void cache_hit_release(struct cache_hit *hit)
{
	free(hit->summary);
	free(hit->answer);
	strbuf_release(&hit->log);
	hit->summary = hit->answer = NULL;
	for (size_t i = 0; i < hit->nr_tools; i++) {
		free(hit->tools[i].id);
		free(hit->tools[i].kind);
		free(hit->tools[i].title);
		free(hit->tools[i].target);
		free(hit->tools[i].status);
		free(hit->tools[i].decision);
	}
	free(hit->tools);
	hit->tools = NULL;
	hit->nr_tools = hit->tools_omitted = 0;
	memset(&hit->usage, 0, sizeof(hit->usage));
}

static char *json_str(json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));

	return s ? xstrdup(s) : NULL;
}

/* The stored tool calls: at most RESULT_MAX_TOOLS (an entry from
 * elsewhere may hold more; the last ones are kept, the rest counted as
 * omitted, as the result would have), each field a string or absent. */
static void read_tools(json_t *j, struct cache_hit *hit)
{
	json_t *calls = json_object_get(j, "tools");
	json_int_t omitted = json_integer_value(json_object_get(j, "tools_omitted"));
	size_t nr = json_array_size(calls), from = 0;

	hit->tools_omitted = omitted > 0 ? (size_t)omitted : 0;
	if (nr > RESULT_MAX_TOOLS) {
		from = nr - RESULT_MAX_TOOLS;
		hit->tools_omitted += from;
	}
	if (nr <= from)
		return;
	hit->tools = xcalloc(nr - from, sizeof(*hit->tools));
	for (size_t i = from; i < nr; i++) {
		json_t *call = json_array_get(calls, i);
		struct task_tool *t = &hit->tools[hit->nr_tools++];

		t->id = json_str(call, "id");
		t->kind = json_str(call, "kind");
		t->title = json_str(call, "title");
		t->target = json_str(call, "target");
		t->status = json_str(call, "status");
		t->decision = json_str(call, "decision");
	}
}

/* The stored usage: a number absent or not an integer stays unknown. */
static void read_usage(json_t *j, struct task_usage *u)
{
	json_t *o = json_object_get(j, "usage");
	static const struct { const char *name; unsigned bit; size_t at; } parts[] = {
		{ "requests", USAGE_REQUESTS, offsetof(struct task_usage, requests) },
		{ "input_tokens", USAGE_INPUT, offsetof(struct task_usage, input_tokens) },
		{ "output_tokens", USAGE_OUTPUT, offsetof(struct task_usage, output_tokens) },
		{ "total_tokens", USAGE_TOTAL, offsetof(struct task_usage, total_tokens) },
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_t *v = json_object_get(o, parts[i].name);
		json_int_t n = json_integer_value(v);

		if (!json_is_integer(v) || n < 0)
			continue;
		*(long *)((char *)u + parts[i].at) = n > LONG_MAX ? LONG_MAX : (long)n;
		u->known |= parts[i].bit;
	}
}

int cache_meta_read(const char *meta, size_t len, const char *key, struct cache_hit *hit,
		    struct strbuf *why)
{
	const char *nl = memchr(meta, '\n', len);
	json_t *j;
	int ret = -1;

	if (!nl) {
		strbuf_addstr(why, "its metadata is malformed");
		return -1;
	}
	j = json_loadb(meta, (size_t)(nl - meta), 0, NULL);
	if (!json_is_object(j) ||
	    json_integer_value(json_object_get(j, "version")) != META_VERSION) {
		strbuf_addstr(why, "its metadata is malformed or of another version");
		goto out;
	}
	if (!json_string_value(json_object_get(j, "key")) ||
	    strcmp(json_string_value(json_object_get(j, "key")), key)) {
		strbuf_addstr(why, "it was stored under another key");
		goto out;
	}
	hit->exit_code = (int)json_integer_value(json_object_get(j, "exit_code"));
	hit->duration_ms = (long)json_integer_value(json_object_get(j, "duration_ms"));
	hit->log_cut = json_is_true(json_object_get(j, "log_cut"));
	hit->summary = json_str(j, "summary");
	hit->answer = json_str(j, "answer");
	read_tools(j, hit);
	read_usage(j, &hit->usage);
	strbuf_add(&hit->log, nl + 1, len - (size_t)(nl - meta) - 1);
	ret = 0;
out:
	json_decref(j);
	return ret;
}

/* Check, restore and read an entry of task n. 0, or -1 said in notice. */
static int take(struct cachestep *c, size_t n, const char *where, const struct strbuf *body,
		const char *tag, struct cache_hit *hit, struct strbuf *notice)
{
	const char *key = c->keys[n], *name = c->sf->tasks[n].name;
	struct strbuf meta = STRBUF_INIT, why = STRBUF_INIT;
	int ret = -1;

	if (!signed_ok(c, key, body, tag)) {
		strbuf_addf(notice, "cache: the %s entry of task '%s' is %s: refused; the task "
			    "runs\n", where, name, tag ? "not signed with the signing key (tampered "
			    "with?)" : "not signed");
		return -1;
	}
	if (artifact_unpack(body->buf, body->len, c->sf->root, MAX_UNPACK, &meta, &why) < 0 ||
	    cache_meta_read(meta.buf, meta.len, key, hit, &why) < 0) {
		strbuf_addf(notice, "cache: the %s entry of task '%s' cannot be used: %s; the "
			    "task runs\n", where, name, why.buf);
		cache_hit_release(hit);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&meta);
	strbuf_release(&why);
	return ret;
}

static void swap_bufs(struct strbuf *a, struct strbuf *b)
{
	struct strbuf t = *a;

	*a = *b;
	*b = t;
}

/* Is `key` in the local folder? (a stat: a remote hit is not asked of
 * the server when the local folder has it) */
static bool local_has(const struct cachestep *c, const char *key)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	bool has;

	if (!c->dir)
		return false;
	strbuf_addf(&path, "%s/v1/%s", c->dir, key);
	has = lstat(path.buf, &st) == 0 && S_ISREG(st.st_mode);
	strbuf_release(&path);
	return has;
}

/* Ask the server once for every task of the plan that a lookup may
 * want (to run, served, not in the local folder): which it has (the
 * batch query, POST /v8/artifacts), then every one it has, over one
 * multi handle, many at once. A server without the batch query is
 * sent a GET for each: its 404s say what it does not have, at the cost
 * a HEAD each would have had before the GETs.
 * The first lookup that needs the server does it (remote_take()); each
 * artifact is handed over as soon as it is here, so restores start
 * while the rest is on its way. A server that fails is said once and
 * given up, as in remote_get(). */
struct prefetch_run {
	struct cachestep *c;
	struct cache_http_item *items;
	size_t *task_of;
	struct strbuf *notice;
};

/* cache_http_many()'s callback: item i is over; hand it to its task. */
static void prefetched_one(void *data, size_t i)
{
	struct prefetch_run *pr = data;
	struct cachestep *c = pr->c;
	struct cache_http_item *it = &pr->items[i];
	struct prefetched *p = &c->pre[pr->task_of[i]];

	if (it->res == CACHE_HTTP_ERROR)
		remote_failed(c, it->err.buf, pr->notice);
	pthread_mutex_lock(&c->pre_lock);
	if (it->res == CACHE_HTTP_HIT) {
		p->state = PRE_FETCHED;
		swap_bufs(&p->body, &it->body);
		p->tag = it->tag;
		it->tag = NULL;
	} else {
		/* a 404: not there; a failure: the store is given up */
		p->state = it->res == CACHE_HTTP_MISS ? PRE_ABSENT : PRE_UNKNOWN;
	}
	pthread_cond_broadcast(&c->pre_ready);
	pthread_mutex_unlock(&c->pre_lock);
	cache_http_item_release(it);
}

/* Under pre_lock, by the lookup that starts the prefetch: the tasks to
 * ask for, marked PRE_PENDING at once (a lookup that comes in while
 * the prefetch gets going waits for it, rather than asking again).
 * Their keys into hashes[], their indexes into task_of[]; how many. */
static size_t prefetch_want(struct cachestep *c, const char **hashes, size_t *task_of)
{
	const struct plan *plan = c->plan;
	size_t nr_want = 0;

	for (size_t i = 0; i < plan->nr_order; i++) {
		size_t n = (size_t)plan->order[i];

		if (plan->action[n] != PLAN_RUN || !cachestep_serves(c, n) ||
		    local_has(c, c->keys[n]))
			continue;
		c->pre[n].state = PRE_PENDING;
		task_of[nr_want] = n;
		hashes[nr_want++] = c->keys[n];
	}
	return nr_want;
}

static void prefetch(struct cachestep *c, const char **hashes, size_t *task_of,
		     size_t nr_want, struct strbuf *notice)
{
	size_t nr = c->sf->nr_tasks, nr_have = 0;
	bool *have = xcalloc(nr + 1, sizeof(*have));
	struct cache_http_item *items = NULL;
	struct cache_remote r;
	struct strbuf err = STRBUF_INIT;

	remote_of(c, &r);
	if (!nr_want || !remote_up(c))
		goto out;
	switch (cache_http_query(&r, hashes, nr_want, have, &err)) {
	case CACHE_HTTP_HIT:
		break;
	case CACHE_HTTP_MISS:
		/* no batch query: a HEAD each would cost the server as many
		 * requests as the GETs, to learn what a GET's 404 says too.
		 * Ask for all of them: the GETs below are the lookup. */
		for (size_t i = 0; i < nr_want; i++)
			have[i] = true;
		break;
	default:
		remote_failed(c, err.buf, notice);
		goto out;
	}
	items = xcalloc(nr_want, sizeof(*items));
	pthread_mutex_lock(&c->pre_lock);
	for (size_t i = 0; i < nr_want; i++) {
		size_t n = task_of[i];

		if (!have[i]) {
			c->pre[n].state = PRE_ABSENT;
			continue;
		}
		items[nr_have].hash = hashes[i];
		strbuf_init(&items[nr_have].body, 0);
		strbuf_init(&items[nr_have].err, 0);
		task_of[nr_have++] = n; /* i >= nr_have: nothing unread is lost */
	}
	pthread_cond_broadcast(&c->pre_ready);
	pthread_mutex_unlock(&c->pre_lock);
	{
		struct prefetch_run pr = { c, items, task_of, notice };

		cache_http_many(&r, true, items, nr_have, FETCH_AT_ONCE, MAX_DOWNLOAD,
				PREFETCH_MAX, prefetched_one, &pr);
	}
	for (size_t i = 0; i < nr_have; i++)
		cache_http_item_release(&items[i]); /* those not started */
out:
	/* whatever is still pending (not started, the server down) is a
	 * GET of its own when its task is ready, or a miss once given up */
	pthread_mutex_lock(&c->pre_lock);
	for (size_t i = 0; i <= nr; i++)
		if (c->pre[i].state == PRE_PENDING)
			c->pre[i].state = PRE_UNKNOWN;
	pthread_cond_broadcast(&c->pre_ready);
	pthread_mutex_unlock(&c->pre_lock);
	free(items);
	free(have);
	strbuf_release(&err);
}

/* Task n's artifact from the shared store: what prefetch() fetched
 * (started by the first lookup here, waited for by the others), or a
 * GET now. 1 (body, tag), 0 or -1 as remote_get(). */
static int remote_take(struct cachestep *c, size_t n, struct strbuf *body, char **tag,
		       struct strbuf *notice)
{
	struct prefetched *p;
	const char **hashes = NULL;
	size_t *task_of = NULL, nr_want = 0;
	bool mine = false;
	int rc = -2;

	if (c->remote != REMOTE_HTTP || !c->plan)
		return remote_get(c, c->keys[n], MAX_DOWNLOAD, body, tag, notice);
	pthread_mutex_lock(&c->pre_lock);
	if (!c->pre_started) {
		size_t nr = c->sf->nr_tasks;

		c->pre_started = mine = true;
		c->pre = xcalloc(nr + 1, sizeof(*c->pre));
		for (size_t i = 0; i <= nr; i++)
			strbuf_init(&c->pre[i].body, 0);
		hashes = xcalloc(nr + 1, sizeof(*hashes));
		task_of = xcalloc(nr + 1, sizeof(*task_of));
		nr_want = prefetch_want(c, hashes, task_of);
	}
	pthread_mutex_unlock(&c->pre_lock);
	if (mine)
		prefetch(c, hashes, task_of, nr_want, notice);
	free(hashes);
	free(task_of);
	p = &c->pre[n];
	pthread_mutex_lock(&c->pre_lock);
	while (p->state == PRE_PENDING)
		pthread_cond_wait(&c->pre_ready, &c->pre_lock);
	if (p->state == PRE_FETCHED) {
		swap_bufs(body, &p->body);
		strbuf_release(&p->body);
		*tag = p->tag;
		p->tag = NULL;
		p->state = PRE_PRESENT;
		rc = 1;
	} else if (p->state == PRE_ABSENT) {
		rc = 0; /* the server said so: no GET */
	}
	pthread_mutex_unlock(&c->pre_lock);
	if (rc == -2)
		rc = remote_get(c, c->keys[n], MAX_DOWNLOAD, body, tag, notice);
	return rc;
}

int cachestep_fetch(struct cachestep *c, size_t n, struct cache_hit *hit,
		    struct strbuf *notice)
{
	const char *key = c->keys[n];
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	char *tag = NULL;
	int ret = 0;

	if (c->dir) {
		int rc = cache_dir_get(c->dir, key, &body, &tag, &err);

		if (rc < 0)
			local_failed(c, err.buf, notice);
		if (rc == 1 && take(c, n, "local", &body, tag, hit, notice) == 0) {
			hit->source = CACHE_LOCAL;
			ret = 1;
			goto out;
		}
	}
	strbuf_reset(&body);
	free(tag);
	tag = NULL;
	if (remote_take(c, n, &body, &tag, notice) == 1 &&
	    take(c, n, "remote", &body, tag, hit, notice) == 0) {
		hit->source = CACHE_REMOTE;
		ret = 1;
		/* kept in the local folder too, as turborepo does: the run
		 * records the task up to date, but a branch switched away
		 * and back, or another checkout here, finds it without the
		 * network. It costs a restore one more file written. */
		strbuf_reset(&err);
		if (c->dir && local_put(c, key, &body, tag, &err) < 0)
			local_failed(c, err.buf, notice);
	}
out:
	free(tag);
	strbuf_release(&body);
	strbuf_release(&err);
	return ret;
}

/* --- a success stored ----------------------------------------------- */

/* Add under `rel` (a folder, "" or ending in '/') every file and link
 * `gs` matches, not following links. */
static void walk(const char *root, struct strbuf *rel, const struct globset *gs,
		 struct strvec *out)
{
	struct strbuf path = STRBUF_INIT;
	size_t len = rel->len;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&path, "%s/%s", root, rel->buf);
	d = opendir(path.buf);
	strbuf_release(&path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		struct strbuf full = STRBUF_INIT;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_addstr(rel, de->d_name);
		strbuf_addf(&full, "%s/%s", root, rel->buf);
		if (lstat(full.buf, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				strbuf_addch(rel, '/');
				walk(root, rel, gs, out);
			} else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) &&
				   globset_match(gs, rel->buf)) {
				strvec_push(out, rel->buf);
			}
		}
		strbuf_release(&full);
		strbuf_setlen(rel, len);
	}
	closedir(d);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Task t's outputs as they are now, relative to the Squadfile's folder:
 * a plain path as it is (a folder is packed whole), a pattern's
 * matches; sorted, without a path under a folder already there. */
static void collect_outputs(const struct squadfile *sf, const struct task *t,
			    struct strvec *paths)
{
	struct strvec found = STRVEC_INIT, negative = STRVEC_INIT;
	struct strbuf base = STRBUF_INIT;
	struct strmap seen = STRMAP_INIT;

	plan_task_base(sf, t, "", &base);
	for (size_t i = 0; i < t->outputs.nr; i++)
		if (t->outputs.v[i][0] == '!')
			strvec_push(&negative, t->outputs.v[i]);
	for (size_t i = 0; i < t->outputs.nr; i++) {
		const char *pat = t->outputs.v[i];
		struct strbuf rel = STRBUF_INIT, err = STRBUF_INIT;

		if (pat[0] == '!')
			continue;
		if (!strpbrk(pat, "*?[\\")) {
			struct stat st;
			struct strbuf full = STRBUF_INIT;

			strbuf_addf(&rel, "%s%s", base.buf, pat);
			while (rel.len && rel.buf[rel.len - 1] == '/')
				strbuf_setlen(&rel, rel.len - 1);
			strbuf_addf(&full, "%s/%s", sf->root, rel.buf);
			if (lstat(full.buf, &st) == 0)
				strvec_push(&found, rel.buf);
			strbuf_release(&full);
		} else {
			struct strvec one = STRVEC_INIT;
			struct globset *gs;

			strvec_push(&one, pat);
			for (size_t j = 0; j < negative.nr; j++)
				strvec_push(&one, negative.v[j]);
			gs = globset_new(&one, base.buf, &err);
			if (gs) {
				strbuf_addstr(&rel, globset_prefix(gs));
				walk(sf->root, &rel, gs, &found);
				globset_free(gs);
			}
			strvec_clear(&one);
		}
		strbuf_release(&rel);
		strbuf_release(&err);
	}
	if (found.nr)
		qsort(found.v, found.nr, sizeof(char *), by_name);
	for (size_t i = 0; i < found.nr; i++) {
		struct strbuf up = STRBUF_INIT;
		bool inside = strmap_get(&seen, found.v[i]) >= 0;
		const char *slash;

		/* under a folder already packed whole? */
		strbuf_addstr(&up, found.v[i]);
		while (!inside && (slash = strrchr(up.buf, '/'))) {
			strbuf_setlen(&up, (size_t)(slash - up.buf));
			inside = strmap_get(&seen, up.buf) >= 0;
		}
		strbuf_release(&up);
		if (!inside) {
			strmap_put(&seen, found.v[i], 1);
			strvec_push(paths, found.v[i]);
		}
	}
	strmap_release(&seen);
	strvec_clear(&found);
	strvec_clear(&negative);
	strbuf_release(&base);
}

/* Up to LOG_MAX bytes of the log, without following a link. */
static bool read_log(const char *path, struct strbuf *out)
{
	char buf[65536];
	ssize_t got;
	int fd;

	if (!path)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)got > LOG_MAX) {
			strbuf_add(out, buf, LOG_MAX - out->len);
			close(fd);
			return true; /* cut */
		}
		strbuf_add(out, buf, (size_t)got);
	}
	close(fd);
	return false;
}

/* What task n's key was made of, for `squad explain` on another run. */
static char *manifest(const struct cachestep *c, size_t n)
{
	const struct squadfile *sf = c->sf;
	const struct plan *plan = c->plan;
	const struct graph *g = plan->graph;
	json_t *j = json_object(), *inputs = json_object(), *needs = json_object();
	const char *p = plan->inputs ? plan->inputs[n].buf : NULL;
	char *text;

	while (p && *p) {
		const char *tab = strchr(p, '\t'), *nl = tab ? strchr(tab, '\n') : NULL;
		char *path;

		if (!nl)
			break;
		path = xstrndup(p, (size_t)(tab - p));
		json_object_set_new(inputs, path, json_stringn(tab + 1, (size_t)(nl - tab - 1)));
		free(path);
		p = nl + 1;
	}
	for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++)
		json_object_set_new(needs, sf->tasks[g->deps[e]].name,
				    json_string(c->keys[g->deps[e]]));
	json_object_set_new(j, "version", json_integer(META_VERSION));
	json_object_set_new(j, "task", json_string(sf->tasks[n].name));
	json_object_set_new(j, "key", json_string(c->keys[n]));
	json_object_set_new(j, "definition", json_string(c->defs[n]));
	json_object_set_new(j, "inputs", inputs);
	json_object_set_new(j, "needs", needs);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return text;
}

/* A stored string: valid UTF-8 (jansson refuses the rest), or null. */
static json_t *text_or_null(const char *text)
{
	struct strbuf clean = STRBUF_INIT;
	json_t *v;

	if (!text)
		return json_null();
	strbuf_addstr(&clean, text);
	strbuf_utf8_sanitize(&clean);
	v = json_string(clean.buf);
	strbuf_release(&clean);
	return v;
}

/* The result's tool calls and usage, as read_tools() and read_usage()
 * read them back. */
static void put_agent(json_t *j, const struct cache_result *res)
{
	json_t *calls = json_array(), *usage = json_object();
	const struct task_usage *u = &res->usage;

	for (size_t i = 0; i < res->nr_tools; i++) {
		const struct task_tool *t = &res->tools[i];
		json_t *call = json_object();

		json_object_set_new(call, "id", text_or_null(t->id));
		json_object_set_new(call, "kind", text_or_null(t->kind));
		json_object_set_new(call, "title", text_or_null(t->title));
		json_object_set_new(call, "target", text_or_null(t->target));
		json_object_set_new(call, "status", text_or_null(t->status));
		json_object_set_new(call, "decision", text_or_null(t->decision));
		json_array_append_new(calls, call);
	}
	json_object_set_new(j, "tools", calls);
	json_object_set_new(j, "tools_omitted", json_integer((json_int_t)res->tools_omitted));
#define PART(bit, field) \
	json_object_set_new(usage, #field, u->known & bit ? json_integer(u->field) : json_null())
	PART(USAGE_REQUESTS, requests);
	PART(USAGE_INPUT, input_tokens);
	PART(USAGE_OUTPUT, output_tokens);
	PART(USAGE_TOTAL, total_tokens);
#undef PART
	json_object_set_new(j, "usage", usage);
}

static void put_text(json_t *j, const char *name, const char *text)
{
	struct strbuf clean = STRBUF_INIT;

	if (!text)
		return;
	strbuf_addstr(&clean, text);
	strbuf_utf8_sanitize(&clean);
	json_object_set_new(j, name, json_string(clean.buf));
	strbuf_release(&clean);
}

/* Did prefetch() see task n's artifact on the server? */
static bool known_there(struct cachestep *c, size_t n)
{
	bool there;

	pthread_mutex_lock(&c->pre_lock);
	there = c->pre && (c->pre[n].state == PRE_PRESENT || c->pre[n].state == PRE_FETCHED);
	pthread_mutex_unlock(&c->pre_lock);
	return there;
}

int cachestep_store(struct cachestep *c, size_t n, const struct cache_result *res,
		    struct strbuf *notice)
{
	const struct task *t = &c->sf->tasks[n];
	const char *key = c->keys[n];
	struct strvec paths = STRVEC_INIT;
	struct strbuf meta = STRBUF_INIT, log = STRBUF_INIT, body = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT, man = STRBUF_INIT;
	char latest[CACHE_KEY_HEX + 1], *tag = NULL, *text;
	json_t *j = json_object();
	bool cut = read_log(res->log_path, &log);
	int ret = -1;

	json_object_set_new(j, "version", json_integer(META_VERSION));
	json_object_set_new(j, "key", json_string(key));
	json_object_set_new(j, "task", json_string(t->name));
	json_object_set_new(j, "exit_code", json_integer(res->exit_code));
	json_object_set_new(j, "duration_ms", json_integer(res->duration_ms));
	json_object_set_new(j, "log_cut", json_boolean(res->log_cut || cut));
	put_text(j, "summary", res->summary);
	put_text(j, "answer", res->answer);
	if (res->nr_tools || res->tools_omitted || res->usage.known)
		put_agent(j, res);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	strbuf_addstr(&meta, text);
	free(text);
	strbuf_addch(&meta, '\n');
	strbuf_add(&meta, log.buf, log.len);

	collect_outputs(c->sf, t, &paths);
	if (artifact_pack(c->sf->root, &paths, meta.buf, meta.len, &body, &err) < 0) {
		strbuf_addf(notice, "cache: task '%s' is not stored: %s\n", t->name, err.buf);
		goto out;
	}
	tag = sign(c, key, &body);
	if (c->dir && local_put(c, key, &body, tag, &err) < 0)
		local_failed(c, err.buf, notice);
	if (!known_there(c, n))
		remote_put(c, key, &body, tag, res->duration_ms, true, notice);

	/* the manifest, as the task's latest entry */
	free(tag);
	text = manifest(c, n);
	strbuf_addstr(&man, text);
	free(text);
	latest_key(t, latest);
	tag = sign(c, latest, &man);
	strbuf_reset(&err);
	if (c->dir && local_put(c, latest, &man, tag, &err) < 0)
		local_failed(c, err.buf, notice);
	remote_put(c, latest, &man, tag, 0, false, notice);
	ret = 0;
out:
	free(tag);
	strvec_clear(&paths);
	strbuf_release(&meta);
	strbuf_release(&log);
	strbuf_release(&body);
	strbuf_release(&err);
	strbuf_release(&man);
	return ret;
}

/* --- why a miss ----------------------------------------------------- */

/* Is `key` in the local folder or the shared store? The source, or
 * CACHE_NONE. */
static enum cache_source where_is(struct cachestep *c, const char *key, struct strbuf *notice)
{
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	char *tag = NULL;
	enum cache_source s = CACHE_NONE;

	if (c->dir && cache_dir_get(c->dir, key, &body, &tag, &err) == 1 &&
	    signed_ok(c, key, &body, tag))
		s = CACHE_LOCAL;
	free(tag);
	tag = NULL;
	strbuf_reset(&body);
	if (s == CACHE_NONE && c->remote == REMOTE_HTTP && remote_up(c)) {
		struct cache_remote r;

		remote_of(c, &r);
		strbuf_reset(&err);
		switch (cache_http_head(&r, key, &err)) {
		case CACHE_HTTP_HIT:
			s = CACHE_REMOTE;
			break;
		case CACHE_HTTP_MISS:
			break;
		default:
			remote_failed(c, err.buf, notice);
		}
	} else if (s == CACHE_NONE && remote_get(c, key, MAX_DOWNLOAD, &body, &tag, notice) == 1 &&
		   signed_ok(c, key, &body, tag)) {
		s = CACHE_REMOTE;
	}
	free(tag);
	strbuf_release(&body);
	strbuf_release(&err);
	return s;
}

/* The latest manifest of task n, or NULL (why in `why`). */
static json_t *latest_manifest(struct cachestep *c, size_t n, struct strbuf *why,
			       struct strbuf *notice)
{
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	char key[CACHE_KEY_HEX + 1], *tag = NULL;
	json_t *j = NULL;
	int rc = 0;

	latest_key(&c->sf->tasks[n], key);
	if (c->dir)
		rc = cache_dir_get(c->dir, key, &body, &tag, &err);
	if (rc != 1) {
		strbuf_reset(&body);
		rc = remote_get(c, key, MANIFEST_MAX, &body, &tag, notice);
	}
	if (rc != 1)
		strbuf_addstr(why, "no entry of this task is in the cache to compare with");
	else if (!signed_ok(c, key, &body, tag))
		strbuf_addstr(why, "its latest entry is not signed with the signing key: not "
			      "compared");
	else if (!(j = json_loadb(body.buf, body.len, 0, NULL)) || !json_is_object(j))
		strbuf_addstr(why, "its latest entry's manifest is malformed");
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	free(tag);
	strbuf_release(&body);
	strbuf_release(&err);
	return j;
}

static void compare(const struct cachestep *c, size_t n, json_t *m, struct strbuf *out)
{
	const struct squadfile *sf = c->sf;
	const struct graph *g = c->plan->graph;
	json_t *inputs = json_object_get(m, "inputs"), *needs = json_object_get(m, "needs");
	const char *p = c->plan->inputs ? c->plan->inputs[n].buf : NULL;
	struct strmap now = STRMAP_INIT;
	struct strvec names = STRVEC_INIT; /* the map's keys: it does not copy them */
	size_t differences = 0;
	const char *path;
	json_t *v;

	if (!json_is_object(inputs))
		inputs = NULL;
	if (!json_is_object(needs))
		needs = NULL;
	if (json_string_value(json_object_get(m, "definition")) &&
	    strcmp(json_string_value(json_object_get(m, "definition")), c->defs[n])) {
		strbuf_addstr(out, "    its definition differs (command or prompt, folder, env, "
			      "patterns, worker)\n");
		differences++;
	}
	while (p && *p) {
		const char *tab = strchr(p, '\t'), *nl = tab ? strchr(tab, '\n') : NULL;
		char *name;
		const char *was;

		if (!nl)
			break;
		name = xstrndup(p, (size_t)(tab - p));
		strvec_push(&names, name);
		was = json_string_value(json_object_get(inputs, name));
		if (!was) {
			strbuf_addf(out, "    input %s: new (not in the cached entry)\n", name);
			differences++;
		} else if (strlen(was) != (size_t)(nl - tab - 1) ||
			   strncmp(was, tab + 1, (size_t)(nl - tab - 1))) {
			strbuf_addf(out, "    input %s: changed\n", name);
			differences++;
		}
		free(name);
		p = nl + 1;
	}
	for (size_t i = 0; i < names.nr; i++)
		strmap_put(&now, names.v[i], 1);
	if (inputs)
		json_object_foreach(inputs, path, v)
			if (strmap_get(&now, path) < 0) {
				strbuf_addf(out, "    input %s: gone (it was in the cached entry)\n",
					    path);
				differences++;
			}
	for (size_t e = g->dep_start[n]; e < g->dep_start[n + 1]; e++) {
		const char *dep = sf->tasks[g->deps[e]].name;
		const char *was = json_string_value(json_object_get(needs, dep));

		if (!was || strcmp(was, c->keys[g->deps[e]])) {
			strbuf_addf(out, "    need %s: %s\n", dep, was ? "its key differs (its "
				    "inputs or definition changed)" : "not a need of the cached entry");
			differences++;
		}
	}
	if (!differences) {
		const char *was = json_string_value(json_object_get(m, "key"));

		strbuf_addstr(out, was && !strcmp(was, c->keys[n])
			      ? "    the latest entry has this very key, but it is no longer "
				"stored (evicted, or never uploaded)\n"
			      : "    nothing differs by input: the cache's format or a need "
				"outside the plan changed\n");
	}
	strmap_release(&now);
	strvec_clear(&names);
}

void cachestep_explain(struct cachestep *c, size_t n, struct strbuf *out)
{
	const struct task *t = &c->sf->tasks[n];
	struct strbuf notice = STRBUF_INIT, why = STRBUF_INIT;
	enum cache_source s;
	json_t *m;

	if (!c->cacheable || !c->plan->in[n])
		return;
	if (!c->cacheable[n]) {
		strbuf_addf(out, "  cache: not cached (%s)\n",
			    !(t->run || t->run_argv.nr || t->prompt) ? "it does no work of its own"
			    : t->skills.nr ? "the tactician's" : !t->inputs.nr
			    ? "it declares no inputs" : keeps_change(t)
			    ? "its result is a change to your tree (isolate: worktree)"
			    : "a need of it is not in the plan");
		return;
	}
	s = where_is(c, c->keys[n], &notice);
	if (s != CACHE_NONE) {
		strbuf_addf(out, "  cache: hit (%s): it would be restored, not run\n",
			    cache_source_name(s));
		goto out;
	}
	strbuf_addf(out, "  cache: miss (key %.12s)", c->keys[n]);
	m = latest_manifest(c, n, &why, &notice);
	if (!m) {
		strbuf_addf(out, ": %s\n", why.buf);
		goto out;
	}
	strbuf_addstr(out, "; against the latest cached entry of this task:\n");
	compare(c, n, m, out);
	json_decref(m);
out:
	if (notice.len) {
		/* indented under the verdict, one line each */
		const char *p = notice.buf;

		while (*p) {
			size_t len = strcspn(p, "\n");

			strbuf_addf(out, "    (%.*s)\n", (int)len, p);
			p += len + (p[len] == '\n');
		}
	}
	strbuf_release(&notice);
	strbuf_release(&why);
}

void cachestep_free(struct cachestep *c)
{
	if (!c)
		return;
	/* no request is in flight once the run is over */
	cache_http_release();
	if (c->dir && c->local_grew) {
		struct strbuf ignored = STRBUF_INIT;

		/* a folder over its bound costs disk, not correctness: the
		 * next run tries again */
		cache_dir_evict(c->dir, c->max_bytes, &ignored);
		strbuf_release(&ignored);
	}
	free(c->dir);
	free(c->url);
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c->team);
	if (c->sign_key)
		memset(c->sign_key, 0, c->sign_len);
	free(c->sign_key);
	free(c->keys);
	free(c->defs);
	free(c->cacheable);
	if (c->pre) {
		for (size_t i = 0; i <= c->sf->nr_tasks; i++) {
			strbuf_release(&c->pre[i].body);
			free(c->pre[i].tag);
		}
		free(c->pre);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->pre_lock);
	pthread_cond_destroy(&c->pre_ready);
	free(c);
}
