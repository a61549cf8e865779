/* fuzz_state.c - the state journal reader and the manifest reader.
 *
 * The input: byte 0 holds flags, the rest is cut at NUL bytes into
 *
 *   0  a task name, for handoff_done()
 *   1  the tactician's note
 *   2  .squad/handoff.json, byte for byte (absent with F_NO_MANIFEST)
 *   3  .squad/state, the rest of the input (NULs included)
 *
 * With F_CRC, each journal line that does not start with '#' is written
 * as "CRC32HEX LINE" with its right checksum, so that mutations of the
 * JSON get past the checksum; without it the journal is written as it is.
 *
 * In a scratch folder it runs what `squad done` and `squad handoff` do:
 * state_open(), state_lock(), state_load(), state_get() of every record
 * (the index must find each one), state_compact() and a second load
 * that must give back the same records, handoff_show() as text and as
 * JSON, and handoff_done().
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "handoff.h"
#include "state.h"
#include "util/strbuf.h"

enum {
	F_CRC = 1 << 0,         /* prefix journal lines with their CRC32 */
	F_FAILED = 1 << 1,      /* squad done --failed */
	F_NO_MANIFEST = 1 << 2, /* no .squad/handoff.json */
	F_NO_NOTE = 1 << 3,     /* no --note */
};

/* The journal's checksum: CRC-32 (IEEE), as state.c computes it. */
static uint32_t crc32_of(const char *data, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= (unsigned char)data[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return crc ^ 0xffffffffu;
}

static void journal_with_crcs(struct strbuf *out, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);

		if (*text != '#')
			strbuf_addf(out, "%08x ", crc32_of(text, n));
		strbuf_add(out, text, n);
		if (nl)
			strbuf_addch(out, '\n');
		text += n + (nl != NULL);
	}
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_state: %s: '%s'\n", what, detail ? detail : "(null)");
	abort();
}

/* A second reader of the compacted journal must see what `st` holds. */
static void check_reload(const struct state *st, const char *root)
{
	struct state again;
	struct strbuf err = STRBUF_INIT;

	if (state_open(&again, root, &err) < 0 || state_load(&again, &err) < 0)
		fail("the compacted journal does not load", err.buf);
	if (again.nr != st->nr)
		fail("the compacted journal has another number of records", "");
	for (size_t i = 0; i < st->nr; i++) {
		const struct task_record *a = &st->records[i];
		const struct task_record *b = state_get(&again, a->task);

		if (!b)
			fail("a record is lost by compaction", a->task);
		if (a->status != b->status || a->exit_code != b->exit_code ||
		    a->duration_ms != b->duration_ms || a->finished != b->finished ||
		    a->attempts != b->attempts || !same_string(a->fingerprint, b->fingerprint) ||
		    !same_string(a->summary, b->summary) || !same_string(a->answer, b->answer) ||
		    !same_string(a->note, b->note))
			fail("a record changes in compaction", a->task);
	}
	state_close(&again);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char root[4200], squad_dir[4300], state_path[4400], manifest_path[4400];
	struct fuzz_parts fp;
	struct strbuf journal = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT;
	struct state st;
	unsigned flags;
	const char *task, *manifest;
	char *note = NULL;

	if (!root[0]) {
		snprintf(root, sizeof(root), "%s/root", fuzz_dir());
		snprintf(squad_dir, sizeof(squad_dir), "%s/.squad", root);
		snprintf(state_path, sizeof(state_path), "%s/state", squad_dir);
		snprintf(manifest_path, sizeof(manifest_path), "%s/handoff.json", squad_dir);
		if ((mkdir(root, 0777) < 0 && errno != EEXIST) ||
		    (mkdir(squad_dir, 0777) < 0 && errno != EEXIST)) {
			perror(squad_dir);
			abort();
		}
	}
	if (!size)
		return 0;
	flags = data[0];
	fuzz_parts_split(&fp, data + 1, size - 1, 4);
	task = fuzz_part(&fp, 0, "");
	if (!(flags & F_NO_NOTE)) {
		note = strdup(fuzz_part(&fp, 1, ""));
		utf8_sanitize(note, strlen(note)); /* as main does with --note */
	}
	manifest = fuzz_part(&fp, 2, NULL);
	if (fp.nr > 3) {
		if (flags & F_CRC)
			journal_with_crcs(&journal, fp.part[3], fp.len[3]);
		else
			strbuf_add(&journal, fp.part[3], fp.len[3]);
	}
	fuzz_write_file(state_path, journal.buf, journal.len);
	if (manifest && !(flags & F_NO_MANIFEST))
		fuzz_write_file(manifest_path, manifest, strlen(manifest));
	else
		unlink(manifest_path);

	if (state_open(&st, root, &err) < 0 || state_lock(&st, false, &err) != 0)
		fail("cannot open the state", err.buf);
	if (state_load(&st, &err) == 0) {
		for (size_t i = 0; i < st.nr; i++)
			if (state_get(&st, st.records[i].task) != &st.records[i])
				fail("state_get does not find a record", st.records[i].task);
		state_get(&st, task);
		if (state_compact(&st, &err) < 0)
			fail("cannot compact", err.buf);
		check_reload(&st, root);

		handoff_show(squad_dir, false, &out, &err);
		strbuf_reset(&out);
		strbuf_reset(&err);
		handoff_show(squad_dir, true, &out, &err);
		strbuf_reset(&out);
		strbuf_reset(&err);
		if (handoff_done(&st, task, flags & F_FAILED, note, &err) == 0) {
			const struct task_record *rec = state_get(&st, task);

			if (!rec || rec->status != (flags & F_FAILED ? RECORD_DONE_FAILED : RECORD_DONE))
				fail("handoff_done did not record the task", task);
		}
	}
	state_close(&st);
	free(note);
	strbuf_release(&journal);
	strbuf_release(&err);
	strbuf_release(&out);
	fuzz_parts_release(&fp);
	return 0;
}
