/* fuzz_filecache.c - .squad/files read back, and the walk that believes it.
 *
 * A scratch tree holds three files: a.c, sub/b.c, sub/deep/c.c. The input
 * is cut at its first two 0x01 bytes into the names the cache gives the
 * top folder, the names it gives sub/ (any bytes, NULs included: names
 * are NUL-separated in the file) and the rest of the file, which follows
 * as it is (more folder lines, file lines, anything). The two folder
 * lines carry the folders' real stat data, so the walk takes its names
 * from them whenever filecache_load() keeps them. Besides crashes, leaks
 * and time, it checks what the cache must never do to a walk:
 *
 *  - inputs_list() lists only files of the tree (a subset of the three,
 *    in strictly increasing order), whatever names the cache gives: no
 *    ".." leads it out of its folder, no loop keeps it walking;
 *  - at most the tree's three folders are walked;
 *  - filecache_apply() fills no more ids than there are files.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files/filecache.h"
#include "fuzz_common.h"
#include "files/inputs.h"
#include "util/strbuf.h"

static char tree[4200], cache_path[4200];
static struct stat top_st, sub_st;

static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fuzz_filecache: %s: '%s'\n", what, path);
	abort();
}

static void setup(void)
{
	static const char *const files[] = { "a.c", "sub/b.c", "sub/deep/c.c" };
	char path[4300];

	snprintf(tree, sizeof(tree), "%s/tree", fuzz_dir());
	snprintf(cache_path, sizeof(cache_path), "%s/files", fuzz_dir());
	mkdir(tree, 0777);
	snprintf(path, sizeof(path), "%s/sub", tree);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/sub/deep", tree);
	mkdir(path, 0777);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", tree, files[i]);
		fuzz_write_file(path, files[i], strlen(files[i]));
	}
	snprintf(path, sizeof(path), "%s/sub", tree);
	if (stat(tree, &top_st) < 0 || stat(path, &sub_st) < 0)
		abort();
}

static void add_folder_line(struct strbuf *text, const struct stat *st, const char *names,
			    size_t len, const char *path)
{
	strbuf_addf(text, "d %lld %ld %lld %ld %llu %zu ", (long long)st->st_mtim.tv_sec,
		    st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
		    (unsigned long long)st->st_ino, len);
	strbuf_add(text, names, len);
	strbuf_addf(text, " %s\n", path);
}

/* The next part of [*p, end) up to a 0x01 byte (or the end). */
static const char *next_part(const char **p, const char *end, size_t *len)
{
	const char *start = *p, *sep = memchr(start, 1, (size_t)(end - start));

	*len = (size_t)((sep ? sep : end) - start);
	*p = sep ? sep + 1 : end;
	return start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *p = (const char *)data, *end = p + size, *names;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct filecache fc = FILECACHE_INIT;
	struct inputs in;
	size_t len, filled;

	if (!ready) {
		setup();
		ready = true;
	}
	strbuf_addstr(&text, "squad-files 3\n");
	names = next_part(&p, end, &len);
	add_folder_line(&text, &top_st, names, len, "");
	names = next_part(&p, end, &len);
	add_folder_line(&text, &sub_st, names, len, "sub/");
	strbuf_add(&text, p, (size_t)(end - p));
	fuzz_write_file(cache_path, text.buf, text.len);

	filecache_load(&fc, cache_path);
	if (inputs_list(&in, tree, NULL, &fc, &err) < 0)
		fail("the walk failed", err.buf);
	if (in.files.nr_folders > 3)
		fail("more folders walked than the tree has", in.files.folders[3].path);
	for (size_t i = 0; i < in.files.nr; i++) {
		const char *f = in.files.paths[i];

		if (strcmp(f, "a.c") && strcmp(f, "sub/b.c") && strcmp(f, "sub/deep/c.c"))
			fail("a file that is not in the tree", f);
		if (i && strcmp(in.files.paths[i - 1], f) >= 0)
			fail("files out of order", f);
	}
	filled = filecache_apply(&fc, &in.files);
	if (filled > in.files.nr)
		fail("more ids filled than files", "");
	inputs_release(&in);
	filecache_release(&fc);
	strbuf_release(&text);
	strbuf_release(&err);
	return 0;
}
