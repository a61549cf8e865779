/* result.c - task statuses; see result.h. */
#include "result.h"

static const char *const status_names[] = {
	[TASK_PENDING] = "pending",
	[TASK_RUNNING] = "running",
	[TASK_OK] = "ok",
	[TASK_FAILED] = "failed",
	[TASK_TIMED_OUT] = "timed out",
	[TASK_SKIPPED] = "skipped",
	[TASK_NOT_STARTED] = "not started",
	[TASK_INTERRUPTED] = "interrupted",
	[TASK_HANDOFF] = "hand-off",
	[TASK_BLOCKED] = "waiting",
	[TASK_DONE] = "done",
	[TASK_ESCALATED] = "escalated",
	[TASK_UP_TO_DATE] = "up to date",
};

const char *task_status_name(enum task_status s)
{
	return status_names[s];
}

bool task_status_ok(enum task_status s)
{
	return s == TASK_OK || s == TASK_DONE || s == TASK_UP_TO_DATE;
}

bool task_status_failed(enum task_status s)
{
	return s == TASK_FAILED || s == TASK_TIMED_OUT || s == TASK_ESCALATED;
}

bool task_status_for_tactician(enum task_status s)
{
	return s == TASK_HANDOFF || s == TASK_ESCALATED;
}

int result_exit_code(const struct task_result *results, const int *order, size_t nr,
		     bool interrupted, bool squad_failed)
{
	size_t failed = 0, waiting = 0;
	int ret;

	for (size_t i = 0; i < nr; i++) {
		enum task_status s = results[order[i]].status;

		failed += task_status_failed(s);
		waiting += task_status_for_tactician(s) || s == TASK_BLOCKED;
	}
	ret = interrupted ? 130 : failed ? 1 : waiting ? 3 : 0;
	/* every task may have done its work, but what squad keeps of it is
	 * not whole: a hand-off without its manifest, a log cut short */
	if (squad_failed && (ret == 0 || ret == 3))
		ret = 1;
	return ret;
}
