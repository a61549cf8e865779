/* spawner.h - start a task's process: vfork, a few system calls, exec.
 *
 * What glibc's posix_spawn does for a task costs more than the exec of a
 * small program: five getrlimit() to check the file actions, a stack
 * mapped and unmapped per child (a TLB shoot-down on every CPU), and in
 * the child a sigaction() for each of the 64 signals. A spawner works out
 * once per run what the child has to do, so that between vfork and exec
 * the child makes only the calls that matter:
 *
 *   - every signal squad handles or ignores back at its default (the
 *     rest already are), then the signal mask emptied;
 *   - a process group of its own (a timeout, Ctrl-C or the guard signal
 *     the task and everything it started at once), and no controlling
 *     terminal, so a program that asks /dev/tty for a password fails at
 *     once instead of stopping forever in the background. A new session
 *     would do both in one call, but each new session costs the kernel
 *     a scheduling group (autogroup) to build and tear down: a third of
 *     what the clone itself costs, in a profile of 2,000 `true` tasks;
 *   - stdin from /dev/null, stdout and stderr on the fds given;
 *   - chdir() only when the task's folder is not squad's own.
 *
 * The caller's steps:
 *   1. install every signal handler it will have while tasks run, then
 *      spawner_init();
 *   2. spawner_start() per task; the caller reaps each child;
 *   3. spawner_release().
 * Until the child execs, squad is suspended and the child shares its
 * memory; it reports a failed exec back through that memory. (Under
 * valgrind, which turns vfork into fork, such a failure shows only as
 * the child's exit status 127.)
 */
#ifndef SQUAD_SPAWNER_H
#define SQUAD_SPAWNER_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/strbuf.h"
#include "job/worker.h"

struct spawner {
	int devnull;      /* /dev/null, read-only, close-on-exec */
	int tty;          /* squad's controlling terminal, or -1 */
	char *cwd;        /* squad's folder: a task there needs no chdir */
	int reset[64];    /* signals not at their default in squad */
	int nr_reset;
};

/* Returns 0, or -1 with the reason in err (/dev/null cannot be opened). */
int spawner_init(struct spawner *sp, struct strbuf *err);
void spawner_release(struct spawner *sp);

/* How many tasks may run at once: `wanted` at most, fewer when the fd
 * limit (RLIMIT_NOFILE) leaves too few for `per_task` fds each beyond
 * those open now and a reserve for squad's own files (the state, logs
 * read back, the guard). When `wanted` tasks would need more than the
 * soft limit, it is raised first, up to the hard limit (children inherit
 * it, as they would from a shell's `ulimit -n`). Never less than 1: a
 * run with no fd to spare still runs one task at a time, and its task
 * fails with the system's error if even that cannot open. */
unsigned spawner_max_tasks(unsigned wanted, unsigned per_task);

/* The step of a spawn that failed. */
enum spawn_step {
	SPAWN_FORK,  /* no process: EAGAIN, ENOMEM */
	SPAWN_SETUP, /* its process group or fds 0-2 */
	SPAWN_CHDIR, /* the task's folder (cmd->cwd) */
	SPAWN_EXEC,  /* the program itself: ENOENT, EACCES, ENOEXEC ... */
};

/* Start `cmd`, whose argv[0] is the file `program`, as above. stdout_fd
 * and stderr_fd are either >= 3 or already the fd they are to become.
 * Returns 0 with *pid set, or an errno with nothing left running and,
 * when `failed` is not NULL, the step that failed in *failed (so that
 * ENOENT says whether the folder or the program is missing). */
int spawner_start(const struct spawner *sp, const struct command *cmd, const char *program,
		  int stdout_fd, int stderr_fd, pid_t *pid, enum spawn_step *failed);

/* The same with stdin on `stdin_fd` (>= 3; -1 = /dev/null): an agent
 * spoken to over a pipe (acp.h). */
int spawner_start_io(const struct spawner *sp, const struct command *cmd, const char *program,
		     int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid,
		     enum spawn_step *failed);

#endif
