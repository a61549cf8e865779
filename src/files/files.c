/* files.c - the walk of a folder tree, stat data and blob ids; see files.h. */
#include "files/files.h"
#include "files/state.h"
#include "util/strmap.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha1.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_stat file_stat_of(const struct stat *st)
{
	return (struct file_stat){ st->st_mtim.tv_sec, st->st_mtim.tv_nsec, st->st_ctim.tv_sec,
				   st->st_ctim.tv_nsec, st->st_size, st->st_ino };
}

bool file_stat_settled(const struct file_stat *st, const struct timespec *since)
{
	return st->ctime_sec < since->tv_sec ||
	       (st->ctime_sec == since->tv_sec && st->ctime_nsec < since->tv_nsec);
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

void files_hash(const char *data, size_t len, char hex[41])
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

/* One more file into the list, growing its three arrays together. */
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

/* A walk and what it is told: the rules, and the lock around their
 * hooks while two threads walk. */
struct walk {
	struct file_list *files;
	struct walk_rules rules; /* a copy: one load less per file */
	pthread_mutex_t *lock; /* NULL on one thread, or when the hooks need none */
};

/* Is the folder `rel` (with '/') below a root left out? */
static bool skip_folder(const struct walk *w, const char *rel)
{
	bool skip;

	if (!w->rules.skip_folder)
		return false;
	if (w->lock)
		pthread_mutex_lock(w->lock);
	skip = w->rules.skip_folder(w->rules.data, rel, false) > 0;
	if (w->lock)
		pthread_mutex_unlock(w->lock);
	return skip;
}

/* The regular file `rel` into the list, unless the rules leave it out;
 * false when they do. */
static bool found_file(const struct walk *w, const char *rel, const struct stat *st)
{
	char oid[41];
	bool skip = false;

	oid[0] = '\0'; /* "" unless the rules know the id: no need to clear all 41 */
	if (w->rules.skip_file) {
		if (w->lock)
			pthread_mutex_lock(w->lock);
		skip = w->rules.skip_file(w->rules.data, rel, st, oid);
		if (w->lock)
			pthread_mutex_unlock(w->lock);
	}
	if (skip)
		return false;
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
			    !strcmp(de->d_name, ".git") || !strcmp(de->d_name, STATE_DIR_NAME))
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
 * are the known ones when the rules know them, else read from the folder.
 *
 * The listing kept (folder_listing) marks each name the rules leave out
 * (in a repository: an ignored untracked file or folder, a submodule)
 * with a '/' before it. A trusted walk takes those marks as they are,
 * and stops (files->stopped) at a folder whose names are not known:
 * they are new to the rules. Any other walk asks the rules and marks
 * the names afresh. */
static void walk_folder(const struct walk *w, int at, const char *name, const struct stat *st,
			struct strbuf *rel)
{
	struct file_list *files = w->files;
	struct file_stat fst = file_stat_of(st);
	struct strbuf folder = STRBUF_INIT, marked = STRBUF_INIT;
	struct folder_listing *f;
	const char *cached = NULL, *names;
	size_t len = rel->len, names_len = 0, at_listing;
	bool trusted = w->rules.trusted;
	int fd;

	if (files->stopped)
		return;
	if (w->rules.known_names)
		cached = w->rules.known_names(w->rules.data, rel->buf, &fst, &names_len);
	if (trusted && !cached) {
		files->stopped = true;
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
		if (marked_out && trusted)
			continue;
		strbuf_add(rel, entry, entry_len);
		if (is_folder) {
			strbuf_reset(&folder);
			strbuf_add(&folder, entry, entry_len - 1);
		}
		/* relative to the open folder: no walk of the whole path */
		if (fstatat(fd, is_folder ? folder.buf : entry, &est, AT_SYMLINK_NOFOLLOW) == 0) {
			if (is_folder && S_ISDIR(est.st_mode)) {
				left_out = !trusted && skip_folder(w, rel->buf);
				if (!left_out)
					walk_folder(w, fd, folder.buf, &est, rel);
			} else if (!is_folder && S_ISREG(est.st_mode)) {
				left_out = !found_file(w, rel->buf, &est);
			}
		}
		strbuf_setlen(rel, len);
		if (!trusted) {
			if (left_out)
				strbuf_addch(&marked, '/');
			strbuf_add(&marked, entry, entry_len + 1); /* its NUL too */
		}
	}
	if (!trusted) {
		/* the marks as the rules have them now (none without rules) */
		f = &files->folders[at_listing];
		free(f->names);
		f->names_len = marked.len;
		f->names = strbuf_detach(&marked, NULL);
	}
	strbuf_release(&marked);
	strbuf_release(&folder);
	close(fd);
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
	to->stopped |= from->stopped;
	from->nr = from->nr_folders = 0;
	from->root = NULL; /* to's */
	file_list_release(from);
}

/* Walk the roots (sorted, none inside another). Most of a walk is the
 * kernel's lstat work, one call per file, so with two CPUs or more the
 * second half of a long list goes to a second thread, as git's
 * preload-index splits its lstat calls; hooks that ask for it
 * (libgit2's) are called by one at a time. The halves' lists, each
 * sorted, follow one another. */
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
		if (w->rules.one_at_a_time)
			first.lock = second.w.lock = &lock;
		threaded = pthread_create(&thread, NULL, walk_second_half, &second) == 0;
		if (!threaded) {
			half = roots->nr;
			first.lock = NULL;
		}
	}
	walk_some(&first, roots->v, half);
	if (threaded) {
		pthread_join(thread, NULL);
		append_files(w->files, &second.list);
	}
}

/* Is the root `rel` of the walk to be walked? A root the rules cannot
 * tell about stops the walk. */
static bool root_walked(const struct walk *w, const char *rel)
{
	int skipped;

	if (!*rel || !w->rules.skip_folder)
		return true;
	skipped = w->rules.skip_folder(w->rules.data, rel, true);
	if (skipped < 0)
		w->files->stopped = true;
	return skipped == 0;
}

void file_list_walk(struct file_list *files, char *root, const struct strvec *roots,
		    const struct walk_rules *rules)
{
	static const struct walk_rules none;
	struct walk w = { files, rules ? *rules : none, NULL };
	struct strvec walked = STRVEC_INIT;
	const char *last = NULL;

	memset(files, 0, sizeof(*files));
	files->root = root;
	if (w.rules.trusted)
		w.rules.skip_file = NULL; /* the marks are the rules' word */
	/* a file last changed before this can be trusted by its stat data
	 * once hashed (filecache.h); the coarse clock is the one that
	 * stamps mtimes */
	clock_gettime(CLOCK_REALTIME_COARSE, &files->listed_at);
	if (!roots)
		strvec_push(&walked, "");
	/* only the folders inputs can reach; roots come sorted, so a root
	 * inside the one walked before it is covered already */
	for (size_t i = 0; roots && i < roots->nr; i++) {
		if (last && !strncmp(roots->v[i], last, strlen(last)))
			continue;
		last = roots->v[i];
		if (root_walked(&w, last))
			strvec_push(&walked, last);
	}
	walk_roots(&w, &walked);
	strvec_clear(&walked);
	sort_files(files);
}

const char *file_list_oid(struct file_list *files, size_t i)
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
	memset(files, 0, sizeof(*files));
}
