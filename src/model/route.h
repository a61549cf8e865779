/* route.h - skill tags: routing rules, and each skill's SKILL.md.
 *
 * A task is skill-tagged when it lists `skills:` or when a `routing:`
 * rule's pattern matches its name, its run or its prompt. Skill-tagged
 * tasks are the tactician's: squad never runs them.
 *
 * A skill NAME resolves to SKILLS_DIR/NAME/SKILL.md, looked up in the
 * Squadfile's `skills_dir` (default .claude/skills, relative to the
 * Squadfile), then in ~/.claude/skills, as Claude Code does. Its YAML
 * front matter gives `name` and `description`.
 */
#ifndef SQUAD_ROUTE_H
#define SQUAD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/diag.h"
#include "model/squadfile.h"
#include "util/strmap.h"

struct skill {
	char *name;
	char *path;        /* the SKILL.md found, or where it was looked for */
	char *declared;    /* the front matter's name, when it differs from the
			    * folder's (Claude Code knows the skill by it) */
	char *description; /* from the front matter, or NULL */
	bool resolved;     /* path exists */
};

struct skills {
	struct skill *items;
	size_t nr, alloc;
	struct strmap index; /* name -> items[] */
};

#define SKILLS_INIT { NULL, 0, 0, STRMAP_INIT }

/* Tag every task that a routing rule matches (each skill once per
 * task); task->skill_rule says which rule added a tag. */
void route_apply(struct squadfile *sf);

/* Resolve every skill tag in use. An unresolved one is a warning at the
 * mark where it is given, or an error when `strict`. `home` is $HOME, or
 * NULL. Returns 0, or -1 when an error was added. */
int route_resolve_skills(struct skills *skills, const struct squadfile *sf,
			 const char *home, bool strict, struct diag_list *diags);

const struct skill *route_find_skill(const struct skills *skills, const char *name);
void route_skills_release(struct skills *skills);

#endif
