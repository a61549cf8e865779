/* spawn_limit.c - the floor for the overhead case: posix_spawn `true`
 * N times, J at a time, and wait for all of them. No graph, no state.
 * usage: spawn_limit N J */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000, j = argc > 2 ? atol(argv[2]) : 4;
	long started = 0, running = 0;
	char *args[] = { "true", NULL };
	pid_t pid;
	int status;

	while (started < n || running > 0) {
		while (started < n && running < j) {
			if (posix_spawnp(&pid, "true", NULL, NULL, args, environ)) {
				perror("posix_spawnp");
				return 1;
			}
			started++, running++;
		}
		if (wait(&status) < 0) {
			perror("wait");
			return 1;
		}
		running--;
	}
	return 0;
}
