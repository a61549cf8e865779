/* acp.h - one agent process spoken to over the Agent Client Protocol.
 *
 * ACP (agentclientprotocol.com) is JSON-RPC 2.0, one message a line, on
 * the agent's stdin and stdout (jsonrpc.h): squad is the client, the
 * agent CLI (`qwen --acp`, `opencode acp` ...) the server. One struct
 * acp_agent is one such process, kept warm: it is initialized once, and
 * then serves one turn at a time, each in a fresh session.
 *
 * The caller's steps:
 *   1. acp_agent_start(): spawn the agent in a process group of its own
 *      and send `initialize`; `ready` is called when it answers;
 *   2. acp_agent_prompt(): `session/new` (cwd = the task's folder), then
 *      `session/prompt`; the agent's `session/update`s come back as
 *      events (answer text, tool calls), its requests (permissions, fs)
 *      are answered by asking `allow`, and `turn_done` ends the turn with
 *      its stop reason, answer and usage;
 *   3. acp_agent_cancel() (a timeout, Ctrl-C): `session/cancel`, and the
 *      group killed if the turn has not ended after a grace period;
 *   4. the caller reaps the process (it owns SIGCHLD) and calls
 *      acp_agent_exited(); `gone` is called once the process is reaped
 *      and its pipes are closed, after which the agent is freed.
 * A turn in flight when the agent dies ends with ACP_END_DIED.
 *
 * Nothing here prints: what the agent says on stderr, squad's
 * decisions and anything unusable it sent come as ACP_EVENT_LOG lines.
 */
#ifndef SQUAD_ACP_H
#define SQUAD_ACP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include <uv.h>

#include "job/spawner.h"
#include "util/strbuf.h"
#include "job/worker.h"

/* Lines longer than this from an agent are dropped (and logged). */
#define ACP_MAX_LINE (8u << 20)
/* At most this much of an answer is kept; the rest is cut (and said). */
#define ACP_MAX_ANSWER (1u << 20)

struct acp_agent;

/* One tool call of a turn, as the agent reported it. */
struct acp_tool {
	char *id;
	char *kind;     /* read, edit, delete, move, search, execute, fetch, ... */
	char *title;
	char *detail;   /* the command, or the path, when the agent gave one */
	char *status;   /* pending, in_progress, completed, failed */
	char *decision; /* squad's answer to its permission request, or NULL */
};

/* What an agent asks squad's leave for. */
enum acp_action {
	ACP_READ,    /* a file read (fs/read_text_file, a read or search tool) */
	ACP_EDIT,    /* a file write, edit, delete, move */
	ACP_EXECUTE, /* a shell command */
	ACP_OTHER,   /* anything else (fetch, a terminal, ...) */
};

struct acp_request {
	enum acp_action action;
	const char *what;   /* the method or tool kind, as the agent named it */
	const char *target; /* path or command line, or NULL when none was given */
};

enum acp_event_kind {
	ACP_EVENT_LOG,  /* a line for the task's log: text */
	ACP_EVENT_TOOL, /* a tool call began or changed: tool */
};

struct acp_event {
	enum acp_event_kind kind;
	const char *text;
	const struct acp_tool *tool;
};

enum acp_end {
	ACP_END_STOPPED, /* the agent answered the prompt: stop_reason */
	ACP_END_ERROR,   /* it answered with a JSON-RPC error: error */
	ACP_END_DIED,    /* the process exited, or squad killed it: exit_code, term_signal */
};

/* How a turn ended. Pointers valid during the call only. */
struct acp_turn {
	enum acp_end end;
	const char *stop_reason; /* end_turn, max_tokens, max_turn_requests, refusal, cancelled */
	const char *error;       /* ACP_END_ERROR: the agent's message; ACP_END_DIED: why */
	const char *answer;      /* the agent_message_chunks, joined; never NULL */
	bool answer_cut;         /* longer than ACP_MAX_ANSWER */
	int exit_code;           /* ACP_END_DIED: -1 when unknown or a signal */
	int term_signal;
	bool killed;             /* squad killed it (a cancel not heeded, shutdown) */
	long input_tokens, output_tokens, total_tokens; /* -1 = unknown */
	long requests;           /* model requests the turn made, -1 = unknown */
	const struct acp_tool *tools;
	size_t nr_tools;
};

struct acp_callbacks {
	/* `initialize` answered: prompts may be sent */
	void (*ready)(void *data, struct acp_agent *a);
	void (*event)(void *data, struct acp_agent *a, const struct acp_event *ev);
	/* the policy: may the agent do this? `why` (appended) says why not,
	 * or what was checked */
	bool (*allow)(void *data, struct acp_agent *a, const struct acp_request *req,
		      struct strbuf *why);
	void (*turn_done)(void *data, struct acp_agent *a, const struct acp_turn *t);
	/* reaped and closed: `a` is freed after this returns. `init_failed`
	 * when it died before answering `initialize` (then with why). */
	void (*gone)(void *data, struct acp_agent *a, bool init_failed, const char *why);
	void *data;
};

/* Spawn `cmd` (whose argv[0] is the file `program`) with its stdin and
 * stdout as the protocol's pipes and its stderr read line by line into
 * log events, in a process group of its own, and send `initialize`.
 * Returns 0 with *out set, or an errno (nothing left running) with the
 * step in *failed. */
int acp_agent_start(uv_loop_t *loop, const struct spawner *sp, const struct command *cmd,
		    const char *program, const struct acp_callbacks *cb,
		    struct acp_agent **out, enum spawn_step *failed);

/* Its process id (= its process group), for the caller's reaping. */
pid_t acp_agent_pid(const struct acp_agent *a);
bool acp_agent_is_ready(const struct acp_agent *a);
/* Spawned, `initialize` not yet answered, not dying. */
bool acp_agent_is_starting(const struct acp_agent *a);
/* Serving a turn (from acp_agent_prompt() until turn_done). */
bool acp_agent_is_busy(const struct acp_agent *a);

/* Start a turn: a new session in `cwd` (absolute), then `prompt`.
 * Only on a ready agent that is not busy. Returns 0, or -1 when the
 * request cannot be written (the agent is then dying, and the turn ends
 * with ACP_END_DIED). */
int acp_agent_prompt(struct acp_agent *a, const char *cwd, const char *prompt);

/* Open a session in `cwd` ahead of the next turn, while this one runs
 * (its session/new and session/set_mode cost the agent a few hundred
 * milliseconds, which it can spend while it waits for its model): the
 * next acp_agent_prompt() in the same folder then takes it (still a
 * fresh session, never prompted before) and sends its prompt at once,
 * or as soon as it is ready. A turn in another folder opens its own and
 * leaves that one unused. Does nothing when a spare is already there,
 * or the agent is not ready. If the spare fails, the turn opens its
 * own, as it would have. */
void acp_agent_preopen(struct acp_agent *a, const char *cwd);

/* Ask the agent to stop the turn (`session/cancel`); if the turn has not
 * ended `grace_ms` later, kill the group (SIGTERM, then SIGKILL). */
void acp_agent_cancel(struct acp_agent *a, unsigned grace_ms);

/* End the agent: close its stdin and signal its group (SIGTERM, then
 * SIGKILL after a grace period). A turn in flight ends with
 * ACP_END_DIED and `killed`. */
void acp_agent_stop(struct acp_agent *a);

/* The caller reaped the agent's process. */
void acp_agent_exited(struct acp_agent *a, int exit_code, int term_signal);

/* For unit tests and the fuzz harness: an agent with no process. What
 * squad would write to it collects in acp_agent_sent(); bytes of its
 * output are given with acp_agent_feed(). `initialize` is sent at once.
 * Freed with acp_agent_free() (never `gone`). */
struct acp_agent *acp_agent_new_detached(const struct acp_callbacks *cb);
void acp_agent_feed(struct acp_agent *a, const char *data, size_t len);
const char *acp_agent_sent(const struct acp_agent *a);
void acp_agent_free(struct acp_agent *a);

/* Read the usage an agent reports in one message's params or result
 * (`usage`, or `_meta.usage`: inputTokens, outputTokens, totalTokens),
 * adding it to the counters (-1 = none yet). Returns whether any was
 * found. For the fuzz harness and tests. */
bool acp_read_usage(json_t *obj, long *input, long *output, long *total);

#endif
