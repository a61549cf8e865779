/* agentpool.c - warm ACP agents, one task at a time each; see agentpool.h. */
#include "agents/agentpool.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct pool_agent {
	struct agent_pool *pool;
	struct acp_agent *acp;   /* NULL once gone */
	pid_t pid;
	size_t worker;
	bool reaped;
	bool stopping;           /* asked to go: serves no more tasks */
	uv_timer_t timer;        /* the job's timeout */

	/* the job it holds, if any */
	bool has_job;
	size_t task;
	char *cwd, *prompt;
	long timeout_ms;
	bool preopen;
	struct task_policy policy;
	bool timed_out, interrupted;

	struct pool_agent *prev, *next;
};

static void pool_log(struct pool_agent *pa, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pool_log(struct pool_agent *pa, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!pa->has_job || !pa->pool->cb.log)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pa->pool->cb.log(pa->pool->cb.data, pa->task, sb.buf);
	strbuf_release(&sb);
}

static void drop_job(struct pool_agent *pa)
{
	uv_timer_stop(&pa->timer);
	free(pa->cwd);
	free(pa->prompt);
	pa->cwd = pa->prompt = NULL;
	pa->has_job = false;
	pa->timed_out = pa->interrupted = false;
}

/* The job is over: tell the caller (who may hand this agent its next
 * job from inside the call). */
static void job_done(struct pool_agent *pa, struct agent_outcome *o)
{
	struct agent_pool *pool = pa->pool;
	size_t task = pa->task;

	drop_job(pa);
	if (pool->cb.done)
		pool->cb.done(pool->cb.data, task, o);
}

static void stop_agent(struct pool_agent *pa)
{
	pa->stopping = true;
	if (pa->acp)
		acp_agent_stop(pa->acp);
}

/* A job that never reached the agent: it did not start, or squad
 * stopped waiting for it. */
static void job_not_run(struct pool_agent *pa, enum attempt_end end, const char *why)
{
	struct agent_outcome o = {
		.attempt = { .end = end, .exit_code = -1, .timeout_ms = pa->timeout_ms,
			     .start_error = why },
		.answer = "", .error = why,
		.input_tokens = -1, .output_tokens = -1, .total_tokens = -1, .requests = 0,
	};

	job_done(pa, &o);
}

static void send_prompt(struct pool_agent *pa)
{
	pool_log(pa, "squad: asking agent %d (session in %s)", (int)pa->pid, pa->cwd);
	if (acp_agent_prompt(pa->acp, pa->cwd, pa->prompt) == 0 && pa->preopen)
		acp_agent_preopen(pa->acp, pa->cwd);
}

/* --- what the agent tells ------------------------------------------ */

static void on_ready(void *data, struct acp_agent *a)
{
	struct pool_agent *pa = data;

	(void)a;
	if (pa->stopping)
		return;
	if (pa->has_job)
		send_prompt(pa);
	else if (pa->pool->closing)
		stop_agent(pa);
}

static void on_event(void *data, struct acp_agent *a, const struct acp_event *ev)
{
	struct pool_agent *pa = data;

	(void)a;
	if (!pa->has_job)
		return; /* an idle agent's chatter belongs to no task */
	if (ev->kind == ACP_EVENT_LOG)
		pool_log(pa, "squad: %s", ev->text);
	else if (pa->pool->cb.tool)
		pa->pool->cb.tool(pa->pool->cb.data, pa->task, ev->tool);
}

static bool on_allow(void *data, struct acp_agent *a, const struct acp_request *req,
		     struct strbuf *why)
{
	struct pool_agent *pa = data;

	(void)a;
	if (!pa->has_job) {
		strbuf_addstr(why, "the agent holds no task");
		return false;
	}
	return policy_allows(&pa->policy, req, why);
}

static void on_turn(void *data, struct acp_agent *a, const struct acp_turn *t)
{
	struct pool_agent *pa = data;
	struct agent_pool *pool = pa->pool;
	struct strbuf why = STRBUF_INIT;
	struct agent_outcome o = {
		.answer = t->answer,
		.input_tokens = t->input_tokens, .output_tokens = t->output_tokens,
		.total_tokens = t->total_tokens, .requests = t->requests,
		.tools = t->tools, .nr_tools = t->nr_tools,
	};
	struct attempt *at = &o.attempt;

	(void)a;
	if (!pa->has_job)
		return;
	at->timeout_ms = pa->timeout_ms;
	at->exit_code = 0;
	if (pa->interrupted || pool->interrupted) {
		at->end = ATTEMPT_INTERRUPTED;
		at->exit_code = -1;
	} else if (pa->timed_out) {
		at->end = ATTEMPT_TIMED_OUT;
		at->exit_code = -1;
	} else if (t->end == ACP_END_STOPPED && !strcmp(t->stop_reason, "end_turn")) {
		at->end = ATTEMPT_EXITED;
		o.answered = true;
	} else if (t->end == ACP_END_STOPPED) {
		at->end = ATTEMPT_EXITED;
		at->agent_failed = true;
		strbuf_addf(&why, "the agent stopped its turn: %s", t->stop_reason);
	} else if (t->end == ACP_END_ERROR) {
		at->end = ATTEMPT_EXITED;
		at->agent_failed = true;
		strbuf_addf(&why, "the agent answered with an error: %s", t->error);
	} else {
		/* its process died under the task: a crash, whatever it
		 * exited with; the next task gets a new agent */
		at->end = ATTEMPT_EXITED;
		at->exit_code = t->exit_code;
		at->agent_failed = true;
		strbuf_addf(&why, "the agent died mid-task: %s", t->error ? t->error : "it exited");
	}
	if (why.len) {
		/* one line: an error message may have more */
		strbuf_setlen(&why, strcspn(why.buf, "\n"));
		at->agent_reason = why.buf;
		o.error = why.buf;
	}
	if (t->answer_cut)
		pool_log(pa, "squad: the answer was cut at %u bytes", ACP_MAX_ANSWER);
	job_done(pa, &o);
	strbuf_release(&why);
	/* after a timeout or Ctrl-C the agent may still be busy winding down;
	 * it ended the turn, so it is fit for another unless squad is done */
	if (!pa->has_job && (pool->closing || pool->interrupted))
		stop_agent(pa);
}

static void unlink_agent(struct pool_agent *pa)
{
	struct agent_pool *pool = pa->pool;

	if (pa->prev)
		pa->prev->next = pa->next;
	else
		pool->agents = pa->next;
	if (pa->next)
		pa->next->prev = pa->prev;
	pa->prev = pa->next = NULL;
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_gone(void *data, struct acp_agent *a, bool init_failed, const char *why)
{
	struct pool_agent *pa = data;
	struct strbuf msg = STRBUF_INIT;

	(void)a;
	pa->acp = NULL;
	if (pa->has_job) {
		/* it died before the task's turn began */
		if (pa->interrupted || pa->pool->interrupted) {
			job_not_run(pa, ATTEMPT_INTERRUPTED, NULL);
		} else {
			strbuf_addf(&msg, "the agent did not start: %s%s",
				    init_failed ? "" : "it ended before the task's turn: ",
				    why ? why : "it exited");
			job_not_run(pa, ATTEMPT_NOT_STARTED, msg.buf);
		}
	}
	unlink_agent(pa);
	uv_close((uv_handle_t *)&pa->timer, timer_closed);
	strbuf_release(&msg);
}

static void on_timeout(uv_timer_t *timer)
{
	struct pool_agent *pa = timer->data;

	if (!pa->has_job)
		return;
	pa->timed_out = true;
	if (pa->acp && acp_agent_is_busy(pa->acp)) {
		pool_log(pa, "squad: timed out after %.1fs: session/cancel sent; the agent is "
			 "killed if its turn has not ended %d s later", (double)pa->timeout_ms / 1000,
			 AGENT_CANCEL_GRACE_MS / 1000);
		acp_agent_cancel(pa->acp, AGENT_CANCEL_GRACE_MS);
		return;
	}
	/* still starting: the task's time is up before its turn began */
	pool_log(pa, "squad: timed out after %.1fs while the agent was starting; it is killed",
		 (double)pa->timeout_ms / 1000);
	{
		struct agent_outcome o = {
			.attempt = { .end = ATTEMPT_TIMED_OUT, .exit_code = -1,
				     .timeout_ms = pa->timeout_ms },
			.answer = "", .input_tokens = -1, .output_tokens = -1,
			.total_tokens = -1, .requests = 0,
		};

		job_done(pa, &o);
	}
	stop_agent(pa);
}

/* --- the pool ------------------------------------------------------ */

void agent_pool_init(struct agent_pool *pool, uv_loop_t *loop, struct guard *guard,
		     const struct agent_pool_callbacks *cb)
{
	memset(pool, 0, sizeof(*pool));
	pool->loop = loop;
	pool->guard = guard;
	pool->cb = *cb;
}

static void take_job(struct pool_agent *pa, const struct agent_job *job)
{
	pa->has_job = true;
	pa->task = job->task;
	pa->cwd = xstrdup(job->cwd);
	pa->prompt = xstrdup(job->prompt);
	pa->timeout_ms = job->timeout_ms;
	pa->preopen = job->preopen;
	pa->policy = job->policy;
	pa->policy.dir = pa->cwd; /* the job's copy outlives the caller's */
	pa->timed_out = pa->interrupted = false;
	if (job->timeout_ms > 0)
		uv_timer_start(&pa->timer, on_timeout, (uint64_t)job->timeout_ms, 0);
}

int agent_pool_run(struct agent_pool *pool, const struct spawner *sp,
		   const struct agent_job *job, enum spawn_step *failed)
{
	static const struct acp_callbacks base = {
		.ready = on_ready, .event = on_event, .allow = on_allow,
		.turn_done = on_turn, .gone = on_gone,
	};
	struct acp_callbacks cb = base;
	struct pool_agent *pa;
	int rc;

	pool->spawner = sp;
	/* a warm agent of the worker first: one ready, else one starting */
	for (int want_ready = 1; want_ready >= 0; want_ready--)
		for (pa = pool->agents; pa; pa = pa->next) {
			if (pa->worker != job->worker || pa->has_job || pa->stopping || !pa->acp ||
			    acp_agent_is_busy(pa->acp) ||
			    !(want_ready ? acp_agent_is_ready(pa->acp)
					 : acp_agent_is_starting(pa->acp)))
				continue;
			take_job(pa, job);
			if (want_ready)
				send_prompt(pa);
			return 0;
		}

	pa = xcalloc(1, sizeof(*pa));
	pa->pool = pool;
	pa->worker = job->worker;
	cb.data = pa;
	rc = acp_agent_start(pool->loop, sp, job->cmd, job->program, &cb, &pa->acp, failed);
	if (rc) {
		free(pa);
		return rc;
	}
	pa->pid = acp_agent_pid(pa->acp);
	if (pool->guard)
		guard_watch(pool->guard, pa->pid);
	uv_timer_init(pool->loop, &pa->timer);
	pa->timer.data = pa;
	pa->next = pool->agents;
	if (pool->agents)
		pool->agents->prev = pa;
	pool->agents = pa;
	pool->started++;
	take_job(pa, job);
	pool_log(pa, "squad: started agent %d of worker '%s' (%s)", (int)pa->pid,
		 job->worker_name, job->cmd->argv.v[0]);
	return 0;
}

bool agent_pool_reaped(struct agent_pool *pool, pid_t pid, int exit_code, int term_signal)
{
	for (struct pool_agent *pa = pool->agents; pa; pa = pa->next) {
		if (pa->pid != pid || pa->reaped)
			continue;
		pa->reaped = true;
		if (pool->guard)
			guard_forget(pool->guard, pid);
		/* may end a turn, and free pa once its handles close */
		acp_agent_exited(pa->acp, exit_code, term_signal);
		return true;
	}
	return false;
}

void agent_pool_interrupt(struct agent_pool *pool)
{
	struct pool_agent *pa, *next;

	pool->interrupted = true;
	for (pa = pool->agents; pa; pa = next) {
		next = pa->next;
		if (pa->has_job && pa->acp && acp_agent_is_busy(pa->acp)) {
			pa->interrupted = true;
			acp_agent_cancel(pa->acp, AGENT_CANCEL_GRACE_MS);
		} else {
			if (pa->has_job)
				job_not_run(pa, ATTEMPT_INTERRUPTED, NULL);
			stop_agent(pa);
		}
	}
}

void agent_pool_shutdown(struct agent_pool *pool)
{
	pool->closing = true;
	for (struct pool_agent *pa = pool->agents; pa; pa = pa->next)
		if (!pa->has_job && !pa->stopping)
			stop_agent(pa);
}

void agent_pool_finish(struct agent_pool *pool)
{
	struct pool_agent *pa, *next;

	for (pa = pool->agents; pa; pa = next) {
		int status;
		pid_t got;

		next = pa->next;
		if (pa->reaped)
			continue;
		kill(-pa->pid, SIGKILL);
		while ((got = waitpid(pa->pid, &status, 0)) < 0 && errno == EINTR)
			;
		agent_pool_reaped(pool, pa->pid, got > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 0,
				  got > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL);
	}
}

void agent_pool_release(struct agent_pool *pool)
{
	/* every agent was reaped in agent_pool_finish() and freed by its
	 * close callbacks; what is left never started its handles */
	while (pool->agents) {
		struct pool_agent *pa = pool->agents;

		unlink_agent(pa);
		free(pa->cwd);
		free(pa->prompt);
		free(pa);
	}
}
