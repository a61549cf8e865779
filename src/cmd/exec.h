/* exec.h - `squad exec`: ad-hoc tasks, run without editing the Squadfile.
 *
 * The tasks come from the command line (--run CMD, --prompt TEXT, each
 * optionally preceded by --name N and --worker W, which apply to the next
 * task only) or, when none is given there, from standard input: a YAML
 * or JSON list (or map) of tasks in the Squadfile's task grammar
 * (squadfile_load_adhoc()), its problems reported as <stdin>:LINE:COL.
 * The Squadfile, when there is one (./Squadfile after -C, or -f FILE),
 * lends its vars, defaults, workers, routing and skills; its own tasks
 * are not part of the run.
 *
 * The run is the normal pipeline (graph -> plan -> run -> report, through
 * build_execute()) with the same slots, budgets and grouped output, but
 * its state is its own:
 * .squad/exec/ID/ (ID is "SECONDS-PID") holds its logs and hand-off
 * manifest, and is its own lock (a flock on the folder); its records
 * stay in memory (no journal: nothing reads them after the run). It
 * never takes .squad/lock nor writes .squad/state, so it neither waits
 * for nor disturbs a run in the same folder; the
 * request budget (budget.h) is one locked file shared by every squad.
 * Only the newest EXEC_KEEP such folders are kept: older ones are
 * removed while a run goes on (on a thread of their own), unless their
 * exec still runs (holds its folder's lock, or the lock file in it of an
 * older squad's exec).
 *
 * Skill-tagged tasks go into that run's manifest and never run. The
 * run ends with a result block for a model to read (each task's status,
 * exit code, summary, answer, reason, log), or with --json one JSON
 * document (grammar/exec.schema.json) on stdout, the person's output
 * then going to stderr.
 */
#ifndef SQUAD_EXEC_H
#define SQUAD_EXEC_H

#include <stdbool.h>

#include "report/report.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* How many .squad/exec/ID folders are kept. */
#define EXEC_KEEP 20

/* The kinds of items of the command line's task list. */
#define EXEC_ITEM_RUN "run="
#define EXEC_ITEM_PROMPT "prompt="
#define EXEC_ITEM_NAME "name="
#define EXEC_ITEM_WORKER "worker="

struct exec_options {
	const char *file;        /* the Squadfile's path */
	bool file_given;         /* -f: it must exist; else none means defaults */
	/* --run, --prompt, --name, --worker in command-line order, each as
	 * "run=CMD", "prompt=TEXT", "name=N", "worker=W" */
	const struct strvec *items;
	unsigned jobs;           /* -j (>= 1) */
	bool keep_going;
	bool dry_run;            /* -n: print the plan, run nothing */
	enum report_level level;
	enum report_output output;
	int color;               /* -1 auto, 0 never, 1 always */
	bool json;               /* one JSON document on stdout */
	bool strict_skills;
	const char *squad_command; /* how the tactician calls squad back */
};

/* The folder of the `squad exec` run `id` (SECONDS-PID[-N], as its
 * result names it) of the project at `root`, .squad/exec/ID, appended
 * to `dir`. Returns 0, or -1 (err) when `id` is no such name or there
 * is no such run. */
int exec_folder(const char *root, const char *id, struct strbuf *dir, struct strbuf *err);

/* Open the state of that run's folder and take its lock (waiting while
 * that exec still runs), for `squad apply --exec`. Returns 0, or -1
 * (err; st released). */
struct state;
int exec_open_folder(struct state *st, const char *dir, struct strbuf *err);

/* Does the command line hold tasks (a --run or a --prompt)? */
bool exec_has_cli_tasks(const struct strvec *items);

/* Run `squad exec`. Everything is printed here: diagnostics to stderr,
 * the run and the result block to stdout (stderr and the JSON document
 * with --json). Returns the exit code: 0 every task ok, 1 a task failed
 * (or squad could not keep its folder), 2 a usage or task-list error,
 * 3 nothing failed but skill tasks wait in the manifest, 130
 * interrupted. */
int exec_main(const struct exec_options *eo);

#endif
