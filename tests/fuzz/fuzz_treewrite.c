/* fuzz_treewrite.c - a journal of .squad/applying/ read back by the next
 * squad (treewrite_recover()), which then renames, removes and copies
 * files of the user's tree as the journal says.
 *
 * The input's first byte says which marks the journal folder holds
 * (bit 0 `staged`, bit 1 `undo`, bit 2 a `lock` file nobody holds); the
 * rest is the journal, with every "@TOP@" replaced by the scratch tree's
 * path (so that the fuzzer reaches past the check that the journal is
 * of this tree). The folder is .squad/applying/9-1/ of a small tree with
 * a file, a folder, two temp files, a .git folder and the originals
 * orig-0 (a file) and orig-1 (a symlink). Besides crashes, leaks and
 * time, it checks what recovery must hold to whatever the journal says:
 *
 *  - nothing outside the tree is touched (a file beside it, and one in
 *    a folder beside it whose name starts as the tree's);
 *  - nothing in .git is touched;
 *  - a journal folder it says it recovered is gone.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "files/treewrite.h"
#include "util/strbuf.h"

static char top[4200], squad[4200], jdir[4200], outside[4200], beside[4200], head[4200];

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_treewrite: %s: '%s'\n", what, detail);
	abort();
}

static void put(const char *rel, const char *text)
{
	char path[4400];

	snprintf(path, sizeof(path), "%s%s", top, rel);
	fuzz_write_file(path, text, strlen(text));
}

static void dir(const char *path)
{
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		fail("cannot make", path);
}

/* The tree as each input finds it. */
static void reset(void)
{
	char path[4400];

	nftw(top, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	dir(top);
	put("a.txt", "a\n");
	snprintf(path, sizeof(path), "%ssub", top);
	dir(path);
	put("sub/b.txt", "b\n");
	put("a.txt.squad-apply-9-1-0", "new a\n");
	put("sub/b.txt.squad-apply-9-1-1", "new b\n");
	snprintf(path, sizeof(path), "%s.git", top);
	dir(path);
	fuzz_write_file(head, "ref: refs/heads/main\n", 21);
	dir(squad);
	snprintf(path, sizeof(path), "%s/applying", squad);
	dir(path);
	dir(jdir);
	snprintf(path, sizeof(path), "%s/orig-0", jdir);
	fuzz_write_file(path, "original\n", 9);
	snprintf(path, sizeof(path), "%s/orig-1", jdir);
	if (symlink("a.txt", path) < 0)
		fail("cannot make", path);
}

static void same_file(const char *path, const char *text)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	if (!f || n != strlen(text) || memcmp(buf, text, n))
		fail("touched what it must not", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf journal = STRBUF_INIT, notes = STRBUF_INIT, err = STRBUF_INIT;
	char path[4400];
	struct stat sb;
	unsigned marks;
	int rc;

	if (!top[0]) {
		const char *scratch = fuzz_dir();

		snprintf(top, sizeof(top), "%s/tree/", scratch);
		snprintf(squad, sizeof(squad), "%s.squad", top);
		snprintf(jdir, sizeof(jdir), "%s/applying/9-1", squad);
		snprintf(head, sizeof(head), "%s.git/HEAD", top);
		snprintf(outside, sizeof(outside), "%s/outside.txt", scratch);
		snprintf(path, sizeof(path), "%s/tree2", scratch);
		dir(path);
		snprintf(beside, sizeof(beside), "%s/tree2/keep.txt", scratch);
		fuzz_write_file(outside, "outside\n", 8);
		fuzz_write_file(beside, "beside\n", 7);
	}
	if (!size)
		return 0;
	reset();
	marks = data[0];
	for (size_t i = 1; i < size; i++) {
		if (size - i >= 5 && !memcmp(data + i, "@TOP@", 5)) {
			strbuf_addstr(&journal, top);
			i += 4;
		} else {
			strbuf_addch(&journal, (char)data[i]);
		}
	}
	snprintf(path, sizeof(path), "%s/journal", jdir);
	fuzz_write_file(path, journal.buf, journal.len);
	if (marks & 1) {
		snprintf(path, sizeof(path), "%s/staged", jdir);
		fuzz_write_file(path, "", 0);
	}
	if (marks & 2) {
		snprintf(path, sizeof(path), "%s/undo", jdir);
		fuzz_write_file(path, "", 0);
	}
	if (marks & 4) {
		snprintf(path, sizeof(path), "%s/lock", jdir);
		fuzz_write_file(path, "", 0);
	}

	rc = treewrite_recover(squad, &notes, &err);

	same_file(outside, "outside\n");
	same_file(head, "ref: refs/heads/main\n");
	same_file(beside, "beside\n");
	if (rc > 0 && lstat(jdir, &sb) == 0)
		fail("a journal it recovered is still there", jdir);
	strbuf_release(&journal);
	strbuf_release(&notes);
	strbuf_release(&err);
	return 0;
}
