/* ci.c - a CI engine's workflow for a Squadfile; see ci.h. */
#include "cmd/ci.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define ID_MAX 64 /* bytes of a job id before its hash */

/* What the jobs keep of a run, as state.h names it: the logs' folder
 * and the hand-off manifest, relative to the Squadfile's folder. */
#define CI_LOGS STATE_DIR_NAME "/" STATE_LOGS "/"
#define CI_HANDOFF STATE_DIR_NAME "/" STATE_HANDOFF

/* What the emitted jobs run before squad: squad itself, built from
 * source when the runner has none (a runner or image with squad
 * installed skips it). SQUAD_REPO and SQUAD_REF are the workflow's
 * variables. */
static const char install_script[] =
"if ! command -v squad >/dev/null 2>&1; then\n"
"  SUDO=$(command -v sudo || true)\n"
"  $SUDO apt-get update\n"
"  $SUDO apt-get install -y --no-install-recommends ca-certificates git build-essential \\\n"
"    cmake ninja-build pkg-config libyaml-dev libpcre2-dev libgit2-dev libmbedtls-dev \\\n"
"    libjansson-dev libuv1-dev libarchive-dev libzstd-dev libcurl4-openssl-dev\n"
"  git clone --depth 1 --branch \"$SQUAD_REF\" \"$SQUAD_REPO\" /tmp/squad-src\n"
"  cmake -S /tmp/squad-src -B /tmp/squad-src/build -G Ninja \\\n"
"    -DCMAKE_BUILD_TYPE=Release -DSQUAD_TESTS=OFF -DSQUAD_WERROR=OFF\n"
"  cmake --build /tmp/squad-src/build\n"
"  $SUDO cmake --install /tmp/squad-src/build\n"
"fi\n";

static const char handoff_warning[] =
"if [ \"$status\" -eq 3 ]; then\n"
"  echo \"::warning::squad: tasks wait for the tactician (see " CI_HANDOFF ")\"\n"
"  status=0\n"
"fi\n"
"exit \"$status\"\n";

int ci_parse_engine(const char *name, enum ci_engine *engine)
{
	if (!strcmp(name, "github"))
		*engine = CI_GITHUB;
	else if (!strcmp(name, "gitlab"))
		*engine = CI_GITLAB;
	else
		return -1;
	return 0;
}

/* --- job ids ------------------------------------------------------- */

/* FNV-1a: stable on every machine, enough to tell names apart */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Job names GitLab reads as keywords (or treats specially), and the
 * job `squad ci gitlab --shards` adds. */
static bool gitlab_reserved(const char *id)
{
	static const char *const words[] = {
		"image", "services", "stages", "types", "before_script", "after_script",
		"variables", "cache", "include", "default", "workflow", "pages", "spec",
		"squad-handoff", NULL,
	};

	for (size_t i = 0; words[i]; i++)
		if (!strcmp(id, words[i]))
			return true;
	return false;
}

static bool id_taken(char *const *ids, size_t nr, const char *id, enum ci_engine engine)
{
	if (engine == CI_GITLAB && gitlab_reserved(id))
		return true;
	for (size_t i = 0; i < nr; i++)
		if (ids[i] && !strcmp(ids[i], id))
			return true;
	return false;
}

void ci_job_ids(const struct plan *plan, enum ci_engine engine, char **ids)
{
	const struct squadfile *sf = plan->sf;

	for (size_t i = 0; i < sf->nr_tasks; i++)
		ids[i] = NULL;
	for (size_t o = 0; o < plan->nr_order; o++) {
		size_t n = (size_t)plan->order[o];
		const char *name = sf->tasks[n].name;
		struct strbuf id = STRBUF_INIT, try = STRBUF_INIT;
		bool changed = false;

		/* GitHub: a letter or '_' first, then [A-Za-z0-9_-]; ids in
		 * lower case, so that two never differ by case alone */
		if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		      *name == '_')) {
			strbuf_addch(&id, '_');
			changed = true;
		}
		for (const char *p = name; *p && id.len < ID_MAX; p++) {
			char c = *p;

			if (c >= 'A' && c <= 'Z') {
				c = (char)(c - 'A' + 'a');
			} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				     c == '_' || c == '-')) {
				c = '-';
				changed = true;
			}
			strbuf_addch(&id, c);
		}
		changed |= id.len >= ID_MAX || strcmp(id.buf, name) != 0;
		if (changed)
			strbuf_addf(&id, "-%06x", name_hash(name) & 0xffffff);
		strbuf_addstr(&try, id.buf);
		for (unsigned k = 2; id_taken(ids, sf->nr_tasks, try.buf, engine); k++) {
			strbuf_reset(&try);
			strbuf_addf(&try, "%s-%u", id.buf, k);
		}
		ids[n] = strbuf_detach(&try, NULL);
		strbuf_release(&id);
	}
}

/* --- the emitter --------------------------------------------------- */

struct emit {
	yaml_emitter_t em;
	bool failed;
};

static int to_strbuf(void *data, unsigned char *buf, size_t size)
{
	strbuf_add(data, (const char *)buf, size);
	return 1;
}

static void emit(struct emit *e, yaml_event_t *event)
{
	if (e->failed)
		yaml_event_delete(event);
	else if (!yaml_emitter_emit(&e->em, event)) /* it frees the event */
		e->failed = true;
}

static void scalar(struct emit *e, const char *s, int plain_ok, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
					  plain_ok, 1, style))
		e->failed = true;
	else
		emit(e, &ev);
}

/* A word of squad's own (a key, a fixed value): plain. */
static void word(struct emit *e, const char *s)
{
	scalar(e, s, 1, YAML_PLAIN_SCALAR_STYLE);
}

/* Could a YAML 1.1 or 1.2 reader (GitLab's is 1.1) take `s`, written
 * plain, for anything but a string? Plain is allowed only for a path or
 * text that starts as no number, date or other type can, and is no
 * boolean or null word. */
static bool plain_is_string(const char *s)
{
	static const char *const special[] = {
		"y", "n", "yes", "no", "on", "off", "true", "false", "null", NULL,
	};

	/* a number, a date, '~', '.inf' all start otherwise; the YAML
	 * syntax itself (": ", " #", ...) is the emitter's to quote */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '/'))
		return false;
	for (size_t i = 0; special[i]; i++)
		if (!strcasecmp(s, special[i]))
			return false;
	return true;
}

/* Any text as a string: plain when nothing can read it otherwise, else
 * quoted as the emitter sees fit. */
static void text(struct emit *e, const char *s)
{
	scalar(e, s, plain_is_string(s), YAML_ANY_SCALAR_STYLE);
}

/* A shell script: a literal block (the emitter quotes it if it cannot);
 * one line as text. */
static void script(struct emit *e, const char *s)
{
	const char *nl = strchr(s, '\n');

	if (nl && !nl[1]) {
		char *line = xstrndup(s, (size_t)(nl - s));

		text(e, line);
		free(line);
		return;
	}
	scalar(e, s, 0, YAML_LITERAL_SCALAR_STYLE);
}

static void pair(struct emit *e, const char *key, const char *value)
{
	word(e, key);
	text(e, value);
}

static void map_start(struct emit *e, bool flow)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					    flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	emit(e, &ev);
}

static void map_end(struct emit *e)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	emit(e, &ev);
}

static void seq_start(struct emit *e, bool flow)
{
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					     flow ? YAML_FLOW_SEQUENCE_STYLE
						  : YAML_BLOCK_SEQUENCE_STYLE);
	emit(e, &ev);
}

static void seq_end(struct emit *e)
{
	yaml_event_t ev;

	yaml_sequence_end_event_initialize(&ev);
	emit(e, &ev);
}

/* --- shell text ---------------------------------------------------- */

/* `s` for GitHub: every "${{" (which would start an expression the
 * engine evaluates, anywhere, in quotes or not) as an expression that
 * yields "${{". */
static void add_unevaluated(struct strbuf *sb, const char *s, enum ci_engine engine)
{
	const char *hit;

	while (engine == CI_GITHUB && (hit = strstr(s, "${{"))) {
		strbuf_add(sb, s, (size_t)(hit - s));
		strbuf_addstr(sb, "${{ '${{' }}");
		s = hit + 3;
	}
	strbuf_addstr(sb, s);
}

/* `s` shell-quoted, and unevaluated for the engine */
static void add_word(struct strbuf *sb, const char *s, enum ci_engine engine)
{
	struct strbuf quoted = STRBUF_INIT;

	strbuf_add_shell_quoted(&quoted, s);
	add_unevaluated(sb, quoted.buf, engine);
	strbuf_release(&quoted);
}

/* "squad [-C DIR] [-f FILE]" */
static void add_squad(struct strbuf *sb, const struct ci_options *o)
{
	strbuf_addstr(sb, "squad");
	if (o->directory) {
		strbuf_addstr(sb, " -C ");
		add_word(sb, o->directory, o->engine);
	}
	if (o->file) {
		strbuf_addstr(sb, " -f ");
		add_word(sb, o->file, o->engine);
	}
}

/* --- GitHub Actions ------------------------------------------------ */

static void github_head(struct emit *e)
{
	pair(e, "name", "squad");
	word(e, "on");
	map_start(e, false);
	word(e, "push");
	word(e, "");  /* null: every push */
	word(e, "pull_request");
	word(e, "");
	map_end(e);
	word(e, "permissions");
	map_start(e, false);
	pair(e, "contents", "read");
	map_end(e);
	word(e, "env");
	map_start(e, false);
	pair(e, "SQUAD_REPO", "https://github.com/OWNER/squad.git");
	pair(e, "SQUAD_REF", "main");
	pair(e, "SQUAD_CACHE_URL", "${{ vars.SQUAD_CACHE_URL }}");
	pair(e, "SQUAD_CACHE_TEAM", "${{ vars.SQUAD_CACHE_TEAM }}");
	pair(e, "SQUAD_CACHE_TOKEN", "${{ secrets.SQUAD_CACHE_TOKEN }}");
	pair(e, "SQUAD_CACHE_SIGNING_KEY", "${{ secrets.SQUAD_CACHE_SIGNING_KEY }}");
	/* trusted: a push to the default branch writes the cache, nothing else */
	pair(e, "SQUAD_CACHE_WRITE", "${{ github.event_name == 'push' && github.ref_name == "
				     "github.event.repository.default_branch && '1' || '' }}");
	map_end(e);
}

static void github_steps_head(struct emit *e)
{
	word(e, "steps");
	seq_start(e, false);
	map_start(e, false);
	pair(e, "uses", "actions/checkout@v4");
	map_end(e);
	map_start(e, false);
	pair(e, "name", "Install squad");
	word(e, "run");
	script(e, install_script);
	map_end(e);
}

static void github_keep(struct emit *e, const char *artifact, const char *paths)
{
	map_start(e, false);
	pair(e, "name", "Keep the JUnit report, the logs and the hand-off manifest");
	pair(e, "if", "always()");
	pair(e, "uses", "actions/upload-artifact@v4");
	word(e, "with");
	map_start(e, false);
	pair(e, "name", artifact);
	word(e, "path");
	script(e, paths);
	word(e, "include-hidden-files");
	word(e, "true"); /* the state folder starts with a dot */
	pair(e, "if-no-files-found", "ignore");
	map_end(e);
	map_end(e);
}

static void github_task_job(struct emit *e, const struct plan *plan, size_t n,
			    char *const *ids, const struct ci_options *o)
{
	const struct graph *g = plan->graph;
	struct strbuf name = STRBUF_INIT, run = STRBUF_INIT, artifact = STRBUF_INIT;

	text(e, ids[n]);
	map_start(e, false);
	add_unevaluated(&name, plan->sf->tasks[n].name, CI_GITHUB);
	pair(e, "name", name.buf);
	pair(e, "runs-on", "ubuntu-latest");
	if (g->dep_start[n + 1] > g->dep_start[n]) {
		word(e, "needs");
		seq_start(e, true);
		for (size_t d = g->dep_start[n]; d < g->dep_start[n + 1]; d++)
			text(e, ids[g->deps[d]]);
		seq_end(e);
	}
	github_steps_head(e);
	strbuf_addstr(&run, "status=0\n");
	add_squad(&run, o);
	strbuf_addstr(&run, " run -k --color always --junit squad-junit.xml ");
	add_word(&run, plan->sf->tasks[n].name, CI_GITHUB);
	strbuf_addstr(&run, " || status=$?\n");
	strbuf_addstr(&run, handoff_warning);
	map_start(e, false);
	pair(e, "name", "squad run");
	word(e, "run");
	script(e, run.buf);
	map_end(e);
	strbuf_addf(&artifact, "squad-%s", ids[n]);
	github_keep(e, artifact.buf, "squad-junit.xml\n" CI_LOGS "\n" CI_HANDOFF "\n");
	seq_end(e);
	map_end(e);
	strbuf_release(&name);
	strbuf_release(&run);
	strbuf_release(&artifact);
}

/* N > 1 shards: a matrix of `squad --shard K/N`, each manifest under a
 * name of its own; one: a job that runs the whole selection. */
static void github_shards_job(struct emit *e, const struct strvec *targets,
			      const struct ci_options *o)
{
	struct strbuf name = STRBUF_INIT, run = STRBUF_INIT, k = STRBUF_INIT;
	bool matrix = o->shards > 1;

	word(e, "squad");
	map_start(e, false);
	if (matrix)
		strbuf_addf(&name, "squad shard ${{ matrix.shard }}/%u", o->shards);
	pair(e, "name", matrix ? name.buf : "squad");
	pair(e, "runs-on", "ubuntu-latest");
	if (matrix) {
		word(e, "strategy");
		map_start(e, false);
		word(e, "fail-fast");
		word(e, "false"); /* each shard's report, whatever the others do */
		word(e, "matrix");
		map_start(e, false);
		word(e, "shard");
		seq_start(e, true);
		for (unsigned i = 1; i <= o->shards; i++) {
			strbuf_reset(&k);
			strbuf_addf(&k, "%u", i);
			word(e, k.buf);
		}
		seq_end(e);
		map_end(e);
		map_end(e);
	}
	github_steps_head(e);
	strbuf_addstr(&run, "status=0\n");
	add_squad(&run, o);
	strbuf_addstr(&run, " -k --color always --junit squad-junit.xml");
	if (matrix)
		strbuf_addf(&run, " --shard \"${{ matrix.shard }}/%u\"", o->shards);
	for (size_t i = 0; i < targets->nr; i++) {
		strbuf_addch(&run, ' ');
		add_word(&run, targets->v[i], CI_GITHUB);
	}
	strbuf_addstr(&run, " || status=$?\n");
	if (matrix)
		strbuf_addstr(&run, "# each shard's manifest under a name of its own: "
			      "'squad handoff --merge'\n"
			      "# puts them together\n"
			      "mkdir -p squad-handoff\n"
			      "if [ -f " CI_HANDOFF " ]; then\n"
			      "  cp " CI_HANDOFF " \"squad-handoff/shard-${{ matrix.shard }}.json\"\n"
			      "fi\n");
	strbuf_addstr(&run, handoff_warning);
	map_start(e, false);
	pair(e, "name", matrix ? "squad --shard" : "squad");
	word(e, "run");
	script(e, run.buf);
	map_end(e);
	if (matrix)
		github_keep(e, "squad-shard-${{ matrix.shard }}",
			    "squad-junit.xml\n" CI_LOGS "\nsquad-handoff/\n");
	else
		github_keep(e, "squad", "squad-junit.xml\n" CI_LOGS "\n" CI_HANDOFF "\n");
	seq_end(e);
	map_end(e);
	strbuf_release(&name);
	strbuf_release(&run);
	strbuf_release(&k);
}

/* --- GitLab CI ----------------------------------------------------- */

static void gitlab_head(struct emit *e)
{
	word(e, "variables");
	map_start(e, false);
	pair(e, "SQUAD_REPO", "https://github.com/OWNER/squad.git");
	pair(e, "SQUAD_REF", "main");
	map_end(e);
	word(e, "default");
	map_start(e, false);
	word(e, "before_script");
	seq_start(e, false);
	/* the project's CI/CD variables SQUAD_CACHE_URL, _TOKEN, _TEAM and
	 * _SIGNING_KEY reach every job as they are; the cache is written
	 * by pipelines of the default branch only, unless set already */
	script(e, "if [ -z \"${SQUAD_CACHE_WRITE-}\" ] && [ -n \"${CI_COMMIT_BRANCH-}\" ] &&\n"
		  "   [ \"$CI_COMMIT_BRANCH\" = \"${CI_DEFAULT_BRANCH-}\" ]; then\n"
		  "  export SQUAD_CACHE_WRITE=1\n"
		  "fi\n");
	script(e, install_script);
	seq_end(e);
	map_end(e);
}

/* allow_failure on exit 3, the artifacts and the JUnit report */
static void gitlab_tail(struct emit *e, const char *const *paths)
{
	word(e, "allow_failure");
	map_start(e, false);
	word(e, "exit_codes");
	seq_start(e, true);
	word(e, "3"); /* skill tasks wait for the tactician: a warning */
	seq_end(e);
	map_end(e);
	word(e, "artifacts");
	map_start(e, false);
	pair(e, "when", "always");
	word(e, "paths");
	seq_start(e, false);
	for (size_t i = 0; paths[i]; i++)
		text(e, paths[i]);
	seq_end(e);
	word(e, "reports");
	map_start(e, false);
	pair(e, "junit", "squad-junit.xml");
	map_end(e);
	map_end(e);
}

static void gitlab_task_job(struct emit *e, const struct plan *plan, size_t n,
			    char *const *ids, const struct ci_options *o)
{
	static const char *const paths[] = {
		"squad-junit.xml", CI_LOGS, CI_HANDOFF, NULL,
	};
	const struct graph *g = plan->graph;
	struct strbuf run = STRBUF_INIT;

	text(e, ids[n]);
	map_start(e, false);
	word(e, "needs");
	seq_start(e, false);
	/* the order only: a need's artifacts (its .squad/) would land
	 * in this job's checkout */
	for (size_t d = g->dep_start[n]; d < g->dep_start[n + 1]; d++) {
		map_start(e, true);
		word(e, "job");
		text(e, ids[g->deps[d]]);
		word(e, "artifacts");
		word(e, "false");
		map_end(e);
	}
	seq_end(e);
	word(e, "script");
	seq_start(e, false);
	/* the name on a line of its own: a runner that echoes the first
	 * line of a command through the shell (gitlab-ci-local 4.60 runs
	 * what is in `...` of it) never sees it */
	add_squad(&run, o);
	strbuf_addstr(&run, " run -k --junit squad-junit.xml \\\n  ");
	add_word(&run, plan->sf->tasks[n].name, CI_GITLAB);
	strbuf_addch(&run, '\n');
	script(e, run.buf);
	seq_end(e);
	gitlab_tail(e, paths);
	map_end(e);
	strbuf_release(&run);
}

/* N > 1 shards: `parallel: N` jobs of `squad --shard K/N`, then a job
 * that merges their manifests; one: a job that runs the whole
 * selection. */
static void gitlab_shards_jobs(struct emit *e, const struct strvec *targets,
			       const struct ci_options *o)
{
	static const char *const shard_paths[] = {
		"squad-junit.xml", CI_LOGS, "squad-handoff/", NULL,
	};
	static const char *const paths[] = {
		"squad-junit.xml", CI_LOGS, CI_HANDOFF, NULL,
	};
	struct strbuf run = STRBUF_INIT, merge = STRBUF_INIT, nr = STRBUF_INIT;
	bool parallel = o->shards > 1; /* GitLab's parallel: wants 2 or more */

	word(e, "squad");
	map_start(e, false);
	if (parallel) {
		strbuf_addf(&nr, "%u", o->shards);
		word(e, "parallel");
		word(e, nr.buf);
	}
	word(e, "needs");
	seq_start(e, true);
	seq_end(e);
	word(e, "script");
	seq_start(e, false);
	if (parallel)
		strbuf_addstr(&run, "status=0\n");
	add_squad(&run, o);
	strbuf_addstr(&run, " -k --junit squad-junit.xml");
	if (parallel)
		strbuf_addf(&run, " --shard \"$CI_NODE_INDEX/%u\"", o->shards);
	for (size_t i = 0; i < targets->nr; i++) {
		strbuf_addstr(&run, " \\\n  ");  /* a line each: see gitlab_task_job() */
		add_word(&run, targets->v[i], CI_GITLAB);
	}
	if (parallel) {
		strbuf_addstr(&run, " || status=$?\n"
			      "mkdir -p squad-handoff\n"
			      "if [ -f " CI_HANDOFF " ]; then\n"
			      "  cp " CI_HANDOFF " \"squad-handoff/shard-$CI_NODE_INDEX.json\"\n"
			      "fi\n"
			      "exit \"$status\"");
	}
	strbuf_addch(&run, '\n');
	script(e, run.buf);
	seq_end(e);
	gitlab_tail(e, parallel ? shard_paths : paths);
	map_end(e);
	if (!parallel)
		goto out;

	/* the shards' manifests as one, as the single run's */
	word(e, "squad-handoff");
	map_start(e, false);
	word(e, "needs");
	seq_start(e, true);
	word(e, "squad");
	seq_end(e);
	pair(e, "when", "always");
	word(e, "script");
	seq_start(e, false);
	strbuf_addstr(&merge, "set -- squad-handoff/shard-*.json\nif [ -e \"$1\" ]; then\n  ");
	add_squad(&merge, o);
	strbuf_addstr(&merge, " handoff --merge \"$@\"\nelse\n"
		      "  echo \"squad: no shard left a task for the tactician\"\nfi\n");
	script(e, merge.buf);
	seq_end(e);
	word(e, "artifacts");
	map_start(e, false);
	pair(e, "when", "always");
	word(e, "paths");
	seq_start(e, false);
	text(e, CI_HANDOFF);
	seq_end(e);
	map_end(e);
	map_end(e);
out:
	strbuf_release(&run);
	strbuf_release(&merge);
	strbuf_release(&nr);
}

/* --- the workflow -------------------------------------------------- */

static const char github_comment[] =
"# A GitHub Actions workflow written by 'squad ci github': copy it to\n"
"# .github/workflows/squad.yml, set SQUAD_REPO to where your squad comes\n"
"# from, and write it again when the Squadfile's tasks change.\n"
"# The result cache: the repository variables SQUAD_CACHE_URL and\n"
"# SQUAD_CACHE_TEAM, the secrets SQUAD_CACHE_TOKEN and\n"
"# SQUAD_CACHE_SIGNING_KEY; pushes to the default branch write it.\n"
"# Exit 3 (skill tasks wait for the tactician) is a warning; each job\n"
"# keeps its JUnit report, logs and hand-off manifest as an artifact.\n";

static const char gitlab_comment[] =
"# A GitLab CI pipeline written by 'squad ci gitlab': copy it to\n"
"# .gitlab-ci.yml, set SQUAD_REPO to where your squad comes from (or run on\n"
"# runners that have squad), and write it again when the Squadfile's tasks\n"
"# change. The result cache: the CI/CD variables SQUAD_CACHE_URL,\n"
"# SQUAD_CACHE_TEAM, SQUAD_CACHE_TOKEN (masked) and SQUAD_CACHE_SIGNING_KEY\n"
"# (masked); pipelines of the default branch write it. Exit 3 (skill tasks\n"
"# wait for the tactician) is a warning; the JUnit report shows in merge\n"
"# requests.\n";

int ci_write(const struct plan *plan, const struct ci_options *o, struct strbuf *out,
	     struct strbuf *err)
{
	struct emit e = { .failed = false };
	struct strbuf yaml = STRBUF_INIT;
	char **ids = NULL;
	yaml_event_t ev;
	int ret = -1;

	if (!yaml_emitter_initialize(&e.em)) {
		strbuf_addstr(err, "cannot start the YAML emitter");
		return -1;
	}
	yaml_emitter_set_output(&e.em, to_strbuf, &yaml);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_width(&e.em, -1); /* no folded lines */
	yaml_emitter_set_indent(&e.em, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&e, &ev);
	map_start(&e, false);
	if (o->engine == CI_GITHUB)
		github_head(&e);
	else
		gitlab_head(&e);
	if (o->engine == CI_GITHUB) {
		word(&e, "jobs");
		map_start(&e, false);
	}
	if (o->shards) {
		if (o->engine == CI_GITHUB)
			github_shards_job(&e, o->targets, o);
		else
			gitlab_shards_jobs(&e, o->targets, o);
	} else {
		ids = xcalloc(plan->sf->nr_tasks + 1, sizeof(char *));
		ci_job_ids(plan, o->engine, ids);
		for (size_t i = 0; i < plan->nr_order; i++) {
			size_t n = (size_t)plan->order[i];

			if (o->engine == CI_GITHUB)
				github_task_job(&e, plan, n, ids, o);
			else
				gitlab_task_job(&e, plan, n, ids, o);
		}
	}
	if (o->engine == CI_GITHUB)
		map_end(&e);
	map_end(&e);
	yaml_document_end_event_initialize(&ev, 1);
	emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&e, &ev);
	if (!e.failed && !yaml_emitter_flush(&e.em))
		e.failed = true;
	if (e.failed) {
		strbuf_addf(err, "cannot write the workflow: %s",
			    e.em.problem ? e.em.problem : "the YAML emitter failed");
		goto out;
	}
	strbuf_addstr(out, o->engine == CI_GITHUB ? github_comment : gitlab_comment);
	strbuf_add(out, yaml.buf, yaml.len);
	ret = 0;
out:
	if (ids)
		for (size_t i = 0; i < plan->sf->nr_tasks; i++)
			free(ids[i]);
	free(ids);
	yaml_emitter_delete(&e.em);
	strbuf_release(&yaml);
	return ret;
}
