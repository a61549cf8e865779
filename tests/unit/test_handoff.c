/* test_handoff.c - the hand-off manifest written from a (faked) run,
 * read back by `squad done`, `undo` and `handoff`: its entries, done
 * marks and notes, its bounds, the atomic write, and symlinks refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/gitinfo.h"
#include "plan/graph.h"
#include "report/handoff.h"
#include "plan/plan.h"
#include "model/route.h"
#include "run/run.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include "scratch_tree.h"

struct fixture {
	struct squadfile sf;
	struct graph g;
	struct plan plan;
	struct skills skills;
	struct state st;
	struct task_result *results;
	struct handoff_context ctx;
	char squadfile[600];
	char squad_dir[600];
	char manifest[600];
	struct strbuf err;
};

static const char squadfile_text[] =
	"version: 1\n"
	"default: all\n"
	"vars:\n"
	"  WHO: the team\n"
	"  TOKEN: ${SECRET_TOKEN}\n"
	"tasks:\n"
	"  build: 'echo built'\n"
	"  review: { skills: [code-review, nowhere], prompt: 'review for ${WHO} with ${TOKEN}',"
	" needs: [build] }\n"
	"  behind: { run: 'true', needs: [review] }\n"
	"  further: { run: 'true', needs: [behind] }\n"
	"  flaky: { run: 'make check', desc: 'the checks' }\n"
	"  fine: 'true'\n"
	"  all: { needs: [further, flaky, fine] }\n";

static long find(struct fixture *fx, const char *name)
{
	long n = squadfile_find_task(&fx->sf, name);

	assert_true(n >= 0);
	return n;
}

static void write_file(const char *rel, const char *text)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *path_of(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", root, rel);
	return strbuf_detach(&sb, NULL);
}

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strvec none = STRVEC_INIT;
	struct strbuf log = STRBUF_INIT;
	struct task_result *r;

	setenv("SECRET_TOKEN", "hunter2", 1);
	assert_true(scratch_make("handoff"));
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s/.claude/skills/code-review'", root);
		assert_int_equal(system(cmd), 0);
	}
	write_file(".claude/skills/code-review/SKILL.md",
		   "---\nname: reviewer\ndescription: how we review\n---\nRead it all.\n");
	write_file("Squadfile", squadfile_text);
	snprintf(fx->squadfile, sizeof(fx->squadfile), "%s/Squadfile", root);
	assert_int_equal(squadfile_load(&fx->sf, fx->squadfile, &diags), 0);
	assert_int_equal(graph_build(&fx->g, &fx->sf, &diags), 0);
	fx->skills = (struct skills)SKILLS_INIT;
	assert_int_equal(route_resolve_skills(&fx->skills, &fx->sf, NULL, false, &diags), 0);
	diag_list_release(&diags);
	strbuf_init(&fx->err, 0);
	assert_int_equal(state_open(&fx->st, root, &fx->err), 0);
	assert_int_equal(state_lock(&fx->st, true, &fx->err), 0);
	assert_int_equal(state_load(&fx->st, &fx->err), 0);
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, &fx->st, &none, NULL, &fx->err), 0);
	snprintf(fx->squad_dir, sizeof(fx->squad_dir), "%s/.squad", root);
	snprintf(fx->manifest, sizeof(fx->manifest), "%s/.squad/handoff.json", root);

	fx->results = xcalloc(fx->sf.nr_tasks + 1, sizeof(*fx->results));
	for (size_t i = 0; i < fx->sf.nr_tasks; i++)
		fx->results[i].cause = -1;
	r = &fx->results[find(fx, "build")];
	r->status = TASK_OK, r->attempts = 1, r->duration_ms = 12, r->exit_code = 0;
	r->summary = xstrdup("built it");
	r->log_path = path_of("build.log");
	/* an answer above the state's bound: the manifest keeps it cut */
	r->answer = xmalloc(STATE_MAX_TEXT + 100);
	memset(r->answer, 'a', STATE_MAX_TEXT + 99);
	r->answer[STATE_MAX_TEXT + 99] = '\0';
	fx->results[find(fx, "review")].status = TASK_HANDOFF;
	fx->results[find(fx, "behind")].status = TASK_BLOCKED;
	fx->results[find(fx, "behind")].cause = find(fx, "review");
	fx->results[find(fx, "further")].status = TASK_BLOCKED;
	fx->results[find(fx, "further")].cause = find(fx, "review");
	fx->results[find(fx, "all")].status = TASK_BLOCKED;
	fx->results[find(fx, "fine")].status = TASK_OK;
	r = &fx->results[find(fx, "flaky")];
	r->status = TASK_ESCALATED, r->attempts = 3, r->exit_code = 2;
	r->reason = xstrdup("exit code 2");
	r->log_path = path_of("flaky.log");
	/* 100 lines: the manifest carries the last 40 */
	for (int i = 1; i <= 100; i++)
		strbuf_addf(&log, "line %d\n", i);
	write_file("flaky.log", log.buf);
	strbuf_release(&log);

	fx->ctx = (struct handoff_context){
		.sf = &fx->sf, .squadfile_path = fx->squadfile, .squad_command = "my squad",
		.plan = &fx->plan, .results = fx->results, .skills = &fx->skills,
		.git = NULL, .st = &fx->st,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	run_results_release(fx->results, fx->sf.nr_tasks);
	free(fx->results);
	state_close(&fx->st);
	plan_release(&fx->plan);
	route_skills_release(&fx->skills);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
	strbuf_release(&fx->err);
	free(fx);
	return scratch_remove();
}

static json_t *load_manifest(struct fixture *fx)
{
	json_error_t jerr;
	json_t *m = json_load_file(fx->manifest, 0, &jerr);

	if (!m)
		fail_msg("%s: %s", fx->manifest, jerr.text);
	return m;
}

static json_t *entry_named(json_t *m, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(m, "tasks"), i, e)
		if (!strcmp(json_string_value(json_object_get(e, "name")), name))
			return e;
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		fail_msg("no string '%s'", key);
	return s;
}

static void test_manifest_entries(void **state)
{
	struct fixture *fx = *state;
	json_t *m, *review, *flaky, *a;
	struct strbuf want = STRBUF_INIT;
	const char *instruction, *tail;

	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 2);
	m = load_manifest(fx);
	assert_int_equal(json_integer_value(json_object_get(m, "version")), 1);
	assert_string_equal(str(m, "squadfile"), fx->squadfile);
	strbuf_addf(&want, "'my squad' -f %s all", fx->squadfile);
	assert_string_equal(str(m, "resume_command"), want.buf);
	assert_null(json_object_get(m, "git"));
	/* in plan order: flaky has no needs, review needs build */
	assert_int_equal(json_array_size(json_object_get(m, "tasks")), 2);

	review = entry_named(m, "review");
	assert_non_null(review);
	assert_string_equal(str(review, "kind"), "skill");
	assert_string_equal(str(review, "worker"), "tactician");
	/* vars expanded, but a var owing to the environment stays as written */
	assert_string_equal(str(review, "prompt"), "review for the team with ${TOKEN}");
	assert_string_equal(str(review, "fingerprint"),
			    plan_fingerprint(&fx->plan, (size_t)find(fx, "review")));
	assert_string_equal(str(review, "dir"), fx->sf.root);
	/* skills: one found (its front matter read), one not */
	a = json_object_get(review, "skills");
	assert_int_equal(json_array_size(a), 2);
	assert_true(json_is_true(json_object_get(json_array_get(a, 0), "resolved")));
	assert_string_equal(str(json_array_get(a, 0), "description"), "how we review");
	assert_true(json_is_false(json_object_get(json_array_get(a, 1), "resolved")));
	/* what waits behind it, transitively; not the group, not flaky */
	a = json_object_get(review, "blocks");
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_array_get(a, 0)), "behind");
	assert_string_equal(json_string_value(json_array_get(a, 1)), "further");
	/* the results of what it needs, the answer bounded as in the state */
	a = json_array_get(json_object_get(review, "needs"), 0);
	assert_string_equal(str(a, "name"), "build");
	assert_string_equal(str(a, "status"), "ok");
	assert_int_equal(json_integer_value(json_object_get(a, "exit_code")), 0);
	assert_string_equal(str(a, "summary"), "built it");
	assert_true(strlen(str(a, "answer")) < STATE_MAX_TEXT + 99);
	assert_true(strlen(str(a, "answer")) >= STATE_MAX_TEXT - 100);
	strbuf_reset(&want);
	strbuf_addf(&want, "'my squad' -f %s done review --note '<one line: what you did and "
		    "found>'", fx->squadfile);
	assert_string_equal(str(review, "done_command"), want.buf);
	instruction = str(review, "instruction");
	assert_non_null(strstr(instruction, "Task 'review' of"));
	assert_non_null(strstr(instruction, "read "));
	assert_non_null(strstr(instruction, "(its front matter names it 'reviewer')"));
	assert_non_null(strstr(instruction, "nowhere: no SKILL.md was found"));
	assert_non_null(strstr(instruction, "- build: ok, \"built it\"; log "));
	assert_non_null(strstr(instruction, want.buf));
	assert_non_null(strstr(instruction, "Waiting behind it: behind, further, all;"));
	/* no environment value anywhere in the file */
	{
		struct strbuf text = STRBUF_INIT;

		assert_int_equal(strbuf_read_file(&text, fx->manifest), 0);
		assert_null(strstr(text.buf, "hunter2"));
		strbuf_release(&text);
	}

	flaky = entry_named(m, "flaky");
	assert_non_null(flaky);
	assert_string_equal(str(flaky, "kind"), "escalation");
	assert_string_equal(str(flaky, "worker"), "shell");
	a = json_object_get(flaky, "failure");
	assert_int_equal(json_integer_value(json_object_get(a, "exit_code")), 2);
	assert_int_equal(json_integer_value(json_object_get(a, "attempts")), 3);
	assert_string_equal(str(a, "reason"), "exit code 2");
	tail = str(a, "log_tail");
	/* the last 40 lines, without the final newline */
	assert_memory_equal(tail, "line 61\n", 8);
	assert_string_equal(tail + strlen(tail) - 9, "\nline 100");
	instruction = str(flaky, "instruction");
	assert_non_null(strstr(instruction, "failed after 3 attempts: exit code 2 and was "
				      "escalated"));
	assert_non_null(strstr(instruction, "Do what this command does, and judge its result: "
				      "make check"));
	assert_non_null(strstr(instruction, "\"fixed, check again\""));
	json_decref(m);
	strbuf_release(&want);
}

/* A symlink in the manifest's place is neither read nor written
 * through, and no temp file is left behind. */
static void test_atomic_write_refuses_symlinks(void **state)
{
	struct fixture *fx = *state;
	struct strbuf text = STRBUF_INIT;
	char *outside = path_of("outside.json");
	struct stat sb;
	DIR *d;
	struct dirent *de;

	write_file("outside.json", "precious\n");
	assert_int_equal(symlink(outside, fx->manifest), 0);
	/* read: refused */
	assert_int_equal(handoff_show(fx->squad_dir, false, &text, &fx->err), -1);
	assert_non_null(strstr(fx->err.buf, "is a symlink"));
	strbuf_reset(&fx->err);
	assert_int_equal(handoff_done(&fx->st, "review", false, NULL, &fx->err), -1);
	assert_non_null(strstr(fx->err.buf, "is a symlink"));
	assert_null(state_get(&fx->st, "review"));
	strbuf_reset(&fx->err);

	/* written: refused too, the link and its target untouched */
	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), -1);
	assert_non_null(strstr(fx->err.buf, "is a symlink; squad will not write through it"));
	assert_int_equal(lstat(fx->manifest, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(strbuf_read_file(&text, outside), 0);
	assert_string_equal(text.buf, "precious\n");
	d = opendir(fx->squad_dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, "handoff"))
			assert_string_equal(de->d_name, "handoff.json");
	closedir(d);
	free(outside);
	strbuf_release(&text);
}

/* A new manifest replaces the old one whole (a new file renamed over
 * it): a reader that opened the old one keeps reading it intact. */
static void test_rewrite_is_atomic(void **state)
{
	struct fixture *fx = *state;
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	struct stat old_sb, new_sb;
	DIR *d;
	struct dirent *de;
	int fd;

	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 2);
	assert_int_equal(strbuf_read_file(&before, fx->manifest), 0);
	fd = open(fx->manifest, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &old_sb), 0);
	fx->results[find(fx, "flaky")].status = TASK_FAILED;
	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 1);
	assert_int_equal(stat(fx->manifest, &new_sb), 0);
	assert_true(old_sb.st_ino != new_sb.st_ino);
	/* the old file, as it was */
	{
		char *buf = xmalloc(before.len + 1);
		ssize_t n = pread(fd, buf, before.len + 1, 0);

		assert_int_equal(n, (ssize_t)before.len);
		assert_memory_equal(buf, before.buf, before.len);
		free(buf);
	}
	close(fd);
	assert_int_equal(strbuf_read_file(&after, fx->manifest), 0);
	assert_null(strstr(after.buf, "\"flaky\""));
	/* no temp file left beside it */
	d = opendir(fx->squad_dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, "tmp"));
	closedir(d);
	strbuf_release(&before);
	strbuf_release(&after);
}

static void test_done_marks_and_notes(void **state)
{
	struct fixture *fx = *state;
	const struct task_record *rec;
	char fingerprint[41];
	json_t *m;

	memcpy(fingerprint, plan_fingerprint(&fx->plan, (size_t)find(fx, "review")), 41);
	/* nothing written yet: nothing waits */
	assert_int_equal(handoff_done(&fx->st, "review", false, "x", &fx->err), 1);
	assert_non_null(strstr(fx->err.buf, "no task waits"));
	strbuf_reset(&fx->err);

	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 2);
	/* a task that is not waiting: the error lists those that are */
	assert_int_equal(handoff_done(&fx->st, "build", false, "x", &fx->err), 1);
	assert_non_null(strstr(fx->err.buf, "'build' is not waiting"));
	if (!strstr(fx->err.buf, "waiting: flaky review"))
		fail_msg("got '%s'", fx->err.buf);
	strbuf_reset(&fx->err);
	assert_int_equal(handoff_done(&fx->st, "\x1b[31mx", false, "x", &fx->err), 1);
	assert_null(strchr(fx->err.buf, '\x1b'));
	strbuf_reset(&fx->err);

	assert_int_equal(handoff_done(&fx->st, "review", false, "looked, fine", &fx->err), 0);
	rec = state_get(&fx->st, "review");
	assert_non_null(rec);
	assert_int_equal(rec->status, RECORD_DONE);
	assert_string_equal(rec->fingerprint, fingerprint);
	assert_string_equal(rec->note, "looked, fine");
	m = load_manifest(fx);
	assert_null(entry_named(m, "review"));
	assert_non_null(entry_named(m, "flaky"));
	json_decref(m);

	/* the mark is in the journal, not only in memory */
	state_close(&fx->st);
	assert_int_equal(state_open(&fx->st, root, &fx->err), 0);
	assert_int_equal(state_lock(&fx->st, true, &fx->err), 0);
	assert_int_equal(state_load(&fx->st, &fx->err), 0);
	rec = state_get(&fx->st, "review");
	assert_non_null(rec);
	assert_string_equal(rec->note, "looked, fine");

	/* the last one: the manifest goes */
	assert_int_equal(handoff_done(&fx->st, "flaky", true, NULL, &fx->err), 0);
	rec = state_get(&fx->st, "flaky");
	assert_int_equal(rec->status, RECORD_DONE_FAILED);
	assert_int_equal(rec->exit_code, 1);
	assert_null(rec->note);
	assert_int_equal(access(fx->manifest, F_OK), -1);

	/* undo: back to failed, same fingerprint; twice is an error */
	assert_int_equal(handoff_undo(&fx->st, "review", &fx->err), 0);
	rec = state_get(&fx->st, "review");
	assert_int_equal(rec->status, RECORD_FAILED);
	assert_string_equal(rec->fingerprint, fingerprint);
	assert_int_equal(handoff_undo(&fx->st, "review", &fx->err), 1);
	assert_non_null(strstr(fx->err.buf, "no done mark"));
	assert_int_equal(handoff_undo(&fx->st, "build", &fx->err), 1);
}

static void test_nothing_waits_removes_manifest(void **state)
{
	struct fixture *fx = *state;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 2);
	assert_int_equal(access(fx->manifest, F_OK), 0);
	fx->results[find(fx, "review")].status = TASK_DONE;
	fx->results[find(fx, "flaky")].status = TASK_FAILED;
	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 0);
	assert_int_equal(access(fx->manifest, F_OK), -1);
	assert_int_equal(handoff_show(fx->squad_dir, false, &out, &fx->err), 1);
	assert_int_equal(out.len, 0);
	/* and again, with no file to remove */
	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 0);
	assert_int_equal(fx->err.len, 0);
	strbuf_release(&out);
}

static void test_adhoc_and_git(void **state)
{
	struct fixture *fx = *state;
	struct gitinfo git = { .in_repo = true, .head = "0123abcd", .branch = "main" };
	json_t *m, *review;

	strvec_init(&git.dirty);
	strvec_push(&git.dirty, "a.c");
	fx->ctx.adhoc = true;
	fx->ctx.git = &git;
	/* squad stopped before 'further': it does not wait behind review,
	 * and neither does what is behind it */
	fx->results[find(fx, "further")].status = TASK_NOT_STARTED;
	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 2);
	m = load_manifest(fx);
	assert_string_equal(str(m, "resume_command"), "");
	assert_string_equal(str(json_object_get(m, "git"), "head"), "0123abcd");
	assert_string_equal(str(json_object_get(m, "git"), "branch"), "main");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(json_object_get(m, "git"), "dirty"), 0)), "a.c");
	review = entry_named(m, "review");
	assert_string_equal(str(review, "done_command"), "");
	assert_non_null(strstr(str(review, "instruction"), "an ad-hoc run (squad exec)"));
	assert_null(strstr(str(review, "instruction"), "squad done"));
	assert_non_null(strstr(str(review, "instruction"), "Waiting behind it: behind; they were "
				     "not run."));
	assert_int_equal(json_array_size(json_object_get(review, "blocks")), 1);
	json_decref(m);
	strvec_clear(&git.dirty);
}

static void test_show(void **state)
{
	struct fixture *fx = *state;
	struct strbuf out = STRBUF_INIT;
	json_t *m;
	char *text;

	assert_int_equal(handoff_write(&fx->ctx, NULL, &fx->err), 2);
	assert_int_equal(handoff_show(fx->squad_dir, false, &out, &fx->err), 0);
	assert_non_null(strstr(out.buf, "2 tasks wait for the tactician ("));
	assert_non_null(strstr(out.buf, "\nreview (skill)\n  worker: tactician\n  skill: "
				    "code-review -> "));
	assert_non_null(strstr(out.buf, "  skill: nowhere (unresolved)\n"));
	assert_non_null(strstr(out.buf, "  blocks: behind further all\n"));
	assert_non_null(strstr(out.buf, "\n  | Task 'review' of "));
	assert_non_null(strstr(out.buf, "\nflaky (escalation)\n"));
	strbuf_reset(&out);
	assert_int_equal(handoff_show(fx->squad_dir, true, &out, &fx->err), 0);
	m = load_manifest(fx);
	text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_memory_equal(out.buf, text, strlen(text));
	free(text);
	json_decref(m);

	/* a hand-edited manifest: hostile names escaped, wrong types as "?" */
	{
		static const char edited[] =
			"{\"version\": 1, \"tasks\": [{\"name\": \"x\\u001b[2Jy\", \"kind\": 3,"
			" \"instruction\": \"a\\u0007\\nb\"}]}";

		strbuf_reset(&out);
		assert_int_equal(handoff_show_manifest("m.json", edited, sizeof(edited) - 1, false,
						       &out, &fx->err), 0);
		assert_null(strchr(out.buf, '\x1b'));
		assert_null(strchr(out.buf, '\a'));
		assert_non_null(strstr(out.buf, "1 task waits for the tactician (m.json)"));
		assert_non_null(strstr(out.buf, " (?)\n  worker: ?\n"));
		assert_non_null(strstr(out.buf, "  | b\n"));
	}
	strbuf_release(&out);
}

static void test_bad_manifests(void **state)
{
	struct fixture *fx = *state;
	struct strbuf out = STRBUF_INIT;
	static const char *const bad[][2] = {
		{ "{\"version\": 1, \"tasks\": [", "cannot read 'm.json'" },
		{ "{\"version\": 2, \"tasks\": []}", "written by a newer squad (manifest version 2)" },
		{ "{\"version\": 0, \"tasks\": []}", "is not a version 1 manifest" },
		{ "{\"version\": 1, \"tasks\": {}}", "is not a version 1 manifest" },
		{ "[1]", "is not a version 1 manifest" },
	};

	(void)fx;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&fx->err);
		assert_int_equal(handoff_show_manifest("m.json", bad[i][0], strlen(bad[i][0]), false,
						       &out, &fx->err), -1);
		if (!strstr(fx->err.buf, bad[i][1]))
			fail_msg("%s: got '%s'", bad[i][0], fx->err.buf);
	}
	assert_int_equal(out.len, 0);
	/* on disk too, and `done` refuses it without touching the state */
	write_file(".squad/handoff.json", bad[1][0]);
	strbuf_reset(&fx->err);
	assert_int_equal(handoff_done(&fx->st, "review", false, NULL, &fx->err), -1);
	assert_non_null(strstr(fx->err.buf, "newer squad"));
	assert_null(state_get(&fx->st, "review"));
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manifest_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_write_refuses_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_marks_and_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_waits_removes_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adhoc_and_git, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_manifests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
