/* result.c - task statuses; see result.h. */
#include "job/result.h"
#include "util/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

const char *task_change_name(enum task_change c)
{
	static const char *const names[] = {
		[TASK_CHANGE_NONE] = NULL, [TASK_CHANGE_EMPTY] = "empty",
		[TASK_CHANGE_APPLIED] = "applied", [TASK_CHANGE_REVIEW] = "review",
		[TASK_CHANGE_CONFLICT] = "conflict", [TASK_CHANGE_KEPT] = "kept",
		[TASK_CHANGE_DISCARDED] = "discarded",
	};

	return (size_t)c < sizeof(names) / sizeof(names[0]) ? names[c] : NULL;
}

bool task_change_for_tactician(enum task_change c)
{
	return c == TASK_CHANGE_REVIEW || c == TASK_CHANGE_CONFLICT;
}

int result_exit_code(const struct task_result *results, const int *order, size_t nr,
		     size_t reviews, bool interrupted, bool squad_failed)
{
	size_t failed = 0, waiting = reviews;
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

static long sum(long a, long b)
{
	return b > LONG_MAX - a ? LONG_MAX : a + b;
}

void task_usage_add(struct task_usage *u, long requests, long input, long output, long total)
{
	const long val[] = { requests, input, output, total };
	long *dst[] = { &u->requests, &u->input_tokens, &u->output_tokens, &u->total_tokens };

	for (size_t i = 0; i < 4; i++) {
		if (val[i] < 0)
			continue;
		*dst[i] = u->known & (1u << i) ? sum(*dst[i], val[i]) : val[i];
		u->known |= 1u << i;
	}
}

void task_usage_merge(struct task_usage *to, const struct task_usage *from)
{
	task_usage_add(to, from->known & USAGE_REQUESTS ? from->requests : -1,
		       from->known & USAGE_INPUT ? from->input_tokens : -1,
		       from->known & USAGE_OUTPUT ? from->output_tokens : -1,
		       from->known & USAGE_TOTAL ? from->total_tokens : -1);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void tool_release(struct task_tool *t)
{
	free(t->id);
	free(t->kind);
	free(t->title);
	free(t->target);
	free(t->status);
	free(t->decision);
}

void task_result_add_tool(struct task_result *res, const struct task_tool *tool)
{
	struct task_tool *t;

	if (!res->tools)
		res->tools = xcalloc(RESULT_MAX_TOOLS, sizeof(*res->tools));
	if (res->nr_tools == RESULT_MAX_TOOLS) {
		/* the last calls tell what the agent ended up doing */
		tool_release(&res->tools[0]);
		memmove(res->tools, res->tools + 1, (RESULT_MAX_TOOLS - 1) * sizeof(*res->tools));
		res->nr_tools--;
		res->tools_omitted++;
	}
	t = &res->tools[res->nr_tools++];
	t->id = dup_or_null(tool->id);
	t->kind = dup_or_null(tool->kind);
	t->title = dup_or_null(tool->title);
	t->target = dup_or_null(tool->target);
	t->status = dup_or_null(tool->status);
	t->decision = dup_or_null(tool->decision);
}

void task_result_release_tools(struct task_result *res)
{
	for (size_t i = 0; i < res->nr_tools; i++)
		tool_release(&res->tools[i]);
	free(res->tools);
	res->tools = NULL;
	res->nr_tools = res->tools_omitted = 0;
}

size_t result_usage_by_worker(const struct task_result *results, const int *order, size_t nr,
			      bool cached, const char **names, struct task_usage *sums)
{
	size_t nr_names = 0;

	/* a handful of workers: a linear search is enough */
	for (size_t i = 0; i < nr; i++) {
		const struct task_result *res = &results[order[i]];
		size_t w;

		if (!res->usage.known || !res->worker || (res->cached != NULL) != cached)
			continue;
		for (w = 0; w < nr_names && strcmp(names[w], res->worker); w++)
			;
		if (w == nr_names)
			names[nr_names++] = res->worker;
		task_usage_merge(&sums[w], &res->usage);
	}
	return nr_names;
}
