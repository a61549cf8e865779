/* expand.c - variable and placeholder expansion; see expand.h. */
#include "model/expand.h"

#include <stdlib.h>
#include <string.h>

extern char **environ;

const char *const expand_placeholder_names[] = {
	"prompt", "task", "dir", "model", "run", "changed", NULL,
};

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

const char *expand_lookup(const struct strvec *list, const char *name, size_t len)
{
	if (!list)
		return NULL;
	/* later entries win, as in a shell's assignments */
	for (size_t i = list->nr; i-- > 0;) {
		const char *e = list->v[i];

		if (!strncmp(e, name, len) && e[len] == '=')
			return e + len + 1;
	}
	return NULL;
}

static const char *lookup(const struct expand_scope *scope, const char *name, size_t len)
{
	const char *value;

	if ((value = expand_lookup(scope->own, name, len)))
		return value;
	if ((value = expand_lookup(scope->vars, name, len)))
		return value;
	if (scope->environ) {
		for (char **e = environ; *e; e++)
			if (!strncmp(*e, name, len) && (*e)[len] == '=')
				return *e + len + 1;
	}
	return NULL;
}

/* A ${NAME} or ${NAME:-default} reference, as written. */
struct var_ref {
	const char *name;
	size_t name_len;
	const char *def;  /* the default, taken as written, or NULL */
	size_t def_len;
	size_t len;       /* of the whole reference */
};

/* Parse a reference at p (p[0] == '$'): its length, or 0 if it is none
 * (then the text is left for the shell). A default runs to the first '}'. */
static size_t var_ref_parse(const char *p, struct var_ref *r)
{
	size_t i = 2;

	if (p[1] != '{' || !is_name_start(p[2]))
		return 0;
	while (is_name_char(p[i]))
		i++;
	r->name = p + 2;
	r->name_len = i - 2;
	r->def = NULL;
	r->def_len = 0;
	if (p[i] == ':' && p[i + 1] == '-') {
		const char *end = strchr(p + i + 2, '}');

		if (!end)
			return 0;
		r->def = p + i + 2;
		r->def_len = (size_t)(end - r->def);
		i = (size_t)(end - p);
	}
	if (p[i] != '}')
		return 0;
	r->len = i + 1;
	return r->len;
}

/* Is NAME (len bytes) set to a non-empty value in the environment? */
static bool environ_has(const char *name, size_t len)
{
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, name, len) && (*e)[len] == '=' && (*e)[len + 1])
			return true;
	return false;
}

/* What a reference stands for: 1 with its value in *value (*value_len
 * bytes), 0 when it is kept as written, -1 when it is undefined.
 * ${NAME:-default} has the shell's meaning: unset or empty, the default.
 * Without the environment in the scope (what squad shows), a default is
 * used only when the environment could not supply NAME either: else the
 * real value is the environment's, and that stays masked as written. */
static int var_ref_resolve(const struct expand_scope *scope, const struct var_ref *r,
			   const char **value, size_t *value_len)
{
	const char *v;

	if (!scope)
		return 0;
	v = lookup(scope, r->name, r->name_len);
	if (v && (*v || !r->def)) {
		*value = v;
		*value_len = strlen(v);
		return 1;
	}
	if (r->def) {
		if (!v && !scope->environ && scope->keep_unknown &&
		    environ_has(r->name, r->name_len))
			return 0;
		*value = r->def;
		*value_len = r->def_len;
		return 1;
	}
	return scope->keep_unknown ? 0 : -1;
}

int expand_vars(struct strbuf *out, const char *text,
		const struct expand_scope *scope,
		size_t *bad_offset, struct strbuf *bad_name)
{
	const char *p = text;

	while (*p) {
		const char *dollar = strchr(p, '$');
		struct var_ref ref;
		const char *value;
		size_t value_len;
		int found;

		if (!dollar) {
			strbuf_addstr(out, p);
			break;
		}
		strbuf_add(out, p, (size_t)(dollar - p));
		if (dollar[1] == '$' && dollar[2] == '{') {
			strbuf_addstr(out, "${");
			p = dollar + 3;
			continue;
		}
		if (!var_ref_parse(dollar, &ref)) {
			strbuf_addch(out, '$');
			p = dollar + 1;
			continue;
		}
		found = var_ref_resolve(scope, &ref, &value, &value_len);
		if (found < 0) {
			if (bad_offset)
				*bad_offset = (size_t)(dollar - text);
			if (bad_name)
				strbuf_add(bad_name, ref.name, ref.name_len);
			return -1;
		}
		if (found)
			strbuf_add(out, value, value_len);
		else
			strbuf_add(out, dollar, ref.len);
		p = dollar + ref.len;
	}
	return 0;
}

void expand_for_display(struct strbuf *out, const char *text, const struct strvec *vars,
			const struct strvec *env_vars)
{
	struct strvec pure = STRVEC_INIT;
	struct expand_scope scope = { .vars = &pure, .keep_unknown = true };

	for (size_t i = 0; vars && i < vars->nr; i++) {
		size_t len = strcspn(vars->v[i], "=");
		bool from_env = false;

		for (size_t j = 0; env_vars && j < env_vars->nr && !from_env; j++)
			from_env = strlen(env_vars->v[j]) == len &&
				   !strncmp(env_vars->v[j], vars->v[i], len);
		if (!from_env)
			strvec_push(&pure, vars->v[i]);
	}
	expand_vars(out, text, &scope, NULL, NULL);
	strvec_clear(&pure);
}

bool expand_is_placeholder(const char *name, size_t len)
{
	for (const char *const *n = expand_placeholder_names; *n; n++)
		if (strlen(*n) == len && !strncmp(*n, name, len))
			return true;
	return false;
}

static const char *placeholder_value(const struct placeholders *ph,
				     const char *name, size_t len)
{
#define PH(field) if (len == strlen(#field) && !strncmp(name, #field, len)) return ph->field
	PH(prompt);
	PH(task);
	PH(dir);
	PH(model);
	PH(run);
#undef PH
	return NULL;
}

/* Length of a {name} placeholder at p (p[0] == '{'), or 0. */
static size_t placeholder_len(const char *p)
{
	size_t i = 1;

	while ((p[i] >= 'a' && p[i] <= 'z') || p[i] == '_')
		i++;
	return i > 1 && p[i] == '}' ? i + 1 : 0;
}

/* The one walk over a template that expansion and checking share: a
 * single pass, so that no value (a variable's, a prompt's) is ever scanned
 * again for references. When ph is NULL only names are checked; when
 * scope is NULL variables are left as they are. */
static int walk_template(struct strbuf *out, const char *tmpl,
			 const struct expand_scope *scope,
			 const struct placeholders *ph, struct strbuf *err)
{
	for (const char *p = tmpl; *p;) {
		size_t len, value_len;
		const char *value;
		struct var_ref ref;
		int found;

		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			strbuf_addstr(out, "${");
			p += 3;
			continue;
		}
		if (p[0] == '$' && var_ref_parse(p, &ref)) {
			found = var_ref_resolve(scope, &ref, &value, &value_len);
			if (found < 0) {
				strbuf_addf(err, "undefined variable '%.*s' in '%s'",
					    (int)ref.name_len, ref.name, tmpl);
				return -1;
			}
			if (found)
				strbuf_add(out, value, value_len);
			else
				strbuf_add(out, p, ref.len); /* left as written */
			p += ref.len;
			continue;
		}
		if (p[0] == '{' && p[1] == '{') {
			strbuf_addch(out, '{');
			p += 2;
			continue;
		}
		len = p[0] == '{' ? placeholder_len(p) : 0;
		if (!len) {
			strbuf_addch(out, *p++);
			continue;
		}
		if (!expand_is_placeholder(p + 1, len - 2)) {
			strbuf_addf(err, "unknown placeholder '%.*s' in '%s' (known: "
				    "{prompt} {task} {dir} {model} {run} {changed}; "
				    "write '{{' for a literal '{')",
				    (int)len, p, tmpl);
			return -1;
		}
		if (ph) {
			value = placeholder_value(ph, p + 1, len - 2);
			if (!value && !(len == 9 && !strncmp(p, "{changed}", 9))) {
				strbuf_addf(err, "placeholder '%.*s' has no value here",
					    (int)len, p);
				return -1;
			}
			if (value)
				strbuf_addstr(out, value);
			else if (ph->changed) /* {changed} inside a longer element */
				for (size_t i = 0; i < ph->changed->nr; i++)
					strbuf_addf(out, "%s%s", i ? " " : "",
						    ph->changed->v[i]);
		}
		p += len;
	}
	return 0;
}

int expand_template_string(struct strbuf *out, const char *tmpl,
			   const struct expand_scope *scope,
			   const struct placeholders *ph, struct strbuf *err)
{
	return walk_template(out, tmpl, scope, ph, err);
}

int expand_argv(struct strvec *argv, const struct strvec *tmpl,
		const struct expand_scope *scope,
		const struct placeholders *ph, struct strbuf *err)
{
	for (size_t i = 0; i < tmpl->nr; i++) {
		struct strbuf arg = STRBUF_INIT;

		if (!strcmp(tmpl->v[i], "{changed}")) {
			if (ph->changed)
				for (size_t j = 0; j < ph->changed->nr; j++)
					strvec_push(argv, ph->changed->v[j]);
			continue;
		}
		if (walk_template(&arg, tmpl->v[i], scope, ph, err) < 0) {
			strbuf_release(&arg);
			return -1;
		}
		strvec_push_nodup(argv, strbuf_detach(&arg, NULL));
	}
	return 0;
}

int expand_check_template(const char *tmpl, const struct expand_scope *scope,
			  struct strbuf *err)
{
	struct strbuf sink = STRBUF_INIT;
	int ret = walk_template(&sink, tmpl, scope, NULL, err);

	strbuf_release(&sink);
	return ret;
}
