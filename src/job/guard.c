/* guard.c - the process that ends squad's tasks when squad dies; see guard.h. */
#include "job/guard.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Between SIGTERM and SIGKILL, as run.c gives a task on a timeout. */
#define GRACE_MS 5000
/* How often the guard looks whether the groups it signalled are gone. */
#define POLL_MS 100
/* While tasks run, the guard reads at most this often: on a busy run one
 * read takes every message written meanwhile, not one wake-up a task. */
#define BATCH_MS 20
/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit): anything
 * else on the pipe is not one of squad's. */
#define PID_LIMIT (1 << 22)
/* The message that says the run ended cleanly: nothing is to be killed. */
#define MSG_STOP 0

void guard_init(struct guard *g)
{
	g->pid = 0;
	g->fd = -1;
}

int guard_start(struct guard *g, struct strbuf *err)
{
	static char *const argv[] = { "squad", "__guard", NULL };
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int fds[2], rc;

	/* both ends close-on-exec: the read end reaches the guard only as
	 * its stdin (dup2 clears the flag), the write end reaches nobody */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		strbuf_addf(err, "cannot make a pipe for the guard: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawnattr_init(&attr);
	/* in this order: the pipe may itself sit on fd 1 or 2 */
	posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
	/* not the lock, not a hook's pipes, not a terminal: it must never be
	 * what keeps one of them open after squad is gone */
	posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* a process group of its own: a Ctrl-C to squad's group is squad's
	 * to handle, and must not take the guard with it. Not a session: a
	 * new session builds (and at exit tears down) a scheduling group,
	 * autogroup, and squad waits for that before its first task starts;
	 * tasks get a group, not a session, for the same reason (spawner.h) */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&g->pid, "/proc/self/exe", &actions, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[0]);
	if (rc) {
		close(fds[1]);
		guard_init(g);
		strbuf_addf(err, "cannot start the guard: %s", strerror(rc));
		return -1;
	}
	g->fd = fds[1];
	return 0;
}

/* One message; a guard that is gone (EPIPE) is dropped. */
static void send_message(struct guard *g, int32_t msg)
{
	ssize_t n;

	if (g->fd < 0)
		return;
	while ((n = write(g->fd, &msg, sizeof(msg))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(msg)) {
		close(g->fd);
		g->fd = -1;
	}
}

void guard_watch(struct guard *g, pid_t pid)
{
	send_message(g, (int32_t)pid);
}

void guard_forget(struct guard *g, pid_t pid)
{
	send_message(g, -(int32_t)pid);
}

void guard_stop(struct guard *g)
{
	int status;

	send_message(g, MSG_STOP);
	if (g->fd >= 0)
		close(g->fd);
	/* It has nothing left to do, but may be in its BATCH_MS pause: end
	 * that rather than wait it out. Only while it is unreaped is its pid
	 * surely still the guard's (a guard that died during the run was
	 * reaped by the runner's waitpid(-1)). */
	if (g->pid > 0 && waitpid(g->pid, &status, WNOHANG) == 0) {
		kill(g->pid, SIGTERM);
		while (waitpid(g->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	guard_init(g);
}

/* --- the guard's side ---------------------------------------------- */

/* The groups started and not yet reaped. At most as many as run at once
 * (-j), so a linear search is cheap. */
struct group_list {
	pid_t *pids;
	size_t nr, alloc;
};

static void list_remove(struct group_list *l, pid_t pid)
{
	/* from the end: the last ones started are as likely to end first */
	for (size_t i = l->nr; i-- > 0;)
		if (l->pids[i] == pid) {
			l->pids[i] = l->pids[--l->nr];
			return;
		}
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Send `sig` (0: only look) to each group; forget those that are gone. */
static void signal_groups(struct group_list *l, int sig)
{
	for (size_t i = 0; i < l->nr;) {
		if (kill(-l->pids[i], sig) < 0 && errno == ESRCH)
			l->pids[i] = l->pids[--l->nr];
		else
			i++;
	}
}

/* squad is gone: end its tasks as a timeout would. */
static void end_groups(struct group_list *l)
{
	signal_groups(l, SIGTERM);
	for (long waited = 0; l->nr && waited < GRACE_MS; waited += POLL_MS) {
		pause_ms(POLL_MS);
		signal_groups(l, 0);
	}
	signal_groups(l, SIGKILL);
}

int guard_main(void)
{
	struct group_list live = { NULL, 0, 0 };
	char buf[4096];
	size_t have = 0;
	bool stopped = false;
	struct stat st;

	/* a terminal or a file on stdin is not squad talking */
	if (fstat(0, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	while (!stopped) {
		ssize_t n = read(0, buf + have, sizeof(buf) - have);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF: squad closed the pipe, or died */
		have += (size_t)n;
		for (; have - off >= sizeof(int32_t) && !stopped; off += sizeof(int32_t)) {
			int32_t msg;

			memcpy(&msg, buf + off, sizeof(msg));
			/* never 1: kill(-1, sig) would signal every process */
			if (msg == MSG_STOP) {
				stopped = true;
			} else if (msg > 1 && msg <= PID_LIMIT) {
				ALLOC_GROW(live.pids, live.nr + 1, live.alloc);
				live.pids[live.nr++] = (pid_t)msg;
			} else if (msg < -1 && msg >= -PID_LIMIT) {
				list_remove(&live, (pid_t)-msg);
			}
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		if (live.nr && !stopped)
			pause_ms(BATCH_MS);
	}
	if (!stopped)
		end_groups(&live);
	free(live.pids);
	return 0;
}
