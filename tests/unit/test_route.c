/* test_route.c - routing rules and skill resolution. */
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

#include "model/route.h"
#include "model/squadfile.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *rel)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-route.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void load(struct squadfile *sf, struct diag_list *diags, const char *text)
{
	char path[512];

	write_file("Squadfile", text);
	snprintf(path, sizeof(path), "%s/Squadfile", root);
	assert_int_equal(squadfile_load(sf, path, diags), 0);
}

static const struct task *task(const struct squadfile *sf, const char *name)
{
	long i = squadfile_find_task(sf, name);

	assert_true(i >= 0);
	return &sf->tasks[i];
}

static void rules_tag_by_name_run_and_prompt(void **state)
{
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");

	(void)state;
	load(&sf, &diags,
	     "version: 1\n"
	     "routing:\n"
	     "  - { match: '(?i)\\bmigration\\b', skill: db }\n"
	     "  - { match: '^deploy-', skill: release }\n"
	     "tasks:\n"
	     "  deploy-web: { run: 'true' }\n"
	     "  m1: { run: 'alembic upgrade; echo Migration done' }\n"
	     "  m2: { prompt: 'write the migration', skills: [db] }\n"
	     "  m3: { run: [echo, migration] }\n"
	     "  plain: { run: 'echo migrations' }\n");
	route_apply(&sf);
	assert_int_equal(task(&sf, "deploy-web")->skills.nr, 1);
	assert_string_equal(task(&sf, "deploy-web")->skills.v[0], "release");
	assert_int_equal(task(&sf, "deploy-web")->skill_rule[0], 1);
	assert_string_equal(task(&sf, "m1")->skills.v[0], "db");
	assert_int_equal(task(&sf, "m1")->skill_rule[0], 0);
	/* written and routed: the tag is there once, as written */
	assert_int_equal(task(&sf, "m2")->skills.nr, 1);
	assert_int_equal(task(&sf, "m2")->skill_rule[0], -1);
	assert_string_equal(task(&sf, "m3")->skills.v[0], "db");
	/* \b: "migrations" is another word */
	assert_int_equal(task(&sf, "plain")->skills.nr, 0);
	/* a routed tag points at the rule's pattern */
	assert_int_equal(task(&sf, "m1")->skill_marks[0].line, 3);
	squadfile_release(&sf);
	diag_list_release(&diags);
}

static void skills_resolve_with_front_matter(void **state)
{
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct skills skills = SKILLS_INIT;
	const struct skill *s;
	char home[300], expected[600];

	(void)state;
	mkdirs(".claude/skills/audit");
	write_file(".claude/skills/audit/SKILL.md",
		   "---\nname: audit\ndescription: Audits things carefully\n---\nbody\n");
	mkdirs("home/.claude/skills/personal");
	write_file("home/.claude/skills/personal/SKILL.md",
		   "---\nname: my-personal-skill\n---\nbody\n");
	snprintf(home, sizeof(home), "%s/home", root);
	load(&sf, &diags,
	     "version: 1\n"
	     "tasks:\n"
	     "  a: { prompt: x, skills: [audit, personal, missing] }\n"
	     "  b: { prompt: y, skills: [missing] }\n");
	assert_int_equal(route_resolve_skills(&skills, &sf, home, false, &diags), 0);
	assert_int_equal(skills.nr, 3);

	s = route_find_skill(&skills, "audit");
	assert_true(s->resolved);
	snprintf(expected, sizeof(expected), "%s/.claude/skills/audit/SKILL.md", root);
	assert_string_equal(s->path, expected);
	assert_string_equal(s->description, "Audits things carefully");

	/* the front matter's name: kept only where it differs from the folder's */
	assert_null(route_find_skill(&skills, "audit")->declared);
	s = route_find_skill(&skills, "personal");
	assert_true(s->resolved);
	assert_null(s->description);
	assert_string_equal(s->declared, "my-personal-skill");

	s = route_find_skill(&skills, "missing");
	assert_false(s->resolved);
	/* one warning, where the tag is first written */
	assert_int_equal(diags.errors, 0);
	assert_int_equal(diags.nr, 1);
	assert_int_equal(diags.items[0].level, DIAG_WARNING);
	assert_int_equal(diags.items[0].mark.line, 3);
	assert_non_null(strstr(diags.items[0].message, "skill 'missing' not found"));
	route_skills_release(&skills);
	squadfile_release(&sf);
	diag_list_release(&diags);
}

static void strict_skills_make_it_an_error(void **state)
{
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct skills skills = SKILLS_INIT;

	(void)state;
	load(&sf, &diags, "version: 1\ntasks:\n  a: { prompt: x, skills: [nowhere] }\n");
	assert_int_equal(route_resolve_skills(&skills, &sf, NULL, true, &diags), -1);
	assert_int_equal(diags.errors, 1);
	route_skills_release(&skills);
	squadfile_release(&sf);
	diag_list_release(&diags);
}

static void skills_dir_is_relative_to_the_squadfile(void **state)
{
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct skills skills = SKILLS_INIT;

	(void)state;
	mkdirs("agents/x");
	write_file("agents/x/SKILL.md", "---\ndescription: from agents\n---\n");
	load(&sf, &diags, "version: 1\nskills_dir: agents\ntasks:\n  a: { prompt: p, skills: [x] }\n");
	assert_int_equal(route_resolve_skills(&skills, &sf, NULL, true, &diags), 0);
	assert_true(route_find_skill(&skills, "x")->resolved);
	assert_string_equal(route_find_skill(&skills, "x")->description, "from agents");
	route_skills_release(&skills);
	squadfile_release(&sf);
	diag_list_release(&diags);
}

/* SKILL.md files are outside input: read by the Squadfile's bounded
 * composer, never waiting on a FIFO, never read past their top. */
static void hostile_front_matter_is_read_safely(void **state)
{
	struct squadfile sf;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct skills skills = SKILLS_INIT;
	struct strbuf big = STRBUF_INIT;
	char path[600];

	(void)state;
	mkdirs(".claude/skills/alias");
	write_file(".claude/skills/alias/SKILL.md",
		   "---\nd: &d via an alias\ndescription: *d\n---\n");
	/* nested past the composer's depth: refused, not parsed for ever */
	mkdirs(".claude/skills/deep");
	strbuf_addstr(&big, "---\ndescription: x\nk: ");
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&big, '[');
	strbuf_addstr(&big, "\n---\n");
	write_file(".claude/skills/deep/SKILL.md", big.buf);
	/* a long file: its front matter is at the top */
	mkdirs(".claude/skills/long");
	strbuf_reset(&big);
	strbuf_addstr(&big, "---\ndescription: at the top\n---\n");
	for (int i = 0; i < 200000; i++)
		strbuf_addstr(&big, "body ");
	write_file(".claude/skills/long/SKILL.md", big.buf);
	/* a FIFO: no writer ever comes */
	mkdirs(".claude/skills/fifo");
	snprintf(path, sizeof(path), "%s/.claude/skills/fifo/SKILL.md", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	load(&sf, &diags, "version: 1\ntasks:\n  a: { prompt: x, skills: [alias, deep, long, fifo] }\n");
	assert_int_equal(route_resolve_skills(&skills, &sf, NULL, false, &diags), 0);
	assert_string_equal(route_find_skill(&skills, "alias")->description, "via an alias");
	assert_true(route_find_skill(&skills, "deep")->resolved);
	assert_null(route_find_skill(&skills, "deep")->description);
	assert_string_equal(route_find_skill(&skills, "long")->description, "at the top");
	assert_null(route_find_skill(&skills, "fifo")->description);
	route_skills_release(&skills);
	squadfile_release(&sf);
	diag_list_release(&diags);
	strbuf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rules_tag_by_name_run_and_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(skills_resolve_with_front_matter, setup, teardown),
		cmocka_unit_test_setup_teardown(strict_skills_make_it_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(skills_dir_is_relative_to_the_squadfile, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_front_matter_is_read_safely, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
