/* test_artifact.c - artifact.h: outputs packed and unpacked byte for
 * byte with their modes, folders and symbolic links; archives that try
 * to escape the folder (absolute names, "..", writing through a link,
 * hard links, devices) refused; sizes bounded. Hostile archives are
 * written with libarchive directly, as another program would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/artifact.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static char tmp[256];

static void mk(const char *fmt, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", tmp, fmt);
}

static void write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void read_file(const char *dir, const char *rel, struct strbuf *into)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	strbuf_reset(into);
	assert_int_equal(strbuf_read_file(into, path), 0);
}

static int setup(void **unused)
{
	(void)unused;
	snprintf(tmp, sizeof(tmp), "%s/squad-artifact-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **unused)
{
	char cmd[400];

	(void)unused;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

static void test_round_trip(void **unused)
{
	char src[300], dst[300], path[600], target[64];
	struct strvec outs = STRVEC_INIT;
	struct strbuf packed = STRBUF_INIT, meta = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf again = STRBUF_INIT;
	struct stat st;
	ssize_t n;

	(void)unused;
	mk("src", src, sizeof(src));
	mk("dst", dst, sizeof(dst));
	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(mkdir(dst, 0755), 0);
	snprintf(path, sizeof(path), "%s/out", src);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/out/sub", src);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(src, "out/run.sh", "#!/bin/sh\necho hi\n", 0755);
	write_file(src, "out/sub/data.txt", "data\n", 0600);
	write_file(src, "out/empty", "", 0644);
	write_file(src, "top.bin", "top", 0640);
	snprintf(path, sizeof(path), "%s/out/link", src);
	assert_int_equal(symlink("sub/data.txt", path), 0);
	strvec_push(&outs, "out");
	strvec_push(&outs, "top.bin");
	assert_int_equal(artifact_pack(src, &outs, "status=0\nlog\0bytes", 18, &packed, &err), 0);
	assert_true(packed.len > 4);
	/* zstd's magic number: the archive is compressed */
	assert_memory_equal(packed.buf, "\x28\xb5\x2f\xfd", 4);
	/* the same outputs pack to the same bytes (no times, no owners) */
	assert_int_equal(artifact_pack(src, &outs, "status=0\nlog\0bytes", 18, &again, &err), 0);
	assert_int_equal(again.len, packed.len);
	assert_memory_equal(again.buf, packed.buf, packed.len);

	if (artifact_unpack(packed.buf, packed.len, dst, 0, &meta, &err)) fail_msg("%s", err.buf);
	assert_int_equal(meta.len, 18);
	assert_memory_equal(meta.buf, "status=0\nlog\0bytes", 18);
	read_file(dst, "out/run.sh", &text);
	assert_string_equal(text.buf, "#!/bin/sh\necho hi\n");
	read_file(dst, "out/sub/data.txt", &text);
	assert_string_equal(text.buf, "data\n");
	read_file(dst, "out/empty", &text);
	assert_int_equal(text.len, 0);
	read_file(dst, "top.bin", &text);
	assert_string_equal(text.buf, "top");
	snprintf(path, sizeof(path), "%s/out/run.sh", dst);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/out/sub/data.txt", dst);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/top.bin", dst);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(path, sizeof(path), "%s/out/link", dst);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "sub/data.txt");
	/* unpacking again replaces what is there */
	write_file(dst, "top.bin", "changed", 0644);
	strbuf_reset(&meta);
	if (artifact_unpack(packed.buf, packed.len, dst, 0, &meta, &err)) fail_msg("%s", err.buf);
	read_file(dst, "top.bin", &text);
	assert_string_equal(text.buf, "top");
	/* a bound smaller than the content refuses it */
	strbuf_reset(&meta);
	assert_int_equal(artifact_unpack(packed.buf, packed.len, dst, 10, &meta, &err), -1);
	assert_non_null(strstr(err.buf, "larger"));
	strvec_clear(&outs);
	strbuf_release(&packed);
	strbuf_release(&again);
	strbuf_release(&meta);
	strbuf_release(&err);
	strbuf_release(&text);
}

static void test_pack_refuses_escaping_outputs(void **unused)
{
	const char *bad[] = { "/etc/passwd", "../x", "a/../../x", "./a", "a//b", "", "a/" };
	struct strbuf packed = STRBUF_INIT, err = STRBUF_INIT;

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct strvec outs = STRVEC_INIT;

		strvec_push(&outs, bad[i]);
		strbuf_reset(&err);
		assert_int_equal(artifact_pack(tmp, &outs, "", 0, &packed, &err), -1);
		assert_true(err.len > 0);
		strvec_clear(&outs);
	}
	assert_true(artifact_path_ok("a/b.c"));
	assert_true(artifact_path_ok("..a/b"));
	strbuf_release(&packed);
	strbuf_release(&err);
}

struct entry {
	const char *name;
	mode_t type;
	const char *data;     /* file content, link target */
	const char *hardlink;
};

static la_ssize_t to_buf(struct archive *a, void *sb, const void *buf, size_t len)
{
	(void)a;
	strbuf_add(sb, buf, len);
	return (la_ssize_t)len;
}

/* A tar.zst holding the metadata (when with_meta), then `entries`, as
 * any program could write it. */
static void hostile_meta(const struct entry *entries, size_t nr, bool with_meta,
			 struct strbuf *out)
{
	struct archive *a = archive_write_new();

	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	/* no zero padding after the zstd frame (tar's 10 KiB blocks) */
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, out, NULL, to_buf, NULL), ARCHIVE_OK);
	for (size_t i = with_meta ? 0 : 1; i <= nr; i++) {
		struct entry m = { ARTIFACT_META, AE_IFREG, "ok", NULL };
		const struct entry *x = i ? &entries[i - 1] : &m;
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, x->name);
		archive_entry_set_filetype(e, x->type);
		archive_entry_set_perm(e, 0644);
		if (x->hardlink)
			archive_entry_set_hardlink(e, x->hardlink);
		if (x->type == AE_IFLNK)
			archive_entry_set_symlink(e, x->data);
		if (x->type == AE_IFREG && !x->hardlink)
			archive_entry_set_size(e, (la_int64_t)strlen(x->data));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (x->type == AE_IFREG && !x->hardlink && *x->data)
			assert_true(archive_write_data(a, x->data, strlen(x->data)) > 0);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void hostile(const struct entry *entries, size_t nr, struct strbuf *out)
{
	hostile_meta(entries, nr, true, out);
}

static void expect_refused(const struct entry *entries, size_t nr, const char *dst)
{
	struct strbuf packed = STRBUF_INIT, meta = STRBUF_INIT, err = STRBUF_INIT;

	hostile(entries, nr, &packed);
	if (artifact_unpack(packed.buf, packed.len, dst, 0, &meta, &err) != -1)
		fail_msg("accepted: %s", entries[nr - 1].name);
	/* refused for what it holds, not as unreadable bytes */
	if (!strstr(err.buf, "refused") && !strstr(err.buf, "cannot restore"))
		fail_msg("%s", err.buf);
	strbuf_release(&packed);
	strbuf_release(&meta);
	strbuf_release(&err);
}

static void test_unpack_refuses_escapes(void **unused)
{
	char dst[300], outside[300], path[600];
	struct stat st;
	const struct entry abs[] = { { "/tmp/squad-artifact-abs", AE_IFREG, "x", NULL } };
	const struct entry dotdot[] = { { "../escaped", AE_IFREG, "x", NULL } };
	const struct entry inner[] = { { "a/../../escaped", AE_IFREG, "x", NULL } };
	const struct entry dot[] = { { "./a", AE_IFREG, "x", NULL } };
	struct entry through[] = { { "lnk", AE_IFLNK, NULL, NULL },
				   { "lnk/planted", AE_IFREG, "x", NULL } };
	const struct entry hard[] = { { "h", AE_IFREG, "", "/etc/passwd" } };
	const struct entry fifo[] = { { "p", AE_IFIFO, "", NULL } };
	const struct entry dev[] = { { "d", AE_IFCHR, "", NULL } };

	(void)unused;
	mk("dst2", dst, sizeof(dst));
	mk("outside", outside, sizeof(outside));
	assert_int_equal(mkdir(dst, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	through[0].data = outside;
	expect_refused(abs, 1, dst);
	assert_int_not_equal(stat("/tmp/squad-artifact-abs", &st), 0);
	expect_refused(dotdot, 1, dst);
	snprintf(path, sizeof(path), "%s/escaped", tmp);
	assert_int_not_equal(stat(path, &st), 0);
	expect_refused(inner, 1, dst);
	expect_refused(dot, 1, dst);
	expect_refused(through, 2, dst);
	snprintf(path, sizeof(path), "%s/planted", outside);
	assert_int_not_equal(stat(path, &st), 0);
	expect_refused(hard, 1, dst);
	expect_refused(fifo, 1, dst);
	expect_refused(dev, 1, dst);
}

static void test_unpack_refuses_garbage(void **unused)
{
	struct strbuf meta = STRBUF_INIT, err = STRBUF_INIT;
	static const char junk[] = "not an archive at all";

	(void)unused;
	assert_int_equal(artifact_unpack(junk, sizeof(junk), tmp, 0, &meta, &err), -1);
	assert_true(err.len > 0);
	strbuf_reset(&err);
	assert_int_equal(artifact_unpack("", 0, tmp, 0, &meta, &err), -1);
	assert_true(err.len > 0);
	strbuf_release(&meta);
	strbuf_release(&err);
}

/* An archive without the result entry is not a cached result. */
static void test_unpack_needs_meta(void **unused)
{
	struct strbuf packed = STRBUF_INIT, meta = STRBUF_INIT, err = STRBUF_INIT;
	const struct entry plain[] = { { "a", AE_IFREG, "x", NULL } };

	(void)unused;
	hostile_meta(plain, 1, false, &packed);
	assert_int_equal(artifact_unpack(packed.buf, packed.len, tmp, 0, &meta, &err), -1);
	if (!strstr(err.buf, "no result"))
		fail_msg("%s", err.buf);
	strbuf_release(&packed);
	strbuf_release(&meta);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_pack_refuses_escaping_outputs),
		cmocka_unit_test(test_unpack_refuses_escapes),
		cmocka_unit_test(test_unpack_refuses_garbage),
		cmocka_unit_test(test_unpack_needs_meta),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
