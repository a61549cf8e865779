/* test_spawner.c - what a task's process starts with: its own process group
 * in squad's session, no controlling terminal, stdin from /dev/null, its
 * output on the fds given, every signal at its default and none blocked,
 * its folder; and a program or folder that is not there comes back as an
 * errno with nothing left to reap. The children are real programs
 * (/bin/cat, /bin/pwd) reading /proc about themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job/spawner.h"

extern char **environ;

static void on_usr1(int sig)
{
	(void)sig;
}

/* Run argv (argv[0] a path) in `cwd`; return its stdout, and its pid in
 * *pid_out. Fails the test unless it exits 0. */
static char *run(const struct spawner *sp, const char *cwd, char **argv, pid_t *pid_out)
{
	struct command cmd = COMMAND_INIT;
	struct strbuf out = STRBUF_INIT;
	char buf[4096];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	for (char **a = argv; *a; a++)
		strvec_push(&cmd.argv, *a);
	for (char **e = environ; *e; e++)
		strvec_push(&cmd.env, *e);
	cmd.cwd = strdup(cwd);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(spawner_start(sp, &cmd, argv[0], fds[1], fds[1], &pid, NULL), 0);
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		strbuf_add(&out, buf, (size_t)n);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	command_release(&cmd);
	if (pid_out)
		*pid_out = pid;
	return strbuf_detach(&out, NULL);
}

/* The value after "Name:\t" in /proc/PID/status text. */
static unsigned long long status_field(const char *text, const char *name)
{
	const char *at = strstr(text, name);

	assert_non_null(at);
	return strtoull(at + strlen(name) + 2, NULL, 16);
}

/* Fields 5 to 7 of /proc/PID/stat: pgrp, session, tty_nr. */
static void stat_fields(const char *text, long *pgrp, long *session, long *tty)
{
	const char *after = strrchr(text, ')');
	char state;

	assert_non_null(after);
	assert_int_equal(sscanf(after + 2, "%c %*d %ld %ld %ld", &state, pgrp, session, tty), 4);
}

static void test_signals_and_stdin(void **unused)
{
	struct spawner sp;
	struct strbuf err = STRBUF_INIT;
	struct sigaction sa = { 0 };
	char *argv[] = { "/bin/cat", "/proc/self/status", NULL };
	char *text;
	sigset_t usr2;

	(void)unused;
	/* squad ignores SIGPIPE and handles signals; neither may reach a task */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	assert_int_equal(spawner_init(&sp, &err), 0);
	assert_true(sp.nr_reset >= 2);

	text = run(&sp, "/", argv, NULL);
	assert_int_equal(status_field(text, "SigIgn"), 0);
	assert_int_equal(status_field(text, "SigCgt"), 0);
	assert_int_equal(status_field(text, "SigBlk"), 0);
	free(text);

	/* stdin is /dev/null: cat copies nothing from it */
	{
		char *cat[] = { "/bin/cat", NULL };

		text = run(&sp, "/", cat, NULL);
		assert_string_equal(text, "");
		free(text);
	}
	/* and squad's own dispositions are untouched */
	sigaction(SIGPIPE, NULL, &sa);
	assert_true(sa.sa_handler == SIG_IGN);
	sigprocmask(SIG_UNBLOCK, &usr2, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	spawner_release(&sp);
	strbuf_release(&err);
}

static void test_group_and_session(void **unused)
{
	struct spawner sp;
	struct strbuf err = STRBUF_INIT;
	char *argv[] = { "/bin/cat", "/proc/self/stat", NULL };
	long pgrp, session, tty;
	pid_t pid;
	char *text;

	(void)unused;
	assert_int_equal(spawner_init(&sp, &err), 0);
	text = run(&sp, "/", argv, &pid);
	stat_fields(text, &pgrp, &session, &tty);
	assert_int_equal(pgrp, pid);            /* leads a group of its own */
	assert_int_equal(session, getsid(0));   /* in squad's session */
	assert_int_equal(tty, 0);
	free(text);
	spawner_release(&sp);
	strbuf_release(&err);
}

/* This process's controlling terminal (tty_nr), or -1 on an error. */
static long own_tty(void)
{
	long pgrp, session, tty = -1;
	char line[1024];
	FILE *f = fopen("/proc/self/stat", "r");

	if (f && fgets(line, sizeof(line), f))
		stat_fields(line, &pgrp, &session, &tty);
	if (f)
		fclose(f);
	return tty;
}

/* With a controlling terminal, squad keeps it and the task has none. Run
 * in a child that makes a session with a pseudo-terminal of its own; the
 * exit code says which check failed. */
static void test_no_controlling_terminal(void **unused)
{
	int status;
	pid_t helper;

	(void)unused;
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		struct spawner sp;
		struct strbuf err = STRBUF_INIT;
		char *argv[] = { "/bin/cat", "/proc/self/stat", NULL };
		char *text;
		long pgrp, session, tty, my_tty;
		int master, slave;

		if (setsid() < 0)
			_exit(10);
		master = posix_openpt(O_RDWR | O_NOCTTY);
		if (master < 0 || grantpt(master) || unlockpt(master))
			_exit(11);
		/* a session leader without a terminal acquires the first it opens */
		slave = open(ptsname(master), O_RDWR);
		if (slave < 0)
			_exit(12);
		my_tty = own_tty();
		if (my_tty <= 0)
			_exit(14);
		if (spawner_init(&sp, &err) < 0 || sp.tty < 0)
			_exit(15);
		text = run(&sp, "/", argv, NULL);
		stat_fields(text, &pgrp, &session, &tty);
		if (tty != 0)
			_exit(16);
		/* squad still has it */
		if (own_tty() != my_tty)
			_exit(18);
		_exit(0);
	}
	assert_int_equal(waitpid(helper, &status, 0), helper);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_folder(void **unused)
{
	struct spawner sp;
	struct strbuf err = STRBUF_INIT;
	char *argv[] = { "/bin/pwd", NULL };
	char dir[] = "/tmp/squad-spawn-XXXXXX";
	char *text, *here = getcwd(NULL, 0);

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(spawner_init(&sp, &err), 0);
	text = run(&sp, dir, argv, NULL);
	assert_true(!strncmp(text, dir, strlen(dir)) && text[strlen(dir)] == '\n');
	free(text);
	/* squad's own folder: no chdir, the same answer */
	text = run(&sp, here, argv, NULL);
	assert_true(!strncmp(text, here, strlen(here)) && text[strlen(here)] == '\n');
	free(text);
	/* squad did not move */
	text = getcwd(NULL, 0);
	assert_string_equal(text, here);
	free(text);
	assert_int_equal(rmdir(dir), 0);
	spawner_release(&sp);
	strbuf_release(&err);
	free(here);
}

static void test_failures(void **unused)
{
	struct spawner sp;
	struct strbuf err = STRBUF_INIT;
	struct command cmd = COMMAND_INIT;
	pid_t pid = 0;
	enum spawn_step step = SPAWN_FORK;

	(void)unused;
	assert_int_equal(spawner_init(&sp, &err), 0);
	strvec_push(&cmd.argv, "/nonexistent/program");
	cmd.cwd = strdup("/");
	assert_int_equal(spawner_start(&sp, &cmd, cmd.argv.v[0], 1, 2, &pid, &step), ENOENT);
	assert_int_equal(step, SPAWN_EXEC);
	assert_int_equal(pid, 0);
	/* the child that failed was reaped: nothing is left */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);

	free(cmd.cwd);
	cmd.cwd = strdup("/nonexistent-folder");
	strvec_clear(&cmd.argv);
	strvec_push(&cmd.argv, "/bin/true");
	assert_int_equal(spawner_start(&sp, &cmd, cmd.argv.v[0], 1, 2, &pid, &step), ENOENT);
	/* the folder, not the program, is what is missing */
	assert_int_equal(step, SPAWN_CHDIR);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);

	/* not executable */
	strvec_clear(&cmd.argv);
	strvec_push(&cmd.argv, "/etc/passwd");
	free(cmd.cwd);
	cmd.cwd = strdup("/");
	assert_int_equal(spawner_start(&sp, &cmd, cmd.argv.v[0], 1, 2, &pid, &step), EACCES);
	assert_int_equal(step, SPAWN_EXEC);
	command_release(&cmd);
	spawner_release(&sp);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals_and_stdin),
		cmocka_unit_test(test_group_and_session),
		cmocka_unit_test(test_no_controlling_terminal),
		cmocka_unit_test(test_folder),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
