/* build.h - one run, from opening .squad/ to the exit status.
 *
 * As ninja's Builder owns a build, this module owns a run: it opens and
 * locks the state (puts back what an interrupted --stash set aside, sets
 * aside what this one must), asks git and the file system what the plan
 * needs (the changed paths, the files, .squad/files and .squad/git kept
 * for the next run, .squad/changed for the tasks), plans (and shards),
 * runs the plan with the reporters watching, puts back the stash, writes
 * the hand-off manifest and the JUnit report, and decides the exit code.
 * main.c only parses the command line and calls build_main(); exec.c
 * makes its own model and state folder and calls build_execute().
 *
 * Everything is printed here, once: the person's report on `human`
 * (stdout, or stderr when stdout carries --json), squad's own errors on
 * stderr prefixed "squad: ".
 *
 * A run's steps, for a caller with its own plan and state (exec.c):
 *   1. fill a struct build (sf, plan, skills, st, options, human, start);
 *   2. build_execute(): runs the plan, reports, writes the manifest,
 *      sets b->results, b->wall, b->interrupted, b->entries, returns the
 *      exit code;
 *   3. build_release() frees the results.
 */
#ifndef SQUAD_BUILD_H
#define SQUAD_BUILD_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cache/cachestep.h"
#include "plan/graph.h"
#include "files/inputs.h"
#include "plan/plan.h"
#include "report/report.h"
#include "report/report_json.h"
#include "model/route.h"
#include "model/squadfile.h"
#include "files/stash.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* squad's exit codes (squad --help, README); result_exit_code() decides
 * a run's from its results. */
enum exit_code {
	EXIT_OK = 0,          /* every task done */
	EXIT_FAILED = 1,      /* a task failed or timed out, escalated or not; or squad could not
			       * keep .squad/ (a full disk), or a report it was asked
			       * for (stdout, --junit) could not be written, or
			       * --no-wait found it busy */
	EXIT_USAGE = 2,       /* bad command line or Squadfile */
	EXIT_HANDOFF = 3,     /* nothing failed; skill tasks wait for the tactician */
	EXIT_INTERRUPTED = 130,
};

/* Which of the targets' tasks a run selects. */
enum build_selection {
	BUILD_SELECT_ALL,     /* the targets' whole closure */
	BUILD_SELECT_STAGED,  /* tasks whose inputs the index changes */
	BUILD_SELECT_CHANGED, /* tasks whose inputs differ from a revision */
};

/* A run's settings, from the command line. */
struct build_options {
	unsigned jobs;             /* -j, >= 1 */
	bool keep_going;           /* -k */
	bool dry_run;              /* -n: plan, print, run and write nothing */
	bool force;                /* -B */
	bool replay;               /* --replay */
	bool no_wait;              /* another squad holds the lock: fail at once */
	bool stash;                /* --stash */
	bool cache_write;          /* --cache-write: upload to the shared cache */
	enum build_selection select;
	const char *changed_ref;   /* --changed=REF; NULL: HEAD */
	unsigned shard_k, shard_n; /* --shard K/N; shard_n 0: no shard */
	const char *worker;        /* --worker NAME, or NULL */
	enum report_level level;
	enum report_output output;
	int color;                 /* -1 auto, 0 never, 1 always */
	bool json;                 /* events on stdout, the person's report on stderr */
	bool json_output;          /* --json=output: task output in the events */
	const char *junit;         /* --junit FILE, or NULL */
	const char *squad_command; /* how the tactician calls squad back */
};

/* One run of a made plan over an open state (build_execute()). The
 * caller owns every pointer it fills in; results are the build's. */
struct build {
	/* given */
	const struct build_options *opts;
	const struct squadfile *sf;
	const struct plan *plan;
	const struct skills *skills;
	struct state *st;          /* open and locked */
	struct stash *stash;       /* put back after the run; NULL: none */
	struct json_reporter *jr;  /* --json events, or NULL */
	FILE *human;               /* the person's report */
	struct timespec start;     /* CLOCK_MONOTONIC, when squad started */
	long worker_override;      /* a worker's index, or -1 */
	const char *changed_file;  /* $SQUAD_CHANGED, or NULL */
	struct cachestep *cache;   /* the result cache (cachestep.h), or NULL */
	const struct strvec *run_targets; /* the run's targets, for the manifest of a
				    * shard (its plan has its own); NULL: the plan's */
	bool adhoc;                /* squad exec's: no git section in the manifest,
				    * its path told by the caller */
	/* set by build_execute() */
	struct task_result *results; /* sf->nr_tasks + 1 of them */
	double wall;               /* seconds since start */
	bool interrupted;
	int entries;               /* in the manifest; -1 when it could not be written */
	size_t reviews;            /* of those, changes kept for review */
};

/* Run the Squadfile's `targets` (none: its default) as `squad [run]`
 * does, from opening .squad/ to the exit code, which it returns. */
int build_main(const struct build_options *bo, struct squadfile *sf, struct graph *g,
	       const struct skills *skills, const struct strvec *targets);

/* Run b->plan and report it: the person's report and b->jr's events,
 * the stash put back, the journal compacted when due, the summary, the
 * hand-off manifest. Returns the run's exit code (result_exit_code()). */
int build_execute(struct build *b);

/* Free what build_execute() set. */
void build_release(struct build *b);

/* The result cache for `plan`, keys computed; NULL when it is off, or
 * (*failed set, said on stderr) when its settings cannot work. With
 * `every_key`, keys for every task (explain), not only those that run. */
struct cachestep *build_open_cache(const struct build_options *bo, const struct squadfile *sf,
				   const struct plan *plan, long worker_override, bool every_key,
				   bool *failed);

/* Open `root`'s .squad and take its lock: wait for another squad to
 * finish, or with `no_wait`, fail at once. An apply to the user's tree
 * that a killed squad left unfinished is finished or undone then
 * (build_recover_applies()). Returns 0, or -1 after saying why on
 * stderr (st then released). */
int build_open_state(struct state *st, const char *root, bool no_wait);

/* Finish or undo the applies a killed squad left in `squad_dir`
 * (treewrite_recover()), saying what was done on stderr. */
void build_recover_applies(const char *squad_dir);

/* What a plan of `sf` needs from git and the file system (for `squad
 * explain`, planning as a run would): the changed paths into `changed`
 * when selecting, the files into `files` when a task has inputs, their
 * prefix in the work tree into `prefix`; all set in `po`, which points
 * into them. `st` may be NULL. Returns 0, or -1 with the reason in err. */
int build_plan_options(const struct build_options *bo, const struct squadfile *sf,
		       const struct state *st, struct plan_options *po, struct inputs *files,
		       struct strvec *changed, struct strbuf *prefix, struct strbuf *err);

#endif
