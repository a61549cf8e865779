/* gitinfo.c - libgit2 queries; see gitinfo.h. */
#include "gitinfo.h"
#include "filecache.h"
#include "gitstamp.h"
#include "util/strmap.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <mbedtls/sha1.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool initialised;

/* The repository gitinfo_preload() opened, with its index, or the stamp
 * it found to hold, and for which folder; handed to the first walk of
 * that folder. */
static struct preload {
	pthread_t thread;
	bool running;
	char *path;
	git_repository *repo;
	git_index *index;
	struct gitstamp *stamp;
	struct timespec since; /* coarse clock, before either was read */
} preload;

static void global_init(void)
{
	if (!initialised)
		git_libgit2_init();
	initialised = true;
}

static bool find_worktree(const char *path, struct strbuf *top);

static void *preload_main(void *data)
{
	struct preload *p = data;
	sigset_t all;

	/* squad's signals are the main thread's to handle */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	global_init();
	if (git_repository_open_ext(&p->repo, p->path, 0, NULL) < 0 ||
	    git_repository_is_bare(p->repo) || git_repository_index(&p->index, p->repo) < 0) {
		/* the walk opens it again, and reports what is wrong */
		git_repository_free(p->repo);
		p->repo = NULL;
	}
	return NULL;
}

/* The stamp in `path`'s .squad, when it holds for the working tree at
 * `top`; else NULL. */
static struct gitstamp *stamp_that_holds(const char *path, const char *top)
{
	struct gitstamp *gs = xmalloc(sizeof(*gs));
	struct strbuf file = STRBUF_INIT;

	*gs = (struct gitstamp)GITSTAMP_INIT;
	strbuf_addf(&file, "%s/.squad/git", path);
	if (gitstamp_read(gs, file.buf) < 0 || strcmp(gs->workdir, top) || !gitstamp_holds(gs)) {
		gitstamp_release(gs);
		free(gs);
		gs = NULL;
	}
	strbuf_release(&file);
	return gs;
}

void gitinfo_preload(const char *path)
{
	struct strbuf top = STRBUF_INIT;

	if (preload.running || preload.path || !find_worktree(path, &top)) {
		strbuf_release(&top);
		return;
	}
	preload.path = xstrdup(path);
	clock_gettime(CLOCK_REALTIME_COARSE, &preload.since);
	preload.stamp = stamp_that_holds(path, top.buf);
	if (!preload.stamp)
		preload.running = pthread_create(&preload.thread, NULL, preload_main, &preload) == 0;
	strbuf_release(&top);
}

static void preload_join(void)
{
	if (preload.running)
		pthread_join(preload.thread, NULL);
	preload.running = false;
}

/* The preloaded repository of `path` and its index, now the caller's;
 * false when there is none. */
static bool take_preloaded(const char *path, git_repository **repo, git_index **index)
{
	preload_join();
	if (!preload.repo || strcmp(preload.path, path))
		return false;
	*repo = preload.repo;
	*index = preload.index;
	preload.repo = NULL;
	preload.index = NULL;
	return true;
}

/* The stamp gitinfo_preload() found to hold for `path`, now the
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

/* libgit2's set-up reads the system's certificates, which a run that
 * never touches git should not pay for: it happens on first use, or on
 * gitinfo_preload()'s thread. */
void gitinfo_global_init(void)
{
	preload_join();
	global_init();
}

void gitinfo_global_shutdown(void)
{
	preload_join();
	git_index_free(preload.index);
	git_repository_free(preload.repo);
	if (preload.stamp)
		gitstamp_release(preload.stamp);
	free(preload.stamp);
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

	gitinfo_global_init();
	memset(gi, 0, sizeof(*gi));
	strvec_init(&gi->dirty);
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

/* The blob id of `len` bytes read by `more` (SHA-1 of "blob LEN\0" and
 * the bytes), as git computes it. libgit2's own hashing is
 * collision-detecting SHA-1, several times slower, and needs libgit2's
 * set-up, which reads the system's certificates; mbedTLS is the library
 * libgit2 itself links on Debian, so it costs no new dependency.
 * Returns 0, or -1 when `more` fails or gives other than len bytes. */
static int blob_id(size_t len, ssize_t (*more)(void *src, char *buf, size_t max),
		   void *src, char hex[41])
{
	static const char digits[] = "0123456789abcdef";
	mbedtls_sha1_context ctx;
	unsigned char sum[20];
	char buf[65536];
	size_t seen = 0;
	int n = snprintf(buf, sizeof(buf), "blob %zu", len) + 1;
	ssize_t got;

	mbedtls_sha1_init(&ctx);
	mbedtls_sha1_starts_ret(&ctx);
	mbedtls_sha1_update_ret(&ctx, (const unsigned char *)buf, (size_t)n);
	while ((got = more(src, buf, sizeof(buf))) > 0) {
		seen += (size_t)got;
		mbedtls_sha1_update_ret(&ctx, (const unsigned char *)buf, (size_t)got);
	}
	mbedtls_sha1_finish_ret(&ctx, sum);
	mbedtls_sha1_free(&ctx);
	for (int i = 0; i < 20; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[40] = '\0';
	return got < 0 || seen != len ? -1 : 0;
}

struct memory {
	const char *data;
	size_t len;
};

static ssize_t from_memory(void *src, char *buf, size_t max)
{
	struct memory *m = src;
	size_t n = m->len < max ? m->len : max;

	memcpy(buf, m->data, n);
	m->data += n;
	m->len -= n;
	return (ssize_t)n;
}

static ssize_t from_fd(void *src, char *buf, size_t max)
{
	ssize_t n;

	while ((n = read(*(int *)src, buf, max)) < 0 && errno == EINTR)
		;
	return n;
}

void gitinfo_hash(const char *data, size_t len, char hex[41])
{
	struct memory m = { data, len };

	blob_id(len, from_memory, &m, hex);
}

/* The blob id of the file at `path`, or -1 when it cannot be read whole. */
static int hash_file(const char *path, char hex[41])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		rc = blob_id((size_t)st.st_size, from_fd, &fd, hex);
	close(fd);
	return rc;
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

	gitinfo_global_init();
	if (open_repo(&repo, path, err) < 0)
		return -1;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (tree_of(&head, repo, "HEAD", err) < 0)
		goto out;
	/* the index the commit takes: git names it for a hook (git commit -a
	 * stages into a temporary one) */
	if ((getenv("GIT_INDEX_FILE") && *getenv("GIT_INDEX_FILE")
	     ? git_index_open(&index, getenv("GIT_INDEX_FILE"))
	     : git_repository_index(&index, repo)) < 0 ||
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

	gitinfo_global_init();
	if (open_repo(&repo, path, err) < 0)
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

struct file_stat file_stat_of(const struct stat *st)
{
	return (struct file_stat){ st->st_mtim.tv_sec, st->st_mtim.tv_nsec, st->st_ctim.tv_sec,
				   st->st_ctim.tv_nsec, st->st_size, st->st_ino };
}

static void add_file(struct file_list *files, const char *path, const char *oid,
		     const struct stat *st)
{
	if (files->nr == files->alloc) {
		files->alloc = files->alloc ? files->alloc * 2 : 256;
		files->paths = xrealloc(files->paths, files->alloc * sizeof(*files->paths));
		files->oid = xrealloc(files->oid, files->alloc * sizeof(*files->oid));
		files->stats = xrealloc(files->stats, files->alloc * sizeof(*files->stats));
	}
	files->paths[files->nr] = xstrdup(path);
	memcpy(files->oid[files->nr], oid, strlen(oid) + 1); /* at most 41 bytes */
	files->stats[files->nr] = file_stat_of(st);
	files->nr++;
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

static void sort_all(struct file_list *files);

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_files(struct file_list *files)
{
	size_t sorted = 1;

	while (sorted < files->nr && strcmp(files->paths[sorted - 1], files->paths[sorted]) < 0)
		sorted++;
	if (sorted >= files->nr)
		return; /* as the walk gives them */
	sort_all(files);
}

static void sort_all(struct file_list *files)
{
	/* sort paths and their ids together: sort indices, then permute */
	size_t *order = xmalloc((files->nr + 1) * sizeof(size_t));
	char **paths = xmalloc((files->nr + 1) * sizeof(char *));
	char (*oid)[41] = xmalloc((files->nr + 1) * 41);
	struct file_stat *stats = xmalloc((files->nr + 1) * sizeof(*stats));

	for (size_t i = 0; i < files->nr; i++)
		paths[i] = files->paths[i];
	qsort(paths, files->nr, sizeof(char *), by_path);
	/* ids follow their paths: find each one's old slot through a map */
	{
		struct strmap where = STRMAP_INIT;

		for (size_t i = 0; i < files->nr; i++)
			strmap_put(&where, files->paths[i], (int)i);
		for (size_t i = 0; i < files->nr; i++)
			order[i] = (size_t)strmap_get(&where, paths[i]);
		for (size_t i = 0; i < files->nr; i++) {
			memcpy(oid[i], files->oid[order[i]], 41);
			stats[i] = files->stats[order[i]];
		}
		strmap_release(&where);
	}
	free(files->paths);
	free(files->oid);
	free(files->stats);
	free(order);
	files->paths = paths;
	files->oid = oid;
	files->stats = stats;
	files->alloc = files->nr + 1;
}

/* Fewer roots than twice this are walked by one thread. */
#define MIN_ROOTS_A_THREAD 32

/* What the walk needs to know of the repository, when there is one:
 * libgit2's view, or a stamp that vouches for the cache's word. */
struct walk {
	struct file_list *files;
	const struct filecache *cache; /* unchanged folders' names, or NULL */
	git_repository *repo;  /* NULL outside a repository, and when trusted */
	git_index *index;
	int64_t index_mtime;
	pthread_mutex_t *git_lock; /* around libgit2 while two walks run */
	bool trusted;          /* the stamp holds: the cache's marks are git's */
	struct gitstamp *stamp; /* trusted: read from; else the roots go to it */
};

static void git_lock(const struct walk *w)
{
	if (w->git_lock)
		pthread_mutex_lock(w->git_lock);
}

static void git_unlock(const struct walk *w)
{
	if (w->git_lock)
		pthread_mutex_unlock(w->git_lock);
}

/* Is the folder `rel` (with '/') to be skipped: ignored with nothing of
 * it tracked, or a submodule (tracked as one entry, not as files)? */
static bool skip_folder(const struct walk *w, const char *rel)
{
	size_t pos;
	int ignored = 0;
	const git_index_entry *e;
	struct strbuf bare = STRBUF_INIT;
	bool skip;

	if (!w->repo)
		return false;
	strbuf_add(&bare, rel, strlen(rel) - 1);
	git_lock(w);
	e = git_index_get_bypath(w->index, bare.buf, 0);
	if (e && e->mode == GIT_FILEMODE_COMMIT)
		skip = true;
	else if (git_index_find_prefix(&pos, w->index, rel) == 0)
		skip = false; /* something in it is tracked */
	else
		skip = git_ignore_path_is_ignored(&ignored, w->repo, rel) == 0 && ignored;
	git_unlock(w);
	strbuf_release(&bare);
	return skip;
}

/* The regular file `rel` into the list, unless git leaves it out
 * (untracked and ignored); false when it does. */
static bool found_file(const struct walk *w, const char *rel, const struct stat *st)
{
	char oid[41] = "";
	const git_index_entry *e;
	int ignored = 0;

	if (w->repo) {
		git_lock(w);
		e = git_index_get_bypath(w->index, rel, 0);
		if (e && stat_matches(e, st, w->index_mtime))
			git_oid_tostr(oid, sizeof(oid), &e->id);
		/* untracked and ignored: not an input */
		if (!e && git_ignore_path_is_ignored(&ignored, w->repo, rel) == 0 && ignored) {
			git_unlock(w);
			return false;
		}
		git_unlock(w);
	}
	add_file(w->files, rel, oid, st);
	return true;
}

/* The names in the open folder `fd` (but ".", "..", .git and .squad), a
 * folder's with a '/' after it, in the order of their paths, into `out`,
 * each NUL-terminated. getdents64 itself: readdir() would fstat the
 * folder first, and a walk of 2,000 folders is 2,000 of those. */
static void read_folder(int fd, struct strbuf *out)
{
	struct strvec names = STRVEC_INIT;
	char buf[32768];
	ssize_t n;

	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const void *)(buf + off);
			bool is_dir = de->d_type == DT_DIR;
			size_t len = strlen(de->d_name);
			struct stat st;
			char *name;

			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			    !strcmp(de->d_name, ".git") || !strcmp(de->d_name, ".squad"))
				continue;
			if (de->d_type == DT_UNKNOWN)
				is_dir = fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					 S_ISDIR(st.st_mode);
			name = xmalloc(len + 2);
			memcpy(name, de->d_name, len);
			name[len] = is_dir ? '/' : '\0';
			name[len + 1] = '\0';
			strvec_push_nodup(&names, name);
		}
	}
	qsort(names.v, names.nr, sizeof(char *), by_path);
	for (size_t i = 0; i < names.nr; i++) {
		strbuf_addstr(out, names.v[i]);
		strbuf_addch(out, '\0');
	}
	strvec_clear(&names);
}

/* Walk the folder `rel` (relative to the root, "" or ending in '/'),
 * which is `name` relative to the fd `at`, with the stat data `st`:
 * its regular files go to the list, one lstat each, and its folders are
 * walked in turn, depth-first, so that the files come out sorted as
 * strcmp() sorts paths and sort_files() has nothing to do. Its names
 * come from the cache when it vouches for them, else from the folder.
 *
 * The listing kept for the cache marks each name git leaves out (an
 * ignored untracked file or folder, a submodule) with a '/' before it.
 * A trusted walk takes those marks as they are, and stops (need_git)
 * at a folder the cache does not vouch for: its names are new to git's
 * rules. Any other walk asks libgit2 and marks the names afresh. */
static void walk_folder(const struct walk *w, int at, const char *name, const struct stat *st,
			struct strbuf *rel)
{
	struct file_list *files = w->files;
	struct file_stat fst = file_stat_of(st);
	struct strbuf folder = STRBUF_INIT, marked = STRBUF_INIT;
	struct folder_listing *f;
	const char *cached = NULL, *names;
	size_t len = rel->len, names_len = 0, at_listing;
	int fd;

	if (files->need_git)
		return;
	if (w->cache)
		cached = filecache_folder(w->cache, rel->buf, &fst, &names_len);
	if (w->trusted && !cached) {
		files->need_git = true;
		return;
	}
	/* O_PATH: enough to stat what is in it, when the names are known */
	fd = openat(at, name, (cached ? O_PATH : O_RDONLY) | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	ALLOC_GROW(files->folders, files->nr_folders + 1, files->alloc_folders);
	at_listing = files->nr_folders++;
	f = &files->folders[at_listing];
	f->path = xstrdup(rel->buf);
	f->st = fst;
	if (cached) {
		f->names = xmalloc(names_len + 1);
		memcpy(f->names, cached, names_len);
		f->names[names_len] = '\0';
		f->names_len = names_len;
	} else {
		struct strbuf read = STRBUF_INIT;

		read_folder(fd, &read);
		f->names_len = read.len;
		f->names = strbuf_detach(&read, NULL);
		files->folders_read++;
	}
	/* f moves when the walks below add folders; its names do not. A
	 * name is walked as a folder only when its '/' says so, and listed
	 * as a file only when it does not: one that changed kind since it
	 * was listed is left out (its folder has changed, so it is read
	 * again next time) */
	names = f->names;
	names_len = f->names_len;
	for (size_t off = 0, n; off < names_len; off += n + 1) {
		const char *entry = names + off;
		bool marked_out = entry[0] == '/', left_out = false, is_folder;
		size_t entry_len;
		struct stat est;

		n = strlen(entry);
		entry += marked_out;
		entry_len = n - marked_out;
		is_folder = entry_len && entry[entry_len - 1] == '/';
		if (marked_out && w->trusted)
			continue;
		strbuf_add(rel, entry, entry_len);
		if (is_folder) {
			strbuf_reset(&folder);
			strbuf_add(&folder, entry, entry_len - 1);
		}
		/* relative to the open folder: no walk of the whole path */
		if (fstatat(fd, is_folder ? folder.buf : entry, &est, AT_SYMLINK_NOFOLLOW) == 0) {
			if (is_folder && S_ISDIR(est.st_mode)) {
				left_out = !w->trusted && skip_folder(w, rel->buf);
				if (!left_out)
					walk_folder(w, fd, folder.buf, &est, rel);
			} else if (!is_folder && S_ISREG(est.st_mode)) {
				left_out = !found_file(w, rel->buf, &est);
			}
		}
		strbuf_setlen(rel, len);
		if (!w->trusted) {
			if (left_out)
				strbuf_addch(&marked, '/');
			strbuf_add(&marked, entry, entry_len + 1); /* its NUL too */
		}
	}
	if (!w->trusted) {
		/* the marks as git has them now (none outside a repository) */
		f = &files->folders[at_listing];
		free(f->names);
		f->names_len = marked.len;
		f->names = strbuf_detach(&marked, NULL);
	}
	strbuf_release(&marked);
	strbuf_release(&folder);
	close(fd);
}

/* Could `path` be inside a working tree: has it, or a folder above it,
 * a .git? When not, libgit2 (and its set-up) is not needed at all: a
 * bare repository has no working tree, and squad treats it as none.
 * The nearest such folder, with a '/', goes to `top` (when not NULL):
 * the one libgit2 would open. */
static bool find_worktree(const char *path, struct strbuf *top)
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
	git_repository *repo = NULL;
	int rc = GIT_ENOTFOUND;

	preload_join();
	if (preload.repo && !strcmp(preload.path, path)) {
		strbuf_addstr(root, git_repository_workdir(preload.repo));
		return 0;
	}
	if (preload.stamp && !strcmp(preload.path, path)) {
		strbuf_addstr(root, preload.stamp->workdir);
		return 0;
	}
	if (find_worktree(path, NULL)) {
		gitinfo_global_init();
		rc = git_repository_open_ext(&repo, path, 0, NULL);
	}
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

/* Walk the folder `rel` (relative to the root, "" or ending in '/') from
 * the top: a root of the walk, followed if it is a symlink. */
static void walk_root(const struct walk *w, struct strbuf *rel)
{
	struct strbuf full = STRBUF_INIT;
	struct stat st;

	strbuf_addf(&full, "%s%s", w->files->root, rel->buf);
	if (stat(full.buf, &st) == 0 && S_ISDIR(st.st_mode))
		walk_folder(w, AT_FDCWD, full.buf, &st, rel);
	strbuf_release(&full);
}

/* Walk each of `roots` from the top. */
static void walk_some(const struct walk *w, char *const *roots, size_t nr)
{
	struct strbuf rel = STRBUF_INIT;

	for (size_t i = 0; i < nr; i++) {
		strbuf_reset(&rel);
		strbuf_addstr(&rel, roots[i]);
		walk_root(w, &rel);
	}
	strbuf_release(&rel);
}

/* Some of the roots, walked by a thread of their own into a list of
 * their own. */
struct walk_part {
	struct walk w;
	struct file_list list;
	char **roots;
	size_t nr;
};

static void *walk_second_half(void *data)
{
	struct walk_part *part = data;

	walk_some(&part->w, part->roots, part->nr);
	return NULL;
}

/* Append `from`'s files and folders to `to`'s, and empty `from`. */
static void append_files(struct file_list *to, struct file_list *from)
{
	size_t nr = to->nr + from->nr;

	to->paths = xrealloc(to->paths, (nr + 1) * sizeof(*to->paths));
	to->oid = xrealloc(to->oid, (nr + 1) * sizeof(*to->oid));
	to->stats = xrealloc(to->stats, (nr + 1) * sizeof(*to->stats));
	memcpy(to->paths + to->nr, from->paths, from->nr * sizeof(*from->paths));
	memcpy(to->oid + to->nr, from->oid, from->nr * sizeof(*from->oid));
	memcpy(to->stats + to->nr, from->stats, from->nr * sizeof(*from->stats));
	to->nr = to->alloc = nr;
	ALLOC_GROW(to->folders, to->nr_folders + from->nr_folders, to->alloc_folders);
	memcpy(to->folders + to->nr_folders, from->folders,
	       from->nr_folders * sizeof(*from->folders));
	to->nr_folders += from->nr_folders;
	to->folders_read += from->folders_read;
	to->need_git |= from->need_git;
	from->nr = from->nr_folders = 0;
	from->root = NULL; /* to's */
	file_list_release(from);
}

/* Walk the roots (sorted, none inside another). Most of a walk is the
 * kernel's lstat work, one call per file, so with two CPUs or more the
 * second half of a long list goes to a second thread, as git's
 * preload-index splits its lstat calls; libgit2 is called by one at a
 * time. The halves' lists, each sorted, follow one another. */
static void walk_roots(const struct walk *w, const struct strvec *roots)
{
	struct walk_part second;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct walk first = *w;
	size_t half = roots->nr;
	pthread_t thread;
	bool threaded = false;

	if (roots->nr >= 2 * MIN_ROOTS_A_THREAD && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		half = roots->nr / 2;
		memset(&second, 0, sizeof(second));
		second.list.root = w->files->root;
		second.list.listed_at = w->files->listed_at;
		second.w = *w;
		second.w.files = &second.list;
		second.roots = roots->v + half;
		second.nr = roots->nr - half;
		if (w->repo)
			first.git_lock = second.w.git_lock = &lock;
		threaded = pthread_create(&thread, NULL, walk_second_half, &second) == 0;
		if (!threaded) {
			half = roots->nr;
			first.git_lock = NULL;
		}
	}
	walk_some(&first, roots->v, half);
	if (threaded) {
		pthread_join(thread, NULL);
		append_files(w->files, &second.list);
	}
}

/* Is the root `rel` of the walk to be walked, not left out by git? A
 * trusted walk has the stamp's word, or stops (need_git) without one;
 * any other asks libgit2 and tells the new stamp. */
static bool root_walked(const struct walk *w, const char *rel)
{
	int skipped;

	if (!*rel)
		return true;
	if (w->trusted) {
		skipped = gitstamp_root_skipped(w->stamp, rel);
		if (skipped < 0)
			w->files->need_git = true;
		return skipped == 0;
	}
	skipped = skip_folder(w, rel);
	if (w->stamp)
		gitstamp_root(w->stamp, rel, skipped);
	return !skipped;
}

/* Walk the whole tree (`roots` NULL), or from the roots. */
static void walk_tree(const struct walk *w, const struct strvec *roots)
{
	struct strvec walked = STRVEC_INIT;
	const char *last = NULL;

	if (!roots)
		strvec_push(&walked, "");
	/* only the folders inputs can reach; roots come sorted, so a root
	 * inside the one walked before it is covered already */
	for (size_t i = 0; roots && i < roots->nr; i++) {
		if (last && !strncmp(roots->v[i], last, strlen(last)))
			continue;
		last = roots->v[i];
		if (root_walked(w, last))
			strvec_push(&walked, last);
	}
	walk_roots(w, &walked);
	strvec_clear(&walked);
	sort_files(w->files);
}

static void watch_at(struct gitstamp *gs, const char *folder, const char *name, bool config)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s%s%s", folder, folder[strlen(folder) - 1] == '/' ? "" : "/", name);
	if (config)
		gitstamp_watch_config(gs, path.buf);
	else
		gitstamp_watch(gs, path.buf);
	strbuf_release(&path);
}

/* Does the listing hold a .gitignore (git's mark or not)? */
static bool has_gitignore(const struct folder_listing *f)
{
	for (size_t off = 0, n; off < f->names_len; off += n + 1) {
		const char *name = f->names + off;

		n = strlen(name);
		if (!strcmp(name + (name[0] == '/'), ".gitignore"))
			return true;
	}
	return false;
}

/* Into the walk's new stamp, every file the decisions it asked of
 * libgit2 came from: where the repository is, the index, the config
 * files (core.excludesFile, core.ignoreCase), the exclude files and the
 * .gitignore of each folder walked and of each folder above a root. The
 * config paths are those libgit2 reads, from HOME and XDG_CONFIG_HOME. */
static void watch_git_state(struct gitstamp *gs, git_repository *repo,
			    const struct file_list *files)
{
	const char *gitdir = git_repository_path(repo), *common = git_repository_commondir(repo);
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct strbuf path = STRBUF_INIT;
	git_config *config = NULL;
	git_buf excludes = { 0 };

	gs->workdir = xstrdup(files->root);
	watch_at(gs, files->root, ".git", false);
	watch_at(gs, gitdir, "index", false);
	watch_at(gs, common, "info/exclude", false);
	watch_at(gs, common, "config", true);
	watch_at(gs, gitdir, "config.worktree", true);
	watch_at(gs, "/etc", "gitconfig", true);
	if (!home || home[0] != '/') {
		gs->unusable = true; /* libgit2 would look elsewhere */
	} else {
		watch_at(gs, home, ".gitconfig", true);
		if (xdg && xdg[0] == '/')
			strbuf_addf(&path, "%s/git", xdg);
		else
			strbuf_addf(&path, "%s/.config/git", home);
		watch_at(gs, path.buf, "config", true);
		watch_at(gs, path.buf, "ignore", false);
	}
	if (git_repository_config_snapshot(&config, repo) == 0 &&
	    git_config_get_path(&excludes, config, "core.excludesfile") == 0) {
		if (excludes.ptr[0] == '/')
			gitstamp_watch(gs, excludes.ptr);
		else
			gs->unusable = true;
	}
	git_buf_dispose(&excludes);
	git_config_free(config);
	for (size_t i = 0; i < files->nr_folders; i++) {
		if (!has_gitignore(&files->folders[i]))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s%s.gitignore", files->root, files->folders[i].path);
		gitstamp_watch(gs, path.buf);
	}
	/* the folders above each root, the top one too: their rules say
	 * whether it is walked; a .gitignore there or not */
	for (size_t i = 0; i < gs->roots.nr; i++) {
		const char *root = gs->roots.v[i], *slash;

		for (const char *p = root;; p = slash + 1) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s%.*s.gitignore", files->root, (int)(p - root), root);
			gitstamp_watch(gs, path.buf);
			slash = strchr(p, '/');
			if (!slash || !slash[1])
				break;
		}
	}
	strbuf_release(&path);
}

int gitinfo_files(struct file_list *files, const char *path, const struct strvec *roots,
		  const struct filecache *cache, struct strbuf *err)
{
	struct walk w = { files, cache, NULL, NULL, INT64_MAX, NULL, false, NULL };
	struct strbuf full = STRBUF_INIT;
	struct timespec since;
	struct gitstamp *stamp = take_stamp(path, &since);
	struct stat st;
	int rc;

	memset(files, 0, sizeof(*files));
	/* a file last changed before this can be trusted by its stat data
	 * once hashed (filecache.h); the coarse clock is the one that
	 * stamps mtimes */
	clock_gettime(CLOCK_REALTIME_COARSE, &files->listed_at);
	if (stamp) {
		/* git's decisions as the last walk had them: no libgit2 */
		files->root = xstrdup(stamp->workdir);
		files->in_repo = files->trusted = true;
		files->stamp = w.stamp = stamp;
		files->git_since = since;
		w.trusted = true;
		walk_tree(&w, roots);
		if (!files->need_git)
			return 0;
		/* a folder or a root new to git's rules: walk again, asking */
		file_list_release(files);
		clock_gettime(CLOCK_REALTIME_COARSE, &files->listed_at);
		w.trusted = false;
		w.stamp = NULL;
	}
	files->git_since = files->listed_at;
	if (take_preloaded(path, &w.repo, &w.index)) {
		files->git_since = preload.since;
		rc = 0;
	} else if (find_worktree(path, NULL)) {
		gitinfo_global_init();
		rc = git_repository_open_ext(&w.repo, path, 0, NULL);
	} else {
		rc = GIT_ENOTFOUND;
	}
	if (rc < 0 && rc != GIT_ENOTFOUND)
		return fail(err, "cannot open the repository");
	if (rc == 0 && git_repository_is_bare(w.repo)) {
		git_repository_free(w.repo);
		w.repo = NULL;
	}
	if (w.repo) {
		files->in_repo = true;
		if (!w.index && git_repository_index(&w.index, w.repo) < 0) {
			git_repository_free(w.repo);
			return fail(err, "cannot read the index");
		}
		strbuf_addf(&full, "%sindex", git_repository_path(w.repo));
		if (stat(full.buf, &st) == 0)
			w.index_mtime = st.st_mtim.tv_sec;
		files->stamp = w.stamp = xmalloc(sizeof(*w.stamp));
		*w.stamp = (struct gitstamp)GITSTAMP_INIT;
	}
	strbuf_reset(&full);
	if (w.repo)
		strbuf_addstr(&full, git_repository_workdir(w.repo));
	else
		gitinfo_workdir(path, &full);
	files->root = strbuf_detach(&full, NULL);
	walk_tree(&w, roots);
	if (w.repo) {
		watch_git_state(w.stamp, w.repo, files);
		/* a stamp that cannot be kept vouches for no marks: then the
		 * cache is written only when it must, as outside a repository */
		files->restamp = !w.stamp->unusable;
	}
	git_index_free(w.index);
	git_repository_free(w.repo);
	return 0;
}

const char *gitinfo_file_oid(struct file_list *files, size_t i)
{
	struct strbuf full = STRBUF_INIT;

	if (!files->oid[i][0]) {
		strbuf_addf(&full, "%s%s", files->root, files->paths[i]);
		if (hash_file(full.buf, files->oid[i]) < 0)
			memcpy(files->oid[i], "-", 2); /* unreadable: a value of its own */
		files->hashed++;
		strbuf_release(&full);
	}
	return files->oid[i];
}

void file_list_release(struct file_list *files)
{
	for (size_t i = 0; i < files->nr_folders; i++) {
		free(files->folders[i].path);
		free(files->folders[i].names);
	}
	free(files->folders);
	for (size_t i = 0; i < files->nr; i++)
		free(files->paths[i]);
	free(files->paths);
	free(files->oid);
	free(files->stats);
	free(files->root);
	if (files->stamp)
		gitstamp_release(files->stamp);
	free(files->stamp);
	memset(files, 0, sizeof(*files));
}
