/* test_guard.c - the guard, started from this binary as "test_guard
 * __guard" as squad starts it from its own: the groups it was told of
 * are ended when its pipe closes without the stop message (squad died),
 * and none is when squad stops it, or once it was told that a group's
 * leader was reaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job/guard.h"
#include "util/strbuf.h"

/* A process group of its own, as a task's is, that waits for a signal;
 * returned once the group exists. */
static pid_t start_group(void)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setsid();
		close(ready[0]);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		/* as exec would close squad's end of the guard's pipe */
		closefrom(3);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void start_guard(struct guard *g)
{
	struct strbuf err = STRBUF_INIT;

	guard_init(g);
	assert_int_equal(guard_start(g, &err), 0);
	assert_true(g->pid > 0);
	assert_true(g->fd >= 0);
	/* squad's end never reaches a task */
	assert_true(fcntl(g->fd, F_GETFD) & FD_CLOEXEC);
	strbuf_release(&err);
}

/* The guard exits once the groups it signalled are gone: their leaders
 * are this test's children, to be reaped first (squad's, when squad is
 * dead, are reaped by init). */
static void guard_exits(struct guard *g)
{
	int status;

	assert_int_equal(waitpid(g->pid, &status, 0), g->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void assert_alive_then_end(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void assert_ended(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
}

/* A guard told of two groups, as squad tells it of two tasks. */
static void guard_two_groups(struct guard *g, pid_t *a, pid_t *b)
{
	start_guard(g);
	*a = start_group();
	*b = start_group();
	guard_watch(g, *a);
	guard_watch(g, *b);
}

static void test_squad_gone_ends_its_groups(void **state)
{
	struct guard g;
	pid_t a, b;

	(void)state;
	guard_two_groups(&g, &a, &b);
	close(g.fd); /* what squad's death does to the pipe */
	assert_ended(a);
	assert_ended(b);
	guard_exits(&g);
}

static void test_stop_kills_nothing(void **state)
{
	struct guard g;
	pid_t a;

	(void)state;
	start_guard(&g);
	a = start_group();
	guard_watch(&g, a);
	guard_stop(&g);
	/* the guard is reaped, and inactive */
	assert_int_equal(g.pid, 0);
	assert_int_equal(g.fd, -1);
	assert_alive_then_end(a);
	/* calls on a stopped guard do nothing */
	guard_watch(&g, 12345);
	guard_stop(&g);
}

static void test_reaped_group_is_forgotten(void **state)
{
	struct guard g;
	pid_t a, b;

	(void)state;
	guard_two_groups(&g, &a, &b);
	/* squad says a's leader was reaped (it is not: had the guard still
	 * counted it, it would be killed now) */
	guard_forget(&g, a);
	close(g.fd);
	assert_ended(b);
	guard_exits(&g);
	assert_alive_then_end(a);
}

static void test_not_started_by_squad(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	/* stdin that is not a pipe is not squad talking: -1 at once */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		dup2(fd, 0);
		_exit(guard_main() == -1 ? 3 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_squad_gone_ends_its_groups),
		cmocka_unit_test(test_stop_kills_nothing),
		cmocka_unit_test(test_reaped_group_is_forgotten),
		cmocka_unit_test(test_not_started_by_squad),
	};

	/* guard_start() runs this binary again, as squad runs itself */
	if (argc == 2 && !strcmp(argv[1], "__guard"))
		return guard_main();
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
