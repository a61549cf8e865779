/* test_jsonrpc.c - the JSON-RPC line reader, parser and writers: lines
 * split however the bytes arrive, a too-long line dropped in its place
 * without being held, each kind of message sorted, every malformed
 * message refused with the right code, and what is written read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "agents/jsonrpc.h"

/* The next line as a string ("" when none: check the return too). */
static int next_line(struct jsonrpc_reader *r, char *out, size_t size)
{
	const char *line;
	size_t len;
	int got = jsonrpc_reader_next(r, &line, &len);

	out[0] = '\0';
	if (got == 1) {
		assert_true(len < size);
		memcpy(out, line, len);
		out[len] = '\0';
	}
	return got;
}

static void lines_split_at_newlines_however_fed(void **state)
{
	struct jsonrpc_reader r;
	char line[64];
	const char *stream = "{\"a\":1}\r\n{\"b\":2}\n\n{\"c\"";

	(void)state;
	jsonrpc_reader_init(&r, 1024);
	/* one byte at a time: the same lines as all at once */
	for (const char *p = stream; *p; p++)
		jsonrpc_reader_feed(&r, p, 1);
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "{\"a\":1}");
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "{\"b\":2}");
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "");
	assert_int_equal(next_line(&r, line, sizeof(line)), 0);
	assert_int_equal(jsonrpc_reader_pending(&r), 4);
	jsonrpc_reader_feed(&r, ":3}\n", 4);
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "{\"c\":3}");
	assert_int_equal(next_line(&r, line, sizeof(line)), 0);
	assert_int_equal(jsonrpc_reader_pending(&r), 0);
	jsonrpc_reader_release(&r);
}

static void a_too_long_line_is_dropped_in_its_place(void **state)
{
	struct jsonrpc_reader r;
	char line[64];
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	jsonrpc_reader_init(&r, 16);
	jsonrpc_reader_feed(&r, "first\n", 6);
	/* a line of 300 bytes, in pieces, never held whole */
	for (int i = 0; i < 3; i++) {
		jsonrpc_reader_feed(&r, big, sizeof(big));
		assert_true(jsonrpc_reader_pending(&r) <= 6 + 17);
	}
	jsonrpc_reader_feed(&r, "\nafter\n", 7);
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "first");
	assert_int_equal(next_line(&r, line, sizeof(line)), -1);
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "after");
	assert_int_equal(next_line(&r, line, sizeof(line)), 0);

	/* exactly max_line bytes is a line; one more is not */
	jsonrpc_reader_feed(&r, "0123456789abcdef\n0123456789abcdefg\nok\n", 38);
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "0123456789abcdef");
	assert_int_equal(next_line(&r, line, sizeof(line)), -1);
	assert_int_equal(next_line(&r, line, sizeof(line)), 1);
	assert_string_equal(line, "ok");
	jsonrpc_reader_release(&r);
}

static int parse(const char *text, struct jsonrpc_message *msg)
{
	struct strbuf err = STRBUF_INIT;
	int code = jsonrpc_parse(text, strlen(text), msg, &err);

	/* an error always says why; a message never does */
	assert_int_equal(code != 0, err.len != 0);
	strbuf_release(&err);
	return code;
}

static void messages_are_sorted_by_kind(void **state)
{
	struct jsonrpc_message m;

	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"session/new\",\"params\":{\"cwd\":\"/\"}}", &m), 0);
	assert_int_equal(m.kind, JSONRPC_REQUEST);
	assert_true(jsonrpc_id_is(m.id, 7));
	assert_string_equal(m.method, "session/new");
	assert_string_equal(json_string_value(json_object_get(m.params, "cwd")), "/");
	jsonrpc_message_release(&m);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"session/update\"}", &m), 0);
	assert_int_equal(m.kind, JSONRPC_NOTIFICATION);
	assert_null(m.id);
	assert_null(m.params);
	jsonrpc_message_release(&m);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"result\":null}", &m), 0);
	assert_int_equal(m.kind, JSONRPC_RESULT);
	assert_string_equal(json_string_value(m.id), "s-1");
	assert_false(jsonrpc_id_is(m.id, 1));
	assert_true(json_is_null(m.result));
	jsonrpc_message_release(&m);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"no\",\"data\":[1]}}", &m), 0);
	assert_int_equal(m.kind, JSONRPC_ERROR);
	assert_int_equal(m.error_code, JSONRPC_METHOD_NOT_FOUND);
	assert_string_equal(m.error_message, "no");
	assert_true(json_is_array(m.error_data));
	jsonrpc_message_release(&m);

	/* an error about a message the peer could not read has a null id */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700}}", &m), 0);
	assert_int_equal(m.kind, JSONRPC_ERROR);
	assert_null(m.id);
	assert_string_equal(m.error_message, "");
	jsonrpc_message_release(&m);
}

static void malformed_messages_are_refused(void **state)
{
	static const char *const invalid[] = {
		"[]",
		"\"2.0\"",
		"{\"id\":1,\"method\":\"m\"}",
		"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":3}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":\"x\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\"}",
		"{\"jsonrpc\":\"2.0\",\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{\"code\":1}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"no code\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"text\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}",
	};
	struct jsonrpc_message m;

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		assert_int_equal(parse(invalid[i], &m), JSONRPC_INVALID_REQUEST);
		jsonrpc_message_release(&m);
	}
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",", &m), JSONRPC_PARSE_ERROR);
	assert_null(m.doc);
	jsonrpc_message_release(&m);
	assert_int_equal(parse("{} {}", &m), JSONRPC_PARSE_ERROR);
	jsonrpc_message_release(&m);
	/* an id that reads two ways is not taken either way */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"result\":1}", &m),
			 JSONRPC_PARSE_ERROR);
	jsonrpc_message_release(&m);

	/* an invalid request keeps its id, for the error response owed */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"m\",\"params\":1}", &m),
			 JSONRPC_INVALID_REQUEST);
	assert_true(jsonrpc_id_is(m.id, 9));
	assert_null(m.method);
	jsonrpc_message_release(&m);
}

static void what_is_written_reads_back(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct jsonrpc_reader r;
	struct jsonrpc_message m;
	const char *line;
	size_t len;
	struct strbuf err = STRBUF_INIT;
	json_t *id = json_string("a\nb");

	(void)state;
	assert_int_equal(jsonrpc_write_request(&out, 42, "session/prompt",
					       json_pack("{s:s}", "text", "two\nlines")), 0);
	assert_int_equal(jsonrpc_write_notification(&out, "session/cancel", NULL), 0);
	assert_int_equal(jsonrpc_write_result(&out, id, json_pack("{s:b}", "ok", 1)), 0);
	assert_int_equal(jsonrpc_write_error(&out, NULL, JSONRPC_PARSE_ERROR, "bad", NULL), 0);
	/* a value that is not JSON fails, and writes nothing */
	size_t before = out.len;
	assert_int_equal(jsonrpc_write_result(&out, id, NULL), 0);
	assert_int_equal(jsonrpc_write_request(&out, 1, "\xff", NULL), -1);
	assert_int_equal(out.len, before + strlen("{\"jsonrpc\":\"2.0\",\"id\":\"a\\nb\",\"result\":null}\n"));

	jsonrpc_reader_init(&r, 1 << 20);
	jsonrpc_reader_feed(&r, out.buf, out.len);
	static const enum jsonrpc_kind kinds[] = {
		JSONRPC_REQUEST, JSONRPC_NOTIFICATION, JSONRPC_RESULT, JSONRPC_ERROR, JSONRPC_RESULT,
	};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(jsonrpc_reader_next(&r, &line, &len), 1);
		assert_int_equal(jsonrpc_parse(line, len, &m, &err), 0);
		assert_int_equal(m.kind, kinds[i]);
		if (i == 0) {
			assert_true(jsonrpc_id_is(m.id, 42));
			assert_string_equal(json_string_value(json_object_get(m.params, "text")),
					    "two\nlines");
		}
		if (i == 2)
			assert_string_equal(json_string_value(m.id), "a\nb");
		if (i == 3)
			assert_int_equal(m.error_code, JSONRPC_PARSE_ERROR);
		jsonrpc_message_release(&m);
	}
	assert_int_equal(jsonrpc_reader_next(&r, &line, &len), 0);
	assert_int_equal(err.len, 0);
	json_decref(id);
	jsonrpc_reader_release(&r);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_split_at_newlines_however_fed),
		cmocka_unit_test(a_too_long_line_is_dropped_in_its_place),
		cmocka_unit_test(messages_are_sorted_by_kind),
		cmocka_unit_test(malformed_messages_are_refused),
		cmocka_unit_test(what_is_written_reads_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
