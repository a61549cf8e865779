/* jsonrpc.h - JSON-RPC 2.0 messages, one per line.
 *
 * The framing both protocols squad speaks over a pipe use: the Agent
 * Client Protocol (squad the client, an agent CLI the server) and the
 * Model Context Protocol's stdio transport (squad the server, the
 * tactician the client). Each message is one line of compact JSON; a
 * newline inside a string is escaped, so a raw newline only ever ends a
 * message.
 *
 * Three parts, all pure (no I/O): a line splitter that bounds what a
 * peer can make squad hold, a parser that sorts a line into the four
 * kinds of message, and writers that append one message as a line.
 */
#ifndef SQUAD_JSONRPC_H
#define SQUAD_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "util/strbuf.h"

/* The error codes JSON-RPC 2.0 reserves. */
#define JSONRPC_PARSE_ERROR      -32700
#define JSONRPC_INVALID_REQUEST  -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS   -32602
#define JSONRPC_INTERNAL_ERROR   -32603

/* --- Lines ------------------------------------------------------------ */

/* Splits a byte stream into lines. A line longer than `max_line` bytes
 * is dropped (reported once, by jsonrpc_reader_next() returning -1) and
 * its bytes are not kept while the rest of it arrives, so a peer that
 * never sends a newline costs at most max_line bytes of memory. */
struct jsonrpc_reader {
	struct strbuf buf;
	size_t start;     /* where the next line begins in buf */
	size_t scanned;   /* bytes from start known to hold no newline */
	size_t max_line;
	bool dropping;    /* inside a too-long line: discard to its newline */
	size_t *drops;    /* where dropped lines were, as offsets in buf at
			   * line boundaries, oldest first: each is
			   * reported in its place in the stream */
	size_t ndrops, drops_alloc;
};

void jsonrpc_reader_init(struct jsonrpc_reader *r, size_t max_line);
void jsonrpc_reader_release(struct jsonrpc_reader *r);

/* Append bytes read from the peer. */
void jsonrpc_reader_feed(struct jsonrpc_reader *r, const char *data, size_t len);

/* The next complete line, without its newline (a trailing '\r' is cut
 * too): 1 with *line and *len set (valid until the next call to any
 * jsonrpc_reader function), 0 when no whole line is buffered, -1 when
 * a line was too long and was dropped (call again for the next). */
int jsonrpc_reader_next(struct jsonrpc_reader *r, const char **line, size_t *len);

/* Bytes of an unfinished line held (what is left at end of stream). */
size_t jsonrpc_reader_pending(const struct jsonrpc_reader *r);

/* --- Messages --------------------------------------------------------- */

enum jsonrpc_kind {
	JSONRPC_REQUEST,       /* method, params, id */
	JSONRPC_NOTIFICATION,  /* method, params; no id */
	JSONRPC_RESULT,        /* id, result */
	JSONRPC_ERROR,         /* id (JSON null when the peer could not tell), error_* */
};

/* One parsed message. `doc` is owned; the other pointers borrow from it
 * and live as long as the message. */
struct jsonrpc_message {
	enum jsonrpc_kind kind;
	json_t *doc;
	json_t *id;                /* a string or an integer; NULL for a notification */
	const char *method;        /* requests and notifications */
	json_t *params;            /* an object or an array, or NULL */
	json_t *result;            /* JSONRPC_RESULT: any value */
	long error_code;           /* JSONRPC_ERROR */
	const char *error_message; /* JSONRPC_ERROR, never NULL ("" when absent) */
	json_t *error_data;        /* JSONRPC_ERROR, or NULL */
};

/* Parse one line into msg. Returns 0, or a JSON-RPC error code
 * (JSONRPC_PARSE_ERROR: not JSON; JSONRPC_INVALID_REQUEST: JSON, but
 * not a JSON-RPC 2.0 message) with why in `err` (appended); then
 * msg->id is the message's id when it had a usable one (for the error
 * response a server owes), else NULL, and msg->doc must still be
 * released. A batch (a JSON array) is not accepted: neither ACP nor
 * MCP's stdio transport sends one. */
int jsonrpc_parse(const char *line, size_t len, struct jsonrpc_message *msg,
		  struct strbuf *err);

void jsonrpc_message_release(struct jsonrpc_message *msg);

/* Is `id` (a message's id) the integer `want`? */
bool jsonrpc_id_is(const json_t *id, long long want);

/* --- Writing ---------------------------------------------------------- */

/* Each appends one message as a line of compact JSON ending in '\n' to
 * out. `params`, `result` and `data` are stolen (NULL for none); `id`
 * is borrowed (NULL writes JSON null). Returns 0, or -1 when the value
 * cannot be written as JSON (out is then unchanged). */
int jsonrpc_write_request(struct strbuf *out, long long id, const char *method,
			  json_t *params);
int jsonrpc_write_notification(struct strbuf *out, const char *method, json_t *params);
int jsonrpc_write_result(struct strbuf *out, json_t *id, json_t *result);
int jsonrpc_write_error(struct strbuf *out, json_t *id, long code, const char *message,
			json_t *data);

#endif
