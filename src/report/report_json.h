/* report_json.h - `squad --json`: the run as newline-delimited JSON events.
 *
 * Each event is one line holding one JSON object, written and flushed as
 * it happens, so a consumer can read the run live. Every event has
 * "event" (its type) and "time" (RFC 3339, UTC, milliseconds); the rest
 * is in grammar/events.schema.json, which is the contract:
 *
 *   plan      once, first: targets, the tasks in order with worker/action
 *   start     an attempt of a task begins (attempt 1)
 *   retry     a later attempt begins (attempt > 1)
 *   output    only with --json=output: the end of the log of a task that
 *             ran and printed, at most 64 KiB, right before its finish
 *   tool      an agent's tool call began or changed (ACP workers)
 *   finish    once per task of the plan, with its final result, its
 *             tool calls and usage
 *   handoff   after the run: the manifest and how many tasks wait in it
 *   summary   last: counts per status, wall time, exit code, usage
 *             per worker
 *
 * Every string is made valid UTF-8 first (bytes that are not become '?').
 * Commands are not part of any event: expanded, they can hold values
 * taken from the environment.
 *
 * The caller's steps:
 *   1. json_reporter_new() once the plan is built;
 *   2. json_reporter_plan();
 *   3. run_plan() with json_reporter_observer() (alone, or called from
 *      the caller's own observer along with the human reporter's);
 *   4. json_reporter_handoff() if a manifest was written or removed,
 *      then json_reporter_summary();
 *   5. json_reporter_free().
 */
#ifndef SQUAD_REPORT_JSON_H
#define SQUAD_REPORT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "plan/plan.h"
#include "run/run.h"

/* Version of the event format, in the plan event. */
#define JSON_EVENTS_VERSION 1

struct json_reporter;

/* A reporter writing to `out` (not closed by it). `plan` (and its
 * Squadfile) must outlive the reporter. `with_output` adds an output
 * event per task that printed something. Free with json_reporter_free(). */
struct json_reporter *json_reporter_new(FILE *out, const struct plan *plan, bool with_output);

/* An observer for run_plan(): start and retry events as attempts begin,
 * output (opt-in) and finish events as tasks end. */
struct run_observer json_reporter_observer(struct json_reporter *jr);

/* The plan event: version, targets, and the tasks of the plan in order,
 * each with its action (run, group, hand-off, done, done-failed,
 * up-to-date), worker (the Squadfile's; --worker may send it elsewhere:
 * finish says where it ran), skills and needs. */
void json_reporter_plan(struct json_reporter *jr);

/* The handoff event: `entries` (>= 0) tasks wait for the tactician in
 * the manifest at `manifest_path`. When `entries` is 0 (no manifest left)
 * or the path is NULL, "manifest" is null. */
void json_reporter_handoff(struct json_reporter *jr, const char *manifest_path, int entries);

/* The summary event: per status how many tasks of the plan ended so
 * (every status, zeros included), the total, the wall time, whether a
 * signal stopped the run, and the exit code squad is about to return. */
void json_reporter_summary(struct json_reporter *jr, const struct task_result *results,
			   double wall_seconds, bool interrupted, int exit_code);

/* `text` as a JSON string, made valid UTF-8 first; null for NULL. */
json_t *report_json_text(const char *text);

/* A tool call as JSON: {id, kind, title, target, status, decision},
 * each a string or null. The same shape in the tool event, exec's
 * result and the manifest. */
json_t *report_json_tool(const struct task_tool *tool);

/* A task's tool calls: {calls: [the last RESULT_MAX_TOOLS], omitted: N
 * earlier ones left out}. */
json_t *report_json_tools(const struct task_result *res);

/* What became of an isolated task's change (result.h's task_change):
 * {fate: applied|review|conflict|kept|discarded|empty, files: N, patch:
 * the kept patch's path or null, conflict_with: the task whose applied
 * change a conflict met, or null}; null for a task that is not
 * isolated or whose change could not be taken. The same shape in the
 * finish event and exec's result (which adds apply_command). */
json_t *report_json_change(const struct task_result *res);

/* Usage as JSON: {requests, input_tokens, output_tokens, total_tokens},
 * each an integer, or null when unknown (never 0 for unknown). */
json_t *report_json_usage(const struct task_usage *u);

/* Usage per worker over the tasks of `order` (`nr` indexes into
 * `results`): {worker name: usage}, only the workers of tasks that
 * reported some usage. `cached`: of the tasks restored from the cache
 * (what their stored runs used), else of those that ran (what this run
 * spent); result_usage_by_worker(). */
json_t *report_json_usage_by_worker(const struct task_result *results, const int *order,
				    size_t nr, bool cached);

/* Free the reporter (NULL is fine). Everything was flushed already. */
void json_reporter_free(struct json_reporter *jr);

#endif
