/* fuzz_jsonrpc.c - the JSON-RPC line reader and parser: what an agent
 * (ACP) or a client (MCP) sends squad.
 *
 * Byte 0 sets the reader's line bound (16 << (b0 & 7) bytes) and byte 1
 * the size of the pieces the rest is fed in (1 + b1), as a pipe might
 * cut it. Every line read is parsed. Besides crashes and leaks, it
 * checks what jsonrpc.h promises:
 *
 *  - the reader never holds more than an unfinished line's bound plus
 *    the whole lines not yet read, and hands out no line longer than
 *    the bound, none holding a newline;
 *  - a parse error always says why, and keeps only a usable id;
 *  - a message that parses, written back (a request as a request, a
 *    response to its id), parses again to the same kind, method and id.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/jsonrpc.h"
#include "util/strbuf.h"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_jsonrpc: %s\n", what);
	abort();
}

static void check_round_trip(const struct jsonrpc_message *m)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct jsonrpc_message back;
	int written;

	switch (m->kind) {
	case JSONRPC_REQUEST:
		if (!json_is_integer(m->id))
			return;
		written = jsonrpc_write_request(&out, json_integer_value(m->id), m->method,
						json_incref(m->params));
		break;
	case JSONRPC_NOTIFICATION:
		written = jsonrpc_write_notification(&out, m->method, json_incref(m->params));
		break;
	case JSONRPC_RESULT:
		written = jsonrpc_write_result(&out, m->id, json_incref(m->result));
		break;
	default:
		written = jsonrpc_write_error(&out, m->id, m->error_code, m->error_message,
					      json_incref(m->error_data));
		break;
	}
	if (written)
		fail("a message read could not be written back");
	if (!out.len || out.buf[out.len - 1] != '\n' || memchr(out.buf, '\n', out.len - 1))
		fail("a message was not written as one line");
	if (jsonrpc_parse(out.buf, out.len - 1, &back, &err))
		fail("a message written does not parse");
	if (back.kind != m->kind)
		fail("a message written back changed kind");
	if ((m->method || back.method) &&
	    (!m->method || !back.method || strcmp(m->method, back.method)))
		fail("a message written back changed method");
	if ((m->id == NULL) != (back.id == NULL) || (m->id && !json_equal(m->id, back.id)))
		fail("a message written back changed id");
	jsonrpc_message_release(&back);
	strbuf_release(&out);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonrpc_reader r;
	size_t max_line, piece;

	if (size < 2)
		return 0;
	max_line = (size_t)16 << (data[0] & 7);
	piece = 1 + (size_t)data[1];
	data += 2;
	size -= 2;

	jsonrpc_reader_init(&r, max_line);
	for (size_t off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		const char *line;
		size_t len;
		int got;

		jsonrpc_reader_feed(&r, (const char *)data + off, n);
		while ((got = jsonrpc_reader_next(&r, &line, &len)) != 0) {
			struct jsonrpc_message m;
			struct strbuf err = STRBUF_INIT;

			if (got < 0)
				continue;
			if (len > max_line)
				fail("a line longer than the bound");
			if (memchr(line, '\n', len))
				fail("a line holding a newline");
			int code = jsonrpc_parse(line, len, &m, &err);
			if (code) {
				if (!err.len)
					fail("a parse error without a reason");
				if (m.id && !json_is_string(m.id) && !json_is_integer(m.id))
					fail("an unusable id kept");
			} else {
				check_round_trip(&m);
			}
			jsonrpc_message_release(&m);
			strbuf_release(&err);
		}
		if (jsonrpc_reader_pending(&r) > max_line + 1)
			fail("more held than an unfinished line's bound");
	}
	jsonrpc_reader_release(&r);
	return 0;
}
