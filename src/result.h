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
 * waits for the tactician (or behind one), 0 when all is done. When
 * squad could not keep what the run made (`squad_failed`: a log, the
 * state or the manifest not written), 0 and 3 become 1. */
struct task_result;
int result_exit_code(const struct task_result *results, const int *order, size_t nr,
		     bool interrupted, bool squad_failed);

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
};

#endif
