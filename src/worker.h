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

#include "squadfile.h"
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

/* What an agent's output says. */
struct agent_result {
	bool parsed;       /* the output had the expected shape */
	bool is_error;     /* the agent itself reported failure */
	char *answer;      /* final text, or NULL */
	long requests;     /* model requests the call made; -1 = unknown */
	char *error;       /* why it failed, when it did */
};

/* Parse qwen's `-o json` output (a JSON array of events). */
void worker_parse_qwen_json(const char *out, size_t len, struct agent_result *res);
void agent_result_release(struct agent_result *res);

/* Why an agent exited with `exit_code`, in words (qwen's codes: 41 auth,
 * 42 input, 53 turn limit, 55 budget ...), with `agent_error` (its own
 * message, may be NULL) added. Returns a string for the caller to free. */
char *worker_exit_reason(const struct worker *worker, int exit_code, const char *agent_error);

#endif
