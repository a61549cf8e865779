/* route.c - routing rules and skill resolution; see route.h. */
#include "model/route.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool rule_matches(const struct route_rule *rule, const struct task *t)
{
	struct strbuf argv = STRBUF_INIT;
	bool hit;

	if (!rule->re)
		return false;
	hit = regex_match(rule->re, t->name, strlen(t->name), NULL) ||
	      (t->run && regex_match(rule->re, t->run, strlen(t->run), NULL)) ||
	      (t->prompt && regex_match(rule->re, t->prompt, strlen(t->prompt), NULL));
	if (!hit && t->run_argv.nr) {
		for (size_t i = 0; i < t->run_argv.nr; i++)
			strbuf_addf(&argv, "%s%s", i ? " " : "", t->run_argv.v[i]);
		hit = regex_match(rule->re, argv.buf, argv.len, NULL);
	}
	strbuf_release(&argv);
	return hit;
}

void route_apply(struct squadfile *sf)
{
	for (size_t i = 0; i < sf->nr_tasks; i++) {
		struct task *t = &sf->tasks[i];

		for (size_t r = 0; r < sf->nr_rules; r++) {
			const struct route_rule *rule = &sf->rules[r];

			if (strvec_find(&t->skills, rule->skill) >= 0 || !rule_matches(rule, t))
				continue;
			strvec_push(&t->skills, rule->skill);
			t->skill_marks = xrealloc(t->skill_marks, t->skills.nr * sizeof(struct mark));
			t->skill_rule = xrealloc(t->skill_rule, t->skills.nr * sizeof(long));
			t->skill_marks[t->skills.nr - 1] = rule->match_mark;
			t->skill_rule[t->skills.nr - 1] = (long)r;
		}
	}
}

/* A SKILL.md's front matter is at its top: a file larger than this is
 * read no further. */
#define FRONT_MATTER_MAX (64u << 10)

/* `name` and `description` from the YAML front matter of a SKILL.md
 * (between a first line "---" and the next), when it has one. */
static void read_front_matter(struct skill *skill)
{
	static const char *const keys[] = { "name", "description", NULL };
	char *values[2] = { NULL, NULL };
	struct strbuf text = STRBUF_INIT;
	struct diag_list ignored = DIAG_LIST_INIT(NULL);
	const char *end;
	struct stat st;
	/* O_NONBLOCK: a FIFO named SKILL.md must not hold squad in open() */
	int fd = open(skill->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		strbuf_grow(&text, FRONT_MATTER_MAX);
		while (text.len < FRONT_MATTER_MAX) {
			ssize_t n = read(fd, text.buf + text.len, FRONT_MATTER_MAX - text.len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			strbuf_setlen(&text, text.len + (size_t)n);
		}
	}
	close(fd);
	if (!strncmp(text.buf, "---\n", 4) && (end = strstr(text.buf + 3, "\n---")) &&
	    squadfile_read_strings(text.buf + 4, (size_t)(end + 1 - (text.buf + 4)), keys, values,
				   &ignored) == 0) {
		if (values[1]) {
			free(skill->description);
			skill->description = values[1];
			values[1] = NULL;
		}
		if (values[0] && strcmp(values[0], skill->name)) {
			free(skill->declared);
			skill->declared = values[0];
			values[0] = NULL;
		}
	}
	free(values[0]);
	free(values[1]);
	diag_list_release(&ignored);
	strbuf_release(&text);
}

static struct skill *add_skill(struct skills *skills, const char *name,
			       const struct strvec *dirs)
{
	struct skill *skill;
	struct stat st;

	ALLOC_GROW(skills->items, skills->nr + 1, skills->alloc);
	skill = &skills->items[skills->nr];
	memset(skill, 0, sizeof(*skill));
	skill->name = xstrdup(name);
	for (size_t i = 0; i < dirs->nr && !skill->resolved; i++) {
		struct strbuf path = STRBUF_INIT;

		strbuf_addf(&path, "%s/%s/SKILL.md", dirs->v[i], name);
		if (stat(path.buf, &st) == 0 && S_ISREG(st.st_mode)) {
			skill->resolved = true;
			free(skill->path);
			skill->path = strbuf_detach(&path, NULL);
		} else if (!skill->path) {
			skill->path = strbuf_detach(&path, NULL);
		}
		strbuf_release(&path);
	}
	if (skill->resolved)
		read_front_matter(skill);
	/* the index keys on the name's own copy, which stays where it is
	 * when items[] moves: one put per skill, not a rebuild */
	strmap_put(&skills->index, skill->name, (int)skills->nr++);
	return skill;
}

int route_resolve_skills(struct skills *skills, const struct squadfile *sf,
			 const char *home, bool strict, struct diag_list *diags)
{
	struct strvec dirs = STRVEC_INIT;
	const char *dir = sf->skills_dir ? sf->skills_dir : ".claude/skills";
	size_t errors = diags->errors;

	if (dir[0] == '/')
		strvec_push(&dirs, dir);
	else
		strvec_pushf(&dirs, "%s/%s", sf->root, dir);
	if (home && *home)
		strvec_pushf(&dirs, "%s/.claude/skills", home);

	for (size_t i = 0; i < sf->nr_tasks; i++) {
		const struct task *t = &sf->tasks[i];

		for (size_t j = 0; j < t->skills.nr; j++) {
			const struct skill *skill = route_find_skill(skills, t->skills.v[j]);
			bool first = !skill;

			if (!skill)
				skill = add_skill(skills, t->skills.v[j], &dirs);
			if (skill->resolved || !first)
				continue;
			if (strict)
				diag_error(diags, t->skill_marks[j], "skill '%s' not found "
					   "(looked for %s and in ~/.claude/skills)",
					   skill->name, skill->path);
			else
				diag_warning(diags, t->skill_marks[j], "skill '%s' not found "
					     "(looked for %s and in ~/.claude/skills); the "
					     "hand-off will mark it unresolved", skill->name,
					     skill->path);
		}
	}
	strvec_clear(&dirs);
	return diags->errors > errors ? -1 : 0;
}

const struct skill *route_find_skill(const struct skills *skills, const char *name)
{
	int at = strmap_get(&skills->index, name);

	return at >= 0 ? &skills->items[at] : NULL;
}

void route_skills_release(struct skills *skills)
{
	for (size_t i = 0; i < skills->nr; i++) {
		free(skills->items[i].name);
		free(skills->items[i].path);
		free(skills->items[i].declared);
		free(skills->items[i].description);
	}
	free(skills->items);
	strmap_release(&skills->index);
	memset(skills, 0, sizeof(*skills));
}
