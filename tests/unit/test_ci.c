/* test_ci.c - squad ci: job ids, and YAML that reads back as written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cmd/ci.h"
#include "model/diag.h"
#include "plan/graph.h"
#include "plan/plan.h"
#include "model/squadfile.h"
#include "util/xalloc.h"

/* names YAML, a shell or an engine would read as syntax (a task name
 * holds no blank nor control character, and starts with no '-') */
static const char *const hostile[] = {
	"build", "Build", "a:b", "a/b", "a-b", "variables", "1.5", "yes", "null", "~",
	"${{secrets.TOKEN}}", "a'b\"c$(touch${IFS}x)`y`;#z", "[x]{y}&z*w!t%u@v|p>q?r",
	"ünï/cødé", "squad-handoff", "#comment", "key:", "'", "\"", "\\n",
	NULL,
};

struct fixture {
	char dir[64];
	struct squadfile sf;
	struct graph g;
	struct plan plan;
};

/* A Squadfile of `names` (NULL-terminated), each task needing the one
 * before it, loaded and planned with all of them as targets. */
static void load(struct fixture *fx, const char *const *names)
{
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec targets = STRVEC_INIT;
	FILE *f;

	strcpy(fx->dir, "/tmp/test_ci.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	strbuf_addstr(&text, "version: 1\ntasks:\n");
	for (size_t i = 0; names[i]; i++) {
		/* a JSON string is a YAML double-quoted one */
		strbuf_addstr(&text, "  \"");
		for (const char *p = names[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addch(&text, '\\');
			strbuf_addch(&text, *p);
		}
		strbuf_addstr(&text, "\": { run: \"true\"");
		if (i) {
			strbuf_addstr(&text, ", needs: [\"");
			for (const char *p = names[i - 1]; *p; p++) {
				if (*p == '"' || *p == '\\')
					strbuf_addch(&text, '\\');
				strbuf_addch(&text, *p);
			}
			strbuf_addstr(&text, "\"]");
		}
		strbuf_addstr(&text, " }\n");
		strvec_push(&targets, names[i]);
	}
	strbuf_addf(&path, "%s/Squadfile", fx->dir);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs(text.buf, f);
	fclose(f);
	if (squadfile_load(&fx->sf, path.buf, &diags) < 0) {
		struct strbuf out = STRBUF_INIT;

		diag_format(&diags, &out);
		fail_msg("%s", out.buf);
	}
	assert_int_equal(graph_build(&fx->g, &fx->sf, &diags), 0);
	assert_int_equal(plan_build(&fx->plan, &fx->sf, &fx->g, NULL, &targets, NULL, &err), 0);
	diag_list_release(&diags);
	strbuf_release(&text);
	strbuf_release(&err);
	strvec_clear(&targets);
	unlink(path.buf);
	rmdir(fx->dir);
	strbuf_release(&path);
}

static void unload(struct fixture *fx)
{
	plan_release(&fx->plan);
	graph_release(&fx->g);
	squadfile_release(&fx->sf);
}

static char **ids_of(struct fixture *fx, enum ci_engine engine)
{
	char **ids = xcalloc(fx->sf.nr_tasks + 1, sizeof(char *));

	ci_job_ids(&fx->plan, engine, ids);
	return ids;
}

static void free_ids(char **ids, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
}

static const char *id_of(struct fixture *fx, char **ids, const char *name)
{
	long n = squadfile_find_task(&fx->sf, name);

	assert_true(n >= 0);
	return ids[n];
}

static void ids_valid_distinct_stable(void **state)
{
	struct fixture fx, alone;
	char **ids, **again;
	const char *const one[] = { "a:b", NULL };
	char long_name[301];

	(void)state;
	load(&fx, hostile);
	for (int e = CI_GITHUB; e <= CI_GITLAB; e++) {
		ids = ids_of(&fx, (enum ci_engine)e);
		for (size_t i = 0; i < fx.sf.nr_tasks; i++) {
			const char *id = ids[i];

			assert_non_null(id);
			/* GitHub's rule: a letter or '_' first, then [a-z0-9_-] */
			assert_true((*id >= 'a' && *id <= 'z') || *id == '_');
			assert_int_equal(strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-"), strlen(id));
			for (size_t j = 0; j < i; j++)
				assert_string_not_equal(ids[i], ids[j]);
		}
		/* a valid name is its own id; a changed one carries a hash */
		assert_string_equal(id_of(&fx, ids, "build"), "build");
		assert_string_equal(id_of(&fx, ids, "a-b"), "a-b");
		assert_int_equal(strlen(id_of(&fx, ids, "Build")), strlen("build-") + 6);
		assert_int_equal(strncmp(id_of(&fx, ids, "a:b"), "a-b-", 4), 0);
		assert_string_not_equal(id_of(&fx, ids, "a:b"), id_of(&fx, ids, "a/b"));
		assert_int_equal(strncmp(id_of(&fx, ids, "1.5"), "_1-5-", 5), 0);
		/* GitLab's keywords, and the merge job, are no task's */
		assert_string_equal(id_of(&fx, ids, "variables"),
				    e == CI_GITLAB ? "variables-2" : "variables");
		assert_string_equal(id_of(&fx, ids, "squad-handoff"),
				    e == CI_GITLAB ? "squad-handoff-2" : "squad-handoff");
		/* the same name, the same id, whatever the other tasks */
		load(&alone, one);
		again = ids_of(&alone, (enum ci_engine)e);
		assert_string_equal(again[0], id_of(&fx, ids, "a:b"));
		free_ids(again, alone.sf.nr_tasks);
		unload(&alone);
		free_ids(ids, fx.sf.nr_tasks);
	}
	unload(&fx);

	/* a long name is cut, and told apart by its hash */
	memset(long_name, 'x', 300);
	long_name[300] = '\0';
	{
		const char *const names[] = { long_name, NULL };

		load(&fx, names);
		ids = ids_of(&fx, CI_GITHUB);
		assert_int_equal(strlen(ids[0]), 64 + 7);
		free_ids(ids, fx.sf.nr_tasks);
		unload(&fx);
	}
}

/* The value under `key` of mapping `map`, or NULL. */
static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *scalar_of(yaml_node_t *n)
{
	assert_non_null(n);
	assert_int_equal(n->type, YAML_SCALAR_NODE);
	return (const char *)n->data.scalar.value;
}

/* `s` as GitHub evaluates it: squad's escape "${{ '${{' }}" is "${{".
 * No other "${{" may be left. */
static char *github_evaluates(const char *s)
{
	struct strbuf out = STRBUF_INIT;
	const char *hit;
	static const char escape[] = "${{ '${{' }}";

	while ((hit = strstr(s, "${{"))) {
		assert_int_equal(strncmp(hit, escape, strlen(escape)), 0);
		strbuf_add(&out, s, (size_t)(hit - s));
		strbuf_addstr(&out, "${{");
		s = hit + strlen(escape);
	}
	strbuf_addstr(&out, s);
	return strbuf_detach(&out, NULL);
}

static void parse(const struct strbuf *text, yaml_document_t *doc)
{
	yaml_parser_t parser;

	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text->buf, text->len);
	assert_true(yaml_parser_load(&parser, doc));
	assert_non_null(yaml_document_get_root_node(doc));
	yaml_parser_delete(&parser);
}

static void yaml_reads_back(void **state)
{
	struct fixture fx;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec none = STRVEC_INIT;
	struct ci_options o = { .engine = CI_GITHUB, .targets = &none };
	yaml_document_t doc;
	yaml_node_t *root, *jobs;
	char **ids;

	(void)state;
	load(&fx, hostile);
	ids = ids_of(&fx, CI_GITHUB);
	assert_int_equal(ci_write(&fx.plan, &o, &out, &err), 0);
	parse(&out, &doc);
	root = yaml_document_get_root_node(&doc);
	jobs = get(&doc, root, "jobs");
	for (size_t i = 0; i < fx.sf.nr_tasks; i++) {
		yaml_node_t *job = get(&doc, jobs, ids[i]);
		char *name;

		assert_non_null(job);
		name = github_evaluates(scalar_of(get(&doc, job, "name")));
		assert_string_equal(name, fx.sf.tasks[i].name);
		free(name);
		/* the needs: the job of the task before */
		if (i) {
			yaml_node_t *needs = get(&doc, job, "needs");

			assert_non_null(needs);
			assert_int_equal(needs->type, YAML_SEQUENCE_NODE);
			assert_string_equal(scalar_of(yaml_document_get_node(
				&doc, *needs->data.sequence.items.start)), ids[i - 1]);
		}
	}
	yaml_document_delete(&doc);
	free_ids(ids, fx.sf.nr_tasks);

	/* GitLab: every task a job whose script names it, shell-quoted */
	o.engine = CI_GITLAB;
	strbuf_reset(&out);
	ids = ids_of(&fx, CI_GITLAB);
	assert_int_equal(ci_write(&fx.plan, &o, &out, &err), 0);
	parse(&out, &doc);
	root = yaml_document_get_root_node(&doc);
	for (size_t i = 0; i < fx.sf.nr_tasks; i++) {
		yaml_node_t *script = get(&doc, get(&doc, root, ids[i]), "script");
		struct strbuf want = STRBUF_INIT;
		const char *line;

		assert_non_null(script);
		line = scalar_of(yaml_document_get_node(&doc, *script->data.sequence.items.start));
		strbuf_addstr(&want, "\n  ");
		strbuf_add_shell_quoted(&want, fx.sf.tasks[i].name);
		strbuf_addch(&want, '\n');
		assert_non_null(strstr(line, want.buf));
		strbuf_release(&want);
	}
	yaml_document_delete(&doc);
	free_ids(ids, fx.sf.nr_tasks);
	unload(&fx);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void engines(void **state)
{
	enum ci_engine e;

	(void)state;
	assert_int_equal(ci_parse_engine("github", &e), 0);
	assert_int_equal(e, CI_GITHUB);
	assert_int_equal(ci_parse_engine("gitlab", &e), 0);
	assert_int_equal(e, CI_GITLAB);
	assert_int_equal(ci_parse_engine("GitHub", &e), -1);
	assert_int_equal(ci_parse_engine("", &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_valid_distinct_stable),
		cmocka_unit_test(yaml_reads_back),
		cmocka_unit_test(engines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
