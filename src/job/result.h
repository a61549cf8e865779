/* result.h - how a task of a run ended: its status and its result.
 *
 * No libuv, no I/O: the scheduler (run.h) fills these, outcome.h decides
 * the status of an attempt, and the reports (report.h, report_json.h,
 * report_junit.h) and the manifest (handoff.h) read them.
 */
#ifndef SQUAD_RESULT_H
#define SQUAD_RESULT_H

#include <stdbool.h>
#include <stddef.h>

enum task_status {
	TASK_PENDING = 0,  /* not decided yet */
	TASK_RUNNING,
	TASK_OK,
	TASK_FAILED,
	TASK_TIMED_OUT,
	TASK_SKIPPED,      /* behind a task that failed */
	TASK_NOT_STARTED,  /* squad stopped before it: fail-fast, Ctrl-C */
	TASK_INTERRUPTED,  /* was running when squad was interrupted */
	TASK_HANDOFF,      /* the tactician's: squad never runs it */
	TASK_BLOCKED,      /* behind a hand-off */
	TASK_DONE,         /* the tactician reported it done */
	/* failed (or timed out) after its retries, and handed to the
	 * tactician: still a failure in every channel (exit 1, <failure>,
	 * "failed" in the summary), but what is behind it waits rather
	 * than being skipped */
	TASK_ESCALATED,
	TASK_UP_TO_DATE,   /* its inputs are as at its last success: not run */
};

/* Lower-case word for a status, as printed and as in --json. */
const char *task_status_name(enum task_status s);
/* Did it end in a way that lets the tasks behind it run? */
bool task_status_ok(enum task_status s);
/* Did it fail: failed, timed out, or escalated after failing? A task
 * that failed is a failure whether or not it was escalated. */
bool task_status_failed(enum task_status s);
/* Is it waiting for the tactician (a hand-off or an escalation)? */
bool task_status_for_tactician(enum task_status s);

/* The exit code of a run (squad's, and squad exec's) whose tasks, the
 * `nr` indexes of `order`, ended with `results`: 130 when a signal
 * stopped it, 1 when a task failed, 3 when nothing failed but a task
 * waits for the tactician (or behind one) or a change waits for review
 * (`reviews`: the review entries of its manifest, this run's and those
 * an earlier run left), 0 when all is done. When squad could not keep
 * what the run made (`squad_failed`: a log, the state or the manifest
 * not written), 0 and 3 become 1. */
struct task_result;
int result_exit_code(const struct task_result *results, const int *order, size_t nr,
		     size_t reviews, bool interrupted, bool squad_failed);

/* At most this many tool calls are kept per task: the last ones. */
#define RESULT_MAX_TOOLS 50

/* One tool call an agent made for a task (acp.h reports them), in its
 * last known state. Strings owned, NULL when the agent gave none. */
struct task_tool {
	char *id;
	char *kind;     /* read, edit, execute, search, fetch, ... */
	char *title;
	char *target;   /* the command, or the path */
	char *status;   /* pending, in_progress, completed, failed */
	char *decision; /* squad's answer to its permission request, or NULL */
};

/* Which numbers of a struct task_usage are known: a number nobody
 * reported stays unknown, never 0. */
enum usage_known {
	USAGE_REQUESTS = 1 << 0,
	USAGE_INPUT = 1 << 1,
	USAGE_OUTPUT = 1 << 2,
	USAGE_TOTAL = 1 << 3,
};

/* What a task (or a worker, summed) used of its models. Zeroed, it
 * knows nothing. */
struct task_usage {
	long requests, input_tokens, output_tokens, total_tokens;
	unsigned known; /* enum usage_known bits */
};

/* Add what one call reported (each -1 when it did not say) to `u`:
 * a number reported once is known from then on. Sums stop at LONG_MAX. */
void task_usage_add(struct task_usage *u, long requests, long input, long output, long total);
/* Add all that `from` knows to `to`. */
void task_usage_merge(struct task_usage *to, const struct task_usage *from);

/* What became of an isolated task's change in a run (changes.h). */
enum task_change {
	TASK_CHANGE_NONE = 0,  /* not isolated, or no change could be taken */
	TASK_CHANGE_EMPTY,     /* it changed nothing */
	TASK_CHANGE_APPLIED,   /* applied to the user's tree */
	TASK_CHANGE_REVIEW,    /* kept, for the tactician (changes: review) */
	TASK_CHANGE_CONFLICT,  /* an apply met the user's edits or another task's
				* applied change: kept, for the tactician */
	TASK_CHANGE_KEPT,      /* kept, not applied: the task did not succeed */
	TASK_CHANGE_DISCARDED, /* thrown away (changes: discard) */
};

/* Lower-case word for a change's fate, as in --json; NULL for NONE. */
const char *task_change_name(enum task_change c);
/* Does it wait for the tactician (a review entry)? */
bool task_change_for_tactician(enum task_change c);

struct task_result {
	enum task_status status;
	int exit_code;          /* of the last attempt; -1 if none or a signal */
	int term_signal;        /* that ended the last attempt, or 0 */
	long duration_ms;       /* first start to last exit */
	unsigned attempts;      /* processes started, rate-limited ones included */
	unsigned rate_limited;  /* of those, how many met a rate limit */
	long cause;             /* the task that skipped or blocked it, or -1 */
	char *log_path;         /* NULL when it never ran */
	unsigned long long output_bytes; /* size of the log */
	char *summary;          /* one line, or NULL */
	char *answer;           /* an agent's final text, or NULL */
	char *reason;           /* why it failed, in words, or NULL */
	char *note;             /* the tactician's note of a done mark, or NULL */
	const char *worker;     /* name of the worker it ran on, or NULL */
	/* its log could not be written whole (a full disk): what it printed
	 * is partly or wholly lost, whatever its status; kept in the state,
	 * so an up-to-date task's replay says so too */
	bool log_cut;
	/* restored from the cache, not run: "local" or "remote" (static
	 * strings), else NULL; its status is then TASK_OK */
	const char *cached;
	/* an agent's tool calls over every attempt, the last RESULT_MAX_TOOLS
	 * (task_result_add_tool()), and how many earlier ones were dropped */
	struct task_tool *tools;
	size_t nr_tools, tools_omitted;
	struct task_usage usage; /* over every attempt */
	/* an isolated task's change, as the run left it */
	enum task_change change;
	int change_files;        /* how many paths it changed */
	char *change_patch;      /* where its patch is kept, or NULL */
	char *change_with;       /* TASK_CHANGE_CONFLICT: the task whose applied
				  * change it met, or NULL (the user's edits) */
};

/* Keep a copy of a tool call of `res` (strings copied; any may be
 * NULL): appended, the oldest dropped past RESULT_MAX_TOOLS. */
void task_result_add_tool(struct task_result *res, const struct task_tool *tool);

/* Free what task_result_add_tool() kept. */
void task_result_release_tools(struct task_result *res);

/* Usage per worker over the tasks `order` (`nr` indexes of `results`),
 * in the order the workers first appear: fills names[] (borrowed from
 * the results) and sums[] (each at least `nr` long, sums zeroed by the
 * caller) and returns how many workers reported some usage.
 * `cached` picks which tasks count: false, those that ran in this run
 * (what was spent); true, those restored from the cache (what their
 * stored run spent, not this one). */
size_t result_usage_by_worker(const struct task_result *results, const int *order, size_t nr,
			      bool cached, const char **names, struct task_usage *sums);

#endif
