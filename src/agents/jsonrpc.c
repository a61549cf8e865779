/* jsonrpc.c - JSON-RPC 2.0 messages, one per line. See jsonrpc.h. */
#include "agents/jsonrpc.h"

#include <string.h>

#include "util/xalloc.h"

/* --- Lines ------------------------------------------------------------ */

void jsonrpc_reader_init(struct jsonrpc_reader *r, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->buf, 0);
	r->max_line = max_line;
}

void jsonrpc_reader_release(struct jsonrpc_reader *r)
{
	strbuf_release(&r->buf);
	free(r->drops);
	jsonrpc_reader_init(r, r->max_line);
}

/* Forget the lines already handed out. Only when bytes are fed, never
 * while a line handed out by jsonrpc_reader_next() may still be read. */
static void reader_compact(struct jsonrpc_reader *r)
{
	if (!r->start)
		return;
	size_t left = r->buf.len - r->start;
	memmove(r->buf.buf, r->buf.buf + r->start, left);
	strbuf_setlen(&r->buf, left);
	for (size_t i = 0; i < r->ndrops; i++)
		r->drops[i] -= r->start;
	r->start = 0;
}

/* Where the unfinished line (the bytes after the last newline) starts. */
static size_t unfinished_start(const struct jsonrpc_reader *r)
{
	size_t at = r->buf.len;
	while (at > r->start && r->buf.buf[at - 1] != '\n')
		at--;
	return at;
}

void jsonrpc_reader_feed(struct jsonrpc_reader *r, const char *data, size_t len)
{
	reader_compact(r);
	while (len) {
		if (r->dropping) {
			/* inside a line too long to keep: skip to its end, and
			 * mark its place among the lines */
			const char *nl = memchr(data, '\n', len);
			if (!nl)
				return;
			r->dropping = false;
			ALLOC_GROW(r->drops, r->ndrops + 1, r->drops_alloc);
			r->drops[r->ndrops++] = r->buf.len;
			len -= (size_t)(nl + 1 - data);
			data = nl + 1;
			continue;
		}
		/* take up to one newline, and no more of a line than can
		 * show it is too long */
		size_t line = r->buf.len - unfinished_start(r);
		size_t room = r->max_line + 1 - line;
		size_t take = len < room ? len : room;
		const char *nl = memchr(data, '\n', take);
		if (nl)
			take = (size_t)(nl + 1 - data);
		strbuf_add(&r->buf, data, take);
		data += take;
		len -= take;
		if (!nl && line + take > r->max_line) {
			size_t at = unfinished_start(r);
			strbuf_setlen(&r->buf, at);
			if (r->scanned > at - r->start)
				r->scanned = at - r->start;
			r->dropping = true;
		}
	}
}

int jsonrpc_reader_next(struct jsonrpc_reader *r, const char **line, size_t *len)
{
	if (r->ndrops && r->drops[0] == r->start) {
		memmove(r->drops, r->drops + 1, --r->ndrops * sizeof(*r->drops));
		return -1;
	}
	const char *from = r->buf.buf + r->start + r->scanned;
	size_t avail = r->buf.len - r->start - r->scanned;
	const char *nl = avail ? memchr(from, '\n', avail) : NULL;
	if (!nl) {
		r->scanned = r->buf.len - r->start;
		return 0;
	}
	*line = r->buf.buf + r->start;
	*len = (size_t)(nl - *line);
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	r->start = (size_t)(nl + 1 - r->buf.buf);
	r->scanned = 0;
	return 1;
}

size_t jsonrpc_reader_pending(const struct jsonrpc_reader *r)
{
	return r->buf.len - r->start;
}

/* --- Messages --------------------------------------------------------- */

static bool id_usable(const json_t *id)
{
	return id && (json_is_string(id) || json_is_integer(id));
}

bool jsonrpc_id_is(const json_t *id, long long want)
{
	return id && json_is_integer(id) && json_integer_value(id) == want;
}

static int invalid(struct jsonrpc_message *msg, struct strbuf *err, const char *why)
{
	strbuf_addstr(err, why);
	msg->method = NULL;
	msg->params = msg->result = msg->error_data = NULL;
	if (!id_usable(msg->id))
		msg->id = NULL;
	return JSONRPC_INVALID_REQUEST;
}

int jsonrpc_parse(const char *line, size_t len, struct jsonrpc_message *msg,
		  struct strbuf *err)
{
	memset(msg, 0, sizeof(*msg));
	msg->error_message = "";
	json_error_t jerr;
	/* JSON_REJECT_DUPLICATES: a message whose "id" or "method" reads
	 * two ways is refused, not taken by whichever came last */
	msg->doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!msg->doc) {
		strbuf_addf(err, "not JSON: %s (column %d)", jerr.text, jerr.column);
		return JSONRPC_PARSE_ERROR;
	}
	if (!json_is_object(msg->doc))
		return invalid(msg, err, "not a JSON-RPC message: not an object");

	json_t *version = json_object_get(msg->doc, "jsonrpc");
	msg->id = json_object_get(msg->doc, "id");
	json_t *method = json_object_get(msg->doc, "method");
	json_t *params = json_object_get(msg->doc, "params");
	json_t *result = json_object_get(msg->doc, "result");
	json_t *error = json_object_get(msg->doc, "error");

	if (!json_is_string(version) || strcmp(json_string_value(version), "2.0"))
		return invalid(msg, err, "not a JSON-RPC 2.0 message: \"jsonrpc\" is not \"2.0\"");
	if (msg->id && !json_is_null(msg->id) && !id_usable(msg->id))
		return invalid(msg, err, "\"id\" is neither a string nor an integer");

	if (method) {
		if (!json_is_string(method))
			return invalid(msg, err, "\"method\" is not a string");
		if (result || error)
			return invalid(msg, err, "a request with \"result\" or \"error\"");
		if (params && !json_is_object(params) && !json_is_array(params))
			return invalid(msg, err, "\"params\" is neither an object nor an array");
		if (msg->id && json_is_null(msg->id))
			return invalid(msg, err, "a request with a null \"id\"");
		msg->method = json_string_value(method);
		msg->params = params;
		msg->kind = msg->id ? JSONRPC_REQUEST : JSONRPC_NOTIFICATION;
		return 0;
	}
	if (!msg->id)
		return invalid(msg, err, "neither a request (no \"method\") nor a response (no \"id\")");
	if (result && error)
		return invalid(msg, err, "a response with both \"result\" and \"error\"");
	if (result) {
		if (json_is_null(msg->id))
			return invalid(msg, err, "a result with a null \"id\"");
		msg->kind = JSONRPC_RESULT;
		msg->result = result;
		return 0;
	}
	if (!error)
		return invalid(msg, err, "a response with neither \"result\" nor \"error\"");
	json_t *code = json_object_get(error, "code");
	json_t *message = json_object_get(error, "message");
	if (!json_is_object(error) || !json_is_integer(code))
		return invalid(msg, err, "an error response whose \"error\" has no integer \"code\"");
	msg->kind = JSONRPC_ERROR;
	msg->error_code = (long)json_integer_value(code);
	if (json_is_string(message))
		msg->error_message = json_string_value(message);
	msg->error_data = json_object_get(error, "data");
	if (json_is_null(msg->id))
		msg->id = NULL;
	return 0;
}

void jsonrpc_message_release(struct jsonrpc_message *msg)
{
	json_decref(msg->doc);
	memset(msg, 0, sizeof(*msg));
	msg->error_message = "";
}

/* --- Writing ---------------------------------------------------------- */

/* Append `doc` (stolen) as one line. JSON_COMPACT escapes every control
 * character in strings, so the only raw newline is the one added. */
static int write_line(struct strbuf *out, json_t *doc)
{
	if (!doc)
		return -1;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return -1;
	strbuf_addstr(out, text);
	strbuf_addch(out, '\n');
	free(text);
	return 0;
}

/* A fresh message object: {"jsonrpc":"2.0"}. */
static json_t *message(void)
{
	return json_pack("{s:s}", "jsonrpc", "2.0");
}

/* Set key to a stolen value; a NULL value (a failed json_pack by the
 * caller, say) fails the whole message. */
static int set_new(json_t *doc, const char *key, json_t *value)
{
	return value ? json_object_set_new(doc, key, value) : -1;
}

int jsonrpc_write_request(struct strbuf *out, long long id, const char *method,
			  json_t *params)
{
	json_t *doc = message();
	json_object_set_new(doc, "id", json_integer(id));
	if (set_new(doc, "method", json_string(method)) ||
	    (params && json_object_set_new(doc, "params", params))) {
		json_decref(doc);
		return -1;
	}
	return write_line(out, doc);
}

int jsonrpc_write_notification(struct strbuf *out, const char *method, json_t *params)
{
	json_t *doc = message();
	if (set_new(doc, "method", json_string(method)) ||
	    (params && json_object_set_new(doc, "params", params))) {
		json_decref(doc);
		return -1;
	}
	return write_line(out, doc);
}

int jsonrpc_write_result(struct strbuf *out, json_t *id, json_t *result)
{
	json_t *doc = message();
	json_object_set(doc, "id", id ? id : json_null());
	if (set_new(doc, "result", result ? result : json_null())) {
		json_decref(doc);
		return -1;
	}
	return write_line(out, doc);
}

int jsonrpc_write_error(struct strbuf *out, json_t *id, long code, const char *message_text,
			json_t *data)
{
	json_t *doc = message();
	json_object_set(doc, "id", id ? id : json_null());
	json_t *error = json_pack("{s:I,s:s}", "code", (json_int_t)code, "message",
				  message_text ? message_text : "");
	if (!error) {
		/* message_text was not UTF-8: say so rather than fail */
		error = json_pack("{s:I,s:s}", "code", (json_int_t)code, "message",
				  "(the message was not UTF-8)");
	}
	if (data && json_object_set_new(error, "data", data)) {
		json_decref(error);
		json_decref(doc);
		return -1;
	}
	json_object_set_new(doc, "error", error);
	return write_line(out, doc);
}
