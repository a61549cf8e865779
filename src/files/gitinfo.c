/* gitinfo.c - libgit2 queries; see gitinfo.h. */
#include "files/gitinfo.h"
#include "files/gitlib.h"
#include "util/strmap.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool initialised;

/* The repository gitinfo_preload() opened, with its index, and for
 * which folder; handed to the first gitinfo_tree_open() of that folder. */
static struct preload {
	pthread_t thread;
	bool running;
	char *path;
	git_repository *repo;
	git_index *index;
	struct timespec since; /* coarse clock, before either was read */
} preload;

/* Load libgit2 and set it up, once; -1 with the reason in err when it
 * cannot be loaded. Not thread-safe: the preload's thread, or the main
 * thread after joining it. */
static int global_init(struct strbuf *err)
{
	if (initialised)
		return 0;
	if (gitlib_load(err) < 0)
		return -1;
	git_libgit2_init();
	initialised = true;
	return 0;
}

static void *preload_main(void *data)
{
	struct preload *p = data;
	struct strbuf err = STRBUF_INIT;
	sigset_t all;

	/* squad's signals are the main thread's to handle */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* without libgit2, the next gitinfo call says so */
	if (global_init(&err) < 0) {
		strbuf_release(&err);
		return NULL;
	}
	if (git_repository_open_ext(&p->repo, p->path, 0, NULL) < 0 ||
	    git_repository_is_bare(p->repo) || git_repository_index(&p->index, p->repo) < 0) {
		/* gitinfo_tree_open() opens it again, and reports what is wrong */
		git_repository_free(p->repo);
		p->repo = NULL;
	}
	return NULL;
}

void gitinfo_preload(const char *path)
{
	if (preload.running || preload.path || !gitinfo_find_top(path, NULL))
		return;
	preload.path = xstrdup(path);
	clock_gettime(CLOCK_REALTIME_COARSE, &preload.since);
	preload.running = pthread_create(&preload.thread, NULL, preload_main, &preload) == 0;
}

static void preload_join(void)
{
	if (preload.running)
		pthread_join(preload.thread, NULL);
	preload.running = false;
}

/* The preloaded repository of `path` and its index, now the caller's,
 * with the time the preload began; false when there is none. */
static bool take_preloaded(const char *path, git_repository **repo, git_index **index,
			   struct timespec *since)
{
	preload_join();
	if (!preload.repo || strcmp(preload.path, path))
		return false;
	*repo = preload.repo;
	*index = preload.index;
	*since = preload.since;
	preload.repo = NULL;
	preload.index = NULL;
	return true;
}

/* libgit2's loading and set-up (it reads the system's certificates),
 * which a run that never touches git should not pay for: they happen on
 * first use, or on gitinfo_preload()'s thread. */
int gitinfo_global_init(struct strbuf *err)
{
	preload_join();
	return global_init(err);
}

void gitinfo_global_shutdown(void)
{
	preload_join();
	git_index_free(preload.index);
	git_repository_free(preload.repo);
	free(preload.path);
	memset(&preload, 0, sizeof(preload));
	if (initialised)
		git_libgit2_shutdown();
	initialised = false;
}

static int fail(struct strbuf *err, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "git: %s: %s", what, e && e->message ? e->message : "unknown error");
	return -1;
}

int gitinfo_read(struct gitinfo *gi, const char *path, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_status_list *status = NULL;
	git_status_options opts;
	int rc, ret = -1;

	memset(gi, 0, sizeof(*gi));
	strvec_init(&gi->dirty);
	if (gitinfo_global_init(err) < 0)
		return -1;
	rc = git_repository_open_ext(&repo, path, 0, NULL);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return fail(err, "cannot open the repository");
	if (git_repository_is_bare(repo)) {
		git_repository_free(repo);
		return 0;
	}
	gi->in_repo = true;
	gi->workdir = xstrdup(git_repository_workdir(repo));

	rc = git_repository_head(&head, repo);
	if (rc == 0) {
		char hex[GIT_OID_HEXSZ + 1];
		const git_oid *oid = git_reference_target(head);

		if (oid) {
			git_oid_tostr(hex, sizeof(hex), oid);
			gi->head = xstrdup(hex);
		}
		if (git_reference_is_branch(head))
			gi->branch = xstrdup(git_reference_shorthand(head));
	} else if (rc == GIT_EUNBORNBRANCH) {
		git_reference *unborn = NULL;

		/* no commit yet: the branch HEAD names still is the branch */
		if (git_reference_lookup(&unborn, repo, "HEAD") == 0) {
			const char *target = git_reference_symbolic_target(unborn);

			if (target && !strncmp(target, "refs/heads/", 11))
				gi->branch = xstrdup(target + 11);
			git_reference_free(unborn);
		}
	} else {
		fail(err, "cannot read HEAD");
		goto out;
	}

	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		     GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&status, repo, &opts) < 0) {
		fail(err, "cannot read the status");
		goto out;
	}
	for (size_t i = 0; i < git_status_list_entrycount(status); i++) {
		const git_status_entry *e = git_status_byindex(status, i);
		const git_diff_delta *d = e->head_to_index ? e->head_to_index : e->index_to_workdir;

		/* a path staged and changed again is listed by both deltas;
		 * the status list is sorted by path, so a repeat is adjacent */
		if (d && d->new_file.path && (!gi->dirty.nr ||
		    strcmp(gi->dirty.v[gi->dirty.nr - 1], d->new_file.path)))
			strvec_push(&gi->dirty, d->new_file.path);
	}
	ret = 0;
out:
	git_status_list_free(status);
	git_reference_free(head);
	git_repository_free(repo);
	return ret;
}

void gitinfo_release(struct gitinfo *gi)
{
	free(gi->workdir);
	free(gi->head);
	free(gi->branch);
	strvec_clear(&gi->dirty);
	memset(gi, 0, sizeof(*gi));
}

static int open_repo(git_repository **repo, const char *path, struct strbuf *err)
{
	int rc = git_repository_open_ext(repo, path, 0, NULL);

	if (rc == GIT_ENOTFOUND) {
		strbuf_addf(err, "'%s' is not in a git repository: --staged and --changed "
			    "select by git's changes", path);
		return -1;
	}
	if (rc < 0)
		return fail(err, "cannot open the repository");
	if (git_repository_is_bare(*repo)) {
		git_repository_free(*repo);
		strbuf_addstr(err, "the repository is bare: it has no working tree");
		return -1;
	}
	return 0;
}

int gitinfo_open_worktree(git_repository **repo, const char *path, struct strbuf *err)
{
	*repo = NULL;
	if (gitinfo_global_init(err) < 0)
		return -1;
	if (git_repository_open_ext(repo, path, 0, NULL) < 0) {
		strbuf_addf(err, "'%s' is not in a git repository", path);
		return -1;
	}
	if (git_repository_is_bare(*repo)) {
		strbuf_addf(err, "'%s' is in a bare repository: no working tree", path);
		git_repository_free(*repo);
		*repo = NULL;
		return -1;
	}
	return 0;
}

int gitinfo_error(struct strbuf *err, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
	return -1;
}

/* The index the commit takes: git names it for a hook in
 * $GIT_INDEX_FILE (git commit -a stages into a temporary one). */
static int commit_index(git_index **index, git_repository *repo)
{
	const char *file = getenv("GIT_INDEX_FILE");

	return file && *file ? git_index_open(index, file) : git_repository_index(index, repo);
}

struct collected {
	struct strvec *paths;
	struct strmap seen; /* keys borrowed from the diff, alive while it is */
};

static int collect_delta(const git_diff_delta *delta, float progress, void *data)
{
	struct collected *c = data;
	const char *both[] = { delta->old_file.path, delta->new_file.path };

	(void)progress;
	/* a rename or copy counts as both paths */
	for (int i = 0; i < 2; i++) {
		if (!both[i] || strmap_get(&c->seen, both[i]) >= 0)
			continue;
		strmap_put(&c->seen, both[i], 1);
		strvec_push(c->paths, both[i]);
	}
	return 0;
}

static int finish_diff(git_diff *diff, struct strvec *paths, struct strbuf *err)
{
	git_diff_find_options find;
	struct collected c = { paths, STRMAP_INIT };
	int ret = 0;

	git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
	find.flags = GIT_DIFF_FIND_RENAMES;

	if (git_diff_find_similar(diff, &find) < 0 ||
	    git_diff_foreach(diff, collect_delta, NULL, NULL, NULL, &c) < 0)
		ret = fail(err, "cannot compare");
	strmap_release(&c.seen);
	return ret;
}

static int tree_of(git_tree **tree, git_repository *repo, const char *ref, struct strbuf *err)
{
	git_object *obj = NULL;
	int rc = git_revparse_single(&obj, repo, ref);

	*tree = NULL;
	if (rc == GIT_ENOTFOUND && !strcmp(ref, "HEAD"))
		return 0; /* unborn: compare with the empty tree */
	if (rc < 0) {
		strbuf_addf(err, "git: unknown revision '%s'", ref);
		return -1;
	}
	rc = git_object_peel((git_object **)tree, obj, GIT_OBJECT_TREE);
	git_object_free(obj);
	if (rc < 0)
		return fail(err, "cannot read the tree");
	return 0;
}

int gitinfo_staged(const char *path, struct strvec *paths, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_tree *head = NULL;
	git_index *index = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	int ret = -1;

	if (gitinfo_global_init(err) < 0 || open_repo(&repo, path, err) < 0)
		return -1;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (tree_of(&head, repo, "HEAD", err) < 0)
		goto out;
	if (commit_index(&index, repo) < 0 ||
	    git_diff_tree_to_index(&diff, repo, head, index, &opts) < 0) {
		fail(err, "cannot compare HEAD with the index");
		goto out;
	}
	ret = finish_diff(diff, paths, err);
out:
	git_diff_free(diff);
	git_index_free(index);
	git_tree_free(head);
	git_repository_free(repo);
	return ret;
}

int gitinfo_changed(const char *path, const char *ref, struct strvec *paths,
		    struct strbuf *err)
{
	git_repository *repo = NULL;
	git_tree *tree = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	int ret = -1;

	if (gitinfo_global_init(err) < 0 || open_repo(&repo, path, err) < 0)
		return -1;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
	if (tree_of(&tree, repo, ref, err) < 0)
		goto out;
	if (git_diff_tree_to_workdir_with_index(&diff, repo, tree, &opts) < 0) {
		fail(err, "cannot compare with the working tree");
		goto out;
	}
	ret = finish_diff(diff, paths, err);
out:
	git_diff_free(diff);
	git_tree_free(tree);
	git_repository_free(repo);
	return ret;
}

/* Does the index entry describe the file as it is on disk? As git does:
 * same size, mtime, inode; and not "racily clean" (modified in the same
 * second the index was written), which would need the content. */
static bool stat_matches(const git_index_entry *e, const struct stat *st, int64_t index_mtime)
{
	return (uint32_t)st->st_size == e->file_size &&
	       (int32_t)st->st_mtim.tv_sec == e->mtime.seconds &&
	       (uint32_t)st->st_mtim.tv_nsec == e->mtime.nanoseconds &&
	       (uint32_t)st->st_ino == e->ino &&
	       (int64_t)st->st_mtim.tv_sec < index_mtime;
}

/* The walk of the file system that spares libgit2 outside a working
 * tree: libgit2's set-up alone reads every certificate of the system. */
bool gitinfo_find_top(const char *path, struct strbuf *top)
{
	struct strbuf dir = STRBUF_INIT;
	struct stat st;
	bool found = false;

	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return true; /* let libgit2 tell */
		strbuf_addf(&dir, "%s/", cwd);
		free(cwd);
	}
	strbuf_addstr(&dir, path);
	for (;;) {
		size_t len = dir.len;

		strbuf_addstr(&dir, "/.git");
		if (lstat(dir.buf, &st) == 0) {
			found = true;
			if (top)
				strbuf_add(top, dir.buf, dir.len - 4);
			break;
		}
		strbuf_setlen(&dir, len);
		while (dir.len && dir.buf[dir.len - 1] == '/')
			strbuf_setlen(&dir, dir.len - 1);
		if (!dir.len)
			break;
		while (dir.len && dir.buf[dir.len - 1] != '/')
			strbuf_setlen(&dir, dir.len - 1);
	}
	strbuf_release(&dir);
	return found;
}

int gitinfo_workdir(const char *path, struct strbuf *root)
{
	struct strbuf err = STRBUF_INIT;
	git_repository *repo = NULL;
	int rc = GIT_ENOTFOUND;

	preload_join();
	if (preload.repo && !strcmp(preload.path, path)) {
		strbuf_addstr(root, git_repository_workdir(preload.repo));
		return 0;
	}
	/* without libgit2, as outside a repository: gitinfo_tree_open(),
	 * which a walk calls first, reports it */
	if (gitinfo_find_top(path, NULL) && gitinfo_global_init(&err) == 0)
		rc = git_repository_open_ext(&repo, path, 0, NULL);
	strbuf_release(&err);
	if (rc == 0 && git_repository_workdir(repo)) {
		strbuf_addstr(root, git_repository_workdir(repo));
	} else {
		strbuf_addstr(root, path);
		if (root->len && root->buf[root->len - 1] != '/')
			strbuf_addch(root, '/');
	}
	git_repository_free(repo);
	return 0;
}

/* A working tree as a walk asks about it (files.h): the repository and
 * its index, read once. */
struct gitinfo_tree {
	git_repository *repo;
	git_index *index;
	int64_t index_mtime;
	struct timespec since; /* coarse clock, before git's state was read */
};

int gitinfo_tree_open(struct gitinfo_tree **tree, const char *path, struct strbuf *err)
{
	struct gitinfo_tree t = { NULL, NULL, INT64_MAX, { 0, 0 } };
	struct strbuf index = STRBUF_INIT;
	struct stat st;
	int rc = GIT_ENOTFOUND;

	*tree = NULL;
	/* nothing allocated outside a working tree: a plain folder's run
	 * pays for no more than the look for a .git */
	if (take_preloaded(path, &t.repo, &t.index, &t.since)) {
		rc = 0;
	} else if (gitinfo_find_top(path, NULL)) {
		clock_gettime(CLOCK_REALTIME_COARSE, &t.since);
		if (gitinfo_global_init(err) < 0)
			return -1;
		rc = git_repository_open_ext(&t.repo, path, 0, NULL);
	}
	if (rc == 0 && git_repository_is_bare(t.repo))
		rc = GIT_ENOTFOUND; /* no working tree: squad treats it as none */
	if (rc == 0 && !t.index && git_repository_index(&t.index, t.repo) < 0)
		rc = fail(err, "cannot read the index");
	else if (rc < 0 && rc != GIT_ENOTFOUND)
		rc = fail(err, "cannot open the repository");
	if (rc < 0) {
		git_index_free(t.index);
		git_repository_free(t.repo);
		return rc == GIT_ENOTFOUND ? 0 : -1;
	}
	strbuf_addf(&index, "%sindex", git_repository_path(t.repo));
	if (stat(index.buf, &st) == 0)
		t.index_mtime = st.st_mtim.tv_sec;
	strbuf_release(&index);
	*tree = xmalloc(sizeof(t));
	**tree = t;
	return 1;
}

const char *gitinfo_tree_workdir(const struct gitinfo_tree *t)
{
	return git_repository_workdir(t->repo);
}

struct timespec gitinfo_tree_since(const struct gitinfo_tree *t)
{
	return t->since;
}

bool gitinfo_tree_skips_folder(struct gitinfo_tree *t, const char *rel)
{
	size_t pos;
	int ignored = 0;
	const git_index_entry *e;
	struct strbuf bare = STRBUF_INIT;
	bool skip;

	strbuf_add(&bare, rel, strlen(rel) - 1);
	e = git_index_get_bypath(t->index, bare.buf, 0);
	if (e && e->mode == GIT_FILEMODE_COMMIT)
		skip = true; /* a submodule: tracked as one entry, not as files */
	else if (git_index_find_prefix(&pos, t->index, rel) == 0)
		skip = false; /* something in it is tracked */
	else
		skip = git_ignore_path_is_ignored(&ignored, t->repo, rel) == 0 && ignored;
	strbuf_release(&bare);
	return skip;
}

bool gitinfo_tree_skips_file(struct gitinfo_tree *t, const char *rel, const struct stat *st,
			     char oid[41])
{
	const git_index_entry *e = git_index_get_bypath(t->index, rel, 0);
	int ignored = 0;

	if (e && stat_matches(e, st, t->index_mtime))
		git_oid_tostr(oid, 41, &e->id);
	/* untracked and ignored: not an input */
	return !e && git_ignore_path_is_ignored(&ignored, t->repo, rel) == 0 && ignored;
}

void gitinfo_tree_state(struct gitinfo_tree *t, const char **gitdir, const char **commondir,
			struct strbuf *excludes_file)
{
	git_config *config = NULL;
	git_buf excludes = { 0 };

	*gitdir = git_repository_path(t->repo);
	*commondir = git_repository_commondir(t->repo);
	if (git_repository_config_snapshot(&config, t->repo) == 0 &&
	    git_config_get_path(&excludes, config, "core.excludesfile") == 0)
		strbuf_addstr(excludes_file, excludes.ptr);
	git_buf_dispose(&excludes);
	git_config_free(config);
}

void gitinfo_tree_close(struct gitinfo_tree *t)
{
	if (!t)
		return;
	git_index_free(t->index);
	git_repository_free(t->repo);
	free(t);
}

/* The bytes git would check out for the blob `id` at `path`: through
 * the checkout filters (line endings); a symlink's target, or a binary
 * blob (which git_blob_filter() would give empty), as it is. */
static int checkout_bytes(git_repository *repo, const git_oid *id, const char *path, bool link,
			  struct strbuf *out, struct strbuf *err)
{
	git_blob_filter_options opts;
	git_blob *blob = NULL;
	git_buf buf = { 0 };

	git_blob_filter_options_init(&opts, GIT_BLOB_FILTER_OPTIONS_VERSION);
	if (git_blob_lookup(&blob, repo, id) < 0)
		return fail(err, "cannot read a staged file");
	if (link || git_blob_is_binary(blob)) {
		strbuf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	} else if (git_blob_filter(&buf, blob, path, &opts) < 0) {
		git_blob_free(blob);
		return fail(err, "cannot filter a staged file");
	} else {
		strbuf_add(out, buf.ptr, buf.size);
	}
	git_buf_dispose(&buf);
	git_blob_free(blob);
	return 0;
}

/* Add the path of delta `d` to the list, unless git keeps it out of
 * the working tree's business (a submodule, outside a sparse checkout). */
static int add_unstaged(git_repository *repo, git_index *index, const git_diff_delta *d,
			struct gitinfo_unstaged **list, size_t *nr, size_t *alloc,
			struct strbuf *err)
{
	const char *path = d->status == GIT_DELTA_UNTRACKED ? d->new_file.path : d->old_file.path;
	const git_index_entry *ie = NULL;
	struct gitinfo_unstaged *u;

	if (d->status != GIT_DELTA_UNTRACKED) {
		ie = git_index_get_bypath(index, path, 0);
		if (!ie || ie->mode == GIT_FILEMODE_COMMIT ||
		    (ie->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE))
			return 0;
		/* git add -N: not in the commit */
		if (ie->flags_extended & GIT_INDEX_ENTRY_INTENT_TO_ADD)
			ie = NULL;
	}
	ALLOC_GROW(*list, *nr + 1, *alloc);
	u = &(*list)[*nr];
	memset(u, 0, sizeof(*u));
	strbuf_init(&u->content, 0);
	u->path = xstrdup(path);
	(*nr)++;
	if (!ie)
		return 0;
	u->in_commit = true;
	u->link = ie->mode == GIT_FILEMODE_LINK;
	u->exec = ie->mode == GIT_FILEMODE_BLOB_EXECUTABLE;
	return checkout_bytes(repo, &ie->id, path, u->link, &u->content, err);
}

int gitinfo_unstaged(const char *path, struct gitinfo_unstaged **list, size_t *nr,
		     struct strbuf *workdir, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_index *index = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	size_t alloc = 0;
	int ret = -1;

	*list = NULL;
	*nr = 0;
	if (gitinfo_global_init(err) < 0)
		return -1;
	if (git_repository_open_ext(&repo, path, 0, NULL) < 0) {
		strbuf_addf(err, "'%s' is not in a git repository: --stash sets aside what git "
			    "has not staged", path);
		return -1;
	}
	if (!git_repository_workdir(repo)) {
		strbuf_addstr(err, "the repository is bare: it has no working tree");
		goto out;
	}
	strbuf_addstr(workdir, git_repository_workdir(repo));
	if (commit_index(&index, repo) < 0) {
		fail(err, "cannot read the index");
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		strbuf_addstr(err, "the index has merge conflicts: resolve them first");
		goto out;
	}
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
		     GIT_DIFF_INCLUDE_TYPECHANGE;
	opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
	if (git_diff_index_to_workdir(&diff, repo, index, &opts) < 0) {
		fail(err, "cannot compare the index with the working tree");
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < git_diff_num_deltas(diff) && !ret; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		switch (d->status) {
		case GIT_DELTA_UNTRACKED:
		case GIT_DELTA_MODIFIED:
		case GIT_DELTA_DELETED:
		case GIT_DELTA_TYPECHANGE:
			ret = add_unstaged(repo, index, d, list, nr, &alloc, err);
			break;
		default:
			break;
		}
	}
out:
	if (ret < 0) {
		gitinfo_unstaged_free(*list, *nr);
		*list = NULL;
		*nr = 0;
	}
	git_diff_free(diff);
	git_index_free(index);
	git_repository_free(repo);
	return ret;
}

void gitinfo_unstaged_free(struct gitinfo_unstaged *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(list[i].path);
		strbuf_release(&list[i].content);
	}
	free(list);
}

int gitinfo_hook_path(const char *path, const char *name, struct strbuf *hook,
		      struct strbuf *workdir, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_config *config = NULL;
	git_buf hooks = { 0 };
	int ret = -1;

	if (gitinfo_global_init(err) < 0)
		return -1;
	if (git_repository_open_ext(&repo, path, 0, NULL) < 0) {
		strbuf_addf(err, "'%s' is not in a git repository", path);
		return -1;
	}
	if (!git_repository_workdir(repo)) {
		strbuf_addstr(err, "the repository is bare: no commit runs a hook there");
		goto out;
	}
	if (git_repository_config_snapshot(&config, repo) < 0) {
		fail(err, "cannot read the configuration");
		goto out;
	}
	strbuf_addstr(workdir, git_repository_workdir(repo));
	if (git_config_get_path(&hooks, config, "core.hooksPath") == 0) {
		if (hooks.ptr[0] != '/')
			strbuf_addstr(hook, workdir->buf);
		strbuf_addf(hook, "%s/%s", hooks.ptr, name);
	} else {
		/* hooks are shared by linked worktrees: the common folder's */
		strbuf_addf(hook, "%shooks/%s", git_repository_commondir(repo), name);
	}
	ret = 0;
out:
	git_buf_dispose(&hooks);
	git_config_free(config);
	git_repository_free(repo);
	return ret;
}
