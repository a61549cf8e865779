/* route.c - routing rules and skill resolution; see route.h. */
#include "route.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

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

/* `name` and `description` from the YAML front matter of a SKILL.md. */
static void read_front_matter(struct skill *skill)
{
	struct strbuf text = STRBUF_INIT;
	const char *start, *end;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	if (strbuf_read_file(&text, skill->path) < 0)
		return;
	if (strncmp(text.buf, "---\n", 4) || !(end = strstr(text.buf + 3, "\n---"))) {
		strbuf_release(&text);
		return;
	}
	start = text.buf + 4;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)start,
				     (size_t)(end + 1 - start));
	if (yaml_parser_load(&parser, &doc)) {
		root = yaml_document_get_root_node(&doc);
		if (root && root->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
			     p < root->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(&doc, p->key);
				yaml_node_t *v = yaml_document_get_node(&doc, p->value);

				if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
					continue;
				if (!strcmp((char *)k->data.scalar.value, "description")) {
					free(skill->description);
					skill->description = xstrdup((char *)v->data.scalar.value);
				} else if (!strcmp((char *)k->data.scalar.value, "name") &&
					   strcmp((char *)v->data.scalar.value, skill->name)) {
					free(skill->declared);
					skill->declared = xstrdup((char *)v->data.scalar.value);
				}
			}
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
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
