/* cachestep.h - the shared result cache in a run (issue 21): which
 * tasks it serves, their keys, a hit restored, a success stored, and
 * why a task misses.
 *
 * The caller's steps:
 *   1. cachestep_open() with the Squadfile: it resolves `cache:` and the
 *      environment (which wins) into at most two stores: the local
 *      folder (the default, read-write, bounded with LRU eviction) and
 *      a shared one, a Turborepo Remote Cache API server or a folder
 *      (read-only unless write is set);
 *   2. cachestep_plan() once the plan is built: the keys;
 *   3. per ready task, cachestep_fetch() when cachestep_serves(); per
 *      task that succeeded, cachestep_store(). Both may run on other
 *      threads at once (run.c calls them on libuv's pool);
 *   4. cachestep_free().
 *
 * Cacheable: a task that does work (a command or a prompt), has
 * `inputs`, no skill, and whose needs are all in the plan. Its key
 * (cache.h) covers its declared definition (worker_describe_declared():
 * no value from the environment, the root as a token), its inputs'
 * content ids by relative path, and its needs' keys: the same work on
 * any machine, in any folder, has the same key. An entry holds the
 * result (exit code, duration, summary, an agent's answer), the log and
 * the `outputs`; with it goes a manifest of what the key was made of,
 * also kept as the task's latest entry, which `squad explain` compares
 * input by input.
 *
 * Failure never fails a run: a store that is down, slow (bounded
 * timeouts), refuses, or holds an artifact that is tampered with, not
 * signed when a signing key is set, or malformed gives a miss and a
 * notice for the user; a down remote is said once and not asked again
 * in this run. Notices name the store's URL or folder, never the token
 * or the signing key (neither is ever printed).
 *
 * Agent tasks: the answer, the tool calls (as the result keeps them:
 * the last RESULT_MAX_TOOLS and how many were left out) and the usage
 * (requests, tokens; a number the agent never reported stays unknown)
 * are stored, and a hit gives them back as they were. A hit asks no
 * model: it is charged to no budget, and the reports show its usage as
 * the stored run's, apart from what this run spent (result.h's
 * result_usage_by_worker()).
 */
#ifndef SQUAD_CACHESTEP_H
#define SQUAD_CACHESTEP_H

#include <stdbool.h>
#include <stddef.h>

#include "job/result.h"
#include "plan/plan.h"
#include "model/squadfile.h"
#include "util/strbuf.h"

enum cache_source {
	CACHE_NONE = 0,
	CACHE_LOCAL,  /* the local folder */
	CACHE_REMOTE, /* the shared store: a server or a shared folder */
};

/* "local", "remote" (NULL for CACHE_NONE): as the report and --json say. */
const char *cache_source_name(enum cache_source s);

struct cachestep_options {
	bool write;           /* --cache-write: upload to the shared store */
	bool no_read;         /* -B: take nothing from the cache (still store) */
	long worker_override; /* --worker: the worker every task runs on, or -1 */
	bool every_key;       /* key every planned task, not only those that
			       * will run and their needs (squad explain) */
};

struct cachestep;

/* The cache of a run of `sf` (which must outlive it): 0 with *out set,
 * or *out NULL when the cache is off (`cache: false`, SQUAD_CACHE=off,
 * or no folder and no URL); -1 with the reason in err for a setting
 * that cannot work (SQUAD_CACHE_URL neither http(s) nor a path, a
 * signing key variable named but not set, a bad SQUAD_CACHE_MAX_SIZE or
 * SQUAD_CACHE_TIMEOUT, a URL with a user or password).
 * Reads the environment, so call it before starting threads. */
int cachestep_open(struct cachestep **out, const struct squadfile *sf,
		   const struct cachestep_options *o, struct strbuf *err);

/* Compute the keys of `plan`'s tasks (the plan must outlive c): of
 * those that will run and what they need, or every one (every_key). */
void cachestep_plan(struct cachestep *c, const struct plan *plan);

/* Task n's key (64 hex digits), once planned; "" for a task outside
 * the plan. */
const char *cachestep_key(const struct cachestep *c, size_t n);

/* Should task n be looked up before it runs? (cacheable, and -B unset) */
bool cachestep_serves(const struct cachestep *c, size_t n);

/* Should task n's success be stored? (cacheable) */
bool cachestep_keeps(const struct cachestep *c, size_t n);

/* A stored result. */
struct cache_hit {
	enum cache_source source;
	int exit_code;
	long duration_ms;     /* of the run that made it */
	bool log_cut;
	char *summary;        /* or NULL */
	char *answer;         /* an agent's, or NULL */
	struct strbuf log;    /* the log's bytes */
	/* an agent's tool calls as the stored run kept them, and its usage */
	struct task_tool *tools;
	size_t nr_tools, tools_omitted;
	struct task_usage usage;
};

#define CACHE_HIT_INIT { CACHE_NONE, 0, 0, false, NULL, NULL, STRBUF_INIT, NULL, 0, 0, { 0 } }

void cache_hit_release(struct cache_hit *hit);

/* Read an entry's metadata (artifact.h's ARTIFACT_META: one line of
 * JSON, then the log's bytes), `len` bytes from anywhere, into `hit`
 * (released by the caller either way). The entry must say it was
 * stored under `key`. 0, or -1 with the reason in why. */
int cache_meta_read(const char *meta, size_t len, const char *key, struct cache_hit *hit,
		    struct strbuf *why);

/* Look task n up (the local folder, then the shared store, which a hit
 * then also fills the local folder from). The first lookup that reaches a server fetches, for every
 * task of the plan to run, what the server has at once (cache_http.h's
 * batch query and multi handle); each lookup takes its own from that,
 * waiting for it when it is on its way. On a hit, the outputs are
 * restored under the Squadfile's folder and 1 is returned with `hit`
 * filled; 0 on a miss. Anything the user should hear (a store down, an
 * artifact refused) is appended to `notice` as one line each. Thread
 * safe. */
int cachestep_fetch(struct cachestep *c, size_t n, struct cache_hit *hit,
		    struct strbuf *notice);

/* What a success left, to be stored. */
struct cache_result {
	int exit_code;
	long duration_ms;
	bool log_cut;
	const char *summary;  /* may be NULL */
	const char *answer;   /* may be NULL */
	const char *log_path; /* may be NULL: no output */
	const struct task_tool *tools; /* nr_tools of them (may be NULL) */
	size_t nr_tools, tools_omitted;
	struct task_usage usage;
};

/* Store task n's success: its outputs as they are now, its log, its
 * result, and its manifest; in the local folder, and in the shared
 * store when writing. Returns 0, or -1 when nothing could be stored
 * (the reason in notice). Thread safe. */
int cachestep_store(struct cachestep *c, size_t n, const struct cache_result *res,
		    struct strbuf *notice);

/* Append to `out` ("  cache: ..." lines) whether task n is a hit, and
 * on a miss why, input by input against the task's latest stored
 * entry. For `squad explain`. */
void cachestep_explain(struct cachestep *c, size_t n, struct strbuf *out);

/* Keeps the local folder within its bound (LRU) when the run added to
 * it, then frees c. */
void cachestep_free(struct cachestep *c);

#endif
