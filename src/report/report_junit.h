/* report_junit.h - `squad --junit FILE`: the run as JUnit XML for CI.
 *
 * One <testsuite name="squad"> inside <testsuites>, one
 * <testcase classname="squad" name="TASK" time="SECONDS"> per task of the
 * plan, in plan order:
 *
 *   ok, up to date, done     passed (an empty testcase)
 *   failed, timed out        <failure message type> with the end of the
 *                            log (last 40 lines, at most 8 KiB) as text
 *   interrupted              <error> with the end of the log
 *   hand-off, escalated,     <skipped message="waiting for the tactician
 *   waiting (behind one)      ...">; an escalation's log tail goes in
 *                            <system-out>
 *   skipped, not started     <skipped message="...">
 *
 * The suite carries tests, failures, errors, skipped, time, timestamp
 * (run start, UTC, no zone: the Ant format) and hostname.
 * tests/junit/junit.xsd is the schema it follows.
 *
 * Every text is made XML 1.0 safe: invalid UTF-8 becomes '?', characters
 * XML 1.0 does not allow (control characters but tab, newline and CR;
 * U+FFFE, U+FFFF) are dropped, and markup is escaped (no CDATA, so a
 * log holding "]]>" cannot end anything).
 */
#ifndef SQUAD_REPORT_JUNIT_H
#define SQUAD_REPORT_JUNIT_H

#include "plan/plan.h"
#include "job/result.h"
#include "util/strbuf.h"

/* Append the JUnit XML of a run to `out`. `results` has one entry per
 * task of the Squadfile (as run_plan() fills it); `wall_seconds` is the
 * run's wall time, also used to date its start. */
void junit_format(struct strbuf *out, const struct plan *plan,
		  const struct task_result *results, double wall_seconds);

/* Write the JUnit XML of a run to `path` atomically (a temp file beside
 * it, then rename; a symlink at `path` is refused). Returns 0, or -1
 * with the reason in err. */
int junit_write(const char *path, const struct plan *plan, const struct task_result *results,
		double wall_seconds, struct strbuf *err);

#endif
