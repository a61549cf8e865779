/* squadfile.c - YAML -> model, every problem with its mark; see squadfile.h.
 *
 * libyaml's events are composed into a node tree; this file walks it once,
 * top to bottom, and keeps going after a problem so that one run reports
 * them all. Checks that need the whole file (worker names, dependencies,
 * default targets) run after the walk.
 */
#include "model/squadfile.h"
#include "model/expand.h"
#include "model/glob.h"
#include "util/strmap.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* A Squadfile is small; anything this large is a mistake or an attack,
 * and libyaml's tree would cost many times its size in memory. */
#define SQUADFILE_MAX_BYTES (32u << 20)

/* squad's own variables, defined for every task at run time. */
static const char *const squad_var_names[] = {
	"SQUAD_TASK", "SQUAD_ROOT", "SQUAD_CHANGED", NULL,
};

static const char *const top_keys[] = {
	"version", "vars", "defaults", "default", "tasks", "workers",
	"routing", "skills_dir", "cache", NULL,
};
static const char *const task_keys[] = {
	"desc", "run", "prompt", "needs", "skills", "worker", "dir", "env",
	"timeout", "retries", "escalate", "expect", "inputs", "outputs", "allow_commands",
	"isolate", "changes", NULL,
};
static const char *const defaults_keys[] = {
	"worker", "timeout", "retries", "escalate", "env", "isolate", "changes", NULL,
};
static const char *const worker_keys[] = {
	"command", "env", "slots", "timeout", "output", "daily_limit", "daily_tokens",
	"per_minute", "rate_limit_pattern", "prompt_template", "model", "protocol",
	"isolate", "changes", NULL,
};
static const char *const rule_keys[] = { "match", "skill", NULL };
static const char *const cache_keys[] = {
	"url", "team", "token_env", "signing_key_env", "write", "dir", "max_size", NULL,
};

/* The document as squad keeps it: libyaml's node shapes, read by the
 * same names below, in 40 bytes a node where libyaml's take 96 (a
 * 10,000-task Squadfile has some 80,000 nodes; this is most of what
 * `squad -n` holds). Marks are 0-based, as libyaml's. A collection's
 * items grow by doubling, so their capacity follows from their count. */
struct node_mark {
	uint32_t line, column;
};

struct node {
	yaml_node_type_t type;
	union {
		struct {
			char *value;
			uint32_t length;
			yaml_scalar_style_t style;
		} scalar;
		struct {
			struct { yaml_node_item_t *start, *top; } items;
		} sequence;
		struct {
			struct { yaml_node_pair_t *start, *top; } pairs;
		} mapping;
	} data;
	struct node_mark start_mark, end_mark;
};

struct doc {
	struct node *nodes; /* node i (1-based, as libyaml counts) is nodes[i - 1] */
	size_t nr, alloc;
};

static struct node *doc_node(const struct doc *doc, int index)
{
	return index >= 1 && (size_t)index <= doc->nr ? &doc->nodes[index - 1] : NULL;
}

static void doc_release(struct doc *doc)
{
	for (size_t i = 0; i < doc->nr; i++) {
		struct node *n = &doc->nodes[i];

		if (n->type == YAML_SCALAR_NODE)
			free(n->data.scalar.value);
		else if (n->type == YAML_SEQUENCE_NODE)
			free(n->data.sequence.items.start);
		else if (n->type == YAML_MAPPING_NODE)
			free(n->data.mapping.pairs.start);
	}
	free(doc->nodes);
	memset(doc, 0, sizeof(*doc));
}

struct loader {
	struct doc doc;
	struct diag_list *diags;
	struct squadfile *sf;
	/* Node visits left. Aliases let a small file reference one big node
	 * many times; this bounds the walk whatever the file does. */
	size_t budget;
	bool budget_reported;
	struct expand_scope check_scope; /* for ${VAR} checks at load time */
	struct strvec squad_vars;        /* squad's own names, empty values */
	/* defaults: */
	char *default_worker;
	struct mark default_worker_mark;
	long default_timeout_ms;
	unsigned default_retries;
	bool default_escalate;
	struct strvec default_env;
	enum task_isolation default_isolation;
	enum task_changes default_changes;
	/* per task, until workers are known: */
	char **task_worker_names;
	struct mark *task_worker_marks;
};

static struct mark mark_of_yaml(yaml_mark_t m)
{
	return (struct mark){ (unsigned)m.line + 1, (unsigned)m.column + 1 };
}

static struct node_mark node_mark_of(yaml_mark_t m)
{
	return (struct node_mark){ (uint32_t)m.line, (uint32_t)m.column };
}

static struct mark mark_of(const struct node *n)
{
	return (struct mark){ n->start_mark.line + 1, n->start_mark.column + 1 };
}

static struct node *node_at(struct loader *l, int index)
{
	if (!l->budget) {
		if (!l->budget_reported)
			diag_error(l->diags, (struct mark){ 1, 1 },
				   "the document expands to too many nodes "
				   "(YAML aliases referring to large nodes?)");
		l->budget_reported = true;
		return NULL;
	}
	l->budget--;
	return doc_node(&l->doc, index);
}

static const char *scalar(const struct node *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const struct node *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *kind_of(const struct node *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a map";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return is_null(n) ? "nothing" : "a string";
	}
}

/* Characters in s[0..len): libyaml counts columns in characters. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* A scalar written on one line: the column of a byte offset inside its
 * value can be told exactly, unless escapes ('' or \") make the value
 * shorter than its source; then the scalar's own mark is the best we know. */
static struct mark mark_inside(const struct node *n, size_t offset)
{
	struct mark m = mark_of(n);
	yaml_scalar_style_t style;
	size_t chars, width;

	if (n->type != YAML_SCALAR_NODE || n->start_mark.line != n->end_mark.line)
		return m;
	style = n->data.scalar.style;
	chars = utf8_chars(scalar(n), n->data.scalar.length);
	width = n->end_mark.column - n->start_mark.column;
	if (offset > n->data.scalar.length)
		offset = n->data.scalar.length;
	if (style == YAML_PLAIN_SCALAR_STYLE && width == chars)
		m.col += (unsigned)utf8_chars(scalar(n), offset);
	else if ((style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		  style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) && width == chars + 2)
		m.col += (unsigned)utf8_chars(scalar(n), offset) + 1;
	return m;
}

/* --- typed values -------------------------------------------------- */

/* A scalar with a NUL in it (YAML's "\0") would be cut short by every C
 * string function: refuse it rather than run half a command. */
static bool has_nul(const struct node *n)
{
	return n->type == YAML_SCALAR_NODE && strlen(scalar(n)) != n->data.scalar.length;
}

static int want_scalar(struct loader *l, const struct node *n, const char *what)
{
	if (has_nul(n)) {
		diag_error(l->diags, mark_of(n), "%s contains a NUL character", what);
		return -1;
	}
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	diag_error(l->diags, mark_of(n), "%s must be a string, not %s", what, kind_of(n));
	return -1;
}

/* A string field: null leaves *dst untouched. */
static int get_string(struct loader *l, const struct node *n, const char *what, char **dst)
{
	if (is_null(n))
		return 0;
	if (want_scalar(l, n, what) < 0)
		return -1;
	free(*dst);
	*dst = xstrdup(scalar(n));
	return 0;
}

/* A list of strings; a single string is a list of one. */
static int get_string_list(struct loader *l, const struct node *n, const char *what,
			   struct strvec *dst, struct mark **marks)
{
	yaml_node_item_t *item;
	int ret = 0;

	if (is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		strvec_push(dst, scalar(n));
		if (marks) {
			*marks = xrealloc(*marks, dst->nr * sizeof(**marks));
			(*marks)[dst->nr - 1] = mark_of(n);
		}
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		diag_error(l->diags, mark_of(n), "%s must be a list of strings, not %s",
			   what, kind_of(n));
		return -1;
	}
	/* room for every mark at once: a realloc per item copies the list
	 * once per item (under ASan's allocator, which never grows in place) */
	if (marks)
		*marks = xrealloc(*marks, (dst->nr + (size_t)(n->data.sequence.items.top -
				  n->data.sequence.items.start)) * sizeof(**marks) + 1);
	for (item = n->data.sequence.items.start; item < n->data.sequence.items.top; item++) {
		struct node *e = node_at(l, *item);

		if (!e)
			return -1;
		if (e->type != YAML_SCALAR_NODE || is_null(e) || has_nul(e)) {
			diag_error(l->diags, mark_of(e), has_nul(e)
				   ? "an item of %s contains a NUL character%s"
				   : "each item of %s must be a string, not %s", what,
				   has_nul(e) ? "" : kind_of(e));
			ret = -1;
			continue;
		}
		strvec_push(dst, scalar(e));
		if (marks)
			(*marks)[dst->nr - 1] = mark_of(e);
	}
	return ret;
}

/* Does glob pattern `pat` (after any '!') name something outside its
 * task's folder: absolute, or a ".." component? */
static bool leaves_folder(const char *pat)
{
	pat += *pat == '!';
	if (*pat == '/')
		return true;
	while (pat) {
		if (!strncmp(pat, "..", 2) && (!pat[2] || pat[2] == '/'))
			return true;
		pat = strchr(pat, '/');
		pat = pat ? pat + 1 : NULL;
	}
	return false;
}

/* inputs and outputs: every pattern compiles, each problem at its own
 * item. The plan compiles them again, but only for the tasks it runs;
 * a pattern that leaves the task's folder is refused here, for every
 * task, before anything runs. */
static void check_patterns(struct loader *l, struct node *v, const char *what)
{
	struct node *one = v;
	yaml_node_item_t *item = NULL;

	if (v->type == YAML_SEQUENCE_NODE) {
		item = v->data.sequence.items.start;
		if (item == v->data.sequence.items.top)
			return;
		one = doc_node(&l->doc, *item);
	} else if (v->type != YAML_SCALAR_NODE || is_null(v)) {
		return; /* reported by get_string_list() */
	}
	for (;;) {
		if (one && one->type == YAML_SCALAR_NODE && !is_null(one) && !has_nul(one)) {
			struct strvec pattern = STRVEC_INIT;
			struct strbuf err = STRBUF_INIT;
			struct globset *gs;

			strvec_push(&pattern, scalar(one));
			gs = globset_new(&pattern, "", &err);
			if (!gs)
				diag_error(l->diags, mark_of(one), "%s: %s%s", what, err.buf,
					   leaves_folder(scalar(one))
					   ? "; inputs and outputs name files inside the task's "
					     "folder (set the task's 'dir' to reach others)"
					   : "");
			globset_free(gs);
			strvec_clear(&pattern);
			strbuf_release(&err);
		}
		if (!item || ++item >= v->data.sequence.items.top)
			break;
		one = doc_node(&l->doc, *item);
	}
}

static int get_count(struct loader *l, const struct node *n, const char *what,
		     long max, long *dst)
{
	const char *s;
	char *end;
	long v;

	if (want_scalar(l, n, what) < 0)
		return -1;
	s = scalar(n);
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > max || *s == '+' || *s == ' ') {
		diag_error(l->diags, mark_of(n),
			   "%s must be a whole number from 0 to %ld, not '%s'", what, max, s);
		return -1;
	}
	*dst = v;
	return 0;
}

static int get_bool(struct loader *l, const struct node *n, const char *what, bool *dst)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					    "on", "On", "ON", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					   "off", "Off", "OFF", NULL };
	const char *s;

	if (want_scalar(l, n, what) < 0)
		return -1;
	s = scalar(n);
	for (int i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i]))
			return *dst = true, 0;
	for (int i = 0; no[i]; i++)
		if (!strcmp(s, no[i]))
			return *dst = false, 0;
	diag_error(l->diags, mark_of(n), "%s must be true or false, not '%s'", what, s);
	return -1;
}

long squadfile_parse_duration(const char *text)
{
	const char *p = text;
	long total = 0;

	if (!*p)
		return -1;
	while (*p) {
		long v = 0, unit;
		const char *digits = p;

		while (*p >= '0' && *p <= '9') {
			if (v > 100000000)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		if (p == digits)
			return -1;
		if (!*p && digits == text)
			unit = 1000; /* a bare number is seconds */
		else if (!strncmp(p, "ms", 2))
			unit = 1, p += 2;
		else if (*p == 's')
			unit = 1000, p++;
		else if (*p == 'm')
			unit = 60000, p++;
		else if (*p == 'h')
			unit = 3600000, p++;
		else
			return -1;
		total += v * unit;
		if (total > 30L * 24 * 3600000)
			return -1; /* a month: anything longer is a typo */
	}
	return total;
}

static int get_duration(struct loader *l, const struct node *n, const char *what, long *dst)
{
	long ms;

	if (want_scalar(l, n, what) < 0)
		return -1;
	ms = squadfile_parse_duration(scalar(n));
	if (ms < 0) {
		diag_error(l->diags, mark_of(n),
			   "%s must be a duration such as 90s, 10m, 1h30m or 500ms, not '%s'",
			   what, scalar(n));
		return -1;
	}
	*dst = ms;
	return 0;
}

/* Report a ${VAR} that resolves nowhere when it looks like a typo of a
 * name that does: a variable the environment lacks may be set where the
 * task runs (CI), and a task that needs it fails then, saying so. */
static void check_vars(struct loader *l, const struct node *n, const char *text,
		       const char *what)
{
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT;
	size_t offset = 0, base = 0;

	while (expand_vars(&out, text, &l->check_scope, &offset, &name) < 0) {
		struct strvec known = STRVEC_INIT;
		const char *guess;

		for (size_t i = 0; i < l->sf->vars.nr; i++)
			strvec_push_nodup(&known, xstrndup(l->sf->vars.v[i],
				strcspn(l->sf->vars.v[i], "=")));
		for (int i = 0; squad_var_names[i]; i++)
			strvec_push(&known, squad_var_names[i]);
		guess = diag_suggest(name.buf, (const char *const *)known.v, (long)known.nr);
		if (guess)
			diag_error(l->diags, mark_inside(n, base + offset),
				   "undefined variable '%s' in %s; did you mean '%s'?",
				   name.buf, what, guess);
		strvec_clear(&known);
		/* go on past this reference: there may be a typo further on */
		text += offset + 2;
		base += offset + 2;
		strbuf_reset(&out);
		strbuf_reset(&name);
		if (guess)
			break;
	}
	strbuf_release(&out);
	strbuf_release(&name);
}

/* --- maps ---------------------------------------------------------- */

typedef void (*pair_fn)(struct loader *l, const char *key, struct node *key_node,
			struct node *value, void *data);

/* Walk a mapping's pairs, rejecting non-string keys and duplicates. When
 * `known` is given, other keys are errors with a suggestion. */
static void walk_map(struct loader *l, struct node *map, const char *where,
		     const char *const *known, pair_fn fn, void *data)
{
	struct strmap seen = STRMAP_INIT;
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		struct node *k = node_at(l, pair->key), *v = node_at(l, pair->value);
		const char *key;
		int first;

		if (!k || !v)
			break;
		if (k->type != YAML_SCALAR_NODE || has_nul(k)) {
			diag_error(l->diags, mark_of(k), has_nul(k) ? "a key in %s contains a NUL "
				   "character%s" : "keys in %s must be strings, not %s", where,
				   has_nul(k) ? "" : kind_of(k));
			continue;
		}
		key = scalar(k);
		/* a task's own map is a handful of keys: a scan beats a table */
		if (pair - map->data.mapping.pairs.start < 16) {
			first = -1;
			for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
				struct node *qk = doc_node(&l->doc, q->key);

				if (qk && qk->type == YAML_SCALAR_NODE && !strcmp(scalar(qk), key)) {
					first = (int)qk->start_mark.line + 1;
					break;
				}
			}
		} else {
			if (pair - map->data.mapping.pairs.start == 16) {
				strmap_reserve(&seen, (size_t)(map->data.mapping.pairs.top -
							       map->data.mapping.pairs.start));
				for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
					struct node *qk = doc_node(&l->doc, q->key);

					if (qk && qk->type == YAML_SCALAR_NODE &&
					    strmap_get(&seen, scalar(qk)) < 0)
						strmap_put(&seen, scalar(qk), (int)qk->start_mark.line + 1);
				}
			}
			first = strmap_get(&seen, key);
		}
		if (first >= 0) {
			diag_error(l->diags, mark_of(k),
				   "duplicate key '%s' in %s (first given on line %d)",
				   key, where, first);
			continue;
		}
		if (pair - map->data.mapping.pairs.start >= 16)
			strmap_put(&seen, key, (int)k->start_mark.line + 1);
		if (known) {
			bool ok = false;

			for (int i = 0; known[i]; i++)
				if (!strcmp(known[i], key))
					ok = true;
			if (!ok) {
				struct strbuf msg = STRBUF_INIT;

				strbuf_addf(&msg, "unknown key '%s' in %s", key, where);
				diag_add_suggestion(&msg, key, known, -1);
				diag_error(l->diags, mark_of(k), "%s", msg.buf);
				strbuf_release(&msg);
				continue;
			}
		}
		fn(l, key, k, v, data);
	}
	strmap_release(&seen);
}

static bool want_map(struct loader *l, const struct node *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	diag_error(l->diags, mark_of(n), "%s must be a map, not %s", what, kind_of(n));
	return false;
}

struct env_target {
	struct strvec *env;
	const char *where;
	bool check_vars; /* task env: ${VAR} must resolve at load time */
};

static void env_pair(struct loader *l, const char *key, struct node *k,
		     struct node *v, void *data)
{
	struct env_target *t = data;
	const char *p = key;

	if (!*p || !(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		p = NULL;
	else
		while (*++p)
			if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) {
				p = NULL;
				break;
			}
	if (!p) {
		diag_error(l->diags, mark_of(k),
			   "'%s' in %s is not a variable name (letters, digits, '_')",
			   key, t->where);
		return;
	}
	if (is_null(v)) {
		strvec_pushf(t->env, "%s=", key);
		return;
	}
	if (want_scalar(l, v, "an environment value") < 0)
		return;
	if (t->check_vars)
		check_vars(l, v, scalar(v), "env");
	strvec_pushf(t->env, "%s=%s", key, scalar(v));
}

/* Drop from env the variable that `entry` ("NAME=value") sets. */
static void env_unset(struct strvec *env, const char *entry)
{
	size_t n = strcspn(entry, "="), kept = 0;

	for (size_t i = 0; i < env->nr; i++) {
		if (!strncmp(env->v[i], entry, n) && env->v[i][n] == '=')
			free(env->v[i]);
		else
			env->v[kept++] = env->v[i];
	}
	if (kept < env->nr) { /* then v is allocated, not strvec_empty */
		env->nr = kept;
		env->v[kept] = NULL;
	}
}

static void get_env(struct loader *l, struct node *n, const char *where,
		    struct strvec *env, bool check)
{
	struct env_target t = { env, where, check };

	if (is_null(n) || !want_map(l, n, where))
		return;
	walk_map(l, n, where, NULL, env_pair, &t);
}

/* --- vars ---------------------------------------------------------- */

/* Does text refer to a var that came (in part) from the environment? */
static bool uses_env_var(const struct squadfile *sf, const char *text)
{
	for (size_t i = 0; i < sf->env_vars.nr; i++) {
		struct strbuf ref = STRBUF_INIT;
		bool hit;

		strbuf_addf(&ref, "${%s}", sf->env_vars.v[i]);
		hit = strstr(text, ref.buf) != NULL;
		/* ${NAME:-default} takes NAME's value as much as ${NAME} */
		strbuf_setlen(&ref, ref.len - 1);
		strbuf_addstr(&ref, ":-");
		hit |= strstr(text, ref.buf) != NULL;
		strbuf_release(&ref);
		if (hit)
			return true;
	}
	return false;
}

static void var_pair(struct loader *l, const char *key, struct node *k,
		     struct node *v, void *data)
{
	struct strbuf value = STRBUF_INIT, name = STRBUF_INIT;
	size_t offset = 0;

	(void)data;
	if (!*key || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_") != strlen(key) || (*key >= '0' && *key <= '9')) {
		diag_error(l->diags, mark_of(k),
			   "'%s' is not a variable name (letters, digits, '_')", key);
		return;
	}
	if (v->type != YAML_SCALAR_NODE) {
		diag_error(l->diags, mark_of(v), "variable '%s' must be a string, not %s",
			   key, kind_of(v));
		return;
	}
	if (is_null(v)) {
		strvec_pushf(&l->sf->vars, "%s=", key);
		return;
	}
	/* a var may use the vars above it and the environment; a reference
	 * to a name set nowhere stays as written (a typo is an error) */
	check_vars(l, v, scalar(v), "vars");
	{
		struct expand_scope scope = { .vars = &l->sf->vars, .environ = true,
					      .keep_unknown = true };
		struct expand_scope pure = { .vars = &l->sf->vars, .keep_unknown = true };
		struct strbuf without_env = STRBUF_INIT;

		expand_vars(&value, scalar(v), &scope, &offset, &name);
		strvec_pushf(&l->sf->vars, "%s=%s", key, value.buf);
		/* a value that takes anything from the environment (directly or
		 * through another such var) is never written out by squad */
		expand_vars(&without_env, scalar(v), &pure, NULL, NULL);
		if (strcmp(without_env.buf, value.buf) || uses_env_var(l->sf, scalar(v)))
			strvec_push(&l->sf->env_vars, key);
		strbuf_release(&without_env);
	}
	strbuf_release(&value);
	strbuf_release(&name);
}

/* --- regexes ------------------------------------------------------- */

static struct regex *compile_at(struct loader *l, const struct node *n, const char *what)
{
	struct strbuf err = STRBUF_INIT;
	size_t offset = 0;
	struct regex *re = regex_compile(scalar(n), &err, &offset);

	if (!re)
		diag_error(l->diags, mark_inside(n, offset),
			   "invalid regular expression in %s: %s (at offset %zu)",
			   what, err.buf, offset);
	strbuf_release(&err);
	return re;
}

/* --- isolate: and changes: ---------------------------------------- */

static const char *const isolation_names[] = { "", "none", "worktree", NULL };
static const char *const changes_names[] = { "", "apply", "review", "discard", NULL };

const char *squadfile_isolation_name(enum task_isolation i)
{
	return isolation_names[i];
}

const char *squadfile_changes_name(enum task_changes c)
{
	return changes_names[c];
}

/* The value of `isolate:` at `v` into *dst. Returns 0, or -1 (reported). */
static int get_isolation(struct loader *l, const struct node *v, const char *what,
			 enum task_isolation *dst)
{
	struct strbuf msg = STRBUF_INIT;

	if (want_scalar(l, v, what))
		return -1;
	for (int i = 1; isolation_names[i]; i++)
		if (!strcmp(scalar(v), isolation_names[i])) {
			*dst = (enum task_isolation)i;
			return 0;
		}
	strbuf_addf(&msg, "%s must be 'worktree' (the task runs in a git worktree of its "
		    "own, its change handed back as a patch) or 'none', not '%s'", what, scalar(v));
	diag_add_suggestion(&msg, scalar(v), isolation_names + 1, -1);
	diag_error(l->diags, mark_of(v), "%s", msg.buf);
	strbuf_release(&msg);
	return -1;
}

/* The value of `changes:` at `v` into *dst. Returns 0, or -1 (reported). */
static int get_changes(struct loader *l, const struct node *v, const char *what,
		       enum task_changes *dst)
{
	struct strbuf msg = STRBUF_INIT;

	if (want_scalar(l, v, what))
		return -1;
	for (int i = 1; changes_names[i]; i++)
		if (!strcmp(scalar(v), changes_names[i])) {
			*dst = (enum task_changes)i;
			return 0;
		}
	strbuf_addf(&msg, "%s must be 'apply' (into your tree when the task succeeds), "
		    "'review' (kept for 'squad apply') or 'discard', not '%s'", what, scalar(v));
	diag_add_suggestion(&msg, scalar(v), changes_names + 1, -1);
	diag_error(l->diags, mark_of(v), "%s", msg.buf);
	strbuf_release(&msg);
	return -1;
}

/* --- defaults ------------------------------------------------------ */

static void defaults_pair(struct loader *l, const char *key, struct node *k,
			  struct node *v, void *data)
{
	long n;

	(void)k;
	(void)data;
	if (!strcmp(key, "worker")) {
		if (!get_string(l, v, "defaults.worker", &l->default_worker))
			l->default_worker_mark = mark_of(v);
	} else if (!strcmp(key, "timeout")) {
		get_duration(l, v, "defaults.timeout", &l->default_timeout_ms);
	} else if (!strcmp(key, "retries")) {
		if (!get_count(l, v, "defaults.retries", 100, &n))
			l->default_retries = (unsigned)n;
	} else if (!strcmp(key, "escalate")) {
		get_bool(l, v, "defaults.escalate", &l->default_escalate);
	} else if (!strcmp(key, "env")) {
		get_env(l, v, "defaults.env", &l->default_env, true);
	} else if (!strcmp(key, "isolate")) {
		get_isolation(l, v, "defaults.isolate", &l->default_isolation);
	} else if (!strcmp(key, "changes")) {
		get_changes(l, v, "defaults.changes", &l->default_changes);
	}
}

/* --- workers ------------------------------------------------------- */

static struct worker *add_worker(struct squadfile *sf, const char *name)
{
	struct worker *w;

	sf->workers = xrealloc(sf->workers, (sf->nr_workers + 1) * sizeof(*sf->workers));
	w = &sf->workers[sf->nr_workers++];
	memset(w, 0, sizeof(*w));
	w->name = xstrdup(name);
	strvec_init(&w->command);
	strvec_init(&w->env);
	return w;
}

static void add_builtin_workers(struct squadfile *sf)
{
	/* qwen and opencode speak ACP: one warm process per slot; the
	 * one-shot qwen (a process per task, its JSON on stdout) stays */
	static const char *const qwen_argv[] = { "qwen", "--acp", NULL };
	static const char *const oneshot_argv[] = {
		"qwen", "--approval-mode", "yolo", "-o", "json", "{prompt}", NULL,
	};
	static const char *const opencode_argv[] = { "opencode", "acp", NULL };
	/* opencode runs its tools without asking unless its permission
	 * config says "ask". OPENCODE_PERMISSION is merged over every
	 * opencode.json it reads, key by key, so each of its tools is named
	 * here (a catch-all "*" alone would lose to a file's "bash":
	 * "allow"), and squad's policy answers every call. Its to-do list is
	 * its own notebook, not an action. */
	static const char *const opencode_env[] = {
		"OPENCODE_PERMISSION={\"*\":\"ask\",\"bash\":\"ask\",\"edit\":\"ask\","
		"\"read\":\"ask\",\"glob\":\"ask\",\"grep\":\"ask\",\"list\":\"ask\","
		"\"webfetch\":\"ask\",\"websearch\":\"ask\",\"codesearch\":\"ask\","
		"\"task\":\"ask\",\"skill\":\"ask\",\"lsp\":\"ask\","
		"\"external_directory\":\"ask\",\"doom_loop\":\"ask\","
		"\"todowrite\":\"allow\",\"todoread\":\"allow\"}",
		NULL,
	};
	struct worker *w;

	w = add_worker(sf, "shell");
	w->is_shell = true;
	w = add_worker(sf, "qwen");
	for (int i = 0; qwen_argv[i]; i++)
		strvec_push(&w->command, qwen_argv[i]);
	w->protocol = WORKER_ACP;
	/* given its own one-shot command, it is read as qwen's JSON */
	w->output = WORKER_OUTPUT_QWEN_JSON;
	w->slots = 4;
	w->timeout_ms = WORKER_AGENT_TIMEOUT_MS;
	w = add_worker(sf, "qwen-oneshot");
	for (int i = 0; oneshot_argv[i]; i++)
		strvec_push(&w->command, oneshot_argv[i]);
	w->output = WORKER_OUTPUT_QWEN_JSON;
	w->slots = 4;
	w->timeout_ms = WORKER_AGENT_TIMEOUT_MS;
	w = add_worker(sf, "opencode");
	for (int i = 0; opencode_argv[i]; i++)
		strvec_push(&w->command, opencode_argv[i]);
	for (int i = 0; opencode_env[i]; i++)
		strvec_push(&w->env, opencode_env[i]);
	w->protocol = WORKER_ACP;
	w->slots = 4;
	w->timeout_ms = WORKER_AGENT_TIMEOUT_MS;
}

/* An ACP agent serves many tasks from one process: its command cannot
 * carry what belongs to one task. */
static void check_acp_command(struct loader *l, const struct worker *w)
{
	static const char *const per_task[] = {
		"{prompt}", "{task}", "{dir}", "{changed}", "{run}", NULL,
	};

	for (size_t i = 0; i < w->command.nr; i++)
		for (int j = 0; per_task[j]; j++)
			if (strstr(w->command.v[i], per_task[j])) {
				diag_error(l->diags, w->mark, "worker '%s' speaks ACP (one process "
					   "serves many tasks, the prompt goes over the protocol), so "
					   "its command cannot use %s; use 'protocol: oneshot' for a "
					   "process per task", w->name, per_task[j]);
				return;
			}
}

static void worker_pair(struct loader *l, const char *key, struct node *k,
			struct node *v, void *data)
{
	struct worker *w = data;
	struct strbuf what = STRBUF_INIT;
	long n;

	(void)k;
	strbuf_addf(&what, "workers.%s.%s", w->name, key);
	if (w->is_shell && strcmp(key, "slots") && strcmp(key, "timeout") && strcmp(key, "env") &&
	    strcmp(key, "isolate") && strcmp(key, "changes")) {
		diag_error(l->diags, mark_of(k), "the built-in shell worker takes only "
			   "'slots', 'timeout', 'env', 'isolate' and 'changes'%s",
			   !strcmp(key, "command") ? ": give tasks a 'run:' instead" : "");
	} else if (!strcmp(key, "isolate")) {
		get_isolation(l, v, what.buf, &w->isolation);
	} else if (!strcmp(key, "changes")) {
		get_changes(l, v, what.buf, &w->changes);
	} else if (!strcmp(key, "command")) {
		struct strvec argv = STRVEC_INIT;

		if (v->type != YAML_SEQUENCE_NODE) {
			diag_error(l->diags, mark_of(v), "%s must be a list (an argv "
				   "template such as [qwen, -o, json, \"{prompt}\"]), not %s",
				   what.buf, kind_of(v));
		} else if (!get_string_list(l, v, what.buf, &argv, NULL)) {
			struct strbuf err = STRBUF_INIT;

			for (size_t i = 0; i < argv.nr && !err.len; i++)
				expand_check_template(argv.v[i], NULL, &err);
			if (err.len)
				diag_error(l->diags, mark_of(v), "%s: %s", what.buf, err.buf);
			else if (!argv.nr)
				diag_error(l->diags, mark_of(v), "%s is empty", what.buf);
			strvec_clear(&w->command);
			w->command = argv;
			/* a built-in worker given its own command is one-shot
			 * unless the Squadfile says otherwise */
			if (!w->protocol_set)
				w->protocol = WORKER_ONESHOT;
			strvec_init(&argv);
			strbuf_release(&err);
		}
		strvec_clear(&argv);
	} else if (!strcmp(key, "env")) {
		/* ${VAR} here comes from the environment when the worker starts:
		 * an API key is named, never written, and need not be set for
		 * runs that do not use this worker. */
		struct strvec env = STRVEC_INIT;

		/* a built-in worker's own variables (opencode's permission)
		 * stay unless the Squadfile names them: adding an API key
		 * must not turn squad's policy off */
		get_env(l, v, what.buf, &env, false);
		for (size_t i = 0; i < env.nr; i++)
			env_unset(&w->env, env.v[i]);
		for (size_t i = 0; i < env.nr; i++)
			strvec_push(&w->env, env.v[i]);
		strvec_clear(&env);
	} else if (!strcmp(key, "slots")) {
		if (!get_count(l, v, what.buf, 4096, &n))
			w->slots = (unsigned)n;
	} else if (!strcmp(key, "timeout")) {
		get_duration(l, v, what.buf, &w->timeout_ms);
	} else if (!strcmp(key, "output")) {
		if (!want_scalar(l, v, what.buf)) {
			if (!strcmp(scalar(v), "text"))
				w->output = WORKER_OUTPUT_TEXT;
			else if (!strcmp(scalar(v), "qwen-json"))
				w->output = WORKER_OUTPUT_QWEN_JSON;
			else
				diag_error(l->diags, mark_of(v), "%s must be 'text' or "
					   "'qwen-json', not '%s'", what.buf, scalar(v));
		}
	} else if (!strcmp(key, "daily_limit")) {
		get_count(l, v, what.buf, 100000000, &w->daily_limit);
	} else if (!strcmp(key, "daily_tokens")) {
		get_count(l, v, what.buf, 1000000000000L, &w->daily_tokens);
	} else if (!strcmp(key, "per_minute")) {
		get_count(l, v, what.buf, 100000000, &w->per_minute);
	} else if (!strcmp(key, "rate_limit_pattern")) {
		if (!get_string(l, v, what.buf, &w->rate_limit_pattern) && w->rate_limit_pattern) {
			regex_free(w->rate_limit_re);
			w->rate_limit_re = compile_at(l, v, what.buf);
		}
	} else if (!strcmp(key, "prompt_template")) {
		struct strbuf err = STRBUF_INIT;

		if (!get_string(l, v, what.buf, &w->prompt_template) && w->prompt_template &&
		    expand_check_template(w->prompt_template, NULL, &err) < 0)
			diag_error(l->diags, mark_of(v), "%s: %s", what.buf, err.buf);
		else if (w->prompt_template && strstr(w->prompt_template, "{prompt}"))
			diag_error(l->diags, mark_of(v), "%s makes the prompt, so it cannot "
				   "use {prompt} (it can use {run} {task} {dir} {model})", what.buf);
		strbuf_release(&err);
	} else if (!strcmp(key, "model")) {
		get_string(l, v, what.buf, &w->model);
	} else if (!strcmp(key, "protocol")) {
		if (!want_scalar(l, v, what.buf)) {
			if (!strcmp(scalar(v), "acp"))
				w->protocol = WORKER_ACP;
			else if (!strcmp(scalar(v), "oneshot"))
				w->protocol = WORKER_ONESHOT;
			else
				diag_error(l->diags, mark_of(v), "%s must be 'acp' or "
					   "'oneshot', not '%s'", what.buf, scalar(v));
			w->protocol_set = true;
		}
	}
	strbuf_release(&what);
}

static void workers_pair(struct loader *l, const char *key, struct node *k,
			 struct node *v, void *data)
{
	long index = squadfile_find_worker(l->sf, key);
	const char *why = squadfile_check_name(key);
	struct worker *w;
	struct strbuf where = STRBUF_INIT;

	(void)data;
	if (why) {
		diag_error(l->diags, mark_of(k), "worker name '%s' %s", key, why);
		return;
	}
	if (index < 0) {
		w = add_worker(l->sf, key);
		w->timeout_ms = WORKER_AGENT_TIMEOUT_MS; /* only shell is built without one */
	} else {
		w = &l->sf->workers[index];
	}
	w->mark = mark_of(k);
	strbuf_addf(&where, "worker '%s'", key);
	if (want_map(l, v, where.buf)) {
		walk_map(l, v, where.buf, worker_keys, worker_pair, w);
		if (!w->is_shell && !w->command.nr)
			diag_error(l->diags, mark_of(k), "worker '%s' needs a 'command' "
				   "(an argv template such as [my-agent, \"{prompt}\"])", key);
		else if (!w->is_shell && w->protocol == WORKER_ACP)
			check_acp_command(l, w);
	}
	strbuf_release(&where);
}

/* --- routing ------------------------------------------------------- */

/* A skill names a folder under skills_dir: a name, and one path
 * component that stays inside that folder. NULL, or why not. */
static const char *check_skill_name(const char *name)
{
	const char *why = squadfile_check_name(name);

	if (why)
		return why;
	if (strchr(name, '/'))
		return "contains a '/' (a skill is a folder name)";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is not a folder name (a skill is a folder under skills_dir)";
	return NULL;
}

static void rule_pair(struct loader *l, const char *key, struct node *k,
		      struct node *v, void *data)
{
	struct route_rule *r = data;

	(void)k;
	if (!strcmp(key, "match")) {
		if (!want_scalar(l, v, "routing match") && !is_null(v)) {
			r->match = xstrdup(scalar(v));
			r->match_mark = mark_of(v);
			r->re = compile_at(l, v, "routing match");
		}
	} else if (!strcmp(key, "skill")) {
		if (!get_string(l, v, "routing skill", &r->skill) && r->skill &&
		    check_skill_name(r->skill))
			diag_error(l->diags, mark_of(v), "skill name '%s' %s", r->skill,
				   check_skill_name(r->skill));
	}
}

static void get_routing(struct loader *l, struct node *n)
{
	struct squadfile *sf = l->sf;
	yaml_node_item_t *item;

	if (is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		diag_error(l->diags, mark_of(n), "routing must be a list of "
			   "{match: PATTERN, skill: NAME} rules, not %s", kind_of(n));
		return;
	}
	for (item = n->data.sequence.items.start; item < n->data.sequence.items.top; item++) {
		struct node *e = node_at(l, *item);
		struct route_rule *r;

		if (!e)
			return;
		if (!want_map(l, e, "a routing rule"))
			continue;
		sf->rules = xrealloc(sf->rules, (sf->nr_rules + 1) * sizeof(*sf->rules));
		r = &sf->rules[sf->nr_rules++];
		memset(r, 0, sizeof(*r));
		walk_map(l, e, "a routing rule", rule_keys, rule_pair, r);
		if (!r->match || !r->skill) {
			diag_error(l->diags, mark_of(e), "a routing rule needs both "
				   "'match' (a regular expression) and 'skill'");
			free(r->match);
			free(r->skill);
			regex_free(r->re);
			sf->nr_rules--;
		}
	}
}

/* --- tasks --------------------------------------------------------- */

const char *squadfile_check_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!*p)
		return "is empty";
	if (*p == '-')
		return "must not start with '-' (it would read as an option)";
	for (; *p; p++) {
		/* C1 controls (U+0080-U+009F, UTF-8 C2 80-9F) too: some
		 * terminals read U+009B as an escape sequence's start */
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return "contains a control character";
		if (*p == ' ' || *p == '\t')
			return "contains a space";
	}
	if (p - (const unsigned char *)name > 4096)
		return "is longer than 4096 bytes";
	return NULL;
}

struct task_ctx {
	struct task *task;
	size_t index;
};

static void task_pair(struct loader *l, const char *key, struct node *k,
		      struct node *v, void *data)
{
	struct task_ctx *ctx = data;
	struct task *t = ctx->task;
	long n;

	(void)k;
	if (!strcmp(key, "desc")) {
		get_string(l, v, "desc", &t->desc);
	} else if (!strcmp(key, "run")) {
		if (v->type == YAML_SEQUENCE_NODE) {
			if (!get_string_list(l, v, "run", &t->run_argv, NULL)) {
				yaml_node_item_t *item;

				if (!t->run_argv.nr)
					diag_error(l->diags, mark_of(v), "run is an empty list");
				/* each item is a scalar (checked above), so an
				 * error can point inside it */
				for (item = v->data.sequence.items.start;
				     item < v->data.sequence.items.top; item++) {
					struct node *e = doc_node(&l->doc, *item);

					check_vars(l, e, scalar(e), "run");
				}
			}
		} else if (!get_string(l, v, "run", &t->run) && t->run) {
			if (!t->run[strspn(t->run, " \t\r\n")]) {
				diag_error(l->diags, mark_of(v), "run is empty");
				free(t->run);
				t->run = NULL;
			} else {
				check_vars(l, v, t->run, "run");
			}
		}
	} else if (!strcmp(key, "prompt")) {
		if (!get_string(l, v, "prompt", &t->prompt) && t->prompt)
			check_vars(l, v, t->prompt, "prompt");
	} else if (!strcmp(key, "needs")) {
		get_string_list(l, v, "needs", &t->needs, &t->need_marks);
	} else if (!strcmp(key, "skills")) {
		if (!get_string_list(l, v, "skills", &t->skills, &t->skill_marks)) {
			t->skill_rule = xrealloc(t->skill_rule, (t->skills.nr + 1) * sizeof(long));
			for (size_t i = 0; i < t->skills.nr; i++) {
				t->skill_rule[i] = -1;
				if (check_skill_name(t->skills.v[i]))
					diag_error(l->diags, t->skill_marks[i], "skill name '%s' %s",
						   t->skills.v[i], check_skill_name(t->skills.v[i]));
			}
		}
	} else if (!strcmp(key, "worker")) {
		if (!get_string(l, v, "worker", &l->task_worker_names[ctx->index]))
			l->task_worker_marks[ctx->index] = mark_of(v);
	} else if (!strcmp(key, "dir")) {
		if (!get_string(l, v, "dir", &t->dir) && t->dir)
			check_vars(l, v, t->dir, "dir");
	} else if (!strcmp(key, "env")) {
		get_env(l, v, "env", &t->env, true);
	} else if (!strcmp(key, "timeout")) {
		get_duration(l, v, "timeout", &t->timeout_ms);
	} else if (!strcmp(key, "retries")) {
		if (!get_count(l, v, "retries", 100, &n))
			t->retries = (unsigned)n;
	} else if (!strcmp(key, "escalate")) {
		get_bool(l, v, "escalate", &t->escalate);
	} else if (!strcmp(key, "expect")) {
		if (!get_string(l, v, "expect", &t->expect) && t->expect) {
			regex_free(t->expect_re);
			t->expect_re = compile_at(l, v, "expect");
		}
	} else if (!strcmp(key, "inputs")) {
		get_string_list(l, v, "inputs", &t->inputs, NULL);
		check_patterns(l, v, "inputs");
	} else if (!strcmp(key, "outputs")) {
		get_string_list(l, v, "outputs", &t->outputs, NULL);
		check_patterns(l, v, "outputs");
	} else if (!strcmp(key, "allow_commands")) {
		strvec_clear(&t->allow_commands);
		t->any_command = false;
		if (!get_string_list(l, v, "allow_commands", &t->allow_commands, NULL)) {
			for (size_t i = 0; i < t->allow_commands.nr; i++) {
				const char *c = t->allow_commands.v[i];

				if (!strcmp(c, "any") && t->allow_commands.nr == 1)
					t->any_command = true;
				else if (!*c || strpbrk(c, "/ \t\n") || !strcmp(c, "any"))
					diag_error(l->diags, mark_of(v), "allow_commands: '%s' is not a "
						   "program name (a name such as 'pytest', without a "
						   "folder; or 'any' alone)", c);
			}
		}
	} else if (!strcmp(key, "isolate")) {
		get_isolation(l, v, "isolate", &t->isolation);
	} else if (!strcmp(key, "changes")) {
		if (!get_changes(l, v, "changes", &t->changes))
			t->changes_mark = mark_of(v);
	}
}

static void tasks_pair(struct loader *l, const char *key, struct node *k,
		       struct node *v, void *data)
{
	struct squadfile *sf = l->sf;
	const char *why = squadfile_check_name(key);
	const char *const *keys = data ? data : task_keys;
	struct task_ctx ctx;
	struct task *t;
	size_t errors_before = l->diags->errors;

	if (why) {
		diag_error(l->diags, mark_of(k), "task name '%.80s%s' %s", key,
			   strlen(key) > 80 ? "..." : "", why);
		return;
	}
	t = &sf->tasks[sf->nr_tasks];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(key);
	t->mark = mark_of(k);
	strvec_init(&t->run_argv);
	strvec_init(&t->needs);
	strvec_init(&t->skills);
	strvec_init(&t->env);
	strvec_init(&t->inputs);
	strvec_init(&t->outputs);
	strvec_init(&t->allow_commands);
	for (size_t i = 0; i < l->default_env.nr; i++)
		strvec_push(&t->env, l->default_env.v[i]);
	t->timeout_ms = l->default_timeout_ms;
	t->retries = l->default_retries;
	t->escalate = l->default_escalate;
	ctx.task = t;
	ctx.index = sf->nr_tasks;
	strmap_put(&sf->task_index, t->name, (int)sf->nr_tasks);
	sf->nr_tasks++;

	if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		/* `name: command` is shorthand for `name: {run: command}` */
		task_pair(l, "run", k, v, &ctx);
	} else if (is_null(v)) {
		/* reported below as having nothing to do */
	} else {
		struct strbuf where = STRBUF_INIT;

		strbuf_addf(&where, "task '%s'", key);
		if (want_map(l, v, where.buf))
			walk_map(l, v, where.buf, keys, task_pair, &ctx);
		strbuf_release(&where);
	}
	/* when the body had an error (a misspelt 'run', an empty one), that
	 * error is the reason there is nothing to do: say it once */
	if (!t->run && !t->run_argv.nr && !t->prompt && !t->needs.nr &&
	    l->diags->errors == errors_before)
		diag_error(l->diags, t->mark, "task '%s' has nothing to do: give it "
			   "'run' (a command), 'prompt' (for an agent) or 'needs'", key);
}

static void get_tasks(struct loader *l, struct node *n)
{
	struct squadfile *sf = l->sf;
	size_t max;

	if (!want_map(l, n, "tasks"))
		return;
	max = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	sf->tasks = xcalloc(max, sizeof(*sf->tasks));
	l->task_worker_names = xcalloc(max, sizeof(char *));
	l->task_worker_marks = xcalloc(max, sizeof(struct mark));
	strmap_reserve(&sf->task_index, max);
	walk_map(l, n, "tasks", NULL, tasks_pair, NULL);
}

/* The known keys of a task given as an item of a list: its name is one. */
static const char *const list_task_keys[] = {
	"name", "desc", "run", "prompt", "needs", "skills", "worker", "dir", "env",
	"timeout", "retries", "escalate", "expect", "inputs", "outputs", "allow_commands",
	"isolate", "changes", NULL,
};

/* Tasks as a list: each item a task's map with an optional `name`, or a
 * command alone (`- make test`); an item without a name is called by
 * its position, 1-based. */
static void get_task_list(struct loader *l, struct node *n)
{
	struct squadfile *sf = l->sf;
	size_t max = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	struct strbuf auto_name = STRBUF_INIT;
	size_t pos = 0;

	sf->tasks = xcalloc(max, sizeof(*sf->tasks));
	l->task_worker_names = xcalloc(max, sizeof(char *));
	l->task_worker_marks = xcalloc(max, sizeof(struct mark));
	strmap_reserve(&sf->task_index, max);
	for (yaml_node_item_t *item = n->data.sequence.items.start;
	     item < n->data.sequence.items.top; item++) {
		struct node *v = node_at(l, *item), *k = v;
		const char *name;
		long first;

		if (!v)
			break;
		pos++;
		strbuf_reset(&auto_name);
		strbuf_addf(&auto_name, "%zu", pos);
		name = auto_name.buf;
		if (v->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
			     p < v->data.mapping.pairs.top; p++) {
				struct node *pk = doc_node(&l->doc, p->key);
				struct node *pv = doc_node(&l->doc, p->value);

				if (pk && pv && pk->type == YAML_SCALAR_NODE &&
				    !strcmp(scalar(pk), "name") && !want_scalar(l, pv, "name")) {
					k = pv;
					name = scalar(pv);
					break;
				}
			}
		} else if (v->type != YAML_SCALAR_NODE || is_null(v)) {
			diag_error(l->diags, mark_of(v), "a task in the list must be a map "
				   "(run, prompt, needs...) or a command, not %s", kind_of(v));
			continue;
		}
		first = squadfile_find_task(sf, name);
		if (first >= 0) {
			diag_error(l->diags, mark_of(k), "duplicate task name '%s' (first given "
				   "on line %u)", name, sf->tasks[first].mark.line);
			continue;
		}
		tasks_pair(l, name, k, v, (void *)list_task_keys);
	}
	strbuf_release(&auto_name);
}

/* --- cache -------------------------------------------------------- */

long long squadfile_parse_size(const char *text)
{
	static const struct { const char *unit; long long bytes; } units[] = {
		{ "", 1 }, { "B", 1 }, { "KB", 1000LL }, { "MB", 1000000LL },
		{ "GB", 1000000000LL }, { "TB", 1000000000000LL }, { "KiB", 1LL << 10 },
		{ "MiB", 1LL << 20 }, { "GiB", 1LL << 30 }, { "TiB", 1LL << 40 },
	};
	long long v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > 1000000000000LL)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(p, units[i].unit))
			return v > (1LL << 62) / units[i].bytes ? -1 : v * units[i].bytes;
	return -1;
}

/* Names a variable: the token and the signing key are never written in
 * a Squadfile, only where to find them. */
static void get_var_name(struct loader *l, struct node *v, const char *what, char **dst)
{
	const char *s;

	if (get_string(l, v, what, dst) < 0 || !*dst)
		return;
	s = *dst;
	for (const char *p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (p > s && *p >= '0' && *p <= '9'))) {
			diag_error(l->diags, mark_of(v), "%s must name an environment variable "
				   "(letters, digits, '_'), not '%s': the secret itself is never "
				   "written in a Squadfile", what, s);
			free(*dst);
			*dst = NULL;
			return;
		}
	if (!*s) {
		diag_error(l->diags, mark_of(v), "%s must name an environment variable", what);
		free(*dst);
		*dst = NULL;
	}
}

static void cache_pair(struct loader *l, const char *key, struct node *k, struct node *v,
		       void *data)
{
	struct squadfile_cache *c = &l->sf->cache;
	bool b;

	(void)k;
	(void)data;
	if (!strcmp(key, "url")) {
		get_string(l, v, "cache.url", &c->url);
	} else if (!strcmp(key, "team")) {
		get_string(l, v, "cache.team", &c->team);
	} else if (!strcmp(key, "token_env")) {
		get_var_name(l, v, "cache.token_env", &c->token_env);
	} else if (!strcmp(key, "signing_key_env")) {
		get_var_name(l, v, "cache.signing_key_env", &c->signing_key_env);
	} else if (!strcmp(key, "write")) {
		if (!get_bool(l, v, "cache.write", &b))
			c->write = b;
	} else if (!strcmp(key, "dir")) {
		if (v->type == YAML_SCALAR_NODE && (!strcmp(scalar(v), "false") ||
						    !strcmp(scalar(v), "off")))
			c->dir = xstrdup("off");
		else
			get_string(l, v, "cache.dir", &c->dir);
	} else if (!strcmp(key, "max_size")) {
		long long n;

		if (want_scalar(l, v, "cache.max_size") < 0)
			return;
		n = squadfile_parse_size(scalar(v));
		if (n <= 0)
			diag_error(l->diags, mark_of(v), "cache.max_size must be a size such as "
				   "'10GB' or '512MiB', not '%s'", scalar(v));
		else
			c->max_bytes = (unsigned long long)n;
	}
}

/* `cache:` is a map of settings, or false for no cache at all. */
static void get_cache(struct loader *l, struct node *v)
{
	bool on;

	if (is_null(v))
		return;
	if (v->type == YAML_SCALAR_NODE) {
		if (!get_bool(l, v, "cache", &on))
			l->sf->cache.off = !on;
		return;
	}
	if (want_map(l, v, "cache"))
		walk_map(l, v, "cache", cache_keys, cache_pair, NULL);
}

/* --- top level ----------------------------------------------------- */

struct top {
	struct node *tasks, *defaults, *vars, *workers, *routing, *dflt;
	bool has_version;
};

static void top_pair(struct loader *l, const char *key, struct node *k,
		     struct node *v, void *data)
{
	struct top *top = data;

	if (!strcmp(key, "version")) {
		top->has_version = true;
		if (v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "1"))
			diag_error(l->diags, mark_of(v->type == YAML_SCALAR_NODE ? v : k),
				   "unsupported version '%s': this squad reads version 1",
				   v->type == YAML_SCALAR_NODE ? scalar(v) : "?");
	} else if (!strcmp(key, "skills_dir")) {
		get_string(l, v, "skills_dir", &l->sf->skills_dir);
	} else if (!strcmp(key, "cache")) {
		get_cache(l, v);
	} else if (!strcmp(key, "tasks")) {
		top->tasks = v;
	} else if (!strcmp(key, "defaults")) {
		top->defaults = v;
	} else if (!strcmp(key, "vars")) {
		top->vars = v;
	} else if (!strcmp(key, "workers")) {
		top->workers = v;
	} else if (!strcmp(key, "routing")) {
		top->routing = v;
	} else if (!strcmp(key, "default")) {
		top->dflt = v;
	}
}

/* The worker of `defaults`, or -1 when there is none. An unknown one is
 * reported once, then forgotten. */
static long default_worker(struct loader *l)
{
	struct squadfile *sf = l->sf;
	const char **worker_names;
	long dw;

	if (!l->default_worker)
		return -1;
	dw = squadfile_find_worker(sf, l->default_worker);
	if (dw >= 0)
		return dw;
	worker_names = xcalloc(sf->nr_workers + 1, sizeof(char *));
	for (size_t i = 0; i < sf->nr_workers; i++)
		worker_names[i] = sf->workers[i].name;
	{
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "unknown worker '%s' in defaults", l->default_worker);
		diag_add_suggestion(&msg, l->default_worker, worker_names, -1);
		diag_error(l->diags, l->default_worker_mark, "%s", msg.buf);
		strbuf_release(&msg);
	}
	free(worker_names);
	free(l->default_worker);
	l->default_worker = NULL;
	return -1;
}

/* Checks that need the whole file. */
/* A task's isolate: and changes:, its own, else its worker's, else the
 * defaults'; see squadfile.h for what nothing set means. */
static void resolve_isolation(struct loader *l, struct task *t)
{
	const struct worker *w = &l->sf->workers[t->worker];

	if (!t->isolation)
		t->isolation = w->isolation ? w->isolation : l->default_isolation;
	if (!t->isolation)
		t->isolation = ISOLATION_NONE;
	if (!t->changes)
		t->changes = w->changes ? w->changes : l->default_changes;
	if (!t->changes)
		t->changes = w->is_shell ? CHANGES_APPLY : CHANGES_REVIEW;
	/* on the task itself it is a mistake; from defaults it is not */
	if (t->changes_mark.line && t->isolation == ISOLATION_NONE)
		diag_error(l->diags, t->changes_mark, "task '%s' sets changes: but does not "
			   "run isolated, so its edits are made in your tree directly: add "
			   "'isolate: worktree' to the task", t->name);
}

static void resolve(struct loader *l, struct node *dflt)
{
	struct squadfile *sf = l->sf;
	const char **names = xcalloc(sf->nr_tasks + 1, sizeof(char *));
	const char **worker_names = xcalloc(sf->nr_workers + 1, sizeof(char *));
	long dw = default_worker(l);

	for (size_t i = 0; i < sf->nr_tasks; i++)
		names[i] = sf->tasks[i].name;
	for (size_t i = 0; i < sf->nr_workers; i++)
		worker_names[i] = sf->workers[i].name;

	for (size_t i = 0; i < sf->nr_tasks; i++) {
		struct task *t = &sf->tasks[i];
		const char *wname = l->task_worker_names[i];
		bool unknown_worker = false;

		if (wname) {
			long w = squadfile_find_worker(sf, wname);

			if (w < 0) {
				struct strbuf msg = STRBUF_INIT;

				strbuf_addf(&msg, "unknown worker '%s' for task '%s'", wname, t->name);
				diag_add_suggestion(&msg, wname, worker_names, -1);
				if (!diag_suggest(wname, worker_names, -1))
					strbuf_addstr(&msg, " (define it under 'workers:')");
				diag_error(l->diags, l->task_worker_marks[i], "%s", msg.buf);
				strbuf_release(&msg);
				unknown_worker = true; /* reported: no more about it */
				w = 0;
			}
			t->worker = (size_t)w;
			t->worker_explicit = true;
		} else if (dw >= 0) {
			t->worker = (size_t)dw;
		} else {
			/* a prompt goes to an agent, a command to the shell */
			t->worker = t->prompt && !t->run && !t->run_argv.nr
				? (size_t)squadfile_find_worker(sf, "qwen") : 0;
		}
		resolve_isolation(l, t);
		if (sf->workers[t->worker].is_shell && t->prompt && !t->run &&
		    !t->run_argv.nr && (wname || dw >= 0) && !unknown_worker)
			diag_error(l->diags, wname ? l->task_worker_marks[i] : t->mark,
				   "task '%s' has a prompt but no run, and the shell worker "
				   "runs commands: give it an agent worker such as 'qwen'",
				   t->name);

		for (size_t j = 0; j < t->needs.nr; j++) {
			const char *dep = t->needs.v[j];

			if (squadfile_find_task(sf, dep) < 0) {
				struct strbuf msg = STRBUF_INIT;

				strbuf_addf(&msg, "task '%s' needs unknown task '%s'", t->name, dep);
				diag_add_suggestion(&msg, dep, names, (long)sf->nr_tasks);
				diag_error(l->diags, t->need_marks[j], "%s", msg.buf);
				strbuf_release(&msg);
			}
		}
	}

	if (dflt) {
		struct mark *marks = NULL;

		if (!get_string_list(l, dflt, "default", &sf->default_targets, &marks))
			for (size_t i = 0; i < sf->default_targets.nr; i++) {
				const char *name = sf->default_targets.v[i];

				if (squadfile_find_task(sf, name) < 0) {
					struct strbuf msg = STRBUF_INIT;

					strbuf_addf(&msg, "default target '%s' is not a task", name);
					diag_add_suggestion(&msg, name, names, (long)sf->nr_tasks);
					diag_error(l->diags, marks[i], "%s", msg.buf);
					strbuf_release(&msg);
				}
			}
		free(marks);
	}
	free(names);
	free(worker_names);
}

static int read_squadfile(struct strbuf *text, const char *path, struct diag_list *diags)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO would wait in open() for a writer for ever;
	 * it is refused below, as anything but a regular file is */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		diag_error(diags, (struct mark){ 0, 0 }, "cannot open: %s%s", strerror(errno),
			   errno == ENOENT ? " (run 'squad init' to write a starter Squadfile, "
			   "or point -f at one)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		diag_error(diags, (struct mark){ 0, 0 }, "not a regular file");
		close(fd);
		return -1;
	}
	if ((unsigned long long)st.st_size > SQUADFILE_MAX_BYTES) {
		diag_error(diags, (struct mark){ 0, 0 },
			   "the file is %lld bytes, more than a Squadfile may have (%u MiB)",
			   (long long)st.st_size, SQUADFILE_MAX_BYTES >> 20);
		close(fd);
		return -1;
	}
	/* from this fd, not the path again: it could be swapped meanwhile */
	if (strbuf_read_fd(text, fd, SQUADFILE_MAX_BYTES) < 0) {
		diag_error(diags, (struct mark){ 0, 0 }, "cannot read: %s", errno == EFBIG ?
			   "it grew past the size a Squadfile may have" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Where byte `offset` of text is, counted as libyaml counts marks. */
static struct mark mark_of_offset(const struct strbuf *text, size_t offset)
{
	struct mark m = { 1, 1 };
	size_t start = 0;

	if (offset > text->len)
		offset = text->len;
	if (offset >= 3 && !memcmp(text->buf, "\xef\xbb\xbf", 3))
		start = 3; /* a byte order mark takes no column */
	for (size_t i = start; i < offset; i++)
		if (text->buf[i] == '\n' || (text->buf[i] == '\r' && text->buf[i + 1] != '\n')) {
			m.line++;
			start = i + 1;
		}
	m.col += (unsigned)utf8_chars(text->buf + start, offset - start);
	return m;
}

/* Report what libyaml could not parse. Reader errors (bad UTF-8, control
 * characters) carry a byte offset instead of a mark. When the context
 * began on another line (an unclosed quote, a block), say where. */
static void report_yaml_error(struct diag_list *diags, const yaml_parser_t *parser,
			      const struct strbuf *text)
{
	struct mark m = { (unsigned)parser->problem_mark.line + 1,
			  (unsigned)parser->problem_mark.column + 1 };
	const char *problem = parser->problem ? parser->problem : "cannot parse";

	if (parser->error == YAML_READER_ERROR && strstr(problem, "UTF-8") &&
	    parser->problem_offset < text->len) {
		size_t at = parser->problem_offset;

		/* libyaml points at the bad trailing byte; the sequence, say a
		 * Latin-1 letter, starts at its leading byte */
		if (strstr(problem, "trailing"))
			do
				at--;
			while (at > 0 && ((unsigned char)text->buf[at] & 0xc0) == 0x80);
		diag_error(diags, mark_of_offset(text, at), "invalid YAML: invalid UTF-8 at "
			   "byte 0x%02X (a Squadfile is UTF-8 text)",
			   (unsigned char)text->buf[at]);
	} else if (parser->error == YAML_READER_ERROR) {
		m = mark_of_offset(text, parser->problem_offset);
		if (parser->problem_value < 0)
			diag_error(diags, m, "invalid YAML: %s", problem);
		else
			diag_error(diags, m, "invalid YAML: %s (U+%04X)",
				   problem, (unsigned)parser->problem_value);
	} else if (!parser->context) {
		diag_error(diags, m, "invalid YAML: %s", problem);
	} else if (parser->context_mark.line != parser->problem_mark.line) {
		diag_error(diags, m, "invalid YAML: %s %s (which starts at line %u, column %u)",
			   problem, parser->context, (unsigned)parser->context_mark.line + 1,
			   (unsigned)parser->context_mark.column + 1);
	} else {
		diag_error(diags, m, "invalid YAML: %s %s", problem, parser->context);
	}
}

/* libyaml takes time quadratic in the depth of nested flow collections
 * ("[[[[...") and memory linear in the depth of block ones ("- - - -"):
 * a 2 MB file could hold squad for an hour. No Squadfile needs more than
 * a few levels, so a deeper document is refused as soon as its events go
 * past this depth. */
#define SQUADFILE_MAX_DEPTH 64

/* Composing the node tree from libyaml's events, in the one pass that
 * also checks the depth (yaml_parser_load() would need a pass of its
 * own before it, parsing the text twice, and builds nodes of 96 bytes).
 * The document is filled as libyaml's loader fills one: scalars keep the
 * events' strings, an alias is one more reference to its node. */
struct composer {
	struct doc *doc;
	int open[SQUADFILE_MAX_DEPTH]; /* collections being filled, innermost last */
	size_t depth;
	struct anchor {
		char *name;
		int node;
		yaml_mark_t mark;
	} *anchors;
	size_t nr_anchors, alloc_anchors;
	struct strmap anchor_index;    /* name -> anchors[] */
	unsigned documents;
	struct diag_list *diags;
};

/* Room for one more item in `stack` ({start, top}): its capacity is the
 * next power of two from 4, so it is not stored. */
#define GROW_STACK(stack, type)                                                       \
	do {                                                                          \
		size_t nr_ = (size_t)((stack).top - (stack).start);                   \
		if (nr_ == 0 || (nr_ >= 4 && !(nr_ & (nr_ - 1)))) {                   \
			(stack).start = xrealloc((stack).start,                       \
						 (nr_ ? 2 * nr_ : 4) * sizeof(type)); \
			(stack).top = (stack).start + nr_;                            \
		}                                                                     \
	} while (0)

/* Node `index` becomes the next item of the innermost open collection:
 * a sequence's next item, or a mapping's next key or the value of the
 * key before it. */
static void attach(struct composer *c, int index)
{
	struct node *parent;

	if (!c->depth)
		return; /* the root */
	parent = &c->doc->nodes[c->open[c->depth - 1] - 1];
	if (parent->type == YAML_SEQUENCE_NODE) {
		GROW_STACK(parent->data.sequence.items, yaml_node_item_t);
		*parent->data.sequence.items.top++ = index;
	} else if (parent->data.mapping.pairs.top > parent->data.mapping.pairs.start &&
		   !parent->data.mapping.pairs.top[-1].value) {
		parent->data.mapping.pairs.top[-1].value = index;
	} else {
		GROW_STACK(parent->data.mapping.pairs, yaml_node_pair_t);
		*parent->data.mapping.pairs.top++ = (yaml_node_pair_t){ index, 0 };
	}
}

static int add_node(struct composer *c, const struct node *node)
{
	int index;

	ALLOC_GROW(c->doc->nodes, c->doc->nr + 1, c->doc->alloc);
	c->doc->nodes[c->doc->nr++] = *node;
	index = (int)c->doc->nr;
	attach(c, index);
	return index;
}

/* Name node `index` by its anchor (taken over; may be NULL). */
static int add_anchor(struct composer *c, yaml_char_t *anchor, int index, yaml_mark_t mark)
{
	char *name = (char *)anchor;
	int at;

	if (!name)
		return 0;
	at = strmap_get(&c->anchor_index, name);
	if (at >= 0) {
		const struct anchor *first = &c->anchors[at];

		diag_error(c->diags, mark_of_yaml(mark), "invalid YAML: the anchor '&%s' is "
			   "defined twice (first at line %u, column %u); rename one", name,
			   mark_of_yaml(first->mark).line, mark_of_yaml(first->mark).col);
		free(name);
		return -1;
	}
	ALLOC_GROW(c->anchors, c->nr_anchors + 1, c->alloc_anchors);
	c->anchors[c->nr_anchors] = (struct anchor){ name, index, mark };
	strmap_put(&c->anchor_index, name, (int)c->nr_anchors++);
	return 0;
}

/* An alias: the anchored node once more, which must be complete (an
 * alias inside the node it names would make the tree a cycle). */
static int add_alias(struct composer *c, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int at = strmap_get(&c->anchor_index, name);

	if (at < 0) {
		diag_error(c->diags, mark_of_yaml(ev->start_mark), "invalid YAML: the alias "
			   "'*%s' names no anchor before it (define '&%s' first)", name, name);
		return -1;
	}
	for (size_t i = 0; i < c->depth; i++)
		if (c->open[i] == c->anchors[at].node) {
			diag_error(c->diags, mark_of_yaml(ev->start_mark), "invalid YAML: the "
				   "alias '*%s' is inside the node it names", name);
			return -1;
		}
	attach(c, c->anchors[at].node);
	return 0;
}

/* One event into the document. Returns 1 to go on, 0 at the end of the
 * stream, -1 after reporting a problem. Takes over the strings of the
 * event that the document keeps. */
static int compose_event(struct composer *c, yaml_event_t *ev)
{
	struct node node;
	yaml_char_t **anchor = NULL;
	int index;

	memset(&node, 0, sizeof(node));
	node.start_mark = node_mark_of(ev->start_mark);
	node.end_mark = node_mark_of(ev->end_mark);
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (c->documents++) {
			diag_error(c->diags, mark_of_yaml(ev->start_mark),
				   "a Squadfile is one YAML document; remove the second one");
			return -1;
		}
		return 1;
	case YAML_ALIAS_EVENT:
		return add_alias(c, ev) < 0 ? -1 : 1;
	case YAML_SCALAR_EVENT:
		node.type = YAML_SCALAR_NODE;
		node.data.scalar.value = (char *)ev->data.scalar.value;
		node.data.scalar.length = (uint32_t)ev->data.scalar.length;
		node.data.scalar.style = ev->data.scalar.style;
		ev->data.scalar.value = NULL;
		anchor = &ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		node.type = YAML_SEQUENCE_NODE;
		anchor = &ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		node.type = YAML_MAPPING_NODE;
		anchor = &ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		c->doc->nodes[c->open[--c->depth] - 1].end_mark = node_mark_of(ev->end_mark);
		return 1;
	default:
		return 1; /* stream start, document end */
	}
	if (node.type != YAML_SCALAR_NODE && c->depth == SQUADFILE_MAX_DEPTH) {
		diag_error(c->diags, mark_of_yaml(ev->start_mark),
			   "the document is nested more than %d levels deep", SQUADFILE_MAX_DEPTH);
		return -1;
	}
	index = add_node(c, &node);
	if (node.type != YAML_SCALAR_NODE)
		c->open[c->depth++] = index;
	if (add_anchor(c, *anchor, index, ev->start_mark) < 0) {
		*anchor = NULL;
		return -1;
	}
	*anchor = NULL;
	return 1;
}

/* Parse `text` into doc (initialised here; doc_release() it in any
 * case). Returns 0, or -1 with every problem in diags. */
static int compose(struct doc *doc, const struct strbuf *text, struct diag_list *diags)
{
	struct composer c = { .doc = doc, .diags = diags };
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 1;

	memset(doc, 0, sizeof(*doc));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text->buf, text->len);
	while (rc > 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			report_yaml_error(diags, &parser, text);
			rc = -1;
			break;
		}
		rc = compose_event(&c, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < c.nr_anchors; i++)
		free(c.anchors[i].name);
	free(c.anchors);
	strmap_release(&c.anchor_index);
	return rc;
}

int squadfile_read_strings(const char *text, size_t len, const char *const *keys,
			   char **values, struct diag_list *diags)
{
	struct strbuf copy = STRBUF_INIT;
	struct doc doc;
	struct node *root;
	int ret;

	strbuf_add(&copy, text, len);
	ret = compose(&doc, &copy, diags);
	root = ret < 0 ? NULL : doc_node(&doc, 1);
	if (root && root->type == YAML_MAPPING_NODE) {
		/* the top level only: an alias there is one node, not a walk */
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			const struct node *k = doc_node(&doc, p->key);
			const struct node *v = doc_node(&doc, p->value);

			if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE ||
			    has_nul(k) || has_nul(v) || is_null(v))
				continue;
			for (size_t i = 0; keys[i]; i++)
				if (!strcmp(scalar(k), keys[i])) {
					free(values[i]);
					values[i] = xstrdup(scalar(v));
				}
		}
	}
	doc_release(&doc);
	strbuf_release(&copy);
	return ret < 0 ? -1 : 0;
}

char *squadfile_folder(const char *path)
{
	char *copy = xstrdup(path), *slash = strrchr(copy, '/');
	char *real;

	if (!slash) {
		free(copy);
		copy = xstrdup(".");
	} else if (slash == copy) {
		copy[1] = '\0';
	} else {
		*slash = '\0';
	}
	real = realpath(copy, NULL);
	if (!real)
		real = xstrdup(copy);
	free(copy);
	return real;
}

static void loader_init(struct loader *l, struct squadfile *sf, const char *path,
			struct diag_list *diags)
{
	memset(sf, 0, sizeof(*sf));
	memset(l, 0, sizeof(*l));
	sf->path = xstrdup(path);
	sf->root = squadfile_folder(path);
	sf->cache.write = -1;
	strvec_init(&sf->vars);
	strvec_init(&sf->env_vars);
	strvec_init(&sf->default_targets);
	add_builtin_workers(sf);
	l->sf = sf;
	l->diags = diags;
	strvec_init(&l->default_env);
	strvec_init(&l->squad_vars);
	for (int i = 0; squad_var_names[i]; i++)
		strvec_pushf(&l->squad_vars, "%s=", squad_var_names[i]);
	l->check_scope.own = &l->squad_vars;
	l->check_scope.vars = &sf->vars;
	l->check_scope.environ = true;
}

static void loader_release(struct loader *l)
{
	doc_release(&l->doc);
	if (l->task_worker_names)
		for (size_t i = 0; i < l->sf->nr_tasks; i++)
			free(l->task_worker_names[i]);
	free(l->task_worker_names);
	free(l->task_worker_marks);
	free(l->default_worker);
	strvec_clear(&l->default_env);
	strvec_clear(&l->squad_vars);
}

/* Read the Squadfile at `path` into l's doc and the model: everything
 * but its tasks and its default, which are left in `top`. Returns 0, or
 * -1 when there is no document to go on with. */
static int load_top(struct loader *l, const char *path, struct top *top)
{
	struct strbuf text = STRBUF_INIT;
	struct node *root;
	int ret = -1;

	memset(top, 0, sizeof(*top));
	if (read_squadfile(&text, path, l->diags) < 0 || compose(&l->doc, &text, l->diags) < 0)
		goto done;
	strbuf_release(&text); /* the tree holds all that is needed now */
	root = doc_node(&l->doc, 1);
	if (!root) {
		diag_error(l->diags, (struct mark){ 1, 1 }, "the Squadfile is empty; it "
			   "needs at least 'version: 1' and a 'tasks:' map");
		goto done;
	}
	l->budget = l->doc.nr * 4 + 100000;
	if (!want_map(l, root, "a Squadfile"))
		goto done;
	walk_map(l, root, "the top level", top_keys, top_pair, top);
	if (!top->has_version)
		diag_error(l->diags, (struct mark){ 1, 1 }, "missing 'version: 1' at the top level");

	/* order matters: vars feed every ${VAR} check, defaults every task,
	 * workers every task's worker */
	if (top->vars && !is_null(top->vars) && want_map(l, top->vars, "vars"))
		walk_map(l, top->vars, "vars", NULL, var_pair, NULL);
	if (top->defaults && !is_null(top->defaults) && want_map(l, top->defaults, "defaults"))
		walk_map(l, top->defaults, "defaults", defaults_keys, defaults_pair, NULL);
	if (top->workers && !is_null(top->workers) && want_map(l, top->workers, "workers"))
		walk_map(l, top->workers, "workers", NULL, workers_pair, NULL);
	if (top->routing)
		get_routing(l, top->routing);
	ret = 0;
done:
	strbuf_release(&text);
	return ret;
}

int squadfile_load(struct squadfile *sf, const char *path, struct diag_list *diags)
{
	struct loader l;
	struct top top;

	loader_init(&l, sf, path, diags);
	if (load_top(&l, path, &top) == 0) {
		if (!top.tasks)
			diag_error(diags, (struct mark){ 1, 1 }, "missing 'tasks:' at the top level");
		else if (!is_null(top.tasks))
			get_tasks(&l, top.tasks);
		resolve(&l, top.dflt);
	}
	loader_release(&l);
	return diags->errors ? -1 : 0;
}

int squadfile_load_adhoc(struct squadfile *sf, const char *path, bool have_file,
			 const struct strbuf *tasks, struct diag_list *diags,
			 struct diag_list *task_diags)
{
	struct loader l;
	struct top top;
	struct node *list;

	loader_init(&l, sf, path, diags);
	if (have_file && (load_top(&l, path, &top) < 0 || diags->errors))
		goto done;
	/* the defaults' worker is the Squadfile's: checked, and reported,
	 * against it before the marks move to the tasks' text */
	default_worker(&l);
	doc_release(&l.doc);
	l.diags = task_diags;
	if (tasks->len > SQUADFILE_MAX_BYTES) {
		diag_error(task_diags, (struct mark){ 0, 0 }, "the tasks are %zu bytes, more "
			   "than a Squadfile may have (%u MiB)", tasks->len, SQUADFILE_MAX_BYTES >> 20);
		goto done;
	}
	if (compose(&l.doc, tasks, task_diags) < 0)
		goto done;
	list = doc_node(&l.doc, 1);
	l.budget = l.doc.nr * 4 + 100000;
	if (!list || is_null(list)) {
		diag_error(task_diags, (struct mark){ 1, 1 }, "no tasks: give a list of tasks "
			   "(- run: make test) or a map of them (test: {run: make test})");
		goto done;
	}
	if (list->type == YAML_SEQUENCE_NODE)
		get_task_list(&l, list);
	else if (list->type == YAML_MAPPING_NODE)
		get_tasks(&l, list);
	else
		diag_error(task_diags, mark_of(list), "the tasks must be a list or a map of "
			   "tasks, not %s", kind_of(list));
	if (!sf->nr_tasks && !task_diags->errors)
		diag_error(task_diags, mark_of(list), "the %s of tasks is empty",
			   list->type == YAML_SEQUENCE_NODE ? "list" : "map");
	resolve(&l, NULL);
done:
	loader_release(&l);
	return diags->errors || task_diags->errors ? -1 : 0;
}

static void task_release(struct task *t)
{
	free(t->name);
	free(t->desc);
	free(t->run);
	strvec_clear(&t->run_argv);
	free(t->prompt);
	strvec_clear(&t->needs);
	free(t->need_marks);
	strvec_clear(&t->skills);
	free(t->skill_marks);
	free(t->skill_rule);
	free(t->dir);
	strvec_clear(&t->env);
	free(t->expect);
	regex_free(t->expect_re);
	strvec_clear(&t->inputs);
	strvec_clear(&t->outputs);
	strvec_clear(&t->allow_commands);
}

void squadfile_release(struct squadfile *sf)
{
	for (size_t i = 0; i < sf->nr_tasks; i++)
		task_release(&sf->tasks[i]);
	free(sf->tasks);
	for (size_t i = 0; i < sf->nr_workers; i++) {
		struct worker *w = &sf->workers[i];

		free(w->name);
		strvec_clear(&w->command);
		strvec_clear(&w->env);
		free(w->rate_limit_pattern);
		regex_free(w->rate_limit_re);
		free(w->prompt_template);
		free(w->model);
	}
	free(sf->workers);
	for (size_t i = 0; i < sf->nr_rules; i++) {
		free(sf->rules[i].match);
		free(sf->rules[i].skill);
		regex_free(sf->rules[i].re);
	}
	free(sf->rules);
	strvec_clear(&sf->vars);
	strvec_clear(&sf->env_vars);
	strvec_clear(&sf->default_targets);
	strmap_release(&sf->task_index);
	free(sf->skills_dir);
	free(sf->cache.url);
	free(sf->cache.team);
	free(sf->cache.token_env);
	free(sf->cache.signing_key_env);
	free(sf->cache.dir);
	free(sf->path);
	free(sf->root);
	memset(sf, 0, sizeof(*sf));
}

void squadfile_written_vars(const struct squadfile *sf, struct strvec *vars)
{
	for (size_t i = 0; i < sf->vars.nr; i++) {
		const char *v = sf->vars.v[i];
		size_t len = strcspn(v, "=");
		bool from_env = false;

		for (size_t j = 0; j < sf->env_vars.nr && !from_env; j++)
			from_env = strlen(sf->env_vars.v[j]) == len &&
				   !strncmp(sf->env_vars.v[j], v, len);
		if (!from_env)
			strvec_push(vars, v);
	}
}

long squadfile_find_task(const struct squadfile *sf, const char *name)
{
	return strmap_get(&sf->task_index, name);
}

long squadfile_find_worker(const struct squadfile *sf, const char *name)
{
	for (size_t i = 0; i < sf->nr_workers; i++)
		if (!strcmp(sf->workers[i].name, name))
			return (long)i;
	return -1;
}
