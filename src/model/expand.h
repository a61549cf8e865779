/* expand.h - ${VAR} expansion in strings, {placeholder} expansion in argv.
 *
 * `${NAME}` is looked up in a scope: first squad's own variables for the
 * task at hand (SQUAD_TASK ...), then the Squadfile's `vars`, then the
 * environment. `${NAME:-default}` has the shell's meaning: when NAME is
 * unset or empty there, the default (taken as written, up to the first
 * `}`). `$${` stands for a literal `${`. Anything else with a `$`
 * (`$HOME`, `${1:-x}`, `${X-y}`) is left alone for the shell.
 *
 * `{name}` placeholders appear only in worker argv templates; each one
 * expands inside its own argv element and is never re-parsed by a shell.
 * `{{` stands for a literal `{`.
 */
#ifndef SQUAD_EXPAND_H
#define SQUAD_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"
#include "util/strvec.h"

struct expand_scope {
	const struct strvec *own;  /* "NAME=value": squad's variables, or NULL */
	const struct strvec *vars; /* "NAME=value": the Squadfile's, or NULL */
	bool environ;              /* fall back to the process environment */
	bool keep_unknown;         /* leave an undefined ${NAME} as written; with
				    * environ false, also a ${NAME:-default}
				    * whose NAME the environment sets */
};

/* Value of NAME=value entry in `list` (of which name is `len` bytes), or NULL. */
const char *expand_lookup(const struct strvec *list, const char *name, size_t len);

/* Append `text` with every ${NAME} replaced to `out`. Returns 0, or -1
 * when a name is not defined anywhere in the scope; then `*bad_offset`
 * (when not NULL) is the byte offset of the `${` in text and `bad_name`
 * (when not NULL) receives the name. */
int expand_vars(struct strbuf *out, const char *text,
		const struct expand_scope *scope,
		size_t *bad_offset, struct strbuf *bad_name);

/* The one rule for a string squad shows (-n, the hand-off manifest):
 * `text` appended to `out` with the Squadfile's `vars` expanded, except
 * those named in `env_vars` (vars whose values owe anything to the
 * environment); every other reference, an environment value above all,
 * stays as written (`${TOKEN}`). Never fails. */
void expand_for_display(struct strbuf *out, const char *text, const struct strvec *vars,
			const struct strvec *env_vars);

/* Values for {placeholders}. A NULL value means "not available": an
 * element that uses it is an error. `changed`, when given, makes an
 * element that is exactly "{changed}" expand to one element per path. */
struct placeholders {
	const char *prompt;
	const char *task;
	const char *dir;
	const char *model;
	const char *run;
	const struct strvec *changed;
};

/* Names a template may use: for the Squadfile checker and the docs. */
extern const char *const expand_placeholder_names[];

/* Is `name` (len bytes) a known placeholder? */
bool expand_is_placeholder(const char *name, size_t len);

/* Expand one template string: ${VAR} from scope and {name} from ph,
 * appended to out. Returns 0, or -1 with a message in `err`. */
int expand_template_string(struct strbuf *out, const char *tmpl,
			   const struct expand_scope *scope,
			   const struct placeholders *ph, struct strbuf *err);

/* Expand an argv template into `argv` (appended). Returns 0, or -1 with
 * a message in `err`. */
int expand_argv(struct strvec *argv, const struct strvec *tmpl,
		const struct expand_scope *scope,
		const struct placeholders *ph, struct strbuf *err);

/* Check a template without values: every {name} is known and, unless
 * scope is NULL, every ${NAME} resolves. Returns 0, or -1 with a message in `err`. */
int expand_check_template(const char *tmpl, const struct expand_scope *scope,
			  struct strbuf *err);

#endif
