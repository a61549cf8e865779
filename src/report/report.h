/* report.h - what a person sees: task output, status lines, summary,
 * listings. The only module that writes to the terminal (main and
 * build print squad's own usage errors and diagnostics).
 *
 * Task output is printed in one piece when the task ends, under one
 * header line, so that parallel tasks never interleave; or, with
 * --output=prefixed, as it comes, each line under the task's name. Either
 * way at most 256 KiB of a task's output reaches the terminal (the log
 * has all of it), with a line that says how much was cut and where the
 * whole is: grouped prints the last 256 KiB; prefixed streams the first
 * 128 KiB and 1,000 lines, then prints as much of the end when the task
 * ends.
 *
 * Names and other text from the Squadfile, a task or an agent are shown
 * through strbuf_add_printable(): no control, bidirectional or invisible
 * formatting character of theirs reaches the terminal raw.
 */
#ifndef SQUAD_REPORT_H
#define SQUAD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "plan/plan.h"
#include "run/run.h"
#include "model/squadfile.h"

/* What of a task's output reaches the terminal. */
enum report_output {
	OUTPUT_GROUPED,  /* all of it, in one piece when the task ends */
	OUTPUT_PREFIXED, /* as it comes, each whole line as "task | line" */
	OUTPUT_FAILED,   /* only failing tasks', in one piece */
	OUTPUT_QUIET,    /* none: status lines and the summary only */
};

enum report_level {
	REPORT_QUIET,   /* failures and the summary only */
	REPORT_NORMAL,  /* a line per task, output of tasks that printed */
	REPORT_VERBOSE, /* also each command as it starts */
};

struct running_task {
	size_t task;
	uint64_t started_ms;
	unsigned long long printed; /* bytes of its log already streamed */
	unsigned lines;             /* lines streamed (--output=prefixed) */
	bool cut;                   /* the head is spent: the end waits for the finish */
};

struct report {
	FILE *out;
	const struct squadfile *sf;
	const struct plan *plan;
	const struct task_result *results; /* the run's, for log paths */
	enum report_level level;
	enum report_output output;
	bool color;
	bool live;              /* a status line redrawn in place (a TTY) */
	bool replay;            /* print the last log of up-to-date tasks */
	size_t finished, total;
	struct running_task *running;
	size_t nr_running, alloc_running;
	bool status_shown;      /* the live line is on screen */
	uint64_t last_draw_ms;
	char **shown_names;     /* escaped task names, NULL when none needs it */
};

void report_init(struct report *rep, FILE *out, const struct squadfile *sf,
		 const struct plan *plan, enum report_level level, bool color);
void report_release(struct report *rep);
/* An observer that prints as tasks start and finish. */
struct run_observer report_observer(struct report *rep);

/* Colour for `out`: `setting` 1 always, 0 never, -1 auto (a terminal,
 * unless NO_COLOR is set or TERM is dumb). */
bool report_want_color(int setting, FILE *out);
/* Can a status line be redrawn in place on `out` (a terminal, TERM not
 * dumb)? What report.live wants. */
bool report_can_redraw(FILE *out);
/* Seconds from `start` (CLOCK_MONOTONIC) to now. */
double report_seconds_since(const struct timespec *start);

/* One worker's usage for a person, appended to `sb`:
 * "qwen: 8 requests, 12.3k tokens in, 1.1k out". A number nobody
 * reported is left out ("tokens unknown" when no token count is known,
 * "requests unknown" likewise), never shown as 0. */
void report_usage_text(struct strbuf *sb, const char *worker, const struct task_usage *u);

/* Counts, wall time, the slowest tasks, usage per worker that used a
 * model, the failures with their logs. */
void report_summary(struct report *rep, const struct task_result *results,
		    double wall_seconds, bool interrupted);

/* -n: the order tasks would start in, each with its worker or route,
 * then a line with the effective limits under -j `jobs` of the workers
 * that would run a task (run_worker_limit()); with no task selected (--changed,
 * nothing changed) the one line "squad: nothing to do". */
void report_dry_run(FILE *out, const struct plan *plan, unsigned jobs);

/* squad list: task, description, needs, skills in aligned columns. */
void report_list(FILE *out, const struct squadfile *sf);

/* squad list --json: one JSON array of the tasks (name, desc, needs,
 * skills, worker, inputs, outputs, default) for programs. */
void report_list_json(FILE *out, const struct squadfile *sf);

/* squad graph: DOT of the closure of `plan` (skill tasks drawn apart). */
void report_graph_dot(FILE *out, const struct plan *plan);
/* squad graph --format=mermaid: the same as a Mermaid flowchart. */
void report_graph_mermaid(FILE *out, const struct plan *plan);

#endif
