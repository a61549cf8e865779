/* worker.c - commands for the shell and agent workers; see worker.h. */
#include "worker.h"
#include "expand.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* Words the shell gives a meaning that exec would not. */
static const char *const shell_words[] = {
	"cd", "export", "exit", "set", "unset", "source", ".", "alias", "ulimit",
	"umask", "eval", "exec", "readonly", "shift", "trap", "wait", "read",
	"local", "return", "if", "then", "else", "elif", "fi", "for", "while",
	"until", "do", "done", "case", "esac", "function", "{", "}", "!", "[[",
	"time", "command", "builtin", "type", "hash", "getopts", "let", NULL,
};

bool worker_needs_shell(const char *text)
{
	size_t first_len = strcspn(text + strspn(text, " \t"), " \t");
	const char *first = text + strspn(text, " \t");

	for (const char *p = text; *p; p++) {
		/* anything outside this set may mean something to sh */
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789 \t_-./,:+@%^=", *p))
			return true;
	}
	if (memchr(first, '=', first_len))
		return true; /* NAME=value cmd */
	for (int i = 0; shell_words[i]; i++)
		if (strlen(shell_words[i]) == first_len &&
		    !strncmp(first, shell_words[i], first_len))
			return true;
	return false;
}

static void split_words(struct strvec *argv, const char *text)
{
	const char *p = text;

	while (*(p += strspn(p, " \t"))) {
		size_t len = strcspn(p, " \t");

		strvec_push_nodup(argv, xstrndup(p, len));
		p += len;
	}
}

static void add_env(struct strvec *env, const char *entry)
{
	size_t name_len = strcspn(entry, "=");

	/* replace an inherited value rather than carry both */
	for (size_t i = 0; i < env->nr; i++)
		if (!strncmp(env->v[i], entry, name_len + 1)) {
			free(env->v[i]);
			env->v[i] = xstrdup(entry);
			return;
		}
	strvec_push(env, entry);
}

static int expand_env_list(struct strvec *env, const struct strvec *list,
			   const struct expand_scope *scope, struct strbuf *err)
{
	for (size_t i = 0; i < list->nr; i++) {
		struct strbuf value = STRBUF_INIT, bad = STRBUF_INIT;

		if (expand_vars(&value, list->v[i], scope, NULL, &bad) < 0) {
			strbuf_addf(err, "undefined variable '%s' in env %.*s", bad.buf,
				    (int)strcspn(list->v[i], "="), list->v[i]);
			strbuf_release(&value);
			strbuf_release(&bad);
			return -1;
		}
		add_env(env, value.buf);
		strbuf_release(&value);
		strbuf_release(&bad);
	}
	return 0;
}

/* Push "NAME=value" (name_eq ends with '='); without vsnprintf, as this
 * runs for every task started. */
static void push_var(struct strvec *sv, const char *name_eq, const char *value)
{
	size_t n = strlen(name_eq), v = strlen(value);
	char *s = xmalloc(n + v + 1);

	memcpy(s, name_eq, n);
	memcpy(s + n, value, v + 1);
	strvec_push_nodup(sv, s);
}

/* worker_build_command() with ${NAME}s looked up in `base` (its `own`
 * is set here). */
static int build_command(struct command *cmd, const struct squadfile *sf,
			 const struct task *task, const struct worker *worker,
			 const struct strvec *changed, const char *changed_file,
			 const struct expand_scope *base, struct strbuf *err)
{
	struct strvec own = STRVEC_INIT;
	struct expand_scope scope = *base;
	struct strbuf text = STRBUF_INIT, bad = STRBUF_INIT;
	int ret = -1;

	scope.own = &own;
	push_var(&own, "SQUAD_TASK=", task->name);
	push_var(&own, "SQUAD_ROOT=", sf->root);
	if (changed_file)
		push_var(&own, "SQUAD_CHANGED=", changed_file);

	if (task->dir) {
		if (expand_vars(&text, task->dir, &scope, NULL, &bad) < 0) {
			strbuf_addf(err, "undefined variable '%s' in dir", bad.buf);
			goto out;
		}
		if (text.buf[0] == '/') {
			cmd->cwd = strbuf_detach(&text, NULL);
		} else {
			strbuf_reset(&bad);
			strbuf_addf(&bad, "%s/%s", sf->root, text.buf);
			cmd->cwd = strbuf_detach(&bad, NULL);
			strbuf_reset(&text);
		}
	} else {
		cmd->cwd = xstrdup(sf->root);
	}

	for (char **e = environ; *e; e++)
		strvec_push(&cmd->env, *e);
	for (size_t i = 0; i < own.nr; i++)
		add_env(&cmd->env, own.v[i]);
	/* the worker's env, then the task's: the more specific one wins */
	if (expand_env_list(&cmd->env, &worker->env, &scope, err) < 0 ||
	    expand_env_list(&cmd->env, &task->env, &scope, err) < 0)
		goto out;

	if (worker->is_shell && !task->run && !task->run_argv.nr) {
		strbuf_addf(err, "task '%s' has a prompt but no command, and the shell "
			    "worker runs commands: give it an agent worker such as 'qwen'",
			    task->name);
		goto out;
	} else if (worker->is_shell) {
		if (task->run_argv.nr) {
			for (size_t i = 0; i < task->run_argv.nr; i++) {
				strbuf_reset(&text);
				if (expand_vars(&text, task->run_argv.v[i], &scope, NULL, &bad) < 0) {
					strbuf_addf(err, "undefined variable '%s' in run (set it under "
					    "'vars:' or in the environment)", bad.buf);
					goto out;
				}
				strvec_push(&cmd->argv, text.buf);
			}
		} else {
			if (expand_vars(&text, task->run, &scope, NULL, &bad) < 0) {
				strbuf_addf(err, "undefined variable '%s' in run (set it under "
					    "'vars:' or in the environment)", bad.buf);
				goto out;
			}
			if (worker_needs_shell(text.buf)) {
				cmd->via_shell = true;
				strvec_push(&cmd->argv, "/bin/sh");
				strvec_push(&cmd->argv, "-c");
				strvec_push(&cmd->argv, text.buf);
			} else {
				split_words(&cmd->argv, text.buf);
			}
		}
	} else {
		struct placeholders ph = { 0 };
		struct strvec no_changes = STRVEC_INIT;
		struct strbuf prompt = STRBUF_INIT, run = STRBUF_INIT;
		int r = 0;

		if (task->run_argv.nr)
			for (size_t i = 0; i < task->run_argv.nr; i++)
				strbuf_addf(&run, "%s%s", i ? " " : "", task->run_argv.v[i]);
		else if (task->run)
			strbuf_addstr(&run, task->run);
		if (run.len) {
			struct strbuf expanded = STRBUF_INIT;

			r = expand_vars(&expanded, run.buf, &scope, NULL, &bad);
			strbuf_release(&run);
			run = expanded;
		}
		if (!r && task->prompt)
			r = expand_vars(&prompt, task->prompt, &scope, NULL, &bad);
		if (r < 0) {
			strbuf_addf(err, "undefined variable '%s'", bad.buf);
		} else {
			ph.task = task->name;
			ph.dir = cmd->cwd;
			ph.model = worker->model ? worker->model : "";
			ph.run = run.buf;
			ph.changed = changed ? changed : &no_changes;
			if (!task->prompt && run.len) {
				/* a command routed to an agent: ask it to run it */
				const char *tmpl = worker->prompt_template
					? worker->prompt_template
					: "Run this command in {dir} and report the result: {run}";
				r = expand_template_string(&prompt, tmpl, &scope, &ph, err);
			}
			ph.prompt = prompt.buf;
			if (!r)
				r = expand_argv(&cmd->argv, &worker->command, &scope, &ph, err);
		}
		strbuf_release(&prompt);
		strbuf_release(&run);
		if (r < 0)
			goto out;
	}
	if (!cmd->argv.nr) {
		strbuf_addstr(err, "the command is empty");
		goto out;
	}
	ret = 0;
out:
	strvec_clear(&own);
	strbuf_release(&text);
	strbuf_release(&bad);
	return ret;
}

int worker_build_command(struct command *cmd, const struct squadfile *sf,
			 const struct task *task, const struct worker *worker,
			 const struct strvec *changed, const char *changed_file,
			 struct strbuf *err)
{
	struct expand_scope scope = { .vars = &sf->vars, .environ = true };

	return build_command(cmd, sf, task, worker, changed, changed_file, &scope, err);
}

void worker_show_command(struct command *cmd, const struct squadfile *sf,
			 const struct task *task, const struct worker *worker)
{
	struct strvec vars = STRVEC_INIT;
	struct expand_scope scope = { .vars = &vars, .keep_unknown = true };
	struct strbuf ignored = STRBUF_INIT;

	squadfile_written_vars(sf, &vars);
	if (build_command(cmd, sf, task, worker, NULL, NULL, &scope, &ignored) < 0 &&
	    !cmd->argv.nr)
		strvec_push(&cmd->argv, "?");
	if (!cmd->cwd)
		cmd->cwd = xstrdup(task->dir ? task->dir : sf->root);
	strvec_clear(&vars);
	strbuf_release(&ignored);
}

/* One NUL-terminated key=value field. Plain appends: this runs for
 * every task of every plan, where a printf per field was most of it. */
static void add_field(struct strbuf *out, const char *key, const char *value)
{
	strbuf_addstr(out, key);
	strbuf_addch(out, '=');
	strbuf_addstr(out, value);
	strbuf_addch(out, '\0');
}

static void describe_list(struct strbuf *out, const char *key, const struct strvec *list,
			  const struct expand_scope *scope)
{
	for (size_t i = 0; i < list->nr; i++) {
		strbuf_addstr(out, key);
		strbuf_addch(out, '=');
		if (!scope || expand_vars(out, list->v[i], scope, NULL, NULL) < 0)
			strbuf_addstr(out, list->v[i]);
		strbuf_addch(out, '\0');
	}
}

void worker_describe(const struct squadfile *sf, const struct task *task,
		     const struct worker *worker, struct strbuf *out)
{
	struct strvec own = STRVEC_INIT, one = STRVEC_INIT;
	struct expand_scope scope = { .own = &own, .vars = &sf->vars, .environ = true };
	char output[16];

	push_var(&own, "SQUAD_TASK=", task->name);
	push_var(&own, "SQUAD_ROOT=", sf->root);
	/* NUL-separated key=value fields: no field can forge another */
	add_field(out, "task", task->name);
#define ONE(key, value) \
	if (value) { strvec_push(&one, value); describe_list(out, key, &one, &scope); strvec_clear(&one); }
	ONE("run", task->run);
	ONE("prompt", task->prompt);
	ONE("dir", task->dir);
	ONE("expect", task->expect);
#undef ONE
	describe_list(out, "argv", &task->run_argv, &scope);
	describe_list(out, "env", &task->env, &scope);
	describe_list(out, "input", &task->inputs, NULL);
	describe_list(out, "output", &task->outputs, NULL);
	describe_list(out, "skill", &task->skills, NULL);
	add_field(out, "worker", worker->name);
	describe_list(out, "worker.command", &worker->command, NULL);
	describe_list(out, "worker.env", &worker->env, NULL);
	snprintf(output, sizeof(output), "%d", (int)worker->output);
	add_field(out, "worker.output", output);
	add_field(out, "worker.prompt_template", worker->prompt_template ? worker->prompt_template : "");
	add_field(out, "worker.model", worker->model ? worker->model : "");
	strvec_clear(&own);
}

void command_release(struct command *cmd)
{
	strvec_clear(&cmd->argv);
	strvec_clear(&cmd->env);
	free(cmd->cwd);
	cmd->cwd = NULL;
	cmd->via_shell = false;
}

static const char *path_of(const struct command *cmd)
{
	const char *path = NULL;

	for (size_t i = 0; i < cmd->env.nr; i++)
		if (!strncmp(cmd->env.v[i], "PATH=", 5))
			path = cmd->env.v[i] + 5;
	return path ? path : "/usr/local/bin:/usr/bin:/bin";
}

/* The file `prog` names on `path`, into `found`. Returns 0, or ENOENT /
 * EACCES. */
static int search_path(const char *prog, const char *path, struct strbuf *found)
{
	struct stat sb;
	int ret = ENOENT;

	while (*path) {
		size_t len = strcspn(path, ":");

		strbuf_reset(found);
		if (len)
			strbuf_add(found, path, len);
		else
			strbuf_addch(found, '.');
		strbuf_addf(found, "/%s", prog);
		if (stat(found->buf, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (access(found->buf, X_OK) == 0)
				return 0;
			ret = EACCES; /* as execvp: keep looking, report this if nothing else */
		}
		path += len + (path[len] == ':');
	}
	return ret;
}

int worker_find_program(struct program_cache *cache, const struct command *cmd,
			const char **program)
{
	const char *prog = cmd->argv.v[0], *path;
	struct strbuf found = STRBUF_INIT;
	int at, rc;

	if (strchr(prog, '/')) {
		*program = prog; /* exec reports a bad path itself */
		return 0;
	}
	path = path_of(cmd);
	at = strmap_get(&cache->index, prog);
	if (at >= 0 && !strcmp(cache->entries[at].path, path)) {
		*program = cache->entries[at].found;
		return 0;
	}
	rc = search_path(prog, path, &found);
	if (rc) {
		strbuf_release(&found);
		return rc;
	}
	if (at < 0) {
		ALLOC_GROW(cache->entries, cache->nr + 1, cache->alloc);
		at = (int)cache->nr++;
		cache->entries[at].name = xstrdup(prog);
		strmap_put(&cache->index, cache->entries[at].name, at);
	} else {
		free(cache->entries[at].path);
		free(cache->entries[at].found);
	}
	/* the last PATH it was looked up on wins the slot */
	cache->entries[at].path = xstrdup(path);
	cache->entries[at].found = strbuf_detach(&found, NULL);
	*program = cache->entries[at].found;
	return 0;
}

void program_cache_release(struct program_cache *cache)
{
	for (size_t i = 0; i < cache->nr; i++) {
		free(cache->entries[i].name);
		free(cache->entries[i].path);
		free(cache->entries[i].found);
	}
	free(cache->entries);
	strmap_release(&cache->index);
	memset(cache, 0, sizeof(*cache));
}

void worker_parse_qwen_json(const char *out, size_t len, struct agent_result *res)
{
	json_t *events = NULL, *result = NULL;
	size_t i;
	json_t *ev;

	memset(res, 0, sizeof(*res));
	res->requests = -1;
	/* stdout may carry a line of noise before the array */
	while (len && *out != '[') {
		const char *nl = memchr(out, '\n', len);

		if (!nl)
			break;
		len -= (size_t)(nl + 1 - out);
		out = nl + 1;
	}
	events = json_loadb(out, len, 0, NULL);
	if (!json_is_array(events)) {
		res->error = xstrdup("the agent's output is not qwen's JSON event list");
		goto out;
	}
	json_array_foreach(events, i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));

		if (type && !strcmp(type, "result"))
			result = ev;
	}
	if (!result) {
		res->error = xstrdup("the agent's output has no result event");
		goto out;
	}
	res->parsed = true;
	res->is_error = json_is_true(json_object_get(result, "is_error"));
	if (json_string_value(json_object_get(result, "result")))
		res->answer = xstrdup(json_string_value(json_object_get(result, "result")));
	/* qwen reports a failed API call (a 429 after its own retries, a
	 * request timeout) as a success whose text starts like this */
	if (res->answer && !strncmp(res->answer, "[API Error:", 11))
		res->is_error = true;
	{
		/* stats.models.<model>.api.totalRequests, summed over models */
		json_t *models = json_object_get(json_object_get(result, "stats"), "models");
		const char *key;
		json_t *model;

		if (json_is_object(models)) {
			res->requests = 0;
			json_object_foreach(models, key, model) {
				json_t *n = json_object_get(json_object_get(model, "api"),
							    "totalRequests");
				json_int_t count = json_integer_value(n);

				/* another program's number: a negative one is
				 * ignored, and the sum stops at INT_MAX instead
				 * of overflowing (budget.c adds it up further) */
				if (count > 0)
					res->requests = count >= INT_MAX - res->requests
						? INT_MAX : res->requests + (long)count;
			}
		}
	}
	if (res->is_error) {
		json_t *err = json_object_get(result, "error");
		const char *msg = json_string_value(json_object_get(err, "message"));

		if (!msg)
			msg = res->answer;
		res->error = xstrdup(msg ? msg : "the agent reported an error");
	}
out:
	json_decref(events);
}

void agent_result_release(struct agent_result *res)
{
	free(res->answer);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

char *worker_exit_reason(const struct worker *worker, int exit_code, const char *agent_error)
{
	static const struct { int code; const char *what; } qwen_codes[] = {
		{ 1, "an API error or a bad flag" },
		{ 41, "authentication failed: give the worker an API key and --auth-type "
		      "(see README, 'Agent workers')" },
		{ 42, "the input was refused" },
		{ 44, "the sandbox failed" },
		{ 52, "its configuration is invalid" },
		{ 53, "it reached its turn limit" },
		{ 54, "a tool failed" },
		{ 55, "it reached its budget" },
		{ 130, "it was cancelled" },
	};
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s exited with %d", worker->name, exit_code);
	if (worker->output == WORKER_OUTPUT_QWEN_JSON)
		for (size_t i = 0; i < sizeof(qwen_codes) / sizeof(*qwen_codes); i++)
			if (qwen_codes[i].code == exit_code)
				strbuf_addf(&sb, ": %s", qwen_codes[i].what);
	if (agent_error)
		strbuf_addf(&sb, " (%s)", agent_error);
	return strbuf_detach(&sb, NULL);
}
