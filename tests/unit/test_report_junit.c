/* test_report_junit.c - the JUnit XML writer: schema, counts, escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/graph.h"
#include "plan/plan.h"
#include "report/report_junit.h"
#include "run/run.h"
#include "model/squadfile.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* A task name with everything XML cares about (libyaml only takes
 * valid UTF-8, and squad refuses control characters in names). */
#define HOSTILE_NAME "x<&\"]]>'y"
#define HOSTILE_YAML "\"x<&\\\"]]>'y\""
/* What a hostile task prints: markup, a CDATA end, control bytes, a NUL,
 * invalid UTF-8 (a lone continuation byte, a cut sequence, 0xff) and
 * U+FFFE, which XML 1.0 does not allow either. */
static const char hostile_output[] =
	"<script>alert(1)</script> & &amp; ]]> <![CDATA[ x ]]>\n"
	"bell\a esc\033[31m nul\0 del\x7f\n"
	"bad \x80 \xc3 \xff\xfe end \xef\xbf\xbe nonchar\n"
	"cr\r\nlast \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n";

static char root[256];
static char xsd[600];

static void path_in(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", root, rel);
}

static void write_bytes(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	path_in(path, sizeof(path), rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_file(const char *rel, const char *text)
{
	write_bytes(rel, text, strlen(text));
}

static bool have_xmllint(void)
{
	return system("xmllint --version >/dev/null 2>&1") == 0;
}

/* xmllint's exit status validating the file at `path` with junit.xsd. */
static int xsd_check(const char *path)
{
	struct strbuf cmd = STRBUF_INIT;
	int rc;

	strbuf_addf(&cmd, "xmllint --noout --schema '%s' '%s' 2>%s/xmllint.err", xsd, path, root);
	rc = system(cmd.buf);
	strbuf_release(&cmd);
	return rc;
}

/* The string value of an XPath expression over the file at `path`,
 * appended to out. */
static void xpath(const char *path, const char *expr, struct strbuf *out)
{
	struct strbuf cmd = STRBUF_INIT;
	FILE *p;
	char buf[4096];
	size_t n;

	strbuf_addf(&cmd, "xmllint --xpath '%s' '%s'", expr, path);
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(out, buf, n);
	pclose(p);
	/* xmllint ends what it prints with a newline of its own */
	if (out->len && out->buf[out->len - 1] == '\n')
		strbuf_setlen(out, out->len - 1);
	strbuf_release(&cmd);
}

static int setup(void **state)
{
	const char *here = __FILE__;
	const char *slash = strrchr(here, '/');

	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-junit.XXXXXX");
	assert_non_null(mkdtemp(root));
	/* tests/unit/test_report_junit.c -> tests/junit/junit.xsd; ctest
	 * runs us in tests/unit, so a relative __FILE__ works too */
	if (slash)
		snprintf(xsd, sizeof(xsd), "%.*s/../junit/junit.xsd", (int)(slash - here), here);
	else
		snprintf(xsd, sizeof(xsd), "../junit/junit.xsd");
	if (access(xsd, R_OK) < 0)
		snprintf(xsd, sizeof(xsd), "../junit/junit.xsd");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

struct fixture {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct task_result *results;
};

static long find(struct fixture *fx, const char *name)
{
	long n = squadfile_find_task(&fx->sf, name);

	assert_true(n >= 0);
	return n;
}

static void load(struct fixture *fx)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strbuf err = STRBUF_INIT;
	struct strvec targets = STRVEC_INIT;
	char path[512];

	write_file("Squadfile",
		   "version: 1\n"
		   "default: all\n"
		   "tasks:\n"
		   "  good: 'true'\n"
		   "  bad: 'false'\n"
		   "  slow: 'sleep 100'\n"
		   "  " HOSTILE_YAML ": 'cat hostile'\n"
		   "  after-bad: { run: 'true', needs: [bad] }\n"
		   "  later: 'true'\n"
		   "  review: { run: 'true', skills: [code-review, security] }\n"
		   "  behind: { run: 'true', needs: [review] }\n"
		   "  esc: { run: 'false', escalate: true }\n"
		   "  cut: 'sleep 100'\n"
		   "  all: { needs: [good, bad, slow, " HOSTILE_YAML ", after-bad, later,\n"
		   "                 review, behind, esc, cut] }\n");
	path_in(path, sizeof(path), "Squadfile");
	assert_int_equal(squadfile_load(&fx->sf, path, &diags), 0);
	assert_int_equal(graph_build(&fx->g, &fx->sf, &diags), 0);
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &err), 0);
	fx->results = xcalloc(fx->sf.nr_tasks + 1, sizeof(*fx->results));
	for (size_t i = 0; i < fx->sf.nr_tasks; i++)
		fx->results[i].cause = -1;
	diag_list_release(&diags);
	strbuf_release(&err);
}

static void set_log(struct task_result *res, const char *rel, const char *data, size_t len)
{
	char path[512];

	write_bytes(rel, data, len);
	path_in(path, sizeof(path), rel);
	res->log_path = xstrdup(path);
	res->output_bytes = len;
}

/* Results as run_plan() would leave them, one of every kind. */
static void fake_results(struct fixture *fx)
{
	struct task_result *r;
	struct strbuf many = STRBUF_INIT;

	r = &fx->results[find(fx, "good")];
	r->status = TASK_OK, r->attempts = 1, r->duration_ms = 1234;
	set_log(r, "good.log", "fine\n", 5);

	/* 100 numbered lines: only the last 40 go into the report */
	for (int i = 1; i <= 100; i++)
		strbuf_addf(&many, "line %03d\n", i);
	r = &fx->results[find(fx, "bad")];
	r->status = TASK_FAILED, r->attempts = 2, r->exit_code = 3, r->duration_ms = 20;
	set_log(r, "bad.log", many.buf, many.len);

	r = &fx->results[find(fx, "slow")];
	r->status = TASK_TIMED_OUT, r->attempts = 1, r->exit_code = -1;
	r->term_signal = 15, r->duration_ms = 5000;
	set_log(r, "slow.log", "", 0);

	r = &fx->results[find(fx, HOSTILE_NAME)];
	r->status = TASK_FAILED, r->attempts = 1, r->exit_code = 1, r->duration_ms = 7;
	r->reason = xstrdup("it said <no> & \"]]>\" \x01\xff");
	set_log(r, "hostile.log", hostile_output, sizeof(hostile_output) - 1);

	r = &fx->results[find(fx, "after-bad")];
	r->status = TASK_SKIPPED, r->cause = find(fx, "bad");
	fx->results[find(fx, "later")].status = TASK_NOT_STARTED;
	fx->results[find(fx, "review")].status = TASK_HANDOFF;
	r = &fx->results[find(fx, "behind")];
	r->status = TASK_BLOCKED, r->cause = find(fx, "review");

	r = &fx->results[find(fx, "esc")];
	r->status = TASK_ESCALATED, r->attempts = 3, r->exit_code = 1, r->duration_ms = 30;
	r->reason = xstrdup("exit code 1");
	set_log(r, "esc.log", "escalated output ]]>\n", 21);

	r = &fx->results[find(fx, "cut")];
	r->status = TASK_INTERRUPTED, r->attempts = 1, r->exit_code = -1;
	r->term_signal = 2, r->duration_ms = 100;
	set_log(r, "cut.log", "partial\n", 8);

	fx->results[find(fx, "all")].status = TASK_SKIPPED;
	fx->results[find(fx, "all")].cause = find(fx, "bad");
	strbuf_release(&many);
}

static void release(struct fixture *fx)
{
	run_results_release(fx->results, fx->sf.nr_tasks);
	free(fx->results);
	plan_release(&fx->plan);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
}

static void write_report(struct fixture *fx, char *path, size_t size)
{
	struct strbuf err = STRBUF_INIT;

	path_in(path, size, "report.xml");
	assert_int_equal(junit_write(path, &fx->plan, fx->results, 12.5, &err), 0);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
}

static bool is_valid_utf8_xml_chars(const struct strbuf *sb)
{
	struct strbuf copy = STRBUF_INIT;
	bool ok;

	strbuf_add(&copy, sb->buf, sb->len);
	strbuf_utf8_sanitize(&copy);
	/* sanitizing changes nothing only when it was valid already */
	ok = copy.len == sb->len && !memcmp(copy.buf, sb->buf, sb->len);
	for (size_t i = 0; ok && i < sb->len; i++) {
		unsigned char c = (unsigned char)sb->buf[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			ok = false;
	}
	strbuf_release(&copy);
	return ok && !strstr(sb->buf, "\xef\xbf\xbe") && !strstr(sb->buf, "\xef\xbf\xbf");
}

static void report_follows_the_schema(void **state)
{
	struct fixture fx;
	char path[512];

	(void)state;
	if (!have_xmllint())
		skip(); /* libxml2-utils is in .ci/packages */
	load(&fx);
	fake_results(&fx);
	write_report(&fx, path, sizeof(path));
	if (xsd_check(path) != 0) {
		struct strbuf cmd = STRBUF_INIT;

		strbuf_addf(&cmd, "cat %s/xmllint.err '%s' >&2", root, path);
		assert_int_equal(system(cmd.buf), 0);
		strbuf_release(&cmd);
		fail_msg("the report does not follow %s", xsd);
	}
	release(&fx);
}

static void the_schema_check_is_real(void **state)
{
	static const char *const invalid[] = {
		/* a count that is not a number */
		"<testsuites><testsuite name=\"s\" tests=\"many\" failures=\"0\" errors=\"0\"/></testsuites>",
		/* `skipped` on the root, which junit-10.xsd (Jenkins' xUnit
		 * plugin) refuses */
		"<testsuites skipped=\"1\"><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"/></testsuites>",
		/* a testcase without its name */
		"<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase classname=\"c\"/></testsuite>",
		/* an element JUnit does not have */
		"<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"t\"><crash/></testcase></testsuite>",
		/* skipped after failure: the order is fixed */
		"<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"t\"><failure/><skipped/></testcase></testsuite>",
		/* a suite without failures and errors, which junit-10.xsd requires */
		"<testsuite name=\"s\" tests=\"1\"/>",
		/* a testcase attribute junit-10.xsd does not allow */
		"<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"t\" file=\"a.c\"/></testsuite>",
		/* a negative time */
		"<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"-1\"/>",
	};
	char path[512];

	(void)state;
	if (!have_xmllint())
		skip();
	assert_int_equal(access(xsd, R_OK), 0);
	path_in(path, sizeof(path), "check.xml");
	write_file("check.xml", "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"0.5\">"
		   "<testcase name=\"t\" classname=\"c\" time=\"0.1\"><skipped message=\"m\"/>"
		   "</testcase></testsuite></testsuites>");
	assert_int_equal(xsd_check(path), 0);
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		write_file("check.xml", invalid[i]);
		if (xsd_check(path) == 0)
			fail_msg("the schema accepts %s", invalid[i]);
	}
}

static void counts_and_outcomes(void **state)
{
	struct fixture fx;
	struct strbuf xml = STRBUF_INIT, v = STRBUF_INIT;
	char path[512];

	(void)state;
	load(&fx);
	fake_results(&fx);
	junit_format(&xml, &fx.plan, fx.results, 12.5);
	/* 11 tasks: bad, slow, hostile and esc (escalated: still a red)
	 * fail; cut errs; 5 are skipped. junit-10.xsd of Jenkins' xUnit
	 * plugin allows no `skipped` on <testsuites>: only on <testsuite> */
	assert_non_null(strstr(xml.buf, "<testsuites name=\"squad\" tests=\"11\" failures=\"4\" "
				    "errors=\"1\" time=\"12.500\">"));
	assert_non_null(strstr(xml.buf, "<testsuite name=\"squad\" package=\"squad\" id=\"0\" "
				    "tests=\"11\" failures=\"4\" errors=\"1\" skipped=\"5\""));
	assert_non_null(strstr(xml.buf, "hostname=\""));
	assert_non_null(strstr(xml.buf, "timestamp=\""));
	assert_non_null(strstr(xml.buf, "<testcase classname=\"squad\" name=\"good\" time=\"1.234\"/>"));
	assert_non_null(strstr(xml.buf, "<failure message=\"exit code 3 (after 2 attempts)\" "
				    "type=\"failed\">"));
	assert_non_null(strstr(xml.buf, "<failure message=\"timed out\" type=\"timed out\">"));
	assert_non_null(strstr(xml.buf, "<error message=\"interrupted while it ran\" "
				    "type=\"interrupted\">partial</error>"));
	assert_non_null(strstr(xml.buf, "<skipped message=\"waiting for the tactician "
				    "(skills: code-review, security)\"/>"));
	assert_non_null(strstr(xml.buf, "<skipped message=\"waiting for the tactician "
				    "(behind hand-off review)\"/>"));
	assert_non_null(strstr(xml.buf, "<failure message=\"exit code 1 (after 3 attempts); "
				    "escalated to the tactician\" type=\"escalated\">escalated "
				    "output ]]&gt;</failure>"));
	assert_null(strstr(xml.buf, "escalated output ]]&gt;</system-out>"));
	assert_non_null(strstr(xml.buf, "<skipped message=\"not run: it needs bad, which did not "
				    "succeed\"/>"));
	assert_non_null(strstr(xml.buf, "<skipped message=\"not started: squad stopped before it\"/>"));
	/* the log tail: the last 40 lines, and where the rest is */
	assert_null(strstr(xml.buf, "line 060"));
	assert_non_null(strstr(xml.buf, "line 061\n"));
	assert_non_null(strstr(xml.buf, "line 100</failure>"));
	assert_non_null(strstr(xml.buf, "... (the whole log is "));
	/* an empty log says so */
	assert_non_null(strstr(xml.buf, "type=\"timed out\">(no output)</failure>"));

	if (have_xmllint()) {
		write_report(&fx, path, sizeof(path));
		xpath(path, "count(//testcase)", &v);
		assert_string_equal(v.buf, "11");
		strbuf_reset(&v);
		xpath(path, "string(//testcase[@name=\"bad\"]/failure)", &v);
		assert_true(!strncmp(v.buf, "... (the whole log is ", 22));
	}
	strbuf_release(&v);
	strbuf_release(&xml);
	release(&fx);
}

static void hostile_text_is_escaped(void **state)
{
	struct fixture fx;
	struct strbuf xml = STRBUF_INIT, v = STRBUF_INIT;
	char path[512];
	const char *cdata_end;

	(void)state;
	load(&fx);
	fake_results(&fx);
	junit_format(&xml, &fx.plan, fx.results, 1);
	assert_true(is_valid_utf8_xml_chars(&xml));
	/* no CDATA section, and "]]>" only ever escaped */
	assert_null(strstr(xml.buf, "<![CDATA["));
	cdata_end = strstr(xml.buf, "]]>");
	assert_null(cdata_end);
	assert_null(strstr(xml.buf, "<script>"));
	assert_non_null(strstr(xml.buf, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &amp;amp; "
				    "]]&gt; &lt;![CDATA[ x ]]&gt;\n"));
	/* control bytes dropped, tab/newline kept, CR kept as a reference,
	 * invalid UTF-8 shown as '?', valid UTF-8 untouched */
	assert_non_null(strstr(xml.buf, "bell esc[31m nul? del\x7f\n"));
	assert_non_null(strstr(xml.buf, "bad ? ? ?? end  nonchar\n"));
	assert_non_null(strstr(xml.buf, "cr&#13;\nlast \xc3\xa9t\xc3\xa9 \xe2\x9c\x93</failure>"));
	/* attributes: quotes and markup escaped, the control byte dropped */
	assert_non_null(strstr(xml.buf, "name=\"x&lt;&amp;&quot;]]&gt;'y\""));
	assert_non_null(strstr(xml.buf, "message=\"it said &lt;no&gt; &amp; &quot;]]&gt;&quot; ?\""));

	if (have_xmllint()) {
		/* and a parser reads back exactly what was meant */
		write_report(&fx, path, sizeof(path));
		assert_int_equal(xsd_check(path), 0);
		xpath(path, "string(//testcase[contains(@name,\"]]>\")]/@name)", &v);
		assert_string_equal(v.buf, HOSTILE_NAME);
		strbuf_reset(&v);
		xpath(path, "string(//testcase[contains(@name,\"]]>\")]/failure/@message)", &v);
		assert_string_equal(v.buf, "it said <no> & \"]]>\" ?");
		strbuf_reset(&v);
		xpath(path, "string(//testcase[contains(@name,\"]]>\")]/failure)", &v);
		assert_non_null(strstr(v.buf, "<script>alert(1)</script> & &amp; ]]> <![CDATA[ x ]]>\n"));
		assert_non_null(strstr(v.buf, "cr\r\nlast"));
	}
	strbuf_release(&v);
	strbuf_release(&xml);
	release(&fx);
}

static void written_atomically(void **state)
{
	struct fixture fx;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, cmd = STRBUF_INIT;
	char path[512], link_path[512];

	(void)state;
	load(&fx);
	fake_results(&fx);
	path_in(path, sizeof(path), "out/junit.xml");
	/* a folder that is not there: an error, not a crash */
	assert_int_equal(junit_write(path, &fx.plan, fx.results, 1, &err), -1);
	assert_non_null(strstr(err.buf, "cannot create"));
	strbuf_reset(&err);

	path_in(path, sizeof(path), "junit.xml");
	write_file("junit.xml", "old");
	assert_int_equal(junit_write(path, &fx.plan, fx.results, 1, &err), 0);
	assert_int_equal(strbuf_read_file(&text, path), 0);
	assert_true(!strncmp(text.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39));
	/* no temp file left beside it */
	strbuf_addf(&cmd, "test $(ls '%s' | grep -c tmp) -eq 0", root);
	assert_int_equal(system(cmd.buf), 0);

	/* a symlink is not written through */
	path_in(link_path, sizeof(link_path), "link.xml");
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(junit_write(link_path, &fx.plan, fx.results, 1, &err), -1);
	assert_non_null(strstr(err.buf, "symlink"));
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&cmd);
	release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report_follows_the_schema),
		cmocka_unit_test(the_schema_check_is_real),
		cmocka_unit_test(counts_and_outcomes),
		cmocka_unit_test(hostile_text_is_escaped),
		cmocka_unit_test(written_atomically),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
