/* changes.c - an isolated task's worktree and patch; see changes.h. */
#include "run/changes.h"
#include "files/fileio.h"
#include "model/glob.h"
#include "job/outcome.h"
#include "plan/plan.h"
#include "util/strmap.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void change_ledger_release(struct change_ledger *l)
{
	strvec_clear(&l->paths);
	strvec_clear(&l->tasks);
}

static void free_views(struct change *c)
{
	free(c->root_view);
	free(c->dir_view);
	c->root_view = c->dir_view = NULL;
}

/* `path` made real (symlinks resolved), without a trailing '/'. */
static char *real_folder(const char *path)
{
	char *real = realpath(path, NULL);
	size_t len;

	if (!real)
		return NULL;
	len = strlen(real);
	while (len > 1 && real[len - 1] == '/')
		real[--len] = '\0';
	return real;
}

/* `path` (real) moved from the user's tree `top` (real) into the
 * worktree `dir` (with a trailing '/'); NULL when it is not inside. */
static char *map_into(const char *path, const char *top, const char *dir)
{
	size_t n = strlen(top);
	struct strbuf sb = STRBUF_INIT;

	if (strncmp(path, top, n) || (path[n] && path[n] != '/'))
		return NULL;
	strbuf_addstr(&sb, dir);
	strbuf_setlen(&sb, sb.len - 1);
	strbuf_addstr(&sb, path + n);
	return strbuf_detach(&sb, NULL);
}

/* Copy the file `rel` (a regular file or a symlink) from the tree
 * `from` to `to` (both ending in '/'), its folders made, its mode kept. */
static int copy_file(const char *from, const char *to, const char *rel, const struct stat *sb)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	char buf[65536];
	int in = -1, out = -1, rc = -1;
	ssize_t n;

	strbuf_addf(&src, "%s%s", from, rel);
	strbuf_addf(&dst, "%s%s", to, rel);
	for (char *slash = dst.buf + strlen(to); (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		if (mkdir(dst.buf, 0777) < 0 && errno != EEXIST) {
			*slash = '/';
			goto out;
		}
		*slash = '/';
	}
	if (S_ISLNK(sb->st_mode)) {
		char target[PATH_MAX];

		n = readlink(src.buf, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			rc = symlink(target, dst.buf);
		}
		goto out;
	}
	in = open(src.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	out = in < 0 ? -1 : open(dst.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				 sb->st_mode & 07777);
	if (out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(out, buf, (size_t)n) != n)
			goto out;
	rc = n < 0 ? -1 : 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		rc = -1;
	strbuf_release(&src);
	strbuf_release(&dst);
	return rc;
}

/* Copy into the worktree `to` the files under `rel` (a folder of the
 * user's tree `from`, "" or ending in '/') that `gs` matches and the
 * worktree lacks: a need's outputs that git ignores. .git and .squad
 * are not entered. Returns how many could not be copied. */
static int copy_matching(const char *from, const char *to, struct strbuf *rel,
			 const struct globset *gs)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	struct stat sb;
	size_t len = rel->len;
	int failed = 0;
	DIR *d;

	strbuf_addf(&path, "%s%s", from, rel->buf);
	d = opendir(path.buf);
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".git") || !strcmp(de->d_name, ".squad"))
			continue;
		strbuf_addstr(rel, de->d_name);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s%s", from, rel->buf);
		if (lstat(path.buf, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			strbuf_addch(rel, '/');
			failed += copy_matching(from, to, rel, gs);
		} else if ((S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) && globset_match(gs, rel->buf)) {
			struct stat there;

			strbuf_reset(&path);
			strbuf_addf(&path, "%s%s", to, rel->buf);
			if (lstat(path.buf, &there) < 0 && errno == ENOENT &&
			    copy_file(from, to, rel->buf, &sb) < 0)
				failed++;
		}
		strbuf_setlen(rel, len);
	}
	if (d)
		closedir(d);
	strbuf_release(&path);
	return failed;
}

/* The outputs of the tasks `t` needs are in its worktree too: those git
 * ignores (a build's dist/) are not in the snapshot, so they are copied
 * from the user's tree. `top` is the user's tree (real, no trailing '/'),
 * `prefix` the Squadfile's folder from there ("" or ending in '/'). */
static int copy_need_outputs(struct change *c, const struct squadfile *sf, const struct task *t,
			     const char *top, const char *prefix, struct strbuf *err)
{
	struct strbuf from = STRBUF_INIT, rel = STRBUF_INIT;
	int failed = 0;

	strbuf_addf(&from, "%s/", top);
	for (size_t i = 0; i < t->needs.nr; i++) {
		long d = squadfile_find_task(sf, t->needs.v[i]);
		struct strbuf base = STRBUF_INIT, gerr = STRBUF_INIT;
		struct globset *gs;

		if (d < 0 || !sf->tasks[d].outputs.nr)
			continue;
		plan_task_base(sf, &sf->tasks[d], prefix, &base);
		gs = globset_new(&sf->tasks[d].outputs, base.buf, &gerr);
		if (gs) {
			strbuf_reset(&rel);
			strbuf_addstr(&rel, globset_prefix(gs));
			failed += copy_matching(from.buf, c->iso.dir, &rel, gs);
			globset_free(gs);
		}
		strbuf_release(&base);
		strbuf_release(&gerr);
	}
	if (failed)
		strbuf_addf(err, "%d of the outputs of its needs could not be copied into its "
			    "worktree", failed);
	strbuf_release(&from);
	strbuf_release(&rel);
	return failed ? -1 : 0;
}

int change_begin(struct change *c, const struct squadfile *sf, const struct task *t,
		 const char *state_dir, struct strbuf *err)
{
	char *top = NULL, *root = NULL, *dir = NULL;
	int ret = -1;

	free_views(c);
	if (isolate_create(&c->iso, sf->root, state_dir, err) < 0)
		return -1;
	c->active = true;
	top = real_folder(c->iso.top);
	root = real_folder(sf->root);
	if (!top || !root || !(c->root_view = map_into(root, top, c->iso.dir))) {
		strbuf_addf(err, "the Squadfile's folder '%s' is not inside the working tree '%s'",
			    sf->root, c->iso.top);
		goto out;
	}
	c->sf_view = *sf;
	c->sf_view.root = c->root_view;
	c->task_view = *t;
	if (t->dir && t->dir[0] == '/') {
		/* an absolute dir must be inside the repository too; a dir
		 * from a ${VAR} is checked once the command is built */
		dir = real_folder(t->dir);
		if (!dir || !(c->dir_view = map_into(dir, top, c->iso.dir))) {
			strbuf_addf(err, "its dir '%s' is not inside the git working tree '%s', "
				    "so it cannot run isolated", t->dir, c->iso.top);
			goto out;
		}
		c->task_view.dir = c->dir_view;
	}
	{
		struct strbuf prefix = STRBUF_INIT;

		if (root[strlen(top)])
			strbuf_addf(&prefix, "%s/", root + strlen(top) + 1);
		ret = copy_need_outputs(c, sf, t, top, prefix.buf, err);
		strbuf_release(&prefix);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		change_abort(c);
	free(top);
	free(root);
	free(dir);
	return ret;
}

int change_end(struct change *c, struct strbuf *err)
{
	struct strbuf rm = STRBUF_INIT;
	int n = 0;

	if (!c->active)
		return 0;
	strbuf_reset(&c->patch);
	strbuf_reset(&c->stat);
	free(c->error);
	c->error = NULL;
	n = isolate_change(&c->iso, &c->patch, &c->stat, err);
	if (n < 0) {
		c->error = xstrdup(err->buf);
		strbuf_reset(&c->patch);
		strbuf_reset(&c->stat);
	}
	/* a worktree left behind is litter, not lost work: the next run
	 * sweeps what it can */
	isolate_remove(&c->iso, &rm);
	strbuf_release(&rm);
	c->active = false;
	c->ran = true;
	free_views(c);
	return n;
}

void change_abort(struct change *c)
{
	struct strbuf ignored = STRBUF_INIT;

	if (c->active || c->iso.dir)
		isolate_remove(&c->iso, &ignored);
	strbuf_release(&ignored);
	c->active = false;
	free_views(c);
}

void change_release(struct change *c)
{
	change_abort(c);
	strbuf_release(&c->patch);
	strbuf_release(&c->stat);
	free(c->error);
	c->error = NULL;
}

/* --- .squad/changes/ ------------------------------------------------ */

static int write_kept(const struct state *st, const char *task, const char *ext,
		      const char *data, size_t len, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int fd = state_open_changes(st, true, err), ret = -1;

	if (fd < 0)
		return -1;
	state_task_file_name(task, ext, &name);
	/* its temp file in .squad/, where a killed squad's are cleared */
	ret = state_write_sub(st, fd, STATE_CHANGES_DIR, name.buf, data, len, err);
	close(fd);
	strbuf_release(&name);
	return ret;
}

int changes_drop(const struct state *st, const char *task, bool patch_too, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	struct strbuf ignored = STRBUF_INIT;
	int fd = state_open_changes(st, false, &ignored), ret = 0;

	strbuf_release(&ignored);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	for (int i = 0; i < (patch_too ? 2 : 1); i++) {
		strbuf_reset(&name);
		state_task_file_name(task, i ? ".patch" : ".review", &name);
		if (unlinkat(fd, name.buf, 0) < 0 && errno != ENOENT) {
			strbuf_addf(err, "cannot remove '%s/" STATE_CHANGES_DIR "/%s': %s",
				    st->dir, name.buf, strerror(errno));
			ret = -1;
		}
	}
	close(fd);
	strbuf_release(&name);
	return ret;
}

static int keep_review(const struct state *st, const struct task *t, const struct change *c,
		       int files, const char *reason, const char *answer, struct strbuf *err)
{
	json_t *o = json_object();
	struct strbuf text = STRBUF_INIT;
	char *dump, *bounded = state_bounded_text(answer);
	int ret;

	strbuf_add(&text, c->stat.buf, c->stat.len);
	strbuf_utf8_sanitize(&text);
	json_object_set_new(o, "diffstat", json_stringn(text.buf, text.len));
	json_object_set_new(o, "files", json_integer(files));
	json_object_set_new(o, "reason", json_string(reason));
	strbuf_reset(&text);
	if (bounded) {
		strbuf_addstr(&text, bounded);
		strbuf_utf8_sanitize(&text);
	}
	json_object_set_new(o, "answer", bounded ? json_stringn(text.buf, text.len) : json_null());
	dump = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	ret = write_kept(st, t->name, ".review", dump, strlen(dump), err);
	free(dump);
	free(bounded);
	json_decref(o);
	strbuf_release(&text);
	return ret;
}

/* Why a patch did not apply, naming the task whose applied change it
 * met, or the user's own edits. */
static void conflict_reason(struct strbuf *why, const struct strvec *conflicts,
			    const struct change_ledger *ledger, const char *apply_err)
{
	if (!conflicts->nr) {
		strbuf_addf(why, "it could not be applied: %s", apply_err);
		return;
	}
	strbuf_addstr(why, "it does not apply to your tree as it is now:");
	for (size_t i = 0; i < conflicts->nr; i++) {
		long k = strvec_find(&ledger->paths, conflicts->v[i]);

		strbuf_addf(why, "%s '%s' ", i ? ";" : "", conflicts->v[i]);
		if (k >= 0)
			strbuf_addf(why, "was changed by task '%s' (its change applied first)",
				    ledger->tasks.v[k]);
		else
			strbuf_addstr(why, "has edits it would overwrite");
	}
}

/* "a.txt, b.txt" from a diffstat's lines, at most a few. */
static int count_files(const struct strbuf *stat)
{
	const char *p = stat->buf, *end = stat->buf + stat->len;
	int n = 0;

	/* one " path | N +-" line per file, then the summary line */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		if (memchr(p, '|', (size_t)(nl - p)))
			n++;
		p = nl + 1;
	}
	return n;
}

/* The first task of the ledger whose applied change wrote one of the
 * `conflicts`, or NULL. */
static const char *conflicting_task(const struct strvec *conflicts,
				    const struct change_ledger *ledger)
{
	for (size_t i = 0; i < conflicts->nr; i++) {
		long k = strvec_find(&ledger->paths, conflicts->v[i]);

		if (k >= 0)
			return ledger->tasks.v[k];
	}
	return NULL;
}

int change_settle(struct change *c, const struct state *st, const char *root,
		  const struct task *t, enum task_status status, const char *answer,
		  struct change_ledger *ledger, struct task_result *res, struct strbuf *log,
		  struct strbuf *err)
{
	struct strvec touched = STRVEC_INIT, conflicts = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT, aerr = STRBUF_INIT, kept = STRBUF_INIT;
	struct task_result ignored = { .change = TASK_CHANGE_NONE };
	enum change_fate fate;
	int files, ret = 0;

	if (!c->ran)
		return 0;
	c->ran = false;
	if (!res)
		res = &ignored;
	res->change = TASK_CHANGE_NONE;
	if (!c->patch.len) {
		/* no change this time: a patch an earlier run kept is stale */
		if (st)
			ret = changes_drop(st, t->name, true, err);
		if (!c->error) {
			strbuf_addstr(log, "squad: no change in its worktree\n");
			res->change = TASK_CHANGE_EMPTY;
		}
		return ret;
	}
	files = count_files(&c->stat);
	res->change_files = files;
	if (st) {
		strbuf_addf(&kept, "%s/" STATE_CHANGES_DIR "/", st->dir);
		state_task_file_name(t->name, ".patch", &kept);
	}
	fate = outcome_change(t->changes, status, false);
	if (fate == CHANGE_APPLY) {
		struct strbuf squad_dir = STRBUF_INIT, what = STRBUF_INIT;
		int rc;

		/* the project's .squad, an exec's run too: where the next
		 * squad looks for an apply cut short */
		state_root_path(&squad_dir, root, NULL);
		strbuf_addstr(&what, "the change of task '");
		strbuf_add_printable(&what, t->name);
		strbuf_addch(&what, '\'');
		rc = isolate_apply(root, squad_dir.buf, what.buf, c->patch.buf, c->patch.len,
				   &touched, &conflicts, &aerr);
		strbuf_release(&squad_dir);
		strbuf_release(&what);

		if (rc == 0) {
			for (size_t i = 0; i < touched.nr; i++) {
				strvec_push(&ledger->paths, touched.v[i]);
				strvec_push(&ledger->tasks, t->name);
			}
			strbuf_addf(log, "squad: its change is applied to your tree: %d file%s\n",
				    files, files == 1 ? "" : "s");
		} else {
			const char *with = conflicting_task(&conflicts, ledger);

			conflict_reason(&why, &conflicts, ledger, aerr.buf);
			fate = outcome_change(t->changes, status, true);
			res->change = TASK_CHANGE_CONFLICT;
			free(res->change_with);
			res->change_with = with && res != &ignored ? xstrdup(with) : NULL;
		}
	} else if (fate == CHANGE_REVIEW) {
		strbuf_addstr(&why, "changes: review");
	}
	switch (fate) {
	case CHANGE_APPLY:
		res->change = TASK_CHANGE_APPLIED;
		break;
	case CHANGE_REVIEW:
		if (res->change != TASK_CHANGE_CONFLICT)
			res->change = TASK_CHANGE_REVIEW;
		break;
	case CHANGE_KEEP:
		res->change = TASK_CHANGE_KEPT;
		break;
	case CHANGE_DISCARD:
		res->change = TASK_CHANGE_DISCARDED;
		break;
	}
	if (st && fate != CHANGE_DISCARD && res != &ignored) {
		free(res->change_patch);
		res->change_patch = xstrdup(kept.buf);
	}
	if (!st) {
		if (fate != CHANGE_APPLY && fate != CHANGE_DISCARD)
			strbuf_addf(log, "squad: its change (%d file%s) is not kept: no state\n",
				    files, files == 1 ? "" : "s");
		goto out;
	}
	switch (fate) {
	case CHANGE_DISCARD:
		ret = changes_drop(st, t->name, true, err);
		strbuf_addf(log, "squad: its change (%d file%s) is discarded (changes: discard)\n",
			    files, files == 1 ? "" : "s");
		break;
	case CHANGE_APPLY:
	case CHANGE_KEEP:
		/* kept for squad diff; an applied one waits for no one */
		ret = changes_drop(st, t->name, false, err);
		if (!ret)
			ret = write_kept(st, t->name, ".patch", c->patch.buf, c->patch.len, err);
		if (fate == CHANGE_KEEP)
			strbuf_addf(log, "squad: its change (%d file%s) is kept, not applied, as the "
				    "task did not succeed: %s ('squad diff' shows it, 'squad apply' "
				    "applies it)\n", files, files == 1 ? "" : "s", kept.buf);
		break;
	case CHANGE_REVIEW:
		ret = write_kept(st, t->name, ".patch", c->patch.buf, c->patch.len, err);
		if (!ret)
			ret = keep_review(st, t, c, files, why.buf, answer, err);
		strbuf_addf(log, "squad: its change (%d file%s) waits for review: %s%s%s\n",
			    files, files == 1 ? "" : "s", kept.buf,
			    strcmp(why.buf, "changes: review") ? "; " : "",
			    strcmp(why.buf, "changes: review") ? why.buf : "");
		break;
	}
out:
	strvec_clear(&touched);
	strvec_clear(&conflicts);
	strbuf_release(&why);
	strbuf_release(&aerr);
	strbuf_release(&kept);
	return ret;
}

static int read_kept(int dir, const char *shown_dir, const char *task, const char *ext,
		     struct strbuf *out, struct strbuf *path, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int ret = 0;

	state_task_file_name(task, ext, &name);
	if (path)
		strbuf_addf(path, "%s/%s", shown_dir, name.buf);
	if (file_read_at(dir, name.buf, out) < 0) {
		if (errno == ENOENT) {
			ret = 1;
		} else {
			strbuf_addf(err, "cannot read '%s/%s': %s", shown_dir, name.buf,
				    errno == ELOOP ? "a symlink; squad will not follow it"
				    : errno == EINVAL ? "not a regular file" : strerror(errno));
			ret = -1;
		}
	}
	strbuf_release(&name);
	return ret;
}

int changes_read(const char *squad_dir, const char *task, struct strbuf *patch,
		 struct strbuf *path, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	int fd, ret;

	strbuf_addf(&dir, "%s/" STATE_CHANGES_DIR, squad_dir);
	fd = file_open_folder(AT_FDCWD, dir.buf, dir.buf, false, err);
	if (fd < 0) {
		ret = errno == ENOENT ? 1 : -1;
		if (ret == 1)
			strbuf_reset(err);
		strbuf_release(&dir);
		return ret;
	}
	ret = read_kept(fd, dir.buf, task, ".patch", patch, path, err);
	close(fd);
	strbuf_release(&dir);
	return ret;
}

int changes_read_review(const struct state *st, const char *task, struct strbuf *json,
			struct strbuf *err)
{
	struct strbuf shown = STRBUF_INIT, ignored = STRBUF_INIT;
	int fd = state_open_changes(st, false, &ignored), ret;

	strbuf_release(&ignored);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	strbuf_addf(&shown, "%s/" STATE_CHANGES_DIR, st->dir);
	ret = read_kept(fd, shown.buf, task, ".review", json, NULL, err);
	close(fd);
	strbuf_release(&shown);
	return ret;
}

bool *changes_reviews(const struct state *st, const struct squadfile *sf)
{
	struct strbuf ignored = STRBUF_INIT, name = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	bool *flags = NULL;
	int fd = state_open_changes(st, false, &ignored);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	strbuf_release(&ignored);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 7 && !strcmp(de->d_name + len - 7, ".review"))
			strvec_push(&names, de->d_name);
	}
	closedir(d);
	if (names.nr) {
		struct strmap index = STRMAP_INIT;

		for (size_t i = 0; i < names.nr; i++)
			strmap_put(&index, names.v[i], (int)i);
		flags = xcalloc(sf->nr_tasks + 1, sizeof(bool));
		for (size_t i = 0; i < sf->nr_tasks; i++) {
			strbuf_reset(&name);
			state_task_file_name(sf->tasks[i].name, ".review", &name);
			flags[i] = strmap_get(&index, name.buf) >= 0;
		}
		strmap_release(&index);
	}
	strvec_clear(&names);
	strbuf_release(&name);
	return flags;
}

int changes_apply(const struct state *st, const char *root, const char *task,
		  struct strvec *touched, struct strvec *conflicts, struct strbuf *err)
{
	struct strbuf patch = STRBUF_INIT, squad_dir = STRBUF_INIT, what = STRBUF_INIT;
	int rc = changes_read(st->dir, task, &patch, NULL, err);

	if (rc) {
		strbuf_release(&patch);
		return rc == 1 ? 2 : -1;
	}
	state_root_path(&squad_dir, root, NULL);
	/* finished by the next squad, the apply leaves the review behind */
	strbuf_addstr(&what, "the change of task '");
	strbuf_add_printable(&what, task);
	strbuf_addstr(&what, "' ('squad apply'; if its review entry still waits, 'squad done ");
	strbuf_add_printable(&what, task);
	strbuf_addstr(&what, "' clears it)");
	rc = isolate_apply(root, squad_dir.buf, what.buf, patch.buf, patch.len, touched, conflicts,
			   err);
	strbuf_release(&squad_dir);
	strbuf_release(&what);
	if (rc == 0 && changes_drop(st, task, false, err) < 0)
		rc = -1;
	strbuf_release(&patch);
	return rc;
}
