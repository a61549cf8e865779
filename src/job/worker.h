/* worker.h - what one attempt of a task executes: argv, env, folder.
 *
 * The shell worker execs a `run:` string directly when it has no shell
 * syntax (as make does: one fork+exec, no /bin/sh), and passes it to
 * `/bin/sh -c` otherwise; an argv list is exec'd as it is. An agent
 * worker fills its argv template: {prompt} becomes exactly one argv
 * element, whatever it contains, and no shell ever sees it.
 *
 * Output parsers for agent workers (qwen-json) live here too.
 */
#ifndef SQUAD_WORKER_H
#define SQUAD_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "job/result.h"
#include "model/squadfile.h"
#include "util/strmap.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct command {
	struct strvec argv;
	struct strvec env; /* the whole environment of the child */
	char *cwd;         /* absolute */
	bool via_shell;    /* argv is /bin/sh -c TEXT */
};

#define COMMAND_INIT { STRVEC_INIT, STRVEC_INIT, NULL, false }

/* Does a command string need /bin/sh (quotes, pipes, globs, variables,
 * builtins ...)? When false, splitting it at blanks gives the argv the
 * shell would have given. */
bool worker_needs_shell(const char *text);

/* Build the command for `task` on `worker`. `changed` (may be NULL) are
 * the changed paths for {changed}; `changed_file` (may be NULL) is the
 * file listing them, given to the task as $SQUAD_CHANGED. Returns 0, or
 * -1 with the reason in err (an undefined variable, a placeholder with
 * no value). */
int worker_build_command(struct command *cmd, const struct squadfile *sf,
			 const struct task *task, const struct worker *worker,
			 const struct strvec *changed, const char *changed_file,
			 struct strbuf *err);
void command_release(struct command *cmd);

/* The command that starts an ACP agent of `worker` (protocol: acp): its
 * argv template expanded ({model}, ${VAR}), in the Squadfile's folder,
 * with squad's environment and the worker's env (no task's: one process
 * serves many tasks). Returns 0, or -1 with the reason in err. */
int worker_build_agent(struct command *cmd, const struct squadfile *sf,
		       const struct worker *worker, struct strbuf *err);

/* What an ACP agent is asked for `task`: its prompt (or, for a `run:`
 * task, the worker's prompt_template) in `prompt` (appended), and the
 * task's folder in *cwd (to free). Returns 0, or -1 with the reason in
 * err. */
int worker_build_prompt(struct strbuf *prompt, char **cwd, const struct squadfile *sf,
			const struct task *task, const struct worker *worker,
			const struct strvec *changed, struct strbuf *err);

/* The command of `task` as squad may show or store it: what
 * worker_build_command() gives, but with every ${NAME} left as written
 * unless the Squadfile's own vars give it a value that owes nothing to
 * the environment (see squadfile_written_vars()); {changed} is empty.
 * Never fails: what cannot be built is left as written, and argv has at
 * least one element and cwd is set. For -v and for squad's own messages
 * (a spawn that failed names the program and folder as the author wrote
 * them): they land in logs, state, JUnit and the terminal, so they must
 * never carry a value from the environment, such as a secret. */
void worker_show_command(struct command *cmd, const struct squadfile *sf,
			 const struct task *task, const struct worker *worker);

/* Append a canonical text of everything that decides what `task` does
 * on `worker`: its expanded command or prompt, folder, env, patterns,
 * globs and skills, and the worker's definition. Equal texts mean the
 * same work; plan hashes it into the task's fingerprint. */
void worker_describe(const struct squadfile *sf, const struct task *task,
		     const struct worker *worker, struct strbuf *out);

/* The same text from declared values only, for the shared cache's key
 * (cachestep.h): the Squadfile's own vars are expanded, every other
 * ${NAME} (the environment's: $HOME, a token) stays as written, and
 * ${SQUAD_ROOT} too. Equal on every machine for the same Squadfile. */
void worker_describe_declared(const struct squadfile *sf, const struct task *task,
			      const struct worker *worker, struct strbuf *out);

/* Programs found on PATH by name, as a shell's hash table keeps them:
 * a run of 2,000 tasks looks `true` up once, not 2,000 times. An entry
 * holds for the PATH it was found on. */
struct program_cache {
	struct strmap index; /* name -> entries[] */
	struct program_entry {
		char *name, *path, *found;
	} *entries;
	size_t nr, alloc;
};

#define PROGRAM_CACHE_INIT { STRMAP_INIT, NULL, 0, 0 }

/* The file argv[0] names, looked up on the PATH of the command's own
 * environment (the task's env may change it), in *program (owned by the
 * cache, or argv[0] itself when it has a '/'). Returns 0, or ENOENT /
 * EACCES when it is not there, so a missing agent CLI is a clear
 * failure. */
int worker_find_program(struct program_cache *cache, const struct command *cmd,
			const char **program);
void program_cache_release(struct program_cache *cache);

/* The PATH a command without one in its environment is searched on. */
#define WORKER_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The lookup worker_find_program() makes, on its own: the first regular,
 * executable file `prog` (a name without '/') names in a folder of
 * `path` (an empty entry is the current folder), into `found`. Returns
 * 0, or ENOENT / EACCES (found only without the execute bit). `squad
 * init` uses it to write tasks only for programs a run will find. */
int worker_search_path(const char *prog, const char *path, struct strbuf *found);

/* Bound what an agent does on its own, for one attempt of `timeout_ms`
 * (0 = none) on `worker`. For a qwen-json worker whose program is called
 * `qwen`, flags go right after argv[0], each unless the command already
 * has it: `--max-wall-time` a little under the timeout (qwen then stops
 * its own retries and exits 55 before squad has to kill it), and
 * `--openai-logging --openai-logging-dir DIR` with DIR a fresh private
 * folder (named for squad's pid: worker_sweep_api_dirs()): one file per model call, which tells what the provider
 * answered even when the call never finished. Returns DIR (the caller
 * passes it to worker_judge_agent(), which removes it, and frees it), or
 * NULL when none was made. QWEN_CODE_UNATTENDED_RETRY (retry a 429 for
 * ever) is dropped from any qwen-json worker's environment. */
char *worker_bound_agent(struct command *cmd, const struct worker *worker, long timeout_ms);

/* The request-log folders worker_bound_agent() makes are named
 * $TMPDIR/squad-api-PID-XXXXXX, PID the squad that made them, which
 * removes each when its attempt ends. A squad killed with -9 cannot:
 * remove every such folder of this user whose squad is no longer
 * running (with qwen's files in it). A run calls it once, before its
 * first. Returns how many were removed. */
int worker_sweep_api_dirs(void);

/* How an agent attempt ended, as squad judges it. */
enum agent_verdict {
	AGENT_OK,           /* it answered */
	AGENT_FAILED,       /* it failed for a reason of its own (exit code, is_error) */
	AGENT_RATE_LIMITED, /* the provider answered 429 / quota text */
	AGENT_API_ERROR,    /* the provider answered 5xx or another API error */
	AGENT_TIMED_OUT,    /* no answer within its time, provider silent */
};

/* What an agent's output says. */
struct agent_result {
	bool parsed;       /* the output had the expected shape */
	bool is_error;     /* the agent itself reported failure */
	char *answer;      /* final text, or NULL */
	long requests;     /* model requests the call made; -1 = unknown */
	/* tokens the call used (the result's usage); -1 = unknown */
	long input_tokens, output_tokens, total_tokens;
	char *error;       /* why it failed, when it did */
	enum agent_verdict verdict; /* set by worker_judge_agent() */
	bool cut_short;    /* stopped in the middle (killed, or at its wall
			    * time): `requests` may miss the call in flight */
	char *reason;      /* one line for the escalation entry, or NULL when ok */
	char *provider;    /* what the provider answered, for the log, or NULL */
	/* the tool calls its events tell of, in the order made (strings
	 * owned): each `tool_use` of an assistant message, with the state
	 * its `tool_result` gives (completed, failed; pending without one)
	 * and, when the result's permission_denials name it, qwen's own
	 * refusal as the decision */
	struct task_tool *tools;
	size_t nr_tools;
};

/* Parse qwen's `-o json` output (a JSON array of events): the result
 * event gives the answer, usage and requests; the tool calls are read
 * from every event, whether or not a result came. */
void worker_parse_qwen_json(const char *out, size_t len, struct agent_result *res);
void agent_result_release(struct agent_result *res);

/* One finished (or killed) attempt of an agent. */
struct agent_attempt {
	int exit_code;          /* -1 when a signal ended it */
	bool timed_out;         /* squad killed it at its timeout */
	const char *out;        /* its stdout */
	size_t out_len;
	const char *err;        /* the tail of its stderr */
	size_t err_len;
	const char *api_dir;    /* from worker_bound_agent(), or NULL */
};

/* Judge an attempt of a qwen-json worker: parse its stdout, its error
 * JSON on stderr (`{"error":{"type","message","code"}}`) and the model
 * calls logged in api_dir (which is then removed), and fill
 * `res`: verdict, reason, the answer, and the requests made (stats of
 * the result, else the calls logged, else -1; for a killed attempt the
 * call in flight may be missing from the log: a lower bound). A 429 or quota text from
 * the provider is AGENT_RATE_LIMITED, another API error AGENT_API_ERROR,
 * whether qwen gave up by itself, stopped at --max-wall-time, or was
 * killed by squad's timeout; a timeout with no provider error is
 * AGENT_TIMED_OUT. */
void worker_judge_agent(const struct worker *worker, const struct agent_attempt *at,
			struct agent_result *res);

/* Requests one call of `worker` is charged at admission, before it
 * reports what it used (qwen: its main turn and its memory extractor). */
long worker_request_estimate(const struct worker *worker);

/* Why an agent exited with `exit_code`, in words (qwen's codes: 41 auth,
 * 42 input, 53 turn limit, 55 budget ...), with `agent_error` (its own
 * message, may be NULL) added. Returns a string for the caller to free. */
char *worker_exit_reason(const struct worker *worker, int exit_code, const char *agent_error);

#endif
