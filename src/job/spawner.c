/* spawner.c - start a task's process with vfork; see spawner.h. */
#include "job/spawner.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int spawner_init(struct spawner *sp, struct strbuf *err)
{
	memset(sp, 0, sizeof(*sp));
	sp->tty = -1;
	sp->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sp->devnull < 0) {
		strbuf_addf(err, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	/* fails (ENXIO) when squad has no controlling terminal: CI, a hook */
	sp->tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	sp->cwd = getcwd(NULL, 0);
	/* SIGKILL and SIGSTOP cannot be caught; glibc's own two (32, 33)
	 * answer EINVAL and are no business of an exec'd program */
	for (int sig = 1; sig < 65 && sp->nr_reset < 64; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sp->reset[sp->nr_reset++] = sig;
	}
	return 0;
}

void spawner_release(struct spawner *sp)
{
	if (sp->devnull >= 0)
		close(sp->devnull);
	if (sp->tty >= 0)
		close(sp->tty);
	free(sp->cwd);
	memset(sp, 0, sizeof(*sp));
	sp->devnull = sp->tty = -1;
}

/* fds squad may open beside its tasks': the state and its temp files, a
 * log read back, /dev/null and the terminal, the guard's pipe, reports */
#define FD_RESERVE 10

unsigned spawner_max_tasks(unsigned wanted, unsigned per_task)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)wanted * per_task + 4 * FD_RESERVE;
	unsigned open_now = 0, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return wanted;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = rl;

		raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
			? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
	}
	/* room to spare: no need to count */
	if (rl.rlim_cur >= need)
		return wanted;
	for (int fd = 0; (rlim_t)fd < rl.rlim_cur; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			open_now++;
	if (rl.rlim_cur <= (rlim_t)open_now + FD_RESERVE + per_task)
		return 1;
	fit = (unsigned)((rl.rlim_cur - open_now - FD_RESERVE) / per_task);
	return fit < wanted ? fit : wanted;
}

/* Everything the child reads, worked out before vfork. */
struct child {
	const struct spawner *sp;
	const char *program, *cwd;
	char *const *argv, *const *env;
	int stdin_fd, stdout_fd, stderr_fd;
	volatile int err; /* the child's errno when it could not exec */
	volatile enum spawn_step step; /* and the step that failed */
};

/* fd `from` as `to`, without close-on-exec. dup2() of an fd onto itself
 * would keep the flag. */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* The vfork child: system calls only, in squad's memory, on its stack. */
static _Noreturn void child_exec(struct child *c)
{
	struct sigaction dfl;
	sigset_t none;

	/* Default dispositions before the mask opens: a handler of squad's
	 * run here would run in squad's memory. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int i = 0; i < c->sp->nr_reset; i++)
		sigaction(c->sp->reset[i], &dfl, NULL);
	/* Still in squad's process group here, so no job control applies. */
	if (c->sp->tty >= 0)
		ioctl(c->sp->tty, TIOCNOTTY);
	c->step = SPAWN_SETUP;
	if (setpgid(0, 0) < 0 || move_fd(c->stdin_fd >= 0 ? c->stdin_fd : c->sp->devnull, 0) < 0 ||
	    move_fd(c->stdout_fd, 1) < 0 || move_fd(c->stderr_fd, 2) < 0)
		goto fail;
	c->step = SPAWN_CHDIR;
	if (c->cwd && chdir(c->cwd) < 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	c->step = SPAWN_EXEC;
	execve(c->program, c->argv, c->env);
fail:
	c->err = errno;
	_exit(127);
}

int spawner_start(const struct spawner *sp, const struct command *cmd, const char *program,
		  int stdout_fd, int stderr_fd, pid_t *pid, enum spawn_step *failed)
{
	return spawner_start_io(sp, cmd, program, -1, stdout_fd, stderr_fd, pid, failed);
}

int spawner_start_io(const struct spawner *sp, const struct command *cmd, const char *program,
		     int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid,
		     enum spawn_step *failed)
{
	struct child c = {
		.sp = sp, .program = program, .argv = cmd->argv.v, .env = cmd->env.v,
		.stdin_fd = stdin_fd, .stdout_fd = stdout_fd, .stderr_fd = stderr_fd, .err = 0,
		.cwd = sp->cwd && !strcmp(sp->cwd, cmd->cwd) ? NULL : cmd->cwd,
	};
	sigset_t all, old;
	pid_t child;
	int vfork_errno;

	/* No signal may reach the child before its handlers are reset. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child = vfork();
	if (child == 0)
		child_exec(&c);
	vfork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (child < 0) {
		if (failed)
			*failed = SPAWN_FORK;
		return vfork_errno;
	}
	if (c.err) {
		/* it exited at once; reaped here, so no one else sees it */
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		if (failed)
			*failed = c.step;
		return c.err;
	}
	*pid = child;
	return 0;
}
