/* guard.h - a second process that ends squad's tasks if squad is killed.
 *
 * Each task runs in a process group of its own (spawner.h), so nothing
 * ends it when squad dies of SIGKILL: no process can clean up after
 * that. The guard does it instead. It is squad itself, started as
 * "squad __guard" (hidden), in a process group of its own, so a Ctrl-C
 * to squad's process group does not reach it. Over
 * a pipe, squad tells it which groups it started and which it reaped.
 * When the pipe reaches EOF without squad's stop message, squad is gone:
 * the guard sends SIGTERM to every group still on its list, SIGKILL 5 s
 * later to those still there, and exits.
 *
 * The caller's steps:
 *   1. guard_init(), then guard_start() before the first task is spawned.
 *      A guard that cannot start is no reason to stop a run: the caller
 *      may go on unguarded (every other call is then a no-op);
 *   2. guard_watch() after each successful spawn, guard_forget() once the
 *      child is reaped and its group killed, before anything else is
 *      spawned (a group id is only safe while its leader is unreaped);
 *   3. guard_stop() when every task has been reaped.
 * Each event costs one blocking 4-byte write (atomic on a pipe) and no
 * allocation. The caller ignores SIGPIPE, as squad does: a guard that has
 * died costs a failed write (after which the guard is dropped), not squad.
 *
 * The guard holds none of squad's files: its stdin is the pipe, its
 * stdout and stderr /dev/null, every other descriptor is closed, so it
 * never keeps the lock, a git hook's pipes or a terminal open. The write
 * end is close-on-exec, so tasks never inherit it.
 *
 * What it cannot do: find a process that left its task's group (setsid,
 * setpgid: a daemon), or a task squad died too soon to tell it about (in
 * the instant between the spawn and guard_watch()).
 */
#ifndef SQUAD_GUARD_H
#define SQUAD_GUARD_H

#include <sys/types.h>

#include "util/strbuf.h"

struct guard {
	pid_t pid; /* the guard process, or 0 */
	int fd;    /* squad's end of the pipe, or -1 */
};

void guard_init(struct guard *g);

/* Start the guard. Returns 0, or -1 with the reason in err (no /proc,
 * no process or descriptor left); g stays inactive then. */
int guard_start(struct guard *g, struct strbuf *err);

/* The process group led by `pid` has started / its leader was reaped. */
void guard_watch(struct guard *g, pid_t pid);
void guard_forget(struct guard *g, pid_t pid);

/* The run ended and every task was reaped: tell the guard, which exits
 * without killing anything, and reap it. g is inactive afterwards. */
void guard_stop(struct guard *g);

/* The guard's side: read squad's messages on stdin until the stop
 * message or EOF, as above, and return 0. Returns -1 at once when stdin
 * is not a pipe: guard_start() did not start it, a person did. */
int guard_main(void);

#endif
