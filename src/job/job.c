/* job.c - one attempt of one task: process, output, timeout (job.h). */
#include "job/job.h"

#include <signal.h>
#include <stdlib.h>

static void job_closed(uv_handle_t *h)
{
	struct job *job = h->data;

	if (--job->open_handles == 0) {
		free(job->api_dir);
		free(job);
	}
}

void job_kill(struct job *job, int sig)
{
	/* the leader's pid is the group's id (setsid in the child); once it
	 * has been reaped the id may be reused, so never after that */
	if (job->pid > 0 && !job->exited)
		kill(-job->pid, sig);
}

static void on_timeout(uv_timer_t *timer)
{
	struct job *job = timer->data;

	if (!job->timed_out) {
		job->timed_out = true;
		job_kill(job, SIGTERM);
		uv_timer_start(&job->timer, on_timeout, JOB_KILL_GRACE_MS, 0);
	} else {
		job_kill(job, SIGKILL);
	}
}

/* Exit and EOF both seen (or given up on): tell the owner, once. */
static void complete(struct job *job)
{
	if (job->completed)
		return;
	job->completed = true;
	uv_timer_stop(&job->timer);
	uv_close((uv_handle_t *)&job->timer, job_closed);
	job->owner->complete(job->owner->data, job);
}

static void on_output(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct job *job = stream->data;

	if (nread > 0) {
		job->owner->output(job->owner->data, job, buf->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return; /* EAGAIN */
	/* EOF, or an error that ends the stream the same way */
	job->eof = true;
	uv_close((uv_handle_t *)&job->out, job_closed);
	if (job->exited)
		complete(job);
}

static void output_buffer(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct job *job = h->data;

	(void)suggested;
	buf->base = job->owner->read_buf;
	buf->len = job->owner->read_len;
}

/* The process is gone but its pipe is still open: something it started
 * outside its group holds it. Stop reading rather than wait forever. */
static void on_eof_grace(uv_timer_t *timer)
{
	struct job *job = timer->data;

	job->owner->note(job->owner->data, job, "the task exited, but something it started "
			 "still holds its output open; squad stopped reading it");
	job->eof = true;
	uv_close((uv_handle_t *)&job->out, job_closed);
	complete(job);
}

void job_exited(struct job *job, int64_t exit_status, int term_signal)
{
	/* Whatever the task left in its group goes with it. Done before any
	 * new spawn, so the group id cannot have been reused by then. */
	job_kill(job, SIGKILL);
	job->exited = true;
	job->exit_status = exit_status;
	job->term_signal = term_signal;
	uv_timer_stop(&job->timer);
	if (job->eof)
		complete(job);
	else
		uv_timer_start(&job->timer, on_eof_grace, JOB_EOF_GRACE_MS, 0);
}

void job_watch(struct job *job, uv_loop_t *loop, const struct job_owner *owner, int out_fd,
	       long timeout_ms)
{
	job->owner = owner;
	job->open_handles = 2;
	uv_timer_init(loop, &job->timer);
	job->timer.data = job;
	uv_pipe_init(loop, &job->out, 0);
	job->out.data = job;
	uv_pipe_open(&job->out, out_fd);
	uv_read_start((uv_stream_t *)&job->out, output_buffer, on_output);
	if (timeout_ms > 0)
		uv_timer_start(&job->timer, on_timeout, (uint64_t)timeout_ms, 0);
}
