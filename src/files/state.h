/* state.h - .squad/: the run lock, the state journal, log paths.
 *
 * `.squad/state` keeps one record per task: how its last run ended, its
 * duration (for critical-path order), its fingerprint (up-to-date checks)
 * and the tactician's done marks. Like ninja's .ninja_log it is an
 * append-only journal: each finished task appends one self-checking line
 * ("CRC32 JSON"), so a run killed midway keeps what finished, and a torn
 * last line is ignored on read. state_compact() rewrites it with one line
 * per task (temp file + rename) at the end of a run that left it more
 * stale than live (state_wants_compaction()).
 *
 * `.squad/lock` is held (flock) by the process that owns the state: a run
 * or `squad done`. The kernel drops it when that process dies, so a kill
 * -9 never leaves a stale lock behind.
 *
 * Every name under .squad/ is spelled in this header (STATE_*, below);
 * the modules that keep a file there take its name or path from it.
 * Only this module, handoff, stash (.squad/stash/, .squad/kept/),
 * changes (.squad/changes/, through this module), isolate
 * (.squad/worktrees/) and treewrite (.squad/applying/) write under .squad/ by themselves; build.c has
 * state write .squad/files, .squad/git and .squad/changed. Every file this module writes under it is opened
 * relative to the fds of .squad/, logs/ and inputs/ that state_open()
 * takes and holds until state_close() (openat(), O_NOFOLLOW,
 * renameat()): a task that swaps .squad or .squad/logs for a symlink
 * during a run cannot send a later write out of the project.
 */
#ifndef SQUAD_STATE_H
#define SQUAD_STATE_H

#include <dirent.h>
#include <stdbool.h>

#include "util/strbuf.h"
#include "util/strmap.h"

/* Every name under a project's .squad/, spelled here and nowhere else:
 * a module that reads or writes one of them takes its name (or its path,
 * state_path()) from this list. */
#define STATE_DIR_NAME ".squad"       /* in the Squadfile's folder */
#define STATE_JOURNAL "state"         /* the journal (this module) */
#define STATE_LOCK "lock"             /* held by the run or `squad done` */
#define STATE_LOGS "logs"             /* TASK.log, TASK.out (state_open_log()) */
#define STATE_INPUTS "inputs"         /* TASK.txt: input lists (state_save_inputs()) */
#define STATE_FILES "files"           /* input files' ids (filecache.h) */
#define STATE_GIT "git"               /* git's ignore decisions (gitstamp.h) */
#define STATE_CHANGED "changed"       /* $SQUAD_CHANGED: the changed paths */
#define STATE_HANDOFF "handoff.json"  /* the manifest (handoff.h) */
#define STATE_STASH "stash"           /* --stash's folder (stash.h) */
#define STATE_STASH_MANIFEST "manifest" /* in stash/: what is set aside */
#define STATE_KEPT "kept"             /* what a stash could not put back (stash.h) */
#define STATE_WORKTREES "worktrees"   /* isolated tasks' worktrees (isolate.h) */
#define STATE_APPLYING "applying"     /* journals of changes being applied (treewrite.h) */
#define STATE_EXEC "exec"             /* squad exec's folders, exec/ID (exec.h) */
#define STATE_LOG_EXT ".log"          /* a task's output, in logs/ */
#define STATE_OUT_EXT ".out"          /* an agent's stdout, beside its log */
#define STATE_INPUTS_EXT ".txt"       /* a task's input list, in inputs/ */

enum record_status {
	RECORD_OK,          /* ran and succeeded */
	RECORD_FAILED,      /* ran and failed (after its retries) */
	RECORD_DONE,        /* the tactician reported it done */
	RECORD_DONE_FAILED, /* the tactician reported it failed */
};

struct task_record {
	char *task;
	enum record_status status;
	int exit_code;
	long duration_ms;
	long long finished;  /* Unix time, seconds */
	unsigned attempts;
	bool log_cut;        /* its log could not be written whole */
	char *fingerprint;   /* of definition + inputs + deps, or NULL */
	char *summary;       /* one line, or NULL */
	char *answer;        /* an agent's final text, or NULL */
	char *note;          /* the tactician's note, or NULL */
};

struct state {
	char *dir;           /* absolute path of .squad, for messages */
	int dir_fd;          /* .squad/, held from state_open() on */
	int logs_fd;         /* .squad/logs/ (an exec's: -1 until its first log) */
	int inputs_fd;       /* .squad/inputs/ (an exec's: -1 until its first list) */
	int lock_fd;         /* lock, or for an exec's folder the folder itself */
	bool lock_is_dir;    /* state_open_dir(): no lock file */
	int journal_fd;
	struct task_record *records;
	size_t nr, alloc;
	struct strmap index; /* task -> records[] */
	size_t stale_lines;  /* lines superseded or unreadable: compaction wins */
	bool unkempt;        /* an unreadable line, or no header: rewrite it */
};

/* The most bytes of text one record keeps of what came from outside:
 * a note of `squad done` longer than this is refused (main.c), an
 * agent's answer is cut to it when recorded (state_put()). The journal
 * is read by every run: a 50 MB note made each one 3 s slower. */
#define STATE_MAX_TEXT ((size_t)64 << 10)

/* An empty state with no folder and no files (every fd -1), for
 * state_parse(); state_open() starts with it. */
void state_init(struct state *st);

/* Open (creating) the .squad folder inside `root`: it, and its logs/ and
 * inputs/, must be real folders, not symlinks. Writes .squad/.gitignore
 * ("*") on creation. Returns 0, or -1 with the reason in `err` (then
 * state_close() releases what it took). The three folders are opened
 * here and held as fds; files under them are opened with O_NOFOLLOW: a
 * symlink in the place of the state or the lock is an error, never
 * followed. */
int state_open(struct state *st, const char *root, struct strbuf *err);

/* state_open() of a state folder at `dir` itself rather than root/.squad:
 * an ad-hoc run's own (.squad/exec/ID, exec.h), new at each run. Its
 * logs/ and inputs/ are made only when first written to
 * (state_open_log(), state_save_inputs()); until then state_open_logs()
 * finds no log. state_lock() locks the folder itself (flock), with no
 * lock file, and has no stale temp file to clear. */
int state_open_dir(struct state *st, const char *dir, struct strbuf *err);

/* Take the lock. Returns 0 when held, 1 when another process holds it
 * and `wait` is false, -1 on error (reason in err). Once it is held,
 * the temp files of file_write() (NAME.tmp.PID) and of
 * state_save_inputs() (inputs.NAME.tmp.PID, in .squad/ too) that a
 * process killed mid-write left in .squad/ are removed: those whose PID
 * is no longer alive. */
int state_lock(struct state *st, bool wait, struct strbuf *err);

/* Read the journal (lock held). Unreadable lines are skipped. A state
 * from a newer squad is an error. Returns 0 or -1 (reason in err). */
int state_load(struct state *st, struct strbuf *err);

/* Read the records of a journal held in memory (`len` bytes of `text`,
 * the content of `path`, which messages name) into `st`, as state_load()
 * does with the file: unreadable lines are skipped, a torn last line is
 * ignored. Returns 0, or -1 when the journal is from a newer squad
 * (reason in err). */
int state_parse(struct state *st, const char *text, size_t len, const char *path,
		struct strbuf *err);

/* Append the journal as state_compact() writes it to `out`: the header,
 * then one line per record. */
void state_format(const struct state *st, struct strbuf *out);

/* The record of `task`, or NULL. Valid until the next state_put(). */
const struct task_record *state_get(const struct state *st, const char *task);

/* Record `rec` (copied) in memory and append it to the journal (none
 * when state_load() was not called, as for an exec: memory only). A text
 * field (summary, answer, note) longer than STATE_MAX_TEXT is kept cut,
 * at a character's end, with a line saying so. Returns 0, or -1 with
 * the reason in err (the memory copy is kept). */
int state_put(struct state *st, const struct task_record *rec, struct strbuf *err);

/* A copy of `s` (to free), cut to STATE_MAX_TEXT bytes at a UTF-8
 * character's end with a line that says so; NULL for NULL. How squad
 * keeps an agent's answer, in the state and in the manifest. */
char *state_bounded_text(const char *s);

/* Rewrite the journal as one line per task (temp file + rename). */
int state_compact(struct state *st, struct strbuf *err);

/* Is the journal worth compacting: unkempt, or more than half of its
 * lines superseded (and more than a few)? As ninja does with .ninja_log,
 * a run that changes little does not rewrite it all. */
bool state_wants_compaction(const struct state *st);

/* The path of `name` (one of the STATE_ names, or NULL for the folder
 * itself) in the .squad/ of the project at `root`, appended to `path`:
 * for a file read or named before, or without, a state_open(). */
void state_root_path(struct strbuf *path, const char *root, const char *name);

/* The path of `name` (one of the STATE_ names, or a path below one) in
 * st->dir, appended to `path`: for messages and for modules that open it
 * themselves. */
void state_path(const struct state *st, const char *name, struct strbuf *path);

/* Release everything and drop the lock. */
void state_close(struct state *st);

/* The file name of `task` in a folder of .squad (logs/, changes/):
 * as state_log_path() names a log, ending in `ext`; appended to `name`. */
void state_task_file_name(const char *task, const char *ext, struct strbuf *name);

/* .squad/changes/, where the patches of isolated tasks are kept
 * (changes.h): opened never through a symlink, made first when `create`.
 * Returns its fd (close it), or -1 with the reason in err (errno ENOENT:
 * there is none). Its path, for messages, is st->dir + "/changes". */
#define STATE_CHANGES_DIR "changes"
int state_open_changes(const struct state *st, bool create, struct strbuf *err);

/* Path of the log of `task` in .squad/logs/ (TASK.log), appended to `path`, for
 * messages and for reading back. The file name is the task name with
 * every byte outside [A-Za-z0-9._-] (and a leading '.') written as %XX,
 * shortened with a hash when long, so that no name can leave the
 * folder. */
void state_log_path(const struct state *st, const char *task, struct strbuf *path);

/* Open the file of `task` in .squad/logs/ named as state_log_path()
 * names it but ending in `ext` (STATE_LOG_EXT, or STATE_OUT_EXT for
 * an agent's stdout), relative to the fd of logs/ held since state_open()
 * (an exec's logs/ is made by the first call). `flags`
 * as open()'s (O_CLOEXEC and O_NOFOLLOW are added; mode 0666). Appends
 * its path to `path` unless NULL. Returns the fd, or -1 with errno set
 * (ELOOP: a symlink in its place). */
int state_open_log(struct state *st, const char *task, const char *ext, int flags,
		   struct strbuf *path);

/* Remove the file `name` (a bare name, as readdir gives it) from logs/.
 * Returns unlinkat()'s result. */
int state_unlink_log(const struct state *st, const char *name);

/* logs/, opened for readdir (closedir() it), or NULL with errno set. */
DIR *state_open_logs(const struct state *st);

/* The input list of `task` at its last success ("PATH\tOID\n" lines, as
 * plan keeps them), in .squad/inputs/: saved after each success of a task
 * with inputs, read by 'squad explain'; written atomically by way of a
 * temp file in .squad/ (see state_lock()). save returns 0 or -1 (err);
 * load returns 0, or -1 when there is none. */
int state_save_inputs(struct state *st, const char *task, const struct strbuf *list,
		      struct strbuf *err);
int state_load_inputs(const struct state *st, const char *task, struct strbuf *list);

/* Write `data` to `name` in .squad/ (a bare name: "handoff.json",
 * "files"), atomically by a temp file in .squad/ (NAME.tmp.PID) and
 * renameat(), relative to the fd state_open() took. Anything but a
 * regular file in its place (a symlink, a device, a FIFO) is refused:
 * the files of .squad are squad's own. Returns 0, or -1 (reason in err,
 * naming the path under st->dir). */
int state_write_in(const struct state *st, const char *name, const char *data, size_t len,
		   struct strbuf *err);

/* Write `data` to `name` in the folder `sub` of .squad/, held by
 * `dir_fd` (changes/), atomically by a temp file in .squad/ itself
 * (SUB.NAME.tmp.PID, which state_lock() clears when a killed squad left
 * it, as state_save_inputs() does). Returns 0, or -1 (reason in err). */
int state_write_sub(const struct state *st, int dir_fd, const char *sub, const char *name,
		    const char *data, size_t len, struct strbuf *err);

const char *record_status_name(enum record_status s);

void task_record_release(struct task_record *rec);

#endif
