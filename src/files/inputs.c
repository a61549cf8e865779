/* inputs.c - the walk of a working tree told by git or by squad's
 * caches; see inputs.h. */
#include "files/inputs.h"
#include "files/filecache.h"
#include "files/gitinfo.h"
#include "files/gitstamp.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The stamp inputs_preload() found to hold, and for which folder:
 * handed to the first listing of that folder. */
static struct {
	char *path;
	struct gitstamp *stamp;
	struct timespec since; /* coarse clock, before it was checked */
} preload;

/* The stamp in `path`'s .squad, when it holds for the working tree at
 * `top`; else NULL. */
static struct gitstamp *stamp_that_holds(const char *path, const char *top)
{
	struct gitstamp *gs = xmalloc(sizeof(*gs));
	struct strbuf file = STRBUF_INIT;

	*gs = (struct gitstamp)GITSTAMP_INIT;
	state_root_path(&file, path, STATE_GIT);
	if (gitstamp_read(gs, file.buf) < 0 || strcmp(gs->workdir, top) || !gitstamp_holds(gs)) {
		gitstamp_release(gs);
		free(gs);
		gs = NULL;
	}
	strbuf_release(&file);
	return gs;
}

void inputs_preload(const char *path)
{
	struct strbuf top = STRBUF_INIT;

	if (preload.path || !gitinfo_find_top(path, &top)) {
		strbuf_release(&top);
		return;
	}
	preload.path = xstrdup(path);
	clock_gettime(CLOCK_REALTIME_COARSE, &preload.since);
	preload.stamp = stamp_that_holds(path, top.buf);
	if (!preload.stamp)
		gitinfo_preload(path);
	strbuf_release(&top);
}

/* The stamp inputs_preload() found to hold for `path`, now the
 * caller's, with the time it was checked; NULL when there is none. */
static struct gitstamp *take_stamp(const char *path, struct timespec *since)
{
	struct gitstamp *gs = preload.stamp;

	if (!gs || strcmp(preload.path, path))
		return NULL;
	*since = preload.since;
	preload.stamp = NULL;
	return gs;
}

int inputs_workdir(const char *path, struct strbuf *root)
{
	if (preload.stamp && !strcmp(preload.path, path)) {
		strbuf_addstr(root, preload.stamp->workdir);
		return 0;
	}
	return gitinfo_workdir(path, root);
}

/* What the walk's hooks (files.h) work with. */
struct told {
	const struct filecache *cache;
	struct gitstamp *stamp; /* trusted: read from; else the roots go to it */
	struct gitinfo_tree *tree; /* NULL when trusted */
};

static const char *known_names(void *data, const char *rel, const struct file_stat *st,
			       size_t *names_len)
{
	return filecache_folder(((struct told *)data)->cache, rel, st, names_len);
}

/* A trusted walk asks only about its roots: the stamp's word, or -1
 * (the walk stops) when it has none. */
static int stamp_skips(void *data, const char *rel, bool root)
{
	(void)root;
	return gitstamp_root_skipped(((struct told *)data)->stamp, rel);
}

/* Any other asks libgit2, and tells the new stamp about the roots. */
static int git_skips_folder(void *data, const char *rel, bool root)
{
	struct told *t = data;
	bool skipped = gitinfo_tree_skips_folder(t->tree, rel);

	if (root)
		gitstamp_root(t->stamp, rel, skipped);
	return skipped;
}

static bool git_skips_file(void *data, const char *rel, const struct stat *st, char oid[41])
{
	return gitinfo_tree_skips_file(((struct told *)data)->tree, rel, st, oid);
}

int inputs_list(struct inputs *in, const char *path, const struct strvec *roots,
		const struct filecache *cache, struct strbuf *err)
{
	struct told told = { cache, NULL, NULL };
	struct walk_rules rules = { &told, NULL, NULL, cache ? known_names : NULL, false, false };
	struct strbuf root = STRBUF_INIT, excludes = STRBUF_INIT;
	const char *gitdir, *commondir;
	struct timespec since;
	struct gitstamp *stamp = take_stamp(path, &since);

	memset(in, 0, sizeof(*in));
	if (stamp) {
		/* git's decisions as the last walk had them: no libgit2 */
		in->in_repo = in->trusted = true;
		in->stamp = told.stamp = stamp;
		in->git_since = since;
		rules.skip_folder = stamp_skips;
		rules.trusted = true;
		file_list_walk(&in->files, xstrdup(stamp->workdir), roots, &rules);
		if (!in->files.stopped)
			return 0;
		/* a folder or a root new to git's rules: walk again, asking */
		inputs_release(in);
		rules.skip_folder = NULL;
		rules.trusted = false;
	}
	if (gitinfo_tree_open(&told.tree, path, err) < 0)
		return -1;
	if (told.tree) {
		in->in_repo = true;
		in->git_since = gitinfo_tree_since(told.tree);
		in->stamp = told.stamp = xmalloc(sizeof(*told.stamp));
		*told.stamp = (struct gitstamp)GITSTAMP_INIT;
		rules.skip_folder = git_skips_folder;
		rules.skip_file = git_skips_file;
		rules.one_at_a_time = true; /* libgit2's index and rules */
		strbuf_addstr(&root, gitinfo_tree_workdir(told.tree));
	} else {
		gitinfo_workdir(path, &root);
	}
	file_list_walk(&in->files, strbuf_detach(&root, NULL), roots, &rules);
	if (told.tree) {
		gitinfo_tree_state(told.tree, &gitdir, &commondir, &excludes);
		gitstamp_watch_git(told.stamp, gitdir, commondir, excludes.buf, &in->files);
		/* a stamp that cannot be kept vouches for no marks: then the
		 * cache is written only when it must, as outside a repository */
		in->restamp = !told.stamp->unusable;
	} else {
		in->git_since = in->files.listed_at;
	}
	gitinfo_tree_close(told.tree);
	strbuf_release(&root);
	strbuf_release(&excludes);
	return 0;
}

int inputs_save(const struct inputs *in, const char *cache_file, const char *stamp_file,
		struct strbuf *err)
{
	if (!in->files.hashed && !in->files.folders_read && !in->restamp)
		return 0; /* the cache and the stamp hold all of it already */
	if (filecache_save(&in->files, cache_file, err) < 0)
		return -1;
	if (in->stamp && gitstamp_write(in->stamp, stamp_file, cache_file, &in->git_since, err) < 0)
		return -1;
	return 0;
}

void inputs_release(struct inputs *in)
{
	file_list_release(&in->files);
	if (in->stamp)
		gitstamp_release(in->stamp);
	free(in->stamp);
	memset(in, 0, sizeof(*in));
}

void inputs_shutdown(void)
{
	if (preload.stamp)
		gitstamp_release(preload.stamp);
	free(preload.stamp);
	free(preload.path);
	memset(&preload, 0, sizeof(preload));
	gitinfo_global_shutdown();
}
