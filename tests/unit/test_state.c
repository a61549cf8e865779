/* test_state.c - the journal's lines, written and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/state.h"
#include "util/strbuf.h"

static char root[256];

static int setup(void **unused)
{
	(void)unused;
	snprintf(root, sizeof(root), "%s/squad-state-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **unused)
{
	char cmd[300];

	(void)unused;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void open_locked(struct state *st)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(state_open(st, root, &err), 0);
	assert_int_equal(state_lock(st, true, &err), 0);
	assert_int_equal(state_load(st, &err), 0);
	strbuf_release(&err);
}

/* Text that JSON must escape, non-ASCII up to 4-byte sequences, and a
 * field that is not UTF-8 at all: what was written comes back, the bad
 * field is left out, and the lines on disk are 7-bit. */
static void test_fields_round_trip(void **unused)
{
	static const char name[] = "t \"q\" \\ \t\x01 caf\xc3\xa9 \xe2\x80\xae \xf0\x9f\x9a\x80";
	struct task_record rec = {
		.task = (char *)name, .status = RECORD_OK, .exit_code = -7,
		.duration_ms = 123456789, .finished = 1764028800LL, .attempts = 3,
		.fingerprint = "abc", .summary = "line1\nline2",
		.answer = "bad \xc3\x28 utf8", .note = "\xed\xa0\x80 surrogate",
	};
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, path = STRBUF_INIT;
	const struct task_record *got;
	struct state st;

	(void)unused;
	open_locked(&st);
	assert_int_equal(state_put(&st, &rec, &err), 0);
	state_close(&st);

	strbuf_addf(&path, "%s/.squad/state", root);
	assert_int_equal(strbuf_read_file(&text, path.buf), 0);
	for (size_t i = 0; i < text.len; i++)
		assert_true((unsigned char)text.buf[i] < 0x80);

	open_locked(&st);
	got = state_get(&st, name);
	assert_non_null(got);
	assert_string_equal(got->task, name);
	assert_int_equal(got->status, RECORD_OK);
	assert_int_equal(got->exit_code, -7);
	assert_int_equal(got->duration_ms, 123456789);
	assert_true(got->finished == 1764028800LL);
	assert_int_equal(got->attempts, 3);
	assert_string_equal(got->fingerprint, "abc");
	assert_string_equal(got->summary, "line1\nline2");
	assert_null(got->answer);
	assert_null(got->note);

	/* compaction writes the same lines */
	assert_int_equal(state_compact(&st, &err), 0);
	state_close(&st);
	open_locked(&st);
	got = state_get(&st, name);
	assert_non_null(got);
	assert_string_equal(got->summary, "line1\nline2");
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&path);
}

/* A journal is rewritten when it is mostly stale, or unkempt (a torn
 * last line would swallow the next line appended), not after every run. */
static void test_compaction_when_worth_it(void **unused)
{
	struct task_record rec = { .task = "t", .status = RECORD_OK };
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct state st;
	FILE *f;

	(void)unused;
	open_locked(&st);
	assert_false(state_wants_compaction(&st));
	for (int i = 0; i < 50; i++)
		assert_int_equal(state_put(&st, &rec, &err), 0);
	state_close(&st);
	open_locked(&st);
	assert_false(state_wants_compaction(&st)); /* 49 stale lines: a few */
	for (int i = 0; i < 100; i++)
		assert_int_equal(state_put(&st, &rec, &err), 0);
	state_close(&st);
	open_locked(&st);
	assert_true(state_wants_compaction(&st));
	assert_int_equal(state_compact(&st, &err), 0);
	assert_false(state_wants_compaction(&st));
	state_close(&st);

	strbuf_addf(&path, "%s/.squad/state", root);
	f = fopen(path.buf, "a");
	assert_non_null(f);
	fputs("0000abcd {\"task\":\"torn", f);
	fclose(f);
	open_locked(&st);
	assert_true(state_wants_compaction(&st));
	assert_non_null(state_get(&st, "t"));
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&path);
}

/* A task's input list goes to .squad/inputs/ by way of a temp file in
 * .squad/ itself, which state_lock() clears after a kill -9: never one
 * in inputs/ (here, a folder in the old temp file's place would fail
 * the write). */
static void test_inputs_written_by_way_of_squad_folder(void **unused)
{
	struct strbuf err = STRBUF_INIT, list = STRBUF_INIT, path = STRBUF_INIT;
	struct dirent *de;
	struct state st;
	DIR *d;

	(void)unused;
	open_locked(&st);
	strbuf_addf(&path, "%s/.squad/inputs/t.txt.tmp.%ld", root, (long)getpid());
	assert_int_equal(mkdir(path.buf, 0755), 0);
	strbuf_addstr(&list, "src/a.c\t0123\n");
	assert_int_equal(state_save_inputs(&st, "t", &list, &err), 0);
	strbuf_reset(&list);
	assert_int_equal(state_load_inputs(&st, "t", &list), 0);
	assert_string_equal(list.buf, "src/a.c\t0123\n");
	/* and no temp file stays behind in .squad/ */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/.squad", root);
	d = opendir(path.buf);
	assert_non_null(d);
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".tmp."));
	closedir(d);
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&list);
	strbuf_release(&path);
}

/* An exec's folder (state_open_dir()) has no inputs/ until a list is
 * saved: the first save makes it, and the list reads back. */
static void test_inputs_folder_made_on_first_save(void **unused)
{
	struct strbuf err = STRBUF_INIT, list = STRBUF_INIT, path = STRBUF_INIT;
	struct stat sb;
	struct state st;

	(void)unused;
	strbuf_addf(&path, "%s/adhoc", root);
	assert_int_equal(state_open_dir(&st, path.buf, &err), 0);
	strbuf_addstr(&path, "/inputs");
	assert_int_equal(stat(path.buf, &sb), -1);
	assert_int_equal(state_load_inputs(&st, "t", &list), -1);
	strbuf_addstr(&list, "src/a.c\t0123\n");
	assert_int_equal(state_save_inputs(&st, "t", &list, &err), 0);
	assert_int_equal(stat(path.buf, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	strbuf_reset(&list);
	assert_int_equal(state_load_inputs(&st, "t", &list), 0);
	assert_string_equal(list.buf, "src/a.c\t0123\n");
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&list);
	strbuf_release(&path);
}

/* A log cut short is remembered: through the appended line, through
 * compaction, and absent where it was whole. */
static void test_log_cut_round_trip(void **unused)
{
	struct task_record cut = { .task = "cut", .status = RECORD_OK, .log_cut = true };
	struct task_record whole = { .task = "whole", .status = RECORD_OK };
	struct strbuf err = STRBUF_INIT;
	struct state st;

	(void)unused;
	open_locked(&st);
	assert_int_equal(state_put(&st, &cut, &err), 0);
	assert_int_equal(state_put(&st, &whole, &err), 0);
	state_close(&st);
	for (int round = 0; round < 2; round++) {
		open_locked(&st);
		assert_true(state_get(&st, "cut")->log_cut);
		assert_false(state_get(&st, "whole")->log_cut);
		if (!round)
			assert_int_equal(state_compact(&st, &err), 0);
		state_close(&st);
	}
	strbuf_release(&err);
}

/* An answer past STATE_MAX_TEXT is kept cut, whole characters, with a
 * line that says so. */
static void test_long_answer_cut(void **unused)
{
	struct strbuf err = STRBUF_INIT, answer = STRBUF_INIT;
	struct task_record rec = { .task = "t", .status = RECORD_OK };
	const struct task_record *got;
	struct state st;
	size_t len;

	(void)unused;
	for (size_t i = 0; i < 50000; i++)
		strbuf_addstr(&answer, "\xc3\xa9"); /* 100,000 bytes of 2-byte characters */
	rec.answer = answer.buf;
	open_locked(&st);
	assert_int_equal(state_put(&st, &rec, &err), 0);
	state_close(&st);
	open_locked(&st);
	got = state_get(&st, "t");
	assert_non_null(got);
	assert_non_null(got->answer);
	len = strlen(got->answer);
	assert_true(len <= STATE_MAX_TEXT);
	assert_non_null(strstr(got->answer, "\n[cut: squad keeps 64 KiB"));
	/* cut between characters, never inside one */
	assert_true((strstr(got->answer, "\n[cut") - got->answer) % 2 == 0);
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&answer);
}

/* .squad swapped for a symlink after state_open() (a task can do that):
 * the manifest, a log and the compacted journal still go to the folder
 * that was opened, nothing to where the symlink points. */
static void test_writes_stay_in_the_folder_opened(void **unused)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, away = STRBUF_INIT,
		      outside = STRBUF_INIT;
	struct task_record rec = { .task = "t", .status = RECORD_OK };
	struct stat sb;
	struct state st;
	DIR *d;
	int fd;

	(void)unused;
	open_locked(&st);
	strbuf_addf(&path, "%s/.squad", root);
	strbuf_addf(&away, "%s/away", root);
	strbuf_addf(&outside, "%s/outside", root);
	assert_int_equal(mkdir(outside.buf, 0755), 0);
	assert_int_equal(rename(path.buf, away.buf), 0);
	assert_int_equal(symlink("outside", path.buf), 0);

	assert_int_equal(state_write_in(&st, "handoff.json", "{}\n", 3, &err), 0);
	fd = state_open_log(&st, "t", ".log", O_WRONLY | O_CREAT | O_TRUNC, NULL);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(state_put(&st, &rec, &err), 0);
	assert_int_equal(state_compact(&st, &err), 0);

	d = opendir(outside.buf);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		assert_true(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."));
	closedir(d);
	strbuf_addstr(&away, "/handoff.json");
	assert_int_equal(stat(away.buf, &sb), 0);
	strbuf_setlen(&away, away.len - strlen("handoff.json"));
	strbuf_addstr(&away, "logs/t.log");
	assert_int_equal(stat(away.buf, &sb), 0);
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&away);
	strbuf_release(&outside);
}

/* A file of squad's own is never replaced by anything but a regular
 * file: a FIFO in the manifest's place is refused, and stays. */
static void test_write_in_refuses_a_fifo(void **unused)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct stat sb;
	struct state st;

	(void)unused;
	open_locked(&st);
	strbuf_addf(&path, "%s/.squad/handoff.json", root);
	assert_int_equal(mkfifo(path.buf, 0644), 0);
	assert_int_equal(state_write_in(&st, "handoff.json", "{}\n", 3, &err), -1);
	assert_non_null(strstr(err.buf, "handoff.json' is a FIFO; squad will not replace it"));
	assert_int_equal(lstat(path.buf, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_cut_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_answer_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_stay_in_the_folder_opened, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_in_refuses_a_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction_when_worth_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inputs_written_by_way_of_squad_folder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inputs_folder_made_on_first_save, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
