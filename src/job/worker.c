/* worker.c - commands for the shell and agent workers; see worker.h. */
#include "job/worker.h"
#include "model/expand.h"
#include "util/xalloc.h"

#include <dirent.h>
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

int worker_build_agent(struct command *cmd, const struct squadfile *sf,
		       const struct worker *worker, struct strbuf *err)
{
	struct expand_scope scope = { .vars = &sf->vars, .environ = true };
	struct task none;
	int ret;

	/* a task of no one's: no folder, no env, no prompt of its own; the
	 * process serves every task of the worker */
	memset(&none, 0, sizeof(none));
	none.name = (char *)"";
	strvec_init(&none.env);
	strvec_init(&none.run_argv);
	ret = build_command(cmd, sf, &none, worker, NULL, NULL, &scope, err);
	for (size_t i = 0; i < cmd->env.nr; i++)
		if (!strncmp(cmd->env.v[i], "SQUAD_TASK=", 11)) {
			free(cmd->env.v[i]);
			memmove(&cmd->env.v[i], &cmd->env.v[i + 1],
				(cmd->env.nr - i) * sizeof(char *));
			cmd->env.nr--;
			break;
		}
	return ret;
}

int worker_build_prompt(struct strbuf *prompt, char **cwd, const struct squadfile *sf,
			const struct task *task, const struct worker *worker,
			const struct strvec *changed, struct strbuf *err)
{
	struct command cmd = COMMAND_INIT;
	struct worker one = *worker;
	int ret;

	/* the worker's own expansion of {prompt}, whose template is that
	 * one placeholder: exactly the text a one-shot call would get */
	strvec_init(&one.command);
	strvec_push(&one.command, "{prompt}");
	ret = worker_build_command(&cmd, sf, task, &one, changed, NULL, err);
	if (!ret) {
		strbuf_addstr(prompt, cmd.argv.v[0]);
		*cwd = cmd.cwd;
		cmd.cwd = NULL;
	}
	strvec_clear(&one.command);
	command_release(&cmd);
	return ret;
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

static void describe(const struct squadfile *sf, const struct task *task,
		     const struct worker *worker, bool declared, struct strbuf *out)
{
	struct strvec own = STRVEC_INIT, one = STRVEC_INIT, written = STRVEC_INIT;
	struct expand_scope scope = { .own = &own, .vars = &sf->vars, .environ = true };
	char output[16];

	push_var(&own, "SQUAD_TASK=", task->name);
	if (declared) {
		/* only what the Squadfile itself says: ${HOME} stays ${HOME},
		 * and the root a token, on every machine */
		squadfile_written_vars(sf, &written);
		scope.vars = &written;
		scope.environ = false;
		scope.keep_unknown = true;
		push_var(&own, "SQUAD_ROOT=", "${SQUAD_ROOT}");
	} else {
		push_var(&own, "SQUAD_ROOT=", sf->root);
	}
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
	if (task->isolation == ISOLATION_WORKTREE) {
		/* where its edits land is part of what it does */
		add_field(out, "isolate", squadfile_isolation_name(task->isolation));
		add_field(out, "changes", squadfile_changes_name(task->changes));
	}
	if (worker->protocol == WORKER_ACP) {
		/* the policy decides what the agent may do: part of the work */
		add_field(out, "worker.protocol", "acp");
		describe_list(out, "allow_command", &task->allow_commands, NULL);
	}
	strvec_clear(&own);
	strvec_clear(&written);
}

void worker_describe(const struct squadfile *sf, const struct task *task,
		     const struct worker *worker, struct strbuf *out)
{
	describe(sf, task, worker, false, out);
}

void worker_describe_declared(const struct squadfile *sf, const struct task *task,
			      const struct worker *worker, struct strbuf *out)
{
	describe(sf, task, worker, true, out);
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
	return path ? path : WORKER_DEFAULT_PATH;
}

int worker_search_path(const char *prog, const char *path, struct strbuf *found)
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
	rc = worker_search_path(prog, path, &found);
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

/* The ACP kind of one of qwen's tools (as `qwen --acp` reports it), so
 * that a call reads the same on both paths. */
static const char *qwen_tool_kind(const char *name)
{
	static const struct { const char *name, *kind; } kinds[] = {
		{ "run_shell_command", "execute" },
		{ "read_file", "read" }, { "read_many_files", "read" },
		{ "write_file", "edit" }, { "edit", "edit" }, { "replace", "edit" },
		{ "notebook_edit", "edit" },
		{ "grep_search", "search" }, { "glob", "search" },
		{ "list_directory", "search" }, { "tool_search", "search" },
		{ "web_fetch", "fetch" }, { "web_search", "fetch" },
	};

	for (size_t i = 0; name && i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strcmp(name, kinds[i].name))
			return kinds[i].kind;
	return "other";
}

static const char *str_field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static char *dup_field(json_t *obj, const char *key)
{
	const char *s = str_field(obj, key);

	return s ? xstrdup(s) : NULL;
}

/* The command, or the path, a tool's input is about (the keys acp.c
 * reads from an ACP call's rawInput). */
static const char *qwen_tool_target(json_t *input)
{
	static const char *const keys[] = {
		"command", "file_path", "absolute_path", "filePath", "path", "filepath", NULL,
	};

	for (int i = 0; keys[i]; i++)
		if (str_field(input, keys[i]))
			return str_field(input, keys[i]);
	return NULL;
}

static struct task_tool *find_qwen_tool(struct agent_result *res, const char *id)
{
	for (size_t i = 0; id && i < res->nr_tools; i++)
		if (res->tools[i].id && !strcmp(res->tools[i].id, id))
			return &res->tools[i];
	return NULL;
}

/* A `tool_use` block: a new call, pending until its result comes. Its
 * title as qwen's ACP gives it: the command and its description, the
 * pattern searched for, or else the tool's name. */
static void add_qwen_tool(struct agent_result *res, size_t *alloc, json_t *block)
{
	json_t *input = json_object_get(block, "input");
	const char *name = str_field(block, "name"), *target = qwen_tool_target(input);
	const char *descr = str_field(input, "description");
	struct task_tool *t;

	ALLOC_GROW(res->tools, res->nr_tools + 1, *alloc);
	t = &res->tools[res->nr_tools++];
	memset(t, 0, sizeof(*t));
	t->id = dup_field(block, "id");
	t->kind = xstrdup(qwen_tool_kind(name));
	if (str_field(input, "command") && descr) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s (%s)", str_field(input, "command"), descr);
		t->title = strbuf_detach(&sb, NULL);
	} else if (target) {
		t->title = xstrdup(target);
	} else if (str_field(input, "pattern")) {
		t->title = xstrdup(str_field(input, "pattern"));
	} else if (name) {
		t->title = xstrdup(name);
	}
	t->target = target ? xstrdup(target) : NULL;
	t->status = xstrdup("pending");
}

/* The tool calls of qwen's events: `tool_use` blocks of assistant
 * messages, `tool_result` blocks (of user messages) that end them, and
 * the result's permission_denials. */
static void read_qwen_tools(json_t *events, json_t *result, struct agent_result *res)
{
	size_t alloc = 0, i, j;
	json_t *ev, *block;

	json_array_foreach(events, i, ev) {
		const char *type = str_field(ev, "type");
		json_t *content = json_object_get(json_object_get(ev, "message"), "content");

		if (!type || !json_is_array(content))
			continue;
		json_array_foreach(content, j, block) {
			const char *btype = str_field(block, "type");
			struct task_tool *t;

			if (!btype)
				continue;
			if (!strcmp(type, "assistant") && !strcmp(btype, "tool_use")) {
				add_qwen_tool(res, &alloc, block);
			} else if (!strcmp(btype, "tool_result") &&
				   (t = find_qwen_tool(res, str_field(block, "tool_use_id")))) {
				free(t->status);
				t->status = xstrdup(json_is_true(json_object_get(block, "is_error"))
						    ? "failed" : "completed");
			}
		}
	}
	json_array_foreach(json_object_get(result, "permission_denials"), i, ev) {
		struct task_tool *t = find_qwen_tool(res, str_field(ev, "tool_use_id"));

		if (t && !t->decision)
			t->decision = xstrdup("denied: qwen's approval mode refused it");
	}
}

void worker_parse_qwen_json(const char *out, size_t len, struct agent_result *res)
{
	json_t *events = NULL, *result = NULL;
	size_t i;
	json_t *ev;

	memset(res, 0, sizeof(*res));
	res->requests = -1;
	res->input_tokens = res->output_tokens = res->total_tokens = -1;
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
	read_qwen_tools(events, result, res);
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
	{
		/* usage: input_tokens, output_tokens, total_tokens; another
		 * program's numbers: a negative one is unknown */
		json_t *usage = json_object_get(result, "usage");
		static const char *const keys[] = { "input_tokens", "output_tokens", "total_tokens" };
		long *dst[] = { &res->input_tokens, &res->output_tokens, &res->total_tokens };

		for (size_t k = 0; k < 3; k++) {
			json_t *n = json_object_get(usage, keys[k]);

			if (json_is_integer(n) && json_integer_value(n) >= 0)
				*dst[k] = json_integer_value(n) > LONG_MAX ? LONG_MAX
					: (long)json_integer_value(n);
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
	free(res->reason);
	free(res->provider);
	for (size_t i = 0; i < res->nr_tools; i++) {
		free(res->tools[i].id);
		free(res->tools[i].kind);
		free(res->tools[i].title);
		free(res->tools[i].target);
		free(res->tools[i].status);
		free(res->tools[i].decision);
	}
	free(res->tools);
	memset(res, 0, sizeof(*res));
}

static bool has_arg(const struct strvec *argv, const char *flag)
{
	size_t n = strlen(flag);

	for (size_t i = 1; i < argv->nr; i++)
		if (!strncmp(argv->v[i], flag, n) && (!argv->v[i][n] || argv->v[i][n] == '='))
			return true;
	return false;
}

#define API_DIR_PREFIX "squad-api-"

/* The folder request-log folders are made in: $TMPDIR when absolute. */
static const char *api_tmpdir(const char *tmp)
{
	return tmp && *tmp == '/' ? tmp : "/tmp";
}

/* The squad that made a request-log folder named `name`
 * ("squad-api-PID-XXXXXX"), or 0 when the name is not of that shape. */
static pid_t api_dir_owner(const char *name)
{
	const char *p = name + strlen(API_DIR_PREFIX);
	long pid = 0;

	if (strncmp(name, API_DIR_PREFIX, strlen(API_DIR_PREFIX)) || *p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		pid = pid * 10 + (*p - '0');
		if (pid > INT_MAX)
			return 0;
	}
	/* mkdtemp's six characters after the dash */
	if (*p != '-' || strlen(p + 1) != 6)
		return 0;
	return (pid_t)pid;
}

/* Empty and remove the folder `name` of `parent` (qwen writes only
 * files in it; one that holds more stays). */
static void remove_api_dir(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

int worker_sweep_api_dirs(void)
{
	int parent = open(api_tmpdir(getenv("TMPDIR")), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	int swept = 0;
	DIR *d;

	if (parent < 0)
		return 0;
	if (!(d = fdopendir(parent))) {
		close(parent);
		return 0;
	}
	while ((de = readdir(d))) {
		pid_t pid = api_dir_owner(de->d_name);
		struct stat sb;

		/* only a folder of this user's (mkdtemp made it so), whose
		 * squad is gone: a running squad's stays, whoever it is */
		if (!pid || pid == getpid() || fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode) || sb.st_uid != getuid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		remove_api_dir(dirfd(d), de->d_name);
		swept++;
	}
	closedir(d);
	return swept;
}

char *worker_bound_agent(struct command *cmd, const struct worker *worker, long timeout_ms)
{
	struct strvec argv = STRVEC_INIT;
	const char *base, *tmp = getenv("TMPDIR");
	struct strbuf dir = STRBUF_INIT;
	char *api_dir = NULL;

	if (worker->output != WORKER_OUTPUT_QWEN_JSON || !cmd->argv.nr)
		return NULL;
	for (size_t i = 0; i < cmd->env.nr; i++)
		if (!strncmp(cmd->env.v[i], "QWEN_CODE_UNATTENDED_RETRY=", 27)) {
			free(cmd->env.v[i]);
			memmove(&cmd->env.v[i], &cmd->env.v[i + 1],
				(cmd->env.nr - i) * sizeof(*cmd->env.v)); /* with the NULL */
			cmd->env.nr--;
			break;
		}
	base = strrchr(cmd->argv.v[0], '/');
	base = base ? base + 1 : cmd->argv.v[0];
	if (strcmp(base, "qwen"))
		return NULL; /* a wrapper of the author's: its flags are its own */

	/* the strings move to the new vector, not copied: a caller may
	 * hold argv[0] (the program found on PATH) */
	strvec_push_nodup(&argv, cmd->argv.v[0]);
	if (timeout_ms >= 2000 && !has_arg(&cmd->argv, "--max-wall-time")) {
		/* qwen's clock starts after its own start-up (seconds under
		 * load), so leave it a third of the time, at most a minute,
		 * to stop by itself and report before squad's timeout kills it */
		long margin = timeout_ms / 3 > 60000 ? 60000 : timeout_ms / 3;

		strvec_push(&argv, "--max-wall-time");
		strvec_pushf(&argv, "%lds", (timeout_ms - margin) / 1000 > 0
			     ? (timeout_ms - margin) / 1000 : 1);
	}
	if (!has_arg(&cmd->argv, "--openai-logging-dir")) {
		/* squad's pid in the name: a folder left by a squad that was
		 * killed (kill -9 gives it no time to remove it) is known as
		 * squad's, and as no living squad's, by worker_sweep_api_dirs() */
		strbuf_addf(&dir, "%s/" API_DIR_PREFIX "%ld-XXXXXX", api_tmpdir(tmp), (long)getpid());
		if (mkdtemp(dir.buf)) {
			api_dir = strbuf_detach(&dir, NULL);
			strvec_push(&argv, "--openai-logging");
			strvec_push(&argv, "--openai-logging-dir");
			strvec_push(&argv, api_dir);
		}
	}
	for (size_t i = 1; i < cmd->argv.nr; i++)
		strvec_push_nodup(&argv, cmd->argv.v[i]);
	free(cmd->argv.v);
	cmd->argv = argv;
	strbuf_release(&dir);
	return api_dir;
}

long worker_request_estimate(const struct worker *worker)
{
	return worker->output == WORKER_OUTPUT_QWEN_JSON ? 2 : 1;
}

/* What qwen's request log (--openai-logging-dir) says: one file per
 * model call, named by its time. */
struct api_log {
	long calls;        /* files: model calls made */
	long failed;       /* calls the provider answered with an error */
	long answered;     /* calls it answered */
	char *last_error;  /* the provider's error, when the last call that
			    * ended failed; NULL when it answered */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read and remove `dir` (made by worker_bound_agent: only qwen writes in
 * it). Files are read in name order, which is time order. */
static void read_api_log(const char *dir, struct api_log *log)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	memset(log, 0, sizeof(*log));
	if (!dir || !(d = opendir(dir)))
		return;
	/* every entry goes (a temporary file of qwen's too), so that the
	 * folder can */
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&names, de->d_name);
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(*names.v), by_name);
	for (size_t i = 0; i < names.nr; i++) {
		json_t *call;
		const char *msg;
		int fd;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, names.v[i]);
		strbuf_reset(&text);
		/* a file of qwen's; never followed through a link */
		fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0) {
			struct stat sb;

			if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < (64 << 20)) {
				char buf[65536];
				ssize_t n;

				while ((n = read(fd, buf, sizeof(buf))) > 0)
					strbuf_add(&text, buf, (size_t)n);
			}
			close(fd);
		}
		unlink(path.buf);
		if (strncmp(names.v[i], "openai-", 7))
			continue;
		log->calls++;
		call = json_loadb(text.buf, text.len, 0, NULL);
		msg = json_string_value(json_object_get(json_object_get(call, "error"), "message"));
		if (msg && strcmp(msg, "Request was aborted.")) {
			/* an abort is qwen's own (its wall time, squad's signal),
			 * not the provider's answer */
			log->failed++;
			free(log->last_error);
			log->last_error = xstrdup(msg);
		} else if (!msg && json_is_object(call)) {
			log->answered++;
			free(log->last_error);
			log->last_error = NULL; /* it answered after all */
		}
		json_decref(call);
	}
	rmdir(dir);
	strvec_clear(&names);
	strbuf_release(&path);
	strbuf_release(&text);
}

/* qwen's fatal error: the last `{"error":{"type","message","code"}}`
 * on stderr (pretty-printed over several lines, after its warnings). */
static json_t *stderr_error(const char *err, size_t len)
{
	for (size_t i = len; i-- > 0;) {
		json_t *doc, *e;

		if (err[i] != '{' || (i && err[i - 1] != '\n'))
			continue;
		doc = json_loadb(err + i, len - i, JSON_DISABLE_EOF_CHECK, NULL);
		e = json_object_get(doc, "error");
		if (json_is_object(e)) {
			json_incref(e);
			json_decref(doc);
			return e;
		}
		json_decref(doc);
	}
	return NULL;
}

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

static const char *qwen_code_meaning(const struct worker *worker, int exit_code)
{
	if (worker->output != WORKER_OUTPUT_QWEN_JSON)
		return NULL;
	for (size_t i = 0; i < sizeof(qwen_codes) / sizeof(*qwen_codes); i++)
		if (qwen_codes[i].code == exit_code)
			return qwen_codes[i].what;
	return NULL;
}

/* The last "[API Error: ...]" in an agent's stderr (qwen prints one as
 * it retries when asked to retry unattended), or NULL. Points into err,
 * which need not end in a NUL: the line is cut by the caller. */
static const char *last_api_error(const char *err, size_t len)
{
	const char *hit = NULL, *p = err;

	while (len && (p = memmem(p, len - (size_t)(p - err), "[API Error: ", 12))) {
		hit = p;
		p += 12;
		if ((size_t)(p - err) >= len)
			break;
	}
	if (hit && !memchr(hit, '\n', len - (size_t)(hit - err)))
		return NULL; /* cut off: no whole line */
	return hit;
}

/* Is this text from the provider a rate limit or a spent quota? */
static bool is_rate_limit(const char *text)
{
	static const char *const words[] = {
		"rate limit", "rate_limit", "too many requests", "quota", "resource exhausted",
		"resource_exhausted", NULL,
	};
	struct strbuf lower = STRBUF_INIT;
	const char *p = text;
	bool hit = false;

	if (!strncmp(p, "[API Error: ", 12))
		p += 12;
	if (!strncmp(p, "429", 3) && (p[3] == ' ' || p[3] == ':' || !p[3]))
		return true;
	for (; *p; p++)
		strbuf_addch(&lower, *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	for (int i = 0; words[i] && !hit; i++)
		hit = strstr(lower.buf, words[i]) != NULL;
	strbuf_release(&lower);
	return hit;
}

/* The first line of `text`, at most 200 bytes, without "[API Error: ]". */
static void add_first_line(struct strbuf *sb, const char *text)
{
	bool bracket = !strncmp(text, "[API Error: ", 12);
	size_t len;

	if (bracket)
		text += 12;
	len = strcspn(text, "\n");
	if (bracket && len && text[len - 1] == ']')
		len--;
	strbuf_add(sb, text, len > 200 ? 200 : len);
}

/* A provider error, as the verdict and reason of the attempt. */
static void provider_failed(struct agent_result *res, const char *text, const char *how)
{
	struct strbuf sb = STRBUF_INIT;

	res->verdict = is_rate_limit(text) ? AGENT_RATE_LIMITED : AGENT_API_ERROR;
	strbuf_addstr(&sb, res->verdict == AGENT_RATE_LIMITED ? "rate limited: " : "API error: ");
	add_first_line(&sb, text);
	if (how)
		strbuf_addf(&sb, " (%s)", how);
	free(res->reason);
	res->reason = strbuf_detach(&sb, NULL);
}

void worker_judge_agent(const struct worker *worker, const struct agent_attempt *at,
			struct agent_result *res)
{
	struct api_log log;
	json_t *fatal;
	const char *fatal_msg, *api_text = NULL;
	bool wall;

	worker_parse_qwen_json(at->out, at->out_len, res);
	read_api_log(at->api_dir, &log);
	fatal = stderr_error(at->err, at->err_len);
	fatal_msg = json_string_value(json_object_get(fatal, "message"));
	/* stopped by its own --max-wall-time: squad's timeout, a bit early */
	wall = at->exit_code == 55 && fatal_msg && strstr(fatal_msg, "wall-clock");
	/* no stats: qwen logs every call it makes, and one that ended by
	 * itself logged them all; one cut short (killed, or at its wall time)
	 * may not have logged the call it was in: unknown then, unless it
	 * logged some (a lower bound) */
	res->cut_short = at->timed_out || at->exit_code < 0 || wall;
	if (res->requests < 0 && at->api_dir && (log.calls || !res->cut_short))
		res->requests = log.calls;
	if (log.failed) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "the provider failed %ld of %ld model calls", log.failed, log.calls);
		if (log.last_error)
			strbuf_addf(&sb, "; the last: %s", log.last_error);
		res->provider = strbuf_detach(&sb, NULL);
	}

	if (res->error && !strncmp(res->error, "[API Error:", 11))
		api_text = res->error;
	else if (fatal_msg && !strncmp(fatal_msg, "[API Error:", 11))
		api_text = fatal_msg;

	if (at->exit_code == 0 && !at->timed_out && res->parsed && !res->is_error) {
		res->verdict = AGENT_OK;
	} else if (api_text) {
		/* qwen gave up on the provider by itself and said why */
		provider_failed(res, api_text, NULL);
	} else if (at->timed_out || wall) {
		const char *how = at->timed_out ? "killed at its timeout"
			: "qwen stopped at its --max-wall-time";
		const char *said = last_api_error(at->err, at->err_len);

		if (log.last_error) {
			provider_failed(res, log.last_error, how);
		} else if (said) {
			/* no request log (a wrapper of the author's), but qwen's
			 * stderr told of the provider's errors as it retried */
			char *line = xstrndup(said, strcspn(said, "\n"));

			provider_failed(res, line, how);
			free(line);
		} else {
			struct strbuf sb = STRBUF_INIT;

			res->verdict = AGENT_TIMED_OUT;
			strbuf_addstr(&sb, "timed out");
			if (wall)
				strbuf_addf(&sb, " (%s)", how);
			if (log.calls && !log.failed && !log.answered)
				strbuf_addstr(&sb, ": the model never answered");
			res->reason = strbuf_detach(&sb, NULL);
		}
	} else if (at->exit_code == 1 && log.last_error) {
		provider_failed(res, log.last_error, NULL);
	} else if (res->parsed && res->is_error) {
		/* its own verdict, in its own words */
		res->verdict = AGENT_FAILED;
		res->reason = xstrdup(res->error);
		res->reason[strcspn(res->reason, "\n")] = '\0';
	} else if (at->exit_code > 0) {
		res->verdict = AGENT_FAILED;
		/* its own message; the parser's complaint about an empty
		 * stdout only when there is nothing better */
		res->reason = worker_exit_reason(worker, at->exit_code, fatal_msg ? fatal_msg
			: res->parsed ? res->error : qwen_code_meaning(worker, at->exit_code) ? NULL
			: res->error);
	} else if (at->exit_code == 0) {
		res->verdict = AGENT_FAILED;
		res->reason = xstrdup(res->error ? res->error : "the agent failed");
	} else {
		res->verdict = AGENT_FAILED; /* a signal: the caller says which */
	}
	/* its own words, rather than the parser's complaint of an empty
	 * stdout: for the summary line */
	if (fatal_msg && !res->parsed && res->verdict != AGENT_OK) {
		free(res->error);
		res->error = xstrdup(fatal_msg);
	}
	json_decref(fatal);
	free(log.last_error);
}

char *worker_exit_reason(const struct worker *worker, int exit_code, const char *agent_error)
{
	const char *what = qwen_code_meaning(worker, exit_code);
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s exited with %d", worker->name, exit_code);
	if (what)
		strbuf_addf(&sb, ": %s", what);
	if (agent_error) {
		strbuf_addstr(&sb, " (");
		add_first_line(&sb, agent_error);
		strbuf_addch(&sb, ')');
	}
	return strbuf_detach(&sb, NULL);
}
