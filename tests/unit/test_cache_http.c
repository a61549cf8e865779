/* test_cache_http.c - cache_http.h against a scripted HTTP server on
 * 127.0.0.1 (a child process answering one request per connection):
 * the requests' method, path, team query, Bearer token, content type
 * and x-artifact-tag; hits, misses, refusals; and a server that is down
 * or hangs coming back as an error within the bound, never a stall.
 * (The real turborepo-remote-cache server is the e2e tests' part.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache_http.h"
#include "util/strbuf.h"

static int listener = -1;
static int port;
static pid_t child;
static char seen[300]; /* the requests the server read, one file */

static int listen_any(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	return fd;
}

/* Serve `answer` to one connection after reading the request whole
 * (headers, then Content-Length bytes) into `seen`; with answer NULL,
 * accept and never answer. */
static void serve(const char *answer)
{
	listener = listen_any();
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd = accept(listener, NULL, NULL);
		struct strbuf req = STRBUF_INIT;
		char buf[4096];
		ssize_t n;
		FILE *f;

		if (!answer)
			for (;;)
				pause();
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			char *end, *cl;

			strbuf_add(&req, buf, (size_t)n);
			end = strstr(req.buf, "\r\n\r\n");
			if (!end)
				continue;
			cl = strcasestr(req.buf, "content-length:");
			if (!cl || cl > end || req.len >= (size_t)(end + 4 - req.buf) + strtoul(cl + 15, NULL, 10))
				break;
		}
		f = fopen(seen, "w");
		fwrite(req.buf, 1, req.len, f);
		fclose(f);
		(void)!write(fd, answer, strlen(answer));
		close(fd);
		_exit(0);
	}
	close(listener);
}

static void stop(void)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

static void request_seen(struct strbuf *req)
{
	waitpid(child, NULL, 0);
	strbuf_reset(req);
	assert_int_equal(strbuf_read_file(req, seen), 0);
}

static struct cache_remote remote(char *url, size_t size)
{
	struct cache_remote r = { url, "s3cr3t-token", "team_a", NULL, 2000, 5000 };

	snprintf(url, size, "http://127.0.0.1:%d", port);
	return r;
}

static void test_get_hit_with_tag(void **unused)
{
	char url[64], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT, req = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	serve("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-artifact-tag: dGFn\r\n"
	      "Connection: close\r\n\r\nbytes");
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_get(&r, "abc123", 0, &body, &tag, &err), CACHE_HTTP_HIT);
	assert_int_equal(body.len, 5);
	assert_memory_equal(body.buf, "bytes", 5);
	assert_string_equal(tag, "dGFn");
	request_seen(&req);
	assert_non_null(strstr(req.buf, "GET /v8/artifacts/abc123?teamId=team_a HTTP/1.1\r\n"));
	assert_non_null(strstr(req.buf, "Authorization: Bearer s3cr3t-token\r\n"));
	free(tag);
	strbuf_release(&body);
	strbuf_release(&err);
	strbuf_release(&req);
}

static void test_get_miss(void **unused)
{
	char url[64], *tag = (char *)"x";
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	serve("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_get(&r, "abc123", 0, &body, &tag, &err), CACHE_HTTP_MISS);
	assert_null(tag);
	assert_int_equal(body.len, 0);
	waitpid(child, NULL, 0);
	strbuf_release(&body);
	strbuf_release(&err);
}

/* A refusal is an error that says the status and never the token. */
static void test_unauthorized_never_shows_token(void **unused)
{
	char url[64], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	serve("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_get(&r, "abc123", 0, &body, &tag, &err), CACHE_HTTP_ERROR);
	assert_non_null(strstr(err.buf, "401"));
	assert_null(strstr(err.buf, "s3cr3t"));
	waitpid(child, NULL, 0);
	strbuf_release(&body);
	strbuf_release(&err);
}

static void test_put_sends_body_and_headers(void **unused)
{
	char url[64];
	struct strbuf err = STRBUF_INIT, req = STRBUF_INIT;
	struct cache_remote r;
	char *at;

	(void)unused;
	serve("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
	r = remote(url, sizeof(url));
	r.team = NULL;
	r.slug = "my team";
	assert_int_equal(cache_http_put(&r, "abc123", "packed\0bytes", 12, "c2ln", 1500, &err),
			 CACHE_HTTP_HIT);
	request_seen(&req);
	assert_non_null(strstr(req.buf, "PUT /v8/artifacts/abc123?slug=my%20team HTTP/1.1\r\n"));
	assert_non_null(strstr(req.buf, "Content-Type: application/octet-stream\r\n"));
	assert_non_null(strstr(req.buf, "x-artifact-tag: c2ln\r\n"));
	assert_non_null(strstr(req.buf, "x-artifact-duration: 1500\r\n"));
	assert_non_null(strstr(req.buf, "Content-Length: 12\r\n"));
	at = strstr(req.buf, "\r\n\r\n");
	assert_non_null(at);
	assert_int_equal(req.len - (size_t)(at + 4 - req.buf), 12);
	assert_memory_equal(at + 4, "packed\0bytes", 12);
	strbuf_release(&err);
	strbuf_release(&req);
}

static void test_head(void **unused)
{
	char url[64];
	struct strbuf err = STRBUF_INIT, req = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	serve("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n");
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_head(&r, "abc123", &err), CACHE_HTTP_HIT);
	request_seen(&req);
	assert_non_null(strstr(req.buf, "HEAD /v8/artifacts/abc123?teamId=team_a HTTP/1.1\r\n"));
	strbuf_release(&err);
	strbuf_release(&req);
}

static void test_too_large_refused(void **unused)
{
	char url[64], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	serve("HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n01234567890123456789");
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_get(&r, "abc123", 10, &body, &tag, &err), CACHE_HTTP_ERROR);
	assert_non_null(strstr(err.buf, "larger"));
	assert_int_equal(body.len, 0);
	waitpid(child, NULL, 0);
	strbuf_release(&body);
	strbuf_release(&err);
}

/* Nothing listens: an error, not a stall. */
static void test_server_down(void **unused)
{
	char url[64], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_remote r;
	int fd = listen_any();

	(void)unused;
	close(fd); /* the port is free again: connections are refused */
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_get(&r, "abc123", 0, &body, &tag, &err), CACHE_HTTP_ERROR);
	assert_true(err.len > 0);
	assert_null(strstr(err.buf, "s3cr3t"));
	strbuf_release(&body);
	strbuf_release(&err);
}

/* A server that accepts and never answers: the total bound ends it. */
static void test_server_hangs(void **unused)
{
	char url[64], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	serve(NULL);
	r = remote(url, sizeof(url));
	r.total_ms = 300;
	assert_int_equal(cache_http_get(&r, "abc123", 0, &body, &tag, &err), CACHE_HTTP_ERROR);
	assert_non_null(strstr(err.buf, "imed out")); /* libcurl: "Operation timed out" */
	stop();
	strbuf_release(&body);
	strbuf_release(&err);
}

/* POST /v8/artifacts: the hashes as JSON, the answer read per hash. */
static void test_batch_query(void **unused)
{
	static const char answer[] = "{\"aa\":{\"size\":5,\"taskDurationMs\":1},\"bb\":null,"
				     "\"cc\":{\"error\":{\"message\":\"no\"}}}";
	const char *const hashes[] = { "aa", "bb", "cc", "dd" };
	char url[64], reply[512];
	bool have[4];
	struct strbuf err = STRBUF_INIT, req = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(answer), answer);
	serve(reply);
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_query(&r, hashes, 4, have, &err), CACHE_HTTP_HIT);
	assert_true(have[0]);
	assert_false(have[1]);
	assert_false(have[2]);
	assert_false(have[3]);
	request_seen(&req);
	assert_non_null(strstr(req.buf, "POST /v8/artifacts?teamId=team_a HTTP/1.1\r\n"));
	assert_non_null(strstr(req.buf, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(req.buf, "{\"hashes\":[\"aa\",\"bb\",\"cc\",\"dd\"]}"));
	/* a server without the batch query: the caller asks hash by hash */
	serve("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_query(&r, hashes, 4, have, &err), CACHE_HTTP_MISS);
	waitpid(child, NULL, 0);
	/* an answer that is not an object: an error, nothing there */
	assert_int_equal(cache_http_query_read("[1]", 3, hashes, 4, have), -1);
	assert_false(have[0]);
	assert_int_equal(cache_http_query_read("{\"dd\":{}}", 9, hashes, 4, have), 0);
	assert_true(have[3]);
	strbuf_release(&err);
	strbuf_release(&req);
}

/* Many GETs on the multi handle: each item its answer, the callback
 * once per item. (The scripted server answers one connection: the
 * second item meets a closed port, an error of its own.) */
static size_t calls;
static void count_call(void *data, size_t i)
{
	(void)data;
	(void)i;
	calls++;
}

static void test_many(void **unused)
{
	struct cache_http_item items[2];
	char url[64];
	struct cache_remote r;

	(void)unused;
	memset(items, 0, sizeof(items));
	items[0].hash = "aa";
	items[1].hash = "bb";
	for (int i = 0; i < 2; i++) {
		strbuf_init(&items[i].body, 0);
		strbuf_init(&items[i].err, 0);
	}
	serve("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nx-artifact-tag: dA==\r\n"
	      "Connection: close\r\n\r\nabc");
	r = remote(url, sizeof(url));
	calls = 0;
	/* one at a time: the first to the scripted server */
	assert_int_equal(cache_http_many(&r, true, items, 2, 1, 0, 0, count_call, NULL), 0);
	assert_int_equal(calls, 2);
	assert_true(items[0].done);
	assert_int_equal(items[0].res, CACHE_HTTP_HIT);
	assert_int_equal(items[0].body.len, 3);
	assert_string_equal(items[0].tag, "dA==");
	assert_true(items[1].done);
	assert_int_equal(items[1].res, CACHE_HTTP_ERROR);
	assert_true(items[1].err.len > 0);
	assert_null(strstr(items[1].err.buf, "s3cr3t-token"));
	waitpid(child, NULL, 0);
	cache_http_item_release(&items[0]);
	cache_http_item_release(&items[1]);
}

static void test_bad_hash_refused(void **unused)
{
	char url[64], *tag = NULL;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_remote r;

	(void)unused;
	port = 9;
	r = remote(url, sizeof(url));
	assert_int_equal(cache_http_get(&r, "../etc", 0, &body, &tag, &err), CACHE_HTTP_ERROR);
	assert_true(err.len > 0);
	strbuf_release(&body);
	strbuf_release(&err);
}

static int setup(void **unused)
{
	(void)unused;
	snprintf(seen, sizeof(seen), "%s/squad-cache-http-%d.req",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	return cache_http_init();
}

static int teardown(void **unused)
{
	(void)unused;
	unlink(seen);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_hit_with_tag),
		cmocka_unit_test(test_get_miss),
		cmocka_unit_test(test_unauthorized_never_shows_token),
		cmocka_unit_test(test_put_sends_body_and_headers),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_too_large_refused),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_server_hangs),
		cmocka_unit_test(test_bad_hash_refused),
		cmocka_unit_test(test_batch_query),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
