/* gitstamp.c - .squad/git; see gitstamp.h. */
#include "files/gitstamp.h"
#include "files/fileio.h"
#include "files/filecache.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GITSTAMP_HEADER "squad-git 1\n"

static void add_path(struct gitstamp *gs, const char *path, char kind,
		     const struct file_stat *st)
{
	if (strmap_get(&gs->watched, path) >= 0)
		return;
	strvec_push(&gs->paths, path);
	strbuf_addch(&gs->kinds, kind);
	if (st) {
		gs->stats = xrealloc(gs->stats, gs->paths.nr * sizeof(*gs->stats));
		gs->stats[gs->paths.nr - 1] = *st;
	}
	strmap_put(&gs->watched, gs->paths.v[gs->paths.nr - 1], (int)gs->paths.nr - 1);
}

/* What is at `path` now, as a stamp keeps it: its kind, and for a file
 * its stat data (a folder's times change with its names; its inode is
 * enough to tell that .git is the same). */
static char stat_now(const char *path, struct file_stat *fst)
{
	struct stat st;

	memset(fst, 0, sizeof(*fst));
	if (stat(path, &st) < 0)
		return '-';
	if (S_ISDIR(st.st_mode)) {
		fst->ino = st.st_ino;
		return 'd';
	}
	*fst = file_stat_of(&st);
	return 'f';
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

/* Does the listing hold a .gitignore (marked left out or not)? */
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

void gitstamp_watch_git(struct gitstamp *gs, const char *gitdir, const char *commondir,
			const char *excludes_file, const struct file_list *files)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct strbuf path = STRBUF_INIT;

	if (!gs->workdir)
		gs->workdir = xstrdup(files->root);
	watch_at(gs, files->root, ".git", false);
	watch_at(gs, gitdir, "index", false);
	watch_at(gs, commondir, "info/exclude", false);
	watch_at(gs, commondir, "config", true);
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
	if (*excludes_file) {
		if (excludes_file[0] == '/')
			gitstamp_watch(gs, excludes_file);
		else
			gs->unusable = true;
	}
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

static bool parse_line(struct gitstamp *gs, const char *line)
{
	if (line[0] == 'w' && line[1] == ' ' && !gs->workdir && line[2]) {
		gs->workdir = xstrdup(line + 2);
		return true;
	}
	if (line[0] == 'r' && line[1] == ' ' && (line[2] == '0' || line[2] == '1') &&
	    line[3] == ' ' && strmap_get(&gs->root_at, line + 4) < 0) {
		gitstamp_root(gs, line + 4, line[2] == '1');
		return true;
	}
	if (line[0] == 's' && line[1] == ' ' && strchr("fd-c", line[2]) && line[2] &&
	    line[3] == ' ') {
		const char *p = line + 4;
		struct file_stat st;

		if (!filecache_parse_stat(&p, &st) || *p != '/')
			return false;
		add_path(gs, p, line[2], &st);
		return true;
	}
	return false;
}

int gitstamp_read(struct gitstamp *gs, const char *file)
{
	struct strbuf text = STRBUF_INIT;
	size_t header = strlen(GITSTAMP_HEADER);
	char *line, *nl;
	bool whole = true;

	if (file_read(file, &text) < 0 || text.len < header ||
	    memcmp(text.buf, GITSTAMP_HEADER, header)) {
		strbuf_release(&text);
		return -1;
	}
	for (line = text.buf + header; whole && line < text.buf + text.len; line = nl + 1) {
		nl = memchr(line, '\n', text.len - (size_t)(line - text.buf));
		if (!nl) {
			whole = false; /* torn */
			break;
		}
		*nl = '\0';
		whole = parse_line(gs, line);
	}
	strbuf_release(&text);
	if (!whole || !gs->workdir) {
		gitstamp_release(gs);
		return -1;
	}
	return 0;
}

bool gitstamp_holds(const struct gitstamp *gs)
{
	if (!gs->stats)
		return false;
	for (size_t i = 0; i < gs->paths.nr; i++) {
		struct file_stat now;
		char kind = stat_now(gs->paths.v[i], &now);
		char was = gs->kinds.buf[i] == 'c' ? 'f' : gs->kinds.buf[i];

		if (kind != was || memcmp(&now, &gs->stats[i], sizeof(now)))
			return false;
	}
	return true;
}

void gitstamp_watch(struct gitstamp *gs, const char *path)
{
	add_path(gs, path, '?', NULL);
}

/* Does the config text name other files to read ([include] path,
 * [includeIf ...] path)? Those files are not watched. A word anywhere
 * is enough to be safe: a false alarm only means no stamp. */
static bool mentions_include(const char *text)
{
	static const char word[] = "include";

	for (const char *p = text; *p; p++) {
		size_t i = 0;

		while (word[i] && tolower((unsigned char)p[i]) == word[i])
			i++;
		if (!word[i])
			return true;
	}
	return false;
}

void gitstamp_watch_config(struct gitstamp *gs, const char *path)
{
	struct strbuf text = STRBUF_INIT;

	gitstamp_watch(gs, path);
	if (strbuf_read_file(&text, path) == 0 && mentions_include(text.buf))
		gs->unusable = true;
	strbuf_release(&text);
}

void gitstamp_root(struct gitstamp *gs, const char *root, bool skipped)
{
	if (strmap_get(&gs->root_at, root) >= 0)
		return;
	strvec_push(&gs->roots, root);
	strbuf_addch(&gs->skipped, skipped ? '1' : '0');
	strmap_put(&gs->root_at, gs->roots.v[gs->roots.nr - 1], (int)gs->roots.nr - 1);
}

int gitstamp_root_skipped(const struct gitstamp *gs, const char *root)
{
	int at = strmap_get(&gs->root_at, root);

	return at < 0 ? -1 : gs->skipped.buf[at] == '1';
}

/* Was the file last changed before `since` (file_stat_settled())? When
 * there is none, its nearest folder that is there: a file removed after
 * it was read, or made after the check, changed that folder. */
static bool settled(const char *path, char kind, const struct file_stat *st,
		    const struct timespec *since)
{
	struct file_stat changed = *st;

	if (kind == 'd')
		return true; /* .git: its inode is all a stamp keeps */
	if (kind == '-') {
		struct strbuf folder = STRBUF_INIT;
		struct stat sst;
		int rc;

		strbuf_addstr(&folder, path);
		do {
			while (folder.len > 1 && folder.buf[folder.len - 1] != '/')
				strbuf_setlen(&folder, folder.len - 1);
			if (folder.len > 1)
				strbuf_setlen(&folder, folder.len - 1);
			rc = stat(folder.buf, &sst);
		} while (rc < 0 && folder.len > 1);
		strbuf_release(&folder);
		if (rc < 0)
			return false;
		changed = file_stat_of(&sst);
	}
	return file_stat_settled(&changed, since);
}

static void add_stat_line(struct strbuf *out, char kind, const struct file_stat *st,
			  const char *path)
{
	strbuf_addf(out, "s %c ", kind);
	filecache_add_stat(out, st);
	strbuf_addf(out, "%s\n", path);
}

int gitstamp_write(const struct gitstamp *gs, const char *file, const char *cache_file,
		   const struct timespec *since, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	struct file_stat st;
	bool keep = !gs->unusable && gs->workdir && !strchr(gs->workdir, '\n');
	int ret;

	strbuf_addstr(&text, GITSTAMP_HEADER);
	if (keep)
		strbuf_addf(&text, "w %s\n", gs->workdir);
	for (size_t i = 0; keep && i < gs->paths.nr; i++) {
		const char *path = gs->paths.v[i];
		char kind;

		if (gs->kinds.buf[i] == 'c')
			continue; /* the cache file of the run that wrote it */
		kind = stat_now(path, &st);
		if (path[0] != '/' || strchr(path, '\n') || !settled(path, kind, &st, since))
			keep = false;
		else
			add_stat_line(&text, kind, &st, path);
	}
	for (size_t i = 0; keep && i < gs->roots.nr; i++) {
		if (strchr(gs->roots.v[i], '\n'))
			keep = false;
		else
			strbuf_addf(&text, "r %c %s\n", gs->skipped.buf[i], gs->roots.v[i]);
	}
	if (keep && (cache_file[0] != '/' || strchr(cache_file, '\n') ||
		     stat_now(cache_file, &st) != 'f'))
		keep = false;
	if (!keep) {
		strbuf_release(&text);
		if (unlink(file) < 0 && errno != ENOENT) {
			strbuf_addf(err, "cannot remove '%s': %s", file, strerror(errno));
			return -1;
		}
		return 0;
	}
	add_stat_line(&text, 'c', &st, cache_file);
	ret = file_write_own(file, text.buf, text.len, err);
	strbuf_release(&text);
	return ret < 0 ? -1 : 1;
}

void gitstamp_release(struct gitstamp *gs)
{
	free(gs->workdir);
	strvec_clear(&gs->paths);
	strbuf_release(&gs->kinds);
	free(gs->stats);
	strmap_release(&gs->watched);
	strvec_clear(&gs->roots);
	strbuf_release(&gs->skipped);
	strmap_release(&gs->root_at);
	memset(gs, 0, sizeof(*gs));
}
