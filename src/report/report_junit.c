/* report_junit.c - JUnit XML of a run; see report_junit.h. */
#include "report/report_junit.h"
#include "files/fileio.h"
#include "util/tail.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SQUAD_VERSION
#define SQUAD_VERSION "0.1.0"
#endif

/* A failure carries this much of the end of its log; the rest is a path. */

/* Append `len` bytes of `text` so that any XML 1.0 parser reads them
 * back: in content (attr false) or in a double-quoted attribute value,
 * where tab, newline and CR are written as references because attribute
 * normalisation would turn them into spaces. */
static void xml_add(struct strbuf *out, const char *text, size_t len, bool attr)
{
	struct strbuf clean = STRBUF_INIT;

	strbuf_add(&clean, text, len);
	/* now valid UTF-8 (NULs and stray bytes became '?'), so the only
	 * multi-byte characters XML forbids are U+FFFE and U+FFFF */
	strbuf_utf8_sanitize(&clean);
	for (size_t i = 0; i < clean.len; i++) {
		unsigned char c = (unsigned char)clean.buf[i];

		switch (c) {
		case '&':
			strbuf_addstr(out, "&amp;");
			break;
		case '<':
			strbuf_addstr(out, "&lt;");
			break;
		case '>':
			/* always, so "]]>" can never appear */
			strbuf_addstr(out, "&gt;");
			break;
		case '"':
			strbuf_addstr(out, attr ? "&quot;" : "\"");
			break;
		case '\t':
			strbuf_addstr(out, attr ? "&#9;" : "\t");
			break;
		case '\n':
			strbuf_addstr(out, attr ? "&#10;" : "\n");
			break;
		case '\r':
			/* a bare CR in content would be read back as a newline */
			strbuf_addstr(out, "&#13;");
			break;
		default:
			if (c < 0x20)
				break; /* not an XML 1.0 character: dropped */
			if (c == 0xef && i + 2 < clean.len && (unsigned char)clean.buf[i + 1] == 0xbf &&
			    ((unsigned char)clean.buf[i + 2] & 0xfe) == 0xbe) {
				i += 2; /* U+FFFE, U+FFFF */
				break;
			}
			strbuf_addch(out, (char)c);
		}
	}
	strbuf_release(&clean);
}

static void xml_text(struct strbuf *out, const char *text)
{
	xml_add(out, text, strlen(text), false);
}

/* ` name="value"`, the value escaped. */
static void xml_attr(struct strbuf *out, const char *name, const char *value)
{
	strbuf_addf(out, " %s=\"", name);
	xml_add(out, value, strlen(value), true);
	strbuf_addch(out, '"');
}

/* What ended a failed attempt, in words. */
static void failure_message(struct strbuf *msg, const struct task_result *res)
{
	if (res->reason)
		strbuf_addstr(msg, res->reason);
	else if (res->status == TASK_TIMED_OUT)
		strbuf_addstr(msg, "timed out");
	else if (res->term_signal > 0)
		strbuf_addf(msg, "killed by signal %d", res->term_signal);
	else if (res->exit_code >= 0)
		strbuf_addf(msg, "exit code %d", res->exit_code);
	else
		strbuf_addstr(msg, "failed");
	if (res->attempts > 1)
		strbuf_addf(msg, " (after %u attempts)", res->attempts);
}

/* The end of the task's log as element content, with where the rest is. */
static void log_body(struct strbuf *out, const struct task_result *res)
{
	struct strbuf tail = STRBUF_INIT;

	if (!res->log_path)
		return;
	if (tail_lines(res->log_path, TAIL_LINES, TAIL_BYTES, &tail) > 0) {
		strbuf_addstr(out, "... (the whole log is ");
		xml_text(out, res->log_path);
		strbuf_addstr(out, ")\n");
	}
	xml_add(out, tail.buf, tail.len, false);
	if (!tail.len)
		strbuf_addstr(out, "(no output)");
	strbuf_release(&tail);
}

/* <tag message="msg" type="type">body</tag>; body from the log or none. */
static void element(struct strbuf *out, const char *tag, const char *msg, const char *type,
		    const struct task_result *log_of)
{
	strbuf_addf(out, "      <%s", tag);
	xml_attr(out, "message", msg);
	if (type)
		xml_attr(out, "type", type);
	if (!log_of || !log_of->log_path) {
		strbuf_addstr(out, "/>\n");
		return;
	}
	strbuf_addch(out, '>');
	log_body(out, log_of);
	strbuf_addf(out, "</%s>\n", tag);
}

static const char *name_of(const struct plan *plan, long n)
{
	if (n < 0 || (size_t)n >= plan->sf->nr_tasks)
		return "?";
	return plan->sf->tasks[n].name;
}

enum outcome { PASSED, FAILURE, ERROR, SKIPPED };

static enum outcome outcome_of(enum task_status s)
{
	switch (s) {
	case TASK_OK:
	case TASK_DONE:
	case TASK_UP_TO_DATE:
		return PASSED;
	case TASK_FAILED:
	case TASK_TIMED_OUT:
	case TASK_ESCALATED: /* a red is a red, handed on or not */
		return FAILURE;
	case TASK_SKIPPED:
	case TASK_NOT_STARTED:
	case TASK_HANDOFF:
	case TASK_BLOCKED:
		return SKIPPED;
	case TASK_INTERRUPTED:
	case TASK_PENDING:
	case TASK_RUNNING:
		break;
	}
	return ERROR;
}

static void testcase(struct strbuf *out, const struct plan *plan, int n,
		     const struct task_result *res)
{
	const struct task *t = &plan->sf->tasks[n];
	struct strbuf msg = STRBUF_INIT;
	long ms = res->duration_ms > 0 ? res->duration_ms : 0;

	strbuf_addstr(out, "    <testcase classname=\"squad\"");
	xml_attr(out, "name", t->name);
	strbuf_addf(out, " time=\"%ld.%03ld\"", ms / 1000, ms % 1000);
	if (outcome_of(res->status) == PASSED) {
		strbuf_addstr(out, "/>\n");
		return;
	}
	strbuf_addstr(out, ">\n");
	switch (res->status) {
	case TASK_FAILED:
	case TASK_TIMED_OUT:
		failure_message(&msg, res);
		element(out, "failure", msg.buf, task_status_name(res->status), res);
		break;
	case TASK_INTERRUPTED:
		element(out, "error", "interrupted while it ran", "interrupted", res);
		break;
	case TASK_HANDOFF:
		strbuf_addstr(&msg, "waiting for the tactician (skills:");
		for (size_t i = 0; i < t->skills.nr; i++)
			strbuf_addf(&msg, "%s %s", i ? "," : "", t->skills.v[i]);
		strbuf_addch(&msg, ')');
		element(out, "skipped", msg.buf, NULL, NULL);
		break;
	case TASK_ESCALATED:
		failure_message(&msg, res);
		strbuf_addstr(&msg, "; escalated to the tactician");
		element(out, "failure", msg.buf, "escalated", res);
		break;
	case TASK_BLOCKED:
		strbuf_addf(&msg, "waiting for the tactician (behind hand-off %s)",
			    name_of(plan, res->cause));
		element(out, "skipped", msg.buf, NULL, NULL);
		break;
	case TASK_SKIPPED:
		strbuf_addf(&msg, "not run: it needs %s, which did not succeed",
			    name_of(plan, res->cause));
		element(out, "skipped", msg.buf, NULL, NULL);
		break;
	case TASK_NOT_STARTED:
		element(out, "skipped", "not started: squad stopped before it", NULL, NULL);
		break;
	default:
		element(out, "error", "squad has no result for this task", "squad", NULL);
		break;
	}
	strbuf_addstr(out, "    </testcase>\n");
	strbuf_release(&msg);
}

static void property(struct strbuf *out, const char *name, const char *value)
{
	strbuf_addstr(out, "      <property");
	xml_attr(out, "name", name);
	xml_attr(out, "value", value);
	strbuf_addstr(out, "/>\n");
}

void junit_format(struct strbuf *out, const struct plan *plan,
		  const struct task_result *results, double wall_seconds)
{
	size_t counts[SKIPPED + 1] = { 0 };
	struct strbuf counts_attrs = STRBUF_INIT, targets = STRBUF_INIT;
	struct strbuf suite_attrs = STRBUF_INIT, time_attr = STRBUF_INIT;
	char host[256], stamp[32];
	long wall_ms = wall_seconds > 0 ? (long)(wall_seconds * 1000 + 0.5) : 0;
	time_t started = time(NULL) - (time_t)(wall_ms / 1000);
	struct tm tm;

	for (size_t i = 0; i < plan->nr_order; i++)
		counts[outcome_of(results[plan->order[i]].status)]++;
	/* junit-10.xsd (Jenkins' xUnit plugin) allows `skipped` on
	 * <testsuite> only, not on <testsuites> */
	strbuf_addf(&counts_attrs, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\"",
		    plan->nr_order, counts[FAILURE], counts[ERROR]);
	strbuf_addf(&suite_attrs, " skipped=\"%zu\"", counts[SKIPPED]);
	strbuf_addf(&time_attr, " time=\"%ld.%03ld\"", wall_ms / 1000, wall_ms % 1000);
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0'; /* a long name may come back cut, unterminated */
	/* the Ant format has no zone; squad's is UTC */
	gmtime_r(&started, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	for (size_t i = 0; i < plan->targets.nr; i++)
		strbuf_addf(&targets, "%s%s", i ? " " : "", plan->targets.v[i]);

	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"squad\"");
	strbuf_addf(out, "%s%s>\n", counts_attrs.buf, time_attr.buf);
	strbuf_addf(out, "  <testsuite name=\"squad\" package=\"squad\" id=\"0\"%s%s%s",
		    counts_attrs.buf, suite_attrs.buf, time_attr.buf);
	xml_attr(out, "timestamp", stamp);
	xml_attr(out, "hostname", *host ? host : "localhost");
	strbuf_addstr(out, ">\n    <properties>\n");
	property(out, "squad.version", SQUAD_VERSION);
	property(out, "squad.squadfile", plan->sf->path ? plan->sf->path : "Squadfile");
	property(out, "squad.targets", targets.buf);
	strbuf_addstr(out, "    </properties>\n");
	for (size_t i = 0; i < plan->nr_order; i++)
		testcase(out, plan, plan->order[i], &results[plan->order[i]]);
	strbuf_addstr(out, "  </testsuite>\n</testsuites>\n");
	strbuf_release(&counts_attrs);
	strbuf_release(&suite_attrs);
	strbuf_release(&time_attr);
	strbuf_release(&targets);
}

int junit_write(const char *path, const struct plan *plan, const struct task_result *results,
		double wall_seconds, struct strbuf *err)
{
	struct strbuf xml = STRBUF_INIT;
	int ret;

	junit_format(&xml, plan, results, wall_seconds);
	ret = file_write(path, xml.buf, xml.len, err);
	strbuf_release(&xml);
	return ret;
}
