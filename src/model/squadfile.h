/* squadfile.h - a Squadfile (YAML) read into the model.
 *
 * squadfile_load() reads and checks one Squadfile: keys, types, names,
 * variables, workers and dependencies, and reports every problem it finds
 * in one pass into a diag_list, each with its line and column. What it
 * returns is the whole model that the later stages (graph, plan, run)
 * work from; none of them sees YAML.
 *
 * Strings in the model are kept as the author wrote them, `${VAR}`
 * included: they are expanded (expand.h) only where a process needs them,
 * so values taken from the environment never reach a manifest or a log
 * that squad writes on its own.
 */
#ifndef SQUAD_SQUADFILE_H
#define SQUAD_SQUADFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/diag.h"
#include "model/regex.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"

/* How an agent's stdout is read. */
enum worker_output {
	WORKER_OUTPUT_TEXT,      /* plain text: the whole output is the result */
	WORKER_OUTPUT_QWEN_JSON, /* qwen -o json: an array of events */
};

/* How squad speaks to an agent worker. */
enum worker_protocol {
	WORKER_ONESHOT, /* a process per task: the prompt in its argv, its answer on stdout */
	WORKER_ACP,     /* the Agent Client Protocol (acp.h): warm processes, a session per task */
};

/* Where a task runs (isolate:). UNSET only while the Squadfile is read:
 * the task's own setting, else its worker's, else defaults', else none. */
enum task_isolation {
	ISOLATION_UNSET,
	ISOLATION_NONE,     /* in the user's tree */
	ISOLATION_WORKTREE, /* in a worktree of its own (isolate.h) */
};

/* What becomes of an isolated task's change (changes:); UNSET as above.
 * When nothing sets it: apply for the shell worker (a formatter's fix
 * lands in the tree, as pre-commit and lefthook leave it), review for an
 * agent (an agent's edit is a proposal for the tactician). */
enum task_changes {
	CHANGES_UNSET,
	CHANGES_APPLY,   /* applied to the user's tree on success */
	CHANGES_REVIEW,  /* kept, and a hand-off entry for the tactician */
	CHANGES_DISCARD, /* thrown away: the task is a check */
};

/* An agent worker's timeout when its definition sets none: an agent
 * waits on the network, and a provider that keeps failing must not hang
 * the run (qwen alone retries a 429 for about an hour). */
#define WORKER_AGENT_TIMEOUT_MS (10L * 60 * 1000)

/* A worker: what runs a task. `shell` is built in and has no command. */
struct worker {
	char *name;
	struct mark mark;
	bool is_shell;          /* the built-in shell worker */
	struct strvec command;  /* argv template: {prompt} {task} {dir} {model} ${VAR} */
	struct strvec env;      /* "NAME=value" added to the environment */
	unsigned slots;         /* tasks at once; 0 = bounded by -j only */
	long timeout_ms;        /* when the task has none; 0 = none (shell),
				 * WORKER_AGENT_TIMEOUT_MS for agents */
	enum worker_output output;
	long daily_limit;       /* requests per day; 0 = unlimited */
	long daily_tokens;      /* model tokens per day; 0 = unlimited */
	long per_minute;        /* requests per minute; 0 = unlimited */
	char *rate_limit_pattern; /* PCRE2 as written; NULL = the default */
	struct regex *rate_limit_re; /* compiled; NULL for shell */
	char *prompt_template;  /* turns a run: task into a prompt; {run} {task} */
	char *model;            /* fills {model} */
	enum worker_protocol protocol;
	bool protocol_set;      /* written in the Squadfile (else a `command`
				 * given makes a built-in worker one-shot) */
	enum task_isolation isolation; /* its tasks' default, or UNSET */
	enum task_changes changes;     /* its tasks' default, or UNSET */
};

/* A routing rule: tasks whose name, run or prompt match get `skill`. */
struct route_rule {
	char *match;            /* PCRE2 pattern, as written */
	struct mark match_mark; /* where the pattern's text starts */
	char *skill;
	struct regex *re;
};

struct task {
	char *name;
	struct mark mark;       /* the name, where the task is defined */
	char *desc;
	char *run;              /* shell command string, or NULL */
	struct strvec run_argv; /* or an argv list (nr == 0 when not given) */
	char *prompt;           /* text for an agent worker, or NULL */
	struct strvec needs;    /* task names, as written */
	struct mark *need_marks; /* needs.nr marks */
	struct strvec skills;   /* skill tags: written ones, then routed ones */
	struct mark *skill_marks; /* skills.nr: where each tag comes from */
	long *skill_rule;       /* skills.nr: the routing rule that added it, or -1 */
	size_t worker;          /* index into squadfile.workers */
	bool worker_explicit;   /* given on the task (not by defaults) */
	char *dir;              /* relative to the Squadfile's folder, or NULL */
	struct strvec env;      /* "NAME=value", defaults' first */
	long timeout_ms;        /* 0 = none */
	unsigned retries;
	bool escalate;          /* failed after retries -> hand-off entry */
	char *expect;           /* PCRE2 the output must match, or NULL */
	struct regex *expect_re;
	struct strvec inputs;   /* glob patterns */
	struct strvec outputs;
	/* the programs an ACP agent may run for it (policy.h); "any" alone
	 * sets any_command */
	struct strvec allow_commands;
	bool any_command;
	enum task_isolation isolation; /* never UNSET once loaded */
	enum task_changes changes;     /* never UNSET once loaded */
	struct mark changes_mark;      /* where the task sets changes: (line 0: not) */
};

/* The `cache:` key (cachestep.h resolves it, the environment winning).
 * Strings are as written; NULL when not given. */
struct squadfile_cache {
	bool off;               /* `cache: false`: no cache at all */
	char *url;              /* http(s):// Turborepo API, or a shared folder */
	char *team;             /* teamId */
	char *token_env;        /* the NAME of the variable holding the token */
	char *signing_key_env;  /* the NAME of the variable holding the signing key */
	int write;              /* upload to `url`: -1 not said, 0 or 1 */
	char *dir;              /* the local folder; "off": none */
	unsigned long long max_bytes; /* the local folder's bound; 0: the default */
};

struct squadfile {
	char *path;             /* as given on the command line */
	char *root;             /* absolute folder holding the Squadfile */
	struct strvec vars;     /* "NAME=value", in order, already expanded */
	struct strvec env_vars; /* names of vars whose value uses the environment */
	struct task *tasks;
	size_t nr_tasks;
	struct worker *workers; /* [0] is always shell */
	size_t nr_workers;
	struct strvec default_targets;
	struct route_rule *rules;
	size_t nr_rules;
	char *skills_dir;       /* as written, or NULL for the default */
	struct squadfile_cache cache;
	struct strmap task_index; /* name -> index into tasks */
};

/* The folder of the Squadfile at `path`, as sf->root will be: absolute,
 * symlinks resolved (or `path`'s folder as it is, when that fails).
 * Owned by the caller. */
char *squadfile_folder(const char *path);

/* Read and check the Squadfile at `path`. Returns 0 when the model is
 * usable (warnings may have been added to `diags`), -1 when at least one
 * error was added. `sf` must be released in both cases. */
int squadfile_load(struct squadfile *sf, const char *path, struct diag_list *diags);
void squadfile_release(struct squadfile *sf);

/* Append to `vars` ("NAME=value") the Squadfile's vars whose value owes
 * nothing to the environment: what squad may expand in a text it shows
 * or stores, where a value from the environment (a secret) must not go. */
void squadfile_written_vars(const struct squadfile *sf, struct strvec *vars);

/* "10GB", "512MiB", "2000000" (bytes) as bytes: -1 when not a size. */
long long squadfile_parse_size(const char *text);

/* Read the model of an ad-hoc run (`squad exec`): the Squadfile at
 * `path`, when `have_file`, gives its vars, defaults, workers, routing
 * and skills_dir (its own tasks and default are not read); without it,
 * the built-in workers and defaults, and sf->root is path's folder.
 * The tasks come from `tasks`, a YAML or JSON document in the grammar of
 * a Squadfile's tasks: a map of them (name: {run: ...}), or a list whose
 * items are a task's map with an optional `name`, or a command alone;
 * an item without a name is named by its position ("1", "2", ...).
 * Problems of the Squadfile go to `diags`, those of the tasks (needs,
 * workers, names...) to `task_diags`, whose file names the tasks'
 * source ("<stdin>"). Returns 0, or -1 when either has an error; `sf`
 * must be released in both cases. */
int squadfile_load_adhoc(struct squadfile *sf, const char *path, bool have_file,
			 const struct strbuf *tasks, struct diag_list *diags,
			 struct diag_list *task_diags);

/* The top-level string values of a small YAML document (a SKILL.md's
 * front matter), read by the same bounded composer as a Squadfile: for
 * each name in `keys` (NULL-terminated) found with a string value,
 * values[i] gets a copy (the caller frees; others are left as they
 * are). Returns 0, or -1 when the text is not YAML (why in diags). */
int squadfile_read_strings(const char *text, size_t len, const char *const *keys,
			   char **values, struct diag_list *diags);

/* Index of the task called `name`, or -1. O(1). */
long squadfile_find_task(const struct squadfile *sf, const char *name);
/* Index of the worker called `name`, or -1. */
long squadfile_find_worker(const struct squadfile *sf, const char *name);

/* Parse a duration: "90s", "10m", "1h30m", "250ms", or bare seconds.
 * Returns milliseconds, or -1 when `text` is not a duration. */
long squadfile_parse_duration(const char *text);

/* "none"/"worktree", "apply"/"review"/"discard": as written. */
const char *squadfile_isolation_name(enum task_isolation i);
const char *squadfile_changes_name(enum task_changes c);

/* Is `name` acceptable as a task name? Returns NULL, or why not. */
const char *squadfile_check_name(const char *name);

#endif
