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
 * Most inputs are read from memory, as the files' contents:
 * state_parse() (what state_load() does with the file), given a buffer
 * of the journal's exact size so that a read past its end is reported;
 * state_get() of every record (the index must find each one);
 * state_format() (what state_compact() writes) and a second
 * state_parse() of it that must give back the same records; state_put()
 * of a done mark (what handoff_done() records); handoff_show_manifest()
 * as text and as JSON.
 *
 * Inputs whose flags have all the F_FILES bits (one in eight) go through
 * the files instead, in a scratch folder, as `squad done` and `squad
 * handoff` do: state_open(), state_lock(), state_load(), state_get() of
 * every record, state_compact() and a second load that must give back
 * the same records, handoff_show() as text and as JSON, and
 * handoff_done(). Files cost system calls: reading from memory is what
 * makes this harness fast, the files keep their own code covered.
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
#include "report/handoff.h"
#include "files/state.h"
#include "util/strbuf.h"

enum {
	F_CRC = 1 << 0,         /* prefix journal lines with their CRC32 */
	F_FAILED = 1 << 1,      /* squad done --failed */
	F_NO_MANIFEST = 1 << 2, /* no .squad/handoff.json */
	F_NO_NOTE = 1 << 3,     /* no --note */
	F_FILES = 7 << 5,       /* all three bits: through the files, not memory */
};

/* The journal's checksum: CRC-32 (IEEE), computed bit by bit, apart
 * from state.c's table so that one checks the other. Not instrumented:
 * it is the harness's arithmetic, not code under test, and coverage
 * callbacks for its inner loop cost more than the rest of an input. */
__attribute__((no_sanitize("coverage")))
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

/* Every record of `st` is found by its name. */
static void check_index(const struct state *st)
{
	for (size_t i = 0; i < st->nr; i++)
		if (state_get(st, st->records[i].task) != &st->records[i])
			fail("state_get does not find a record", st->records[i].task);
}

/* state_parse() of `text` copied to a buffer of its exact size, with no
 * NUL after it: a read past the end is an AddressSanitizer report. */
static int parse_exact(struct state *st, const struct strbuf *text, const char *path,
		       struct strbuf *err)
{
	char *copy = malloc(text->len ? text->len : 1);
	int ret;

	if (!copy)
		abort();
	memcpy(copy, text->buf, text->len);
	ret = state_parse(st, copy, text->len, path, err);
	free(copy);
	return ret;
}

/* `again`, read back from the compacted journal, holds what `st` holds. */
static void check_same(const struct state *st, const struct state *again)
{
	if (again->nr != st->nr)
		fail("the compacted journal has another number of records", "");
	for (size_t i = 0; i < st->nr; i++) {
		const struct task_record *a = &st->records[i];
		const struct task_record *b = state_get(again, a->task);

		if (!b)
			fail("a record is lost by compaction", a->task);
		if (a->status != b->status || a->exit_code != b->exit_code ||
		    a->duration_ms != b->duration_ms || a->finished != b->finished ||
		    a->attempts != b->attempts || !same_string(a->fingerprint, b->fingerprint) ||
		    !same_string(a->summary, b->summary) || !same_string(a->answer, b->answer) ||
		    !same_string(a->note, b->note))
			fail("a record changes in compaction", a->task);
	}
}

/* A second reader of the compacted journal must see what `st` holds. */
static void check_reload(const struct state *st, const char *root)
{
	struct state again;
	struct strbuf err = STRBUF_INIT;

	if (state_open(&again, root, &err) < 0 || state_load(&again, &err) < 0)
		fail("the compacted journal does not load", err.buf);
	check_same(st, &again);
	state_close(&again);
	strbuf_release(&err);
}

/* The same in memory: what state_compact() would write, read back. */
static void check_reparse(const struct state *st, const char *path)
{
	struct state again;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;

	state_format(st, &text);
	state_init(&again);
	if (parse_exact(&again, &text, path, &err) < 0)
		fail("the compacted journal does not parse", err.buf);
	check_same(st, &again);
	state_close(&again);
	strbuf_release(&text);
	strbuf_release(&err);
}

struct paths {
	char root[4200], squad_dir[4300], state[4400], manifest[4400];
};

/* The input read from memory; see the top of the file. */
static void from_memory(unsigned flags, const char *task, const char *note,
			const char *manifest, const struct strbuf *journal)
{
	static const char state_path[] = ".squad/state", manifest_path[] = ".squad/handoff.json";
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct state st;

	state_init(&st);
	if (parse_exact(&st, journal, state_path, &err) == 0) {
		check_index(&st);
		state_get(&st, task);
		if (manifest && !(flags & F_NO_MANIFEST)) {
			handoff_show_manifest(manifest_path, manifest, strlen(manifest), false,
					      &out, &err);
			strbuf_reset(&out);
			strbuf_reset(&err);
			handoff_show_manifest(manifest_path, manifest, strlen(manifest), true,
					      &out, &err);
		}
		/* the done mark handoff_done() records, for a name that can
		 * be in a manifest (JSON: valid UTF-8) */
		{
			struct task_record rec = { 0 };
			const struct task_record *got;
			char *name = strdup(task);

			utf8_sanitize(name, strlen(name));
			/* the round trip after the put covers every record
			 * but the one it replaces: check that one before */
			if (state_get(&st, name))
				check_reparse(&st, state_path);
			rec.task = name;
			rec.status = flags & F_FAILED ? RECORD_DONE_FAILED : RECORD_DONE;
			rec.exit_code = flags & F_FAILED ? 1 : 0;
			rec.fingerprint = "";
			rec.note = (char *)note;
			if (state_put(&st, &rec, &err) < 0)
				fail("state_put fails without a file", err.buf);
			got = state_get(&st, name);
			if (!got || got->status != rec.status || !same_string(got->note, note))
				fail("state_put did not record the task", name);
			check_index(&st);
			check_reparse(&st, state_path);
			free(name);
		}
	}
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&out);
}

/* The input written to files and read as squad does; see the top. */
static void through_files(const struct paths *p, unsigned flags, const char *task,
			  const char *note, const char *manifest, const struct strbuf *journal)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct state st;

	fuzz_write_file(p->state, journal->buf, journal->len);
	if (manifest && !(flags & F_NO_MANIFEST))
		fuzz_write_file(p->manifest, manifest, strlen(manifest));
	else
		unlink(p->manifest);

	if (state_open(&st, p->root, &err) < 0 || state_lock(&st, false, &err) != 0)
		fail("cannot open the state", err.buf);
	if (state_load(&st, &err) == 0) {
		check_index(&st);
		state_get(&st, task);
		if (state_compact(&st, &err) < 0)
			fail("cannot compact", err.buf);
		check_reload(&st, p->root);

		handoff_show(p->squad_dir, false, &out, &err);
		strbuf_reset(&out);
		strbuf_reset(&err);
		handoff_show(p->squad_dir, true, &out, &err);
		strbuf_reset(&out);
		strbuf_reset(&err);
		if (handoff_done(&st, task, flags & F_FAILED, note, &err) == 0) {
			const struct task_record *rec = state_get(&st, task);

			if (!rec || rec->status != (flags & F_FAILED ? RECORD_DONE_FAILED : RECORD_DONE))
				fail("handoff_done did not record the task", task);
		}
	}
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct paths p;
	struct fuzz_parts fp;
	struct strbuf journal = STRBUF_INIT;
	unsigned flags;
	const char *task, *manifest;
	char *note = NULL;

	if (!size)
		return 0;
	flags = data[0];
	if ((flags & F_FILES) == F_FILES && !p.root[0]) {
		snprintf(p.root, sizeof(p.root), "%s/root", fuzz_dir());
		snprintf(p.squad_dir, sizeof(p.squad_dir), "%s/.squad", p.root);
		snprintf(p.state, sizeof(p.state), "%s/state", p.squad_dir);
		snprintf(p.manifest, sizeof(p.manifest), "%s/handoff.json", p.squad_dir);
		if ((mkdir(p.root, 0777) < 0 && errno != EEXIST) ||
		    (mkdir(p.squad_dir, 0777) < 0 && errno != EEXIST)) {
			perror(p.squad_dir);
			abort();
		}
	}
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
	if ((flags & F_FILES) == F_FILES)
		through_files(&p, flags, task, note, manifest, &journal);
	else
		from_memory(flags, task, note, manifest, &journal);
	free(note);
	strbuf_release(&journal);
	fuzz_parts_release(&fp);
	return 0;
}
