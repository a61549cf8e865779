/* job.h - one attempt of one task: its process, its output pipe and its
 * timeout, reported to its owner once, when it is over.
 *
 * As tmux's job.c: an attempt is over only when both its process has
 * exited (the owner reaps it and calls job_exited()) and its output pipe
 * has reached EOF, whichever comes second; or JOB_EOF_GRACE_MS after the
 * exit, when something the task started outside its group still holds
 * the pipe. Past its timeout the job sends SIGTERM to its process group,
 * then SIGKILL JOB_KILL_GRACE_MS later; at its exit, whatever the task
 * left in its group is killed.
 *
 * A job is passive, as ninja's Subprocess: it judges nothing. Its owner
 * (run.c) is given each chunk of output as it comes and is called once
 * at the end, and reads the job's exit, signal and timeout to decide.
 *
 * The owner's steps:
 *   1. allocate a zeroed struct job, set task (and its own fields),
 *      spawn the process (pid) with its output on a pipe;
 *   2. job_watch() with the pipe's read end: reads start, the timeout
 *      runs;
 *   3. job_exited() when it reaps the pid (job_kill() meanwhile for a
 *      signal to the group);
 *   4. its complete() callback runs once; the job frees itself (and
 *      api_dir) when libuv has closed its handles, after that.
 */
#ifndef SQUAD_JOB_H
#define SQUAD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* Between SIGTERM and SIGKILL: time for a test runner to clean up. */
#define JOB_KILL_GRACE_MS 5000
/* After a task's process exits, how long its output may stay open. */
#define JOB_EOF_GRACE_MS 2000

struct job;

/* What a job tells its owner. Every call is on the loop's thread. */
struct job_owner {
	/* a chunk of the attempt's output (stdout+stderr, stderr alone
	 * for an agent), in order */
	void (*output)(void *data, struct job *job, const char *buf, size_t len);
	/* a line of squad's own about the attempt, for the task's log */
	void (*note)(void *data, struct job *job, const char *line);
	/* the attempt is over: called once */
	void (*complete)(void *data, struct job *job);
	void *data;
	/* where output is read into; each chunk is consumed by output()
	 * before the next read, so the jobs of one owner share it */
	char *read_buf;
	size_t read_len;
};

/* One attempt, alive from spawn until its two handles are closed (libuv
 * owns them until the close callbacks run). */
struct job {
	pid_t pid;                /* also the id of its process group */
	uv_timer_t timer;         /* the timeout; after exit, the EOF grace */
	uv_pipe_t out;            /* the task's output pipe */
	const struct job_owner *owner;
	size_t task;
	int open_handles;
	bool timed_out;           /* its timeout passed: TERM (then KILL) sent */
	bool exited;
	bool eof;
	bool completed;
	int64_t exit_status;
	int term_signal;
	/* the owner's */
	long reserved;            /* requests charged to the budget at admission */
	char *api_dir;            /* an agent's request log (freed with the job) */
	struct job *prev, *next;  /* the owner's list of running jobs */
};

/* Watch `job`, whose process has started: read its output from `out_fd`
 * (the pipe's read end, owned by the job from now on) and, when
 * `timeout_ms` > 0, stop it after that long. */
void job_watch(struct job *job, uv_loop_t *loop, const struct job_owner *owner, int out_fd,
	       long timeout_ms);

/* Send `sig` to the job's process group, unless its leader has been
 * reaped (its id may be reused then). */
void job_kill(struct job *job, int sig);

/* The owner reaped the job's process: `exit_status` and `term_signal`
 * as waitpid() told them. The rest of its group is killed; the job is
 * complete now if its output has ended, else at EOF or after the grace. */
void job_exited(struct job *job, int64_t exit_status, int term_signal);

#endif
