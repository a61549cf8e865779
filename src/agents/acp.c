/* acp.c - an Agent Client Protocol client for one agent process; see acp.h. */
#include "agents/acp.h"
#include "agents/jsonrpc.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Between SIGTERM and SIGKILL of an agent squad ends. */
#define ACP_KILL_GRACE_MS 2000
/* The longest stderr line kept whole in the log. */
#define ACP_MAX_ERR_LINE 4096
/* What fs/read_text_file hands over at most. */
#define ACP_MAX_READ (8u << 20)
/* Squad's error code for a request its policy refuses. */
#define ACP_DENIED -32000

enum agent_state {
	AGENT_STARTING, /* `initialize` sent */
	AGENT_READY,
	AGENT_DEAD,     /* exited, killed, or its output closed */
};

struct acp_agent {
	uv_loop_t *loop;
	pid_t pid;
	bool detached;        /* no process: fed by acp_agent_feed() (tests) */
	struct strbuf sent;   /* detached: what squad would have written */
	uv_pipe_t in, out, err;
	uv_timer_t timer;     /* the cancel grace, then the kill grace */
	int open_handles;
	enum agent_state state;
	bool exited, out_eof, err_eof, stopping, killed, gone_told;
	bool init_failed;
	struct strbuf why_dead;
	int exit_code, term_signal;
	struct acp_callbacks cb;
	struct jsonrpc_reader reader, err_reader;
	long long next_id;
	long long init_id, new_id, mode_id, prompt_id; /* 0 = none pending */

	/* a session opened ahead of the next turn (acp_agent_preopen()),
	 * so that a turn in the same folder starts with its prompt: */
	char *spare_cwd;      /* its folder; NULL when there is none */
	char *spare_session;  /* its id, once session/new answered */
	long long spare_new_id, spare_mode_id; /* 0 = none pending */
	bool wait_spare;      /* the turn waits for it to be ready */
	char *next_spare_cwd; /* asked for while the turn waits for the
			       * spare: opened once that one is taken */
	long long stale_ids[2]; /* a dropped spare's requests still pending:
				 * their answers are passed over quietly */

	/* the turn */
	bool busy;
	char *cwd, *prompt, *session;
	struct strbuf answer;
	bool answer_cut;
	long in_tok, out_tok, tot_tok, requests;
	struct acp_tool *tools;
	size_t nr_tools, alloc_tools;
	char buf[65536];
};

/* --- small helpers ------------------------------------------------- */

static void log_event(struct acp_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_event(struct acp_agent *a, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct acp_event ev = { .kind = ACP_EVENT_LOG };
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ev.text = sb.buf;
	if (a->cb.event)
		a->cb.event(a->cb.data, a, &ev);
	strbuf_release(&sb);
}

static const char *str_of(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Text from the peer, made safe for a log line: control characters
 * escaped, at most `max` bytes. */
static void add_excerpt(struct strbuf *sb, const char *text, size_t len, size_t max)
{
	strbuf_add_printable_len(sb, text, len > max ? max : len);
	if (len > max)
		strbuf_addf(sb, "... (%zu bytes)", len);
}

static void kill_group(struct acp_agent *a, int sig)
{
	/* never after reaping: the id may have been reused */
	if (!a->detached && a->pid > 0 && !a->exited)
		kill(-a->pid, sig);
}

/* --- writing ------------------------------------------------------- */

struct write_req {
	uv_write_t req;
	char *buf;
};

static void die(struct acp_agent *a, const char *why);

static void written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct acp_agent *a = req->data;

	free(w->buf);
	free(w);
	if (status < 0 && status != UV_ECANCELED && a->state != AGENT_DEAD)
		die(a, "its input closed");
}

/* Send one message (already a line in `line`, which is emptied). */
static int send_line(struct acp_agent *a, struct strbuf *line)
{
	struct write_req *w;
	uv_buf_t b;

	if (!line->len)
		return -1;
	if (a->detached) {
		strbuf_add(&a->sent, line->buf, line->len);
		strbuf_reset(line);
		return 0;
	}
	if (a->state == AGENT_DEAD || a->stopping || uv_is_closing((uv_handle_t *)&a->in))
		return -1;
	w = xcalloc(1, sizeof(*w));
	b.len = line->len;
	w->buf = strbuf_detach(line, NULL);
	b.base = w->buf;
	w->req.data = a;
	if (uv_write(&w->req, (uv_stream_t *)&a->in, &b, 1, written) < 0) {
		free(w->buf);
		free(w);
		die(a, "its input closed");
		return -1;
	}
	return 0;
}

static long long send_request(struct acp_agent *a, const char *method, json_t *params)
{
	struct strbuf line = STRBUF_INIT;
	long long id = ++a->next_id;

	if (jsonrpc_write_request(&line, id, method, params) < 0 || send_line(a, &line) < 0)
		id = 0;
	strbuf_release(&line);
	return id;
}

static void send_notification(struct acp_agent *a, const char *method, json_t *params)
{
	struct strbuf line = STRBUF_INIT;

	if (!jsonrpc_write_notification(&line, method, params))
		send_line(a, &line);
	strbuf_release(&line);
}

static void send_result(struct acp_agent *a, json_t *id, json_t *result)
{
	struct strbuf line = STRBUF_INIT;

	if (!jsonrpc_write_result(&line, id, result))
		send_line(a, &line);
	strbuf_release(&line);
}

static void send_error(struct acp_agent *a, json_t *id, long code, const char *message)
{
	struct strbuf line = STRBUF_INIT;

	if (!jsonrpc_write_error(&line, id, code, message, NULL))
		send_line(a, &line);
	strbuf_release(&line);
}

/* --- the turn ------------------------------------------------------ */

static void tool_release(struct acp_tool *t)
{
	free(t->id);
	free(t->kind);
	free(t->title);
	free(t->detail);
	free(t->status);
	free(t->decision);
}

static void turn_reset(struct acp_agent *a)
{
	for (size_t i = 0; i < a->nr_tools; i++)
		tool_release(&a->tools[i]);
	a->nr_tools = 0;
	free(a->cwd);
	free(a->prompt);
	free(a->session);
	a->cwd = a->prompt = a->session = NULL;
	strbuf_reset(&a->answer);
	a->answer_cut = false;
	a->in_tok = a->out_tok = a->tot_tok = a->requests = -1;
	a->new_id = a->mode_id = a->prompt_id = 0;
	a->wait_spare = false;
	free(a->next_spare_cwd);
	a->next_spare_cwd = NULL;
	a->busy = false;
}

/* Forget the spare session (an answer still to come for it is then
 * one squad no longer waits for, and is passed over). */
static void drop_spare(struct acp_agent *a)
{
	if (a->spare_new_id || a->spare_mode_id) {
		a->stale_ids[0] = a->spare_new_id;
		a->stale_ids[1] = a->spare_mode_id;
	}
	free(a->spare_cwd);
	free(a->spare_session);
	a->spare_cwd = a->spare_session = NULL;
	a->spare_new_id = a->spare_mode_id = 0;
}

static void end_turn(struct acp_agent *a, enum acp_end end, const char *stop_reason,
		     const char *error)
{
	/* the turn's data leave the agent before the owner hears of it, so
	 * that the owner may start the next turn from its callback */
	struct strbuf answer = a->answer;
	struct acp_tool *tools = a->tools;
	size_t nr_tools = a->nr_tools;
	struct acp_turn t = {
		.end = end, .stop_reason = stop_reason, .error = error,
		.answer = answer.buf, .answer_cut = a->answer_cut,
		.exit_code = a->exit_code, .term_signal = a->term_signal,
		.killed = a->killed,
		.input_tokens = a->in_tok, .output_tokens = a->out_tok,
		.total_tokens = a->tot_tok, .requests = a->requests,
		.tools = tools, .nr_tools = nr_tools,
	};

	if (!a->busy)
		return;
	if (!a->detached && !uv_is_closing((uv_handle_t *)&a->timer))
		uv_timer_stop(&a->timer);
	strbuf_init(&a->answer, 0);
	a->tools = NULL;
	a->nr_tools = a->alloc_tools = 0;
	turn_reset(a);
	if (a->cb.turn_done)
		a->cb.turn_done(a->cb.data, a, &t);
	for (size_t i = 0; i < nr_tools; i++)
		tool_release(&tools[i]);
	free(tools);
	strbuf_release(&answer);
}

static void add_count(long *to, json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return;
	*to = (*to < 0 ? 0 : *to) + (long)json_integer_value(v);
}

bool acp_read_usage(json_t *obj, long *input, long *output, long *total)
{
	json_t *u = json_is_object(obj) ? json_object_get(obj, "usage") : NULL;

	if (!json_is_object(u) && json_is_object(obj))
		u = json_object_get(json_object_get(obj, "_meta"), "usage");
	if (!json_is_object(u))
		return false;
	add_count(input, json_object_get(u, "inputTokens"));
	add_count(output, json_object_get(u, "outputTokens"));
	add_count(total, json_object_get(u, "totalTokens"));
	return true;
}

static struct acp_tool *find_tool(struct acp_agent *a, const char *id, bool create)
{
	struct acp_tool *t;

	for (size_t i = 0; id && i < a->nr_tools; i++)
		if (!strcmp(a->tools[i].id, id))
			return &a->tools[i];
	if (!create)
		return NULL;
	ALLOC_GROW(a->tools, a->nr_tools + 1, a->alloc_tools);
	t = &a->tools[a->nr_tools++];
	memset(t, 0, sizeof(*t));
	t->id = xstrdup(id ? id : "");
	return t;
}

static void set_field(char **field, const char *value)
{
	if (!value)
		return;
	free(*field);
	*field = xstrdup(value);
}

/* The command or path a tool call is about: rawInput's command, or the
 * first location, or a path-like field of rawInput. */
static const char *tool_target(json_t *call)
{
	json_t *raw = json_object_get(call, "rawInput");
	json_t *locs = json_object_get(call, "locations");
	static const char *const path_keys[] = {
		"file_path", "absolute_path", "filePath", "path", "filepath", NULL,
	};
	const char *s;

	if ((s = str_of(raw, "command")))
		return s;
	if (json_is_array(locs) && json_array_size(locs) &&
	    (s = str_of(json_array_get(locs, 0), "path")))
		return s;
	for (int i = 0; path_keys[i]; i++)
		if ((s = str_of(raw, path_keys[i])))
			return s;
	return NULL;
}

static void tool_event(struct acp_agent *a, const struct acp_tool *t)
{
	struct acp_event ev = { .kind = ACP_EVENT_TOOL, .tool = t };

	if (a->cb.event)
		a->cb.event(a->cb.data, a, &ev);
}

/* tool_call and tool_call_update: the call as it stands */
static void tool_update(struct acp_agent *a, json_t *u, bool create)
{
	struct acp_tool *t = find_tool(a, str_of(u, "toolCallId"), true);
	const char *status = str_of(u, "status");
	bool changed = create || (status && (!t->status || strcmp(status, t->status)));

	(void)create;
	set_field(&t->kind, str_of(u, "kind"));
	set_field(&t->title, str_of(u, "title"));
	set_field(&t->detail, tool_target(u));
	set_field(&t->status, status);
	if (changed)
		tool_event(a, t);
}

static void on_update(struct acp_agent *a, json_t *params)
{
	json_t *u = json_object_get(params, "update");
	const char *kind = str_of(u, "sessionUpdate");
	const char *session = str_of(params, "sessionId");

	if (!a->busy || !a->session || !session || strcmp(session, a->session) || !kind)
		return; /* an earlier session's, or none of squad's */
	/* qwen reports each model call's usage on a message chunk */
	if (acp_read_usage(u, &a->in_tok, &a->out_tok, &a->tot_tok) ||
	    acp_read_usage(params, &a->in_tok, &a->out_tok, &a->tot_tok))
		a->requests = (a->requests < 0 ? 0 : a->requests) + 1;
	if (!strcmp(kind, "agent_message_chunk")) {
		const char *text = str_of(json_object_get(u, "content"), "text");
		size_t len = text ? strlen(text) : 0;

		if (a->answer.len + len > ACP_MAX_ANSWER) {
			len = ACP_MAX_ANSWER - a->answer.len;
			a->answer_cut = true;
		}
		if (len)
			strbuf_add(&a->answer, text, len);
	} else if (!strcmp(kind, "tool_call")) {
		tool_update(a, u, true);
	} else if (!strcmp(kind, "tool_call_update")) {
		tool_update(a, u, false);
	}
}

/* --- the agent's requests ------------------------------------------ */

static enum acp_action action_of_kind(const char *kind)
{
	if (!kind)
		return ACP_OTHER;
	if (!strcmp(kind, "read") || !strcmp(kind, "search"))
		return ACP_READ;
	if (!strcmp(kind, "edit") || !strcmp(kind, "delete") || !strcmp(kind, "move"))
		return ACP_EDIT;
	if (!strcmp(kind, "execute"))
		return ACP_EXECUTE;
	return ACP_OTHER;
}

static bool ask(struct acp_agent *a, enum acp_action action, const char *what,
		const char *target, struct strbuf *why)
{
	struct acp_request req = { action, what, target };
	bool ok = a->cb.allow && a->cb.allow(a->cb.data, a, &req, why);

	log_event(a, "%s %s%s%s%s: %s", ok ? "allowed" : "denied", what, target ? " '" : "",
		  target ? target : "", target ? "'" : "", why->len ? why->buf : "no policy");
	return ok;
}

/* The option of `kind_prefix` (allow / reject) to answer with, preferring
 * a once-only one. */
static const char *pick_option(json_t *options, const char *want)
{
	const char *fallback = NULL;
	size_t i;
	json_t *o;

	json_array_foreach(options, i, o) {
		const char *kind = str_of(o, "kind"), *id = str_of(o, "optionId");

		if (!kind || !id || strncmp(kind, want, strlen(want)))
			continue;
		if (strstr(kind, "once"))
			return id;
		if (!fallback)
			fallback = id;
	}
	return fallback;
}

static void on_permission(struct acp_agent *a, struct jsonrpc_message *m)
{
	json_t *call = json_object_get(m->params, "toolCall");
	json_t *options = json_object_get(m->params, "options");
	const char *kind = str_of(call, "kind"), *target = tool_target(call), *option;
	struct acp_tool *t = find_tool(a, str_of(call, "toolCallId"), true);
	struct strbuf why = STRBUF_INIT;
	bool ok;

	set_field(&t->kind, kind);
	set_field(&t->title, str_of(call, "title"));
	set_field(&t->detail, target);
	if (!t->status)
		set_field(&t->status, "pending");
	ok = ask(a, action_of_kind(kind), kind ? kind : "a tool", target, &why);
	option = pick_option(options, ok ? "allow" : "reject");
	free(t->decision);
	{
		struct strbuf d = STRBUF_INIT;

		strbuf_addf(&d, "%s: %s", ok ? "allowed" : "denied", why.len ? why.buf : "no policy");
		t->decision = strbuf_detach(&d, NULL);
	}
	if (option)
		send_result(a, m->id, json_pack("{s:{s:s,s:s}}", "outcome", "outcome", "selected",
						"optionId", option));
	else /* no option of the kind wanted: a refusal all the same */
		send_result(a, m->id, json_pack("{s:{s:s}}", "outcome", "outcome", "cancelled"));
	tool_event(a, t);
	strbuf_release(&why);
}

/* A path of the agent's: a relative one (ACP's are absolute) is taken
 * from the session's folder, as the policy judges it, never from squad's
 * own cwd (for an isolated task, the user's tree). */
static const char *in_session(const struct acp_agent *a, const char *path, struct strbuf *full)
{
	if (!path || path[0] == '/' || !a->cwd)
		return path;
	strbuf_addf(full, "%s/%s", a->cwd, path);
	return full->buf;
}

static void on_read(struct acp_agent *a, struct jsonrpc_message *m)
{
	struct strbuf why = STRBUF_INIT, text = STRBUF_INIT, full = STRBUF_INIT;
	const char *path = in_session(a, str_of(m->params, "path"), &full);
	json_t *line = json_object_get(m->params, "line"), *limit = json_object_get(m->params, "limit");
	int fd;

	if (!path || !ask(a, ACP_READ, "fs/read_text_file", path, &why)) {
		send_error(a, m->id, ACP_DENIED, why.len ? why.buf : "no path given");
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || strbuf_read_fd(&text, fd, ACP_MAX_READ) < 0) {
		strbuf_reset(&why);
		strbuf_addf(&why, "cannot read '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		send_error(a, m->id, JSONRPC_INTERNAL_ERROR, why.buf);
		goto out;
	}
	close(fd);
	if (json_is_integer(line) || json_is_integer(limit)) {
		/* 1-based first line, and how many */
		long first = json_is_integer(line) ? (long)json_integer_value(line) : 1;
		long n = json_is_integer(limit) ? (long)json_integer_value(limit) : -1;
		const char *p = text.buf, *end = text.buf + text.len, *from;

		for (long i = 1; i < first && p < end; i++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl ? nl + 1 : end;
		}
		from = p;
		for (long i = 0; n >= 0 && i < n && p < end; i++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl ? nl + 1 : end;
		}
		if (n < 0)
			p = end;
		memmove(text.buf, from, (size_t)(p - from));
		strbuf_setlen(&text, (size_t)(p - from));
	}
	strbuf_utf8_sanitize(&text);
	send_result(a, m->id, json_pack("{s:s%}", "content", text.buf, text.len));
out:
	strbuf_release(&why);
	strbuf_release(&text);
	strbuf_release(&full);
}

/* The whole file written beside itself and renamed over it: a reader
 * never sees half of it, and a symlink in its place is replaced, not
 * followed. */
static int write_file(const char *path, const char *content, size_t len, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, ret = -1;

	strbuf_addf(&tmp, "%s.squad-XXXXXX", path);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		strbuf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, content, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			strbuf_addf(err, "cannot write '%s': %s", path, strerror(n < 0 ? errno : ENOSPC));
			close(fd);
			unlink(tmp.buf);
			goto out;
		}
		content += n;
		len -= (size_t)n;
	}
	fchmod(fd, 0644);
	if (close(fd) < 0 || rename(tmp.buf, path) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp.buf);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&tmp);
	return ret;
}

static void on_write(struct acp_agent *a, struct jsonrpc_message *m)
{
	struct strbuf why = STRBUF_INIT, full = STRBUF_INIT;
	const char *path = in_session(a, str_of(m->params, "path"), &full);
	json_t *content = json_object_get(m->params, "content");

	if (!path || !json_is_string(content) || !ask(a, ACP_EDIT, "fs/write_text_file", path, &why)) {
		send_error(a, m->id, ACP_DENIED, why.len ? why.buf : "no path or content given");
	} else {
		strbuf_reset(&why);
		if (write_file(path, json_string_value(content), json_string_length(content), &why) < 0)
			send_error(a, m->id, JSONRPC_INTERNAL_ERROR, why.buf);
		else
			send_result(a, m->id, json_null());
	}
	strbuf_release(&why);
	strbuf_release(&full);
}

static void on_request(struct acp_agent *a, struct jsonrpc_message *m)
{
	struct strbuf why = STRBUF_INIT;

	if (!strcmp(m->method, "session/request_permission")) {
		on_permission(a, m);
	} else if (!strcmp(m->method, "fs/read_text_file")) {
		on_read(a, m);
	} else if (!strcmp(m->method, "fs/write_text_file")) {
		on_write(a, m);
	} else if (!strncmp(m->method, "terminal/", 9)) {
		/* squad offers no terminal (clientCapabilities.terminal is
		 * false): an agent runs its commands itself, after asking */
		ask(a, ACP_OTHER, m->method, NULL, &why);
		send_error(a, m->id, ACP_DENIED, "squad offers no terminal");
	} else {
		send_error(a, m->id, JSONRPC_METHOD_NOT_FOUND, "squad does not offer this method");
	}
	strbuf_release(&why);
}

/* --- the agent's answers ------------------------------------------- */

static void open_spare(struct acp_agent *a);

static void send_prompt(struct acp_agent *a)
{
	a->prompt_id = send_request(a, "session/prompt",
				    json_pack("{s:s,s:[{s:s,s:s}]}", "sessionId", a->session,
					      "prompt", "type", "text", "text", a->prompt));
	if (!a->prompt_id) {
		die(a, "cannot send the prompt");
		return;
	}
	/* a spare asked for before the prompt went opens now */
	if (a->spare_cwd && !a->spare_session && !a->spare_new_id && !a->spare_mode_id)
		open_spare(a);
}

/* Must a session that session/new gave as `result` be put in the mode
 * that asks before edits and commands? When the agent has one called
 * "default" and the session is in another (qwen starts in "auto", where
 * a classifier approves actions without asking squad). */
static bool needs_default_mode(json_t *result)
{
	json_t *modes = json_object_get(result, "modes");
	json_t *available = json_object_get(modes, "availableModes");
	const char *current = str_of(modes, "currentModeId");
	size_t i;
	json_t *mode;

	json_array_foreach(available, i, mode) {
		const char *id = str_of(mode, "id");

		if (id && !strcmp(id, "default"))
			return current && strcmp(current, "default");
	}
	return false;
}

static long long send_set_mode(struct acp_agent *a, const char *session)
{
	return send_request(a, "session/set_mode",
			    json_pack("{s:s,s:s}", "sessionId", session, "modeId", "default"));
}

/* A new session for the turn: in the "default" mode, then the prompt. */
static void session_made(struct acp_agent *a, json_t *result)
{
	const char *session = str_of(result, "sessionId");

	if (!session) {
		end_turn(a, ACP_END_ERROR, NULL, "session/new gave no sessionId");
		return;
	}
	a->session = xstrdup(session);
	if (needs_default_mode(result)) {
		a->mode_id = send_set_mode(a, a->session);
		if (!a->mode_id)
			die(a, "cannot set the session's mode");
		return;
	}
	send_prompt(a);
}

/* The turn's own session/new, as when there is no spare. */
static void open_session(struct acp_agent *a)
{
	a->new_id = send_request(a, "session/new",
				 json_pack("{s:s,s:[]}", "cwd", a->cwd, "mcpServers"));
	if (!a->new_id)
		die(a, "cannot send session/new");
}

/* The spare session is ready (or failed: then it is dropped): a turn
 * waiting for it takes it and sends its prompt, or opens its own. */
static void spare_settled(struct acp_agent *a, bool ok)
{
	if (!ok)
		drop_spare(a);
	if (!a->wait_spare || !a->busy)
		return;
	a->wait_spare = false;
	if (ok) {
		a->session = a->spare_session;
		a->spare_session = NULL;
		drop_spare(a);
	}
	/* the next spare, asked for meanwhile, opens once the prompt has
	 * gone (send_prompt()) */
	a->spare_cwd = a->next_spare_cwd;
	a->next_spare_cwd = NULL;
	if (ok)
		send_prompt(a);
	else
		open_session(a);
}

/* session/new's answer for the spare session */
static void spare_made(struct acp_agent *a, struct jsonrpc_message *m)
{
	const char *session = m->kind == JSONRPC_ERROR ? NULL : str_of(m->result, "sessionId");

	a->spare_new_id = 0;
	if (!session) {
		spare_settled(a, false);
		return;
	}
	a->spare_session = xstrdup(session);
	if (needs_default_mode(m->result)) {
		a->spare_mode_id = send_set_mode(a, a->spare_session);
		if (!a->spare_mode_id)
			spare_settled(a, false);
		return;
	}
	spare_settled(a, true);
}

static void on_answer(struct acp_agent *a, struct jsonrpc_message *m)
{
	bool error = m->kind == JSONRPC_ERROR;
	struct strbuf why = STRBUF_INIT;

	if (a->init_id && jsonrpc_id_is(m->id, a->init_id)) {
		a->init_id = 0;
		if (error) {
			strbuf_addf(&why, "initialize failed: %s", m->error_message);
			a->init_failed = true;
			die(a, why.buf);
		} else {
			a->state = AGENT_READY;
			if (a->cb.ready)
				a->cb.ready(a->cb.data, a);
		}
	} else if (a->new_id && jsonrpc_id_is(m->id, a->new_id)) {
		a->new_id = 0;
		if (error) {
			strbuf_addf(&why, "session/new failed: %s", m->error_message);
			end_turn(a, ACP_END_ERROR, NULL, why.buf);
		} else {
			session_made(a, m->result);
		}
	} else if ((a->stale_ids[0] && jsonrpc_id_is(m->id, a->stale_ids[0])) ||
		   (a->stale_ids[1] && jsonrpc_id_is(m->id, a->stale_ids[1]))) {
		/* a spare squad no longer wants: the agent keeps it idle */
		a->stale_ids[jsonrpc_id_is(m->id, a->stale_ids[1])] = 0;
	} else if (a->spare_new_id && jsonrpc_id_is(m->id, a->spare_new_id)) {
		spare_made(a, m);
	} else if (a->spare_mode_id && jsonrpc_id_is(m->id, a->spare_mode_id)) {
		/* a spare that kept the agent's own mode is not used: the
		 * turn's own session then says so in its task's log */
		a->spare_mode_id = 0;
		spare_settled(a, !error);
	} else if (a->mode_id && jsonrpc_id_is(m->id, a->mode_id)) {
		a->mode_id = 0;
		if (error)
			log_event(a, "the agent kept its own mode: %s", m->error_message);
		send_prompt(a);
	} else if (a->prompt_id && jsonrpc_id_is(m->id, a->prompt_id)) {
		const char *stop = str_of(m->result, "stopReason");

		a->prompt_id = 0;
		if (error) {
			end_turn(a, ACP_END_ERROR, NULL, m->error_message);
		} else {
			acp_read_usage(m->result, &a->in_tok, &a->out_tok, &a->tot_tok);
			end_turn(a, stop ? ACP_END_STOPPED : ACP_END_ERROR, stop,
				 stop ? NULL : "session/prompt gave no stopReason");
		}
	} else {
		/* an id squad never sent, or one already answered */
		struct strbuf id = STRBUF_INIT;
		char *text = m->id ? json_dumps(m->id, JSON_ENCODE_ANY) : NULL;

		log_event(a, "the agent answered a request squad is not waiting for (id %s)",
			  text ? text : "null");
		free(text);
		strbuf_release(&id);
	}
	strbuf_release(&why);
}

/* One line of the agent's stdout. */
static void on_line(struct acp_agent *a, const char *line, size_t len)
{
	struct jsonrpc_message m;
	struct strbuf err = STRBUF_INIT, shown = STRBUF_INIT;
	int rc;

	if (!len)
		return;
	rc = jsonrpc_parse(line, len, &m, &err);
	if (rc) {
		/* noise on stdout (a banner, a stack trace) is logged and
		 * passed over: the protocol goes on around it */
		add_excerpt(&shown, line, len, 200);
		log_event(a, "the agent wrote a line that is not JSON-RPC (%s): %s", err.buf,
			  shown.buf);
		if (rc == JSONRPC_INVALID_REQUEST && m.id)
			send_error(a, m.id, JSONRPC_INVALID_REQUEST, err.buf);
		jsonrpc_message_release(&m);
		goto out;
	}
	switch (m.kind) {
	case JSONRPC_REQUEST:
		on_request(a, &m);
		break;
	case JSONRPC_NOTIFICATION:
		if (!strcmp(m.method, "session/update"))
			on_update(a, m.params);
		break;
	case JSONRPC_RESULT:
	case JSONRPC_ERROR:
		on_answer(a, &m);
		break;
	}
	jsonrpc_message_release(&m);
out:
	strbuf_release(&err);
	strbuf_release(&shown);
}

static void feed(struct acp_agent *a, const char *data, size_t len)
{
	const char *line;
	size_t n;
	int rc;

	jsonrpc_reader_feed(&a->reader, data, len);
	while (a->state != AGENT_DEAD && (rc = jsonrpc_reader_next(&a->reader, &line, &n))) {
		if (rc < 0)
			log_event(a, "the agent wrote a line longer than %u bytes; squad dropped it",
				  ACP_MAX_LINE);
		else
			on_line(a, line, n);
	}
}

/* --- the process --------------------------------------------------- */

static void maybe_gone(struct acp_agent *a);
static void finish_death(struct acp_agent *a);

static void handle_closed(uv_handle_t *h)
{
	struct acp_agent *a = h->data;

	a->open_handles--;
	maybe_gone(a);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, handle_closed);
}

static void free_agent(struct acp_agent *a)
{
	turn_reset(a);
	drop_spare(a);
	free(a->tools);
	jsonrpc_reader_release(&a->reader);
	jsonrpc_reader_release(&a->err_reader);
	strbuf_release(&a->answer);
	strbuf_release(&a->sent);
	strbuf_release(&a->why_dead);
	free(a);
}

/* Reaped, and every handle closed: tell the owner, and free. */
static void maybe_gone(struct acp_agent *a)
{
	if (!a->exited || a->open_handles || a->gone_told)
		return;
	a->gone_told = true;
	if (a->cb.gone)
		a->cb.gone(a->cb.data, a, a->init_failed, a->why_dead.len ? a->why_dead.buf : NULL);
	free_agent(a);
}

static void on_kill_grace(uv_timer_t *timer)
{
	struct acp_agent *a = timer->data;

	kill_group(a, SIGKILL);
}

/* The agent is of no more use: its turn ends, its group is told to go. */
static void die(struct acp_agent *a, const char *why)
{
	struct strbuf msg = STRBUF_INIT;

	if (a->state == AGENT_DEAD)
		return;
	if (a->state == AGENT_STARTING)
		a->init_failed = true;
	a->state = AGENT_DEAD;
	if (why && !a->why_dead.len)
		strbuf_addstr(&a->why_dead, why);
	if (a->detached) {
		end_turn(a, ACP_END_DIED, NULL, why);
		goto out;
	}
	if (!uv_is_closing((uv_handle_t *)&a->in))
		close_handle((uv_handle_t *)&a->in);
	if (!a->exited) {
		kill_group(a, SIGTERM);
		uv_timer_stop(&a->timer);
		uv_timer_start(&a->timer, on_kill_grace, ACP_KILL_GRACE_MS, 0);
	}
	/* the turn ends once the exit status is known (finish_death) */
out:
	strbuf_release(&msg);
}

static void read_buffer(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct acp_agent *a = h->data;

	(void)suggested;
	buf->base = a->buf;
	buf->len = sizeof(a->buf);
}

static void on_stdout(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct acp_agent *a = s->data;

	if (nread > 0) {
		feed(a, buf->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return;
	a->out_eof = true;
	close_handle((uv_handle_t *)&a->out);
	if (a->exited)
		finish_death(a);
	else
		die(a, "it closed its output");
}

static void err_line(struct acp_agent *a, const char *line, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	add_excerpt(&sb, line, len, ACP_MAX_ERR_LINE);
	log_event(a, "agent: %s", sb.buf);
	strbuf_release(&sb);
}

static void on_stderr(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct acp_agent *a = s->data;
	const char *line;
	size_t n;
	int rc;

	if (nread > 0) {
		jsonrpc_reader_feed(&a->err_reader, buf->base, (size_t)nread);
		while ((rc = jsonrpc_reader_next(&a->err_reader, &line, &n)))
			if (rc > 0 && n)
				err_line(a, line, n);
		return;
	}
	if (nread == 0)
		return;
	a->err_eof = true;
	close_handle((uv_handle_t *)&a->err);
}

static void send_initialize(struct acp_agent *a)
{
	a->init_id = send_request(a, "initialize", json_pack(
		"{s:i,s:{s:{s:b,s:b},s:b},s:{s:s,s:s}}", "protocolVersion", 1,
		"clientCapabilities", "fs", "readTextFile", 1, "writeTextFile", 1,
		"terminal", 0, "clientInfo", "name", "squad", "version", "1"));
}

static struct acp_agent *agent_new(const struct acp_callbacks *cb)
{
	struct acp_agent *a = xcalloc(1, sizeof(*a));

	a->cb = *cb;
	strbuf_init(&a->sent, 0);
	strbuf_init(&a->answer, 0);
	strbuf_init(&a->why_dead, 0);
	jsonrpc_reader_init(&a->reader, ACP_MAX_LINE);
	jsonrpc_reader_init(&a->err_reader, ACP_MAX_ERR_LINE);
	a->exit_code = -1;
	turn_reset(a);
	return a;
}

int acp_agent_start(uv_loop_t *loop, const struct spawner *sp, const struct command *cmd,
		    const char *program, const struct acp_callbacks *cb,
		    struct acp_agent **out, enum spawn_step *failed)
{
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct acp_agent *a;
	int rc;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		rc = errno;
		if (failed)
			*failed = SPAWN_SETUP;
		goto error;
	}
	a = agent_new(cb);
	a->loop = loop;
	rc = spawner_start_io(sp, cmd, program, in[0], outp[1], errp[1], &a->pid, failed);
	if (rc) {
		free_agent(a);
		goto error;
	}
	close(in[0]);
	close(outp[1]);
	close(errp[1]);
	uv_pipe_init(loop, &a->in, 0);
	uv_pipe_init(loop, &a->out, 0);
	uv_pipe_init(loop, &a->err, 0);
	uv_timer_init(loop, &a->timer);
	a->in.data = a->out.data = a->err.data = a->timer.data = a;
	a->open_handles = 4;
	uv_pipe_open(&a->in, in[1]);
	uv_pipe_open(&a->out, outp[0]);
	uv_pipe_open(&a->err, errp[0]);
	uv_read_start((uv_stream_t *)&a->out, read_buffer, on_stdout);
	uv_read_start((uv_stream_t *)&a->err, read_buffer, on_stderr);
	send_initialize(a);
	*out = a;
	return 0;
error:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}

pid_t acp_agent_pid(const struct acp_agent *a)
{
	return a->pid;
}

bool acp_agent_is_ready(const struct acp_agent *a)
{
	return a->state == AGENT_READY && !a->stopping;
}

bool acp_agent_is_starting(const struct acp_agent *a)
{
	return a->state == AGENT_STARTING && !a->stopping;
}

bool acp_agent_is_busy(const struct acp_agent *a)
{
	return a->busy;
}

int acp_agent_prompt(struct acp_agent *a, const char *cwd, const char *prompt)
{
	if (a->busy || a->state != AGENT_READY)
		return -1;
	turn_reset(a);
	a->busy = true;
	a->cwd = xstrdup(cwd);
	a->prompt = xstrdup(prompt);
	if (a->spare_cwd && !strcmp(a->spare_cwd, cwd)) {
		/* opened for this folder, never prompted: this turn's own,
		 * now or once it is ready */
		a->wait_spare = true;
		if (!a->spare_new_id && !a->spare_mode_id)
			spare_settled(a, true);
		return a->state == AGENT_DEAD ? -1 : 0;
	}
	/* one for another folder is not used (the agent keeps it idle) */
	drop_spare(a);
	open_session(a);
	return a->state == AGENT_DEAD ? -1 : 0;
}

/* Send the spare's session/new (a->spare_cwd is set). */
static void open_spare(struct acp_agent *a)
{
	a->spare_new_id = send_request(a, "session/new",
				       json_pack("{s:s,s:[]}", "cwd", a->spare_cwd, "mcpServers"));
	if (!a->spare_new_id)
		drop_spare(a);
}

void acp_agent_preopen(struct acp_agent *a, const char *cwd)
{
	if (a->state != AGENT_READY || a->stopping)
		return;
	if (a->spare_cwd) {
		/* the turn waits for this one: another after it */
		if (a->wait_spare && !a->next_spare_cwd)
			a->next_spare_cwd = xstrdup(cwd);
		return;
	}
	a->spare_cwd = xstrdup(cwd);
	/* not before the turn's own prompt has gone: that comes first */
	if (a->busy && !a->prompt_id)
		return;
	open_spare(a);
}

static void on_cancel_grace(uv_timer_t *timer)
{
	struct acp_agent *a = timer->data;

	if (!a->busy)
		return;
	log_event(a, "the agent did not end its turn after session/cancel; squad kills it");
	a->killed = true;
	die(a, "killed after session/cancel went unheeded");
}

void acp_agent_cancel(struct acp_agent *a, unsigned grace_ms)
{
	if (!a->busy || a->state == AGENT_DEAD)
		return;
	if (a->session)
		send_notification(a, "session/cancel", json_pack("{s:s}", "sessionId", a->session));
	if (a->detached)
		return;
	uv_timer_stop(&a->timer);
	uv_timer_start(&a->timer, on_cancel_grace, grace_ms, 0);
}

void acp_agent_stop(struct acp_agent *a)
{
	if (a->stopping)
		return;
	a->stopping = true;
	if (a->busy)
		a->killed = true;
	die(a, a->busy ? "squad stopped it" : NULL);
}

/* Exit status known and output read to its end (or given up on): the
 * turn in flight ends, the handles close. */
static void finish_death(struct acp_agent *a)
{
	struct strbuf why = STRBUF_INIT;

	if (a->state != AGENT_DEAD) {
		if (a->term_signal)
			strbuf_addf(&why, "it was killed by signal %d (%s)", a->term_signal,
				    strsignal(a->term_signal));
		else
			strbuf_addf(&why, "it exited with code %d", a->exit_code);
		die(a, why.buf);
	}
	end_turn(a, ACP_END_DIED, NULL, a->why_dead.buf);
	uv_timer_stop(&a->timer);
	close_handle((uv_handle_t *)&a->timer);
	close_handle((uv_handle_t *)&a->in);
	close_handle((uv_handle_t *)&a->out);
	close_handle((uv_handle_t *)&a->err);
	strbuf_release(&why);
}

static void on_eof_grace(uv_timer_t *timer)
{
	/* something outside its group holds its output open */
	finish_death(timer->data);
}

void acp_agent_exited(struct acp_agent *a, int exit_code, int term_signal)
{
	/* the group goes with its leader: nothing it started outlives it */
	kill_group(a, SIGKILL);
	a->exit_code = term_signal ? -1 : exit_code;
	a->term_signal = term_signal;
	a->exited = true;
	if (a->detached)
		return;
	/* what it wrote last (an answer, then exit) is read before its
	 * death is judged: EOF comes now that the group is gone */
	if (a->out_eof) {
		finish_death(a);
	} else {
		uv_timer_stop(&a->timer);
		uv_timer_start(&a->timer, on_eof_grace, ACP_KILL_GRACE_MS, 0);
	}
}

/* --- detached agents (tests, fuzzing) -------------------------------- */

struct acp_agent *acp_agent_new_detached(const struct acp_callbacks *cb)
{
	struct acp_agent *a = agent_new(cb);

	a->detached = true;
	send_initialize(a);
	return a;
}

void acp_agent_feed(struct acp_agent *a, const char *data, size_t len)
{
	feed(a, data, len);
}

const char *acp_agent_sent(const struct acp_agent *a)
{
	return a->sent.buf;
}

void acp_agent_free(struct acp_agent *a)
{
	free_agent(a);
}
