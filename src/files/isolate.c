/* isolate.c - worktrees of the user's tree, and patches; see isolate.h. */
#include "files/isolate.h"
#include "files/gitinfo.h"
#include "files/gitlib.h"
#include "files/state.h"
#include "files/treewrite.h"
#include "util/rmtree.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int isolate_sweep(const char *state_dir)
{
	struct strbuf dir = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int removed = 0;

	strbuf_addf(&dir, "%s/" STATE_WORKTREES, state_dir);
	d = opendir(dir.buf);
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		/* PID-N and PID-N.git; a live squad's (squad exec beside a
		 * run) are left alone */
		if (end == de->d_name || *end != '-' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
			continue;
		if (rmtree_at(dirfd(d), de->d_name) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	strbuf_release(&dir);
	return removed;
}

/* The tree of what the user sees in `repo`'s working tree: its index,
 * with every tracked file as it is on disk (deleted ones gone) and the
 * untracked files that are not ignored, as `git add -A` would stage
 * them. The index is changed in memory only, never written; its stat
 * data spares reading the files git already knows are unchanged. The
 * blobs and trees go to the object store, as `git stash` writes its. */
static int snapshot_tree(git_repository *repo, git_oid *tree, struct strbuf *err)
{
	git_index *index = NULL;
	int rc = -1;

	if (git_repository_index(&index, repo) < 0) {
		gitinfo_error(err, "cannot read the index");
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		strbuf_addstr(err, "the index has merge conflicts: resolve them first");
		goto out;
	}
	if (git_index_update_all(index, NULL, NULL, NULL) < 0 ||
	    git_index_add_all(index, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL) < 0 ||
	    git_index_write_tree(tree, index) < 0) {
		gitinfo_error(err, "cannot take a snapshot of the working tree");
		goto out;
	}
	rc = 0;
out:
	git_index_free(index);
	return rc;
}

static int write_small_file(const char *path, const char *text, struct strbuf *err)
{
	FILE *f = fopen(path, "wx");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		strbuf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int isolate_create(struct isolate *iso, const char *path, const char *state_dir,
		   struct strbuf *err)
{
	static unsigned seq; /* worktrees made by this squad */
	git_repository *repo = NULL, *wrepo = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL, *commit = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id, head_id;
	git_checkout_options co;
	struct strbuf p = STRBUF_INIT, text = STRBUF_INIT;
	size_t len;
	int rc = -1;

	if (gitinfo_open_worktree(&repo, path, err) < 0)
		return -1;
	iso->top = xstrdup(git_repository_workdir(repo));
	if (snapshot_tree(repo, &tree_id, err) < 0)
		goto out;
	if (git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    git_signature_new(&sig, "squad", "squad@localhost", (git_time_t)time(NULL), 0) < 0) {
		gitinfo_error(err, "cannot write the snapshot");
		goto out;
	}
	/* an unborn branch has no parent */
	if (git_reference_name_to_id(&head_id, repo, "HEAD") == 0 &&
	    git_commit_lookup(&parent, repo, &head_id) < 0) {
		gitinfo_error(err, "cannot read HEAD");
		goto out;
	}
	if (git_commit_create(&commit_id, repo, NULL, sig, sig, NULL,
			      "squad: the working tree, for an isolated task\n", tree,
			      parent ? 1 : 0, (const git_commit **)&parent) < 0) {
		gitinfo_error(err, "cannot write the snapshot");
		goto out;
	}
	git_oid_tostr(iso->base, sizeof(iso->base), &commit_id);

	strbuf_addf(&p, "%s/" STATE_WORKTREES, state_dir);
	if (mkdir(p.buf, 0777) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot make '%s': %s", p.buf, strerror(errno));
		goto out;
	}
	strbuf_addf(&p, "/%ld-%u", (long)getpid(), ++seq);
	len = p.len;
	strbuf_addstr(&p, ".git/");
	iso->gitdir = xstrdup(p.buf);
	strbuf_setlen(&p, len);
	strbuf_addch(&p, '/');
	iso->dir = xstrdup(p.buf);
	if (mkdir(iso->gitdir, 0777) < 0 || mkdir(iso->dir, 0777) < 0) {
		strbuf_addf(err, "cannot make the worktree '%s': %s", iso->dir, strerror(errno));
		goto out;
	}
	/* the layout of a linked worktree (git worktree add), not listed in
	 * the repository's worktrees/: nothing of the user's changes */
	strbuf_addf(&text, "%s\n", iso->base);
	strbuf_setlen(&p, 0);
	strbuf_addf(&p, "%sHEAD", iso->gitdir);
	if (write_small_file(p.buf, text.buf, err) < 0)
		goto out;
	strbuf_setlen(&text, 0);
	strbuf_addf(&text, "%s\n", git_repository_commondir(repo));
	strbuf_setlen(&p, 0);
	strbuf_addf(&p, "%scommondir", iso->gitdir);
	if (write_small_file(p.buf, text.buf, err) < 0)
		goto out;
	strbuf_setlen(&text, 0);
	strbuf_addf(&text, "%s.git\n", iso->dir);
	strbuf_setlen(&p, 0);
	strbuf_addf(&p, "%sgitdir", iso->gitdir);
	if (write_small_file(p.buf, text.buf, err) < 0)
		goto out;
	strbuf_setlen(&text, 0);
	strbuf_addf(&text, "gitdir: %s\n", iso->gitdir);
	strbuf_setlen(&p, 0);
	strbuf_addf(&p, "%s.git", iso->dir);
	if (write_small_file(p.buf, text.buf, err) < 0)
		goto out;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_repository_open(&wrepo, iso->dir) < 0 ||
	    git_commit_lookup(&commit, wrepo, &commit_id) < 0 ||
	    git_checkout_tree(wrepo, (const git_object *)commit, &co) < 0) {
		gitinfo_error(err, "cannot check the worktree out");
		goto out;
	}
	rc = 0;
out:
	git_commit_free(commit);
	git_repository_free(wrepo);
	git_signature_free(sig);
	git_commit_free(parent);
	git_tree_free(tree);
	git_repository_free(repo);
	strbuf_release(&p);
	strbuf_release(&text);
	if (rc < 0) {
		struct strbuf ignored = STRBUF_INIT;

		isolate_remove(iso, &ignored);
		strbuf_release(&ignored);
	}
	return rc;
}

/* The diff from the snapshot `base` to `tree` in `repo`, renames found. */
static int diff_trees(git_diff **diff, git_repository *repo, const char *base,
		      const git_oid *tree_id, struct strbuf *err)
{
	git_diff_options o;
	git_diff_find_options f;
	git_commit *commit = NULL;
	git_tree *old = NULL, *new = NULL;
	git_oid id;
	int rc = -1;

	/* binary content in full, as `git diff --binary`: the patch alone
	 * is enough to apply it */
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	git_diff_find_options_init(&f, GIT_DIFF_FIND_OPTIONS_VERSION);
	o.flags = GIT_DIFF_SHOW_BINARY;
	f.flags = GIT_DIFF_FIND_RENAMES;
	if (git_oid_fromstr(&id, base) < 0 || git_commit_lookup(&commit, repo, &id) < 0 ||
	    git_commit_tree(&old, commit) < 0 || git_tree_lookup(&new, repo, tree_id) < 0 ||
	    git_diff_tree_to_tree(diff, repo, old, new, &o) < 0 ||
	    git_diff_find_similar(*diff, &f) < 0) {
		gitinfo_error(err, "cannot compare the worktree with its snapshot");
		goto out;
	}
	rc = 0;
out:
	git_tree_free(new);
	git_tree_free(old);
	git_commit_free(commit);
	return rc;
}

int isolate_change(const struct isolate *iso, struct strbuf *patch, struct strbuf *stat,
		   struct strbuf *err)
{
	git_repository *repo = NULL;
	git_diff *diff = NULL;
	git_diff_stats *stats = NULL;
	git_buf buf = { 0 };
	git_oid tree;
	int rc = -1;
	size_t n;

	if (gitinfo_global_init(err) < 0)
		return -1;
	if (!iso->dir) {
		strbuf_addstr(err, "no worktree");
		return -1;
	}
	if (git_repository_open(&repo, iso->dir) < 0) {
		gitinfo_error(err, "cannot open the worktree");
		return -1;
	}
	if (snapshot_tree(repo, &tree, err) < 0 || diff_trees(&diff, repo, iso->base, &tree, err) < 0)
		goto out;
	n = git_diff_num_deltas(diff);
	if (n) {
		if (git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) < 0) {
			gitinfo_error(err, "cannot write the patch");
			goto out;
		}
		strbuf_add(patch, buf.ptr, buf.size);
		git_buf_dispose(&buf);
		if (stat) {
			if (git_diff_get_stats(&stats, diff) < 0 ||
			    git_diff_stats_to_buf(&buf, stats, GIT_DIFF_STATS_FULL, 72) < 0) {
				gitinfo_error(err, "cannot count the change");
				goto out;
			}
			strbuf_add(stat, buf.ptr, buf.size);
		}
	}
	rc = n > 0x7fffffff ? 0x7fffffff : (int)n;
out:
	git_buf_dispose(&buf);
	git_diff_stats_free(stats);
	git_diff_free(diff);
	git_repository_free(repo);
	return rc;
}

int isolate_remove(struct isolate *iso, struct strbuf *err)
{
	int rc = 0;

	if (iso->dir && rmtree(iso->dir) < 0) {
		strbuf_addf(err, "cannot remove the worktree '%s': %s", iso->dir, strerror(errno));
		rc = -1;
	}
	if (iso->gitdir && rmtree(iso->gitdir) < 0 && !rc) {
		strbuf_addf(err, "cannot remove '%s': %s", iso->gitdir, strerror(errno));
		rc = -1;
	}
	free(iso->dir);
	free(iso->gitdir);
	free(iso->top);
	iso->dir = iso->gitdir = iso->top = NULL;
	iso->base[0] = '\0';
	return rc;
}

/* --- applying a patch ---------------------------------------------- */

struct one_delta {
	size_t want, seen;
};

/* Apply only the delta numbered `want`: to find which ones conflict. */
static int only_delta(const git_diff_delta *delta, void *data)
{
	struct one_delta *o = data;

	(void)delta;
	return o->seen++ == o->want ? 0 : 1;
}

static void push_paths(struct strvec *sv, const git_diff_delta *d)
{
	if (!sv)
		return;
	if (d->old_file.path && strvec_find(sv, d->old_file.path) < 0)
		strvec_push(sv, d->old_file.path);
	if (d->new_file.path && strvec_find(sv, d->new_file.path) < 0)
		strvec_push(sv, d->new_file.path);
}

int isolate_patch_paths(const char *patch, size_t len, struct strvec *paths, struct strbuf *err)
{
	git_diff *diff = NULL;

	if (gitinfo_global_init(err) < 0)
		return -1;
	if (git_diff_from_buffer(&diff, patch, len) < 0)
		return gitinfo_error(err, "not a patch");
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
		push_paths(paths, git_diff_get_delta(diff, i));
	git_diff_free(diff);
	return 0;
}

/* Is the file `rel` of the working tree still what the snapshot `tree`
 * holds (what the patch was applied to)? An edit of the user's since
 * then must not be overwritten. */
static bool still_as_seen(git_repository *repo, git_tree *tree, const char *top, const char *rel)
{
	git_tree_entry *e = NULL;
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	git_oid id;
	bool same = false;

	strbuf_addf(&path, "%s%s", top, rel);
	if (git_tree_entry_bypath(&e, tree, rel) < 0) {
		/* not there: nor may anything be on disk (an ignored file) */
		same = lstat(path.buf, &sb) < 0 && errno == ENOENT;
	} else if (lstat(path.buf, &sb) == 0) {
		if (S_ISLNK(sb.st_mode)) {
			char target[4096];
			ssize_t n = readlink(path.buf, target, sizeof(target));

			same = n >= 0 && git_odb_hash(&id, target, (size_t)n, GIT_OBJECT_BLOB) == 0 &&
			       git_oid_equal(&id, git_tree_entry_id(e));
		} else if (S_ISREG(sb.st_mode)) {
			same = git_repository_hashfile(&id, repo, path.buf, GIT_OBJECT_BLOB, NULL) == 0 &&
			       git_oid_equal(&id, git_tree_entry_id(e));
		}
	}
	git_tree_entry_free(e);
	strbuf_release(&path);
	return same;
}

/* Does the tree hold what delta `d` starts from: its old file as the
 * snapshot `tree` has it, and nothing where it makes a new one? */
static bool delta_in_place(git_repository *repo, git_tree *tree, const char *top,
			   const git_diff_delta *d)
{
	git_tree_entry *e = NULL;
	bool fresh = d->status == GIT_DELTA_ADDED || d->status == GIT_DELTA_RENAMED ||
		     d->status == GIT_DELTA_COPIED;

	if (d->status != GIT_DELTA_ADDED && !still_as_seen(repo, tree, top, d->old_file.path))
		return false;
	if (!fresh)
		return true;
	if (git_tree_entry_bypath(&e, tree, d->new_file.path) == 0) {
		git_tree_entry_free(e);
		return false;
	}
	return still_as_seen(repo, tree, top, d->new_file.path);
}

/* The tree a patch is applied to: the index as it is, with each path
 * the patch names as it is on disk now (left out when nothing, or a
 * folder, is there). The patch reads those paths only, so this is what
 * the user sees where it matters, without snapshot_tree()'s walk of the
 * whole working tree. The index is changed in memory only. */
static int tree_at_paths(git_repository *repo, const char *top, git_diff *diff, git_oid *tree,
			 struct strbuf *err)
{
	struct strvec paths = STRVEC_INIT;
	struct strbuf full = STRBUF_INIT;
	git_index *index = NULL;
	int rc = -1;

	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
		push_paths(&paths, git_diff_get_delta(diff, i));
	if (git_repository_index(&index, repo) < 0) {
		gitinfo_error(err, "cannot read the index");
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		strbuf_addstr(err, "the index has merge conflicts: resolve them first");
		goto out;
	}
	for (size_t i = 0; i < paths.nr; i++) {
		struct stat sb;

		strbuf_reset(&full);
		strbuf_addf(&full, "%s%s", top, paths.v[i]);
		if (lstat(full.buf, &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode))) {
			if (git_index_add_bypath(index, paths.v[i]) < 0) {
				gitinfo_error(err, "cannot read the working tree");
				goto out;
			}
		} else if (git_index_get_bypath(index, paths.v[i], 0) &&
			   git_index_remove_bypath(index, paths.v[i]) < 0) {
			gitinfo_error(err, "cannot read the working tree");
			goto out;
		}
	}
	if (git_index_write_tree(tree, index) < 0) {
		gitinfo_error(err, "cannot read the working tree");
		goto out;
	}
	rc = 0;
out:
	git_index_free(index);
	strvec_clear(&paths);
	strbuf_release(&full);
	return rc;
}

int isolate_apply(const char *path, const char *squad_dir, const char *what, const char *patch,
		  size_t len, struct strvec *touched, struct strvec *conflicts, struct strbuf *err)
{
	struct treewrite *tw = NULL;
	git_repository *repo = NULL;
	git_diff *diff = NULL;
	git_tree *tree = NULL;
	git_index *post = NULL;
	git_oid tree_id;
	const char *top;
	size_t n;
	int rc = -1;

	if (gitinfo_open_worktree(&repo, path, err) < 0)
		return -1;
	top = git_repository_workdir(repo);
	if (git_diff_from_buffer(&diff, patch, len) < 0) {
		gitinfo_error(err, "not a patch");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	/* the patch applied in memory to what the user has now, staged,
	 * unstaged and untracked: either all of it applies or none */
	if (tree_at_paths(repo, top, diff, &tree_id, err) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		if (!err->len)
			gitinfo_error(err, "cannot read the working tree");
		goto out;
	}
	if (git_apply_to_tree(&post, repo, tree, diff, NULL) < 0) {
		git_apply_options ao;
		git_index *one = NULL;
		struct one_delta od = { 0, 0 };

		gitinfo_error(err, "the patch does not apply to the working tree as it is");
		git_apply_options_init(&ao, GIT_APPLY_OPTIONS_VERSION);
		ao.delta_cb = only_delta;
		ao.payload = &od;
		for (size_t i = 0; i < n; i++) {
			od.want = i;
			od.seen = 0;
			if (git_apply_to_tree(&one, repo, tree, diff, &ao) < 0 ||
			    !delta_in_place(repo, tree, top, git_diff_get_delta(diff, i)))
				push_paths(conflicts, git_diff_get_delta(diff, i));
			git_index_free(one);
			one = NULL;
		}
		rc = 1;
		goto out;
	}
	/* an edit of the user's made while this ran, or an ignored file in
	 * the way of a new one: nothing is written */
	for (size_t i = 0; i < n; i++) {
		if (!delta_in_place(repo, tree, top, git_diff_get_delta(diff, i))) {
			push_paths(conflicts, git_diff_get_delta(diff, i));
			if (rc != 1)
				strbuf_addstr(err, "the working tree changed meanwhile");
			rc = 1;
		}
	}
	if (rc == 1)
		goto out;

	tw = treewrite_begin(squad_dir, top, what, err);
	if (!tw)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const git_index_entry *e;
		git_blob *blob = NULL;

		push_paths(touched, d);
		if (d->status == GIT_DELTA_DELETED || d->status == GIT_DELTA_RENAMED)
			treewrite_remove(tw, d->old_file.path);
		if (d->status == GIT_DELTA_DELETED)
			continue;
		e = git_index_get_bypath(post, d->new_file.path, 0);
		if (!e) {
			strbuf_addf(err, "the patched tree has no '%s'", d->new_file.path);
			goto out;
		}
		if (git_blob_lookup(&blob, repo, &e->id) < 0) {
			gitinfo_error(err, "cannot read the patched file");
			goto out;
		}
		treewrite_put(tw, e->path, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob),
			      e->mode == GIT_FILEMODE_LINK ? TREEWRITE_LINK
			      : e->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? TREEWRITE_EXEC
			      : TREEWRITE_FILE);
		git_blob_free(blob);
	}
	if (treewrite_commit(tw, err) < 0)
		goto out;
	rc = 0;
out:
	treewrite_free(tw);
	git_index_free(post);
	git_tree_free(tree);
	git_diff_free(diff);
	git_repository_free(repo);
	return rc;
}
