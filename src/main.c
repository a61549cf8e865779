/* main.c - squad's command line: options, subcommands, exit codes.
 *
 * Everything here is parsing argv and dispatching through one table of
 * subcommands (commands[], as git.c's): a run, from the state to its
 * exit status, is build.c's; the other commands call their modules.
 * Errors from the modules come back as values and are printed here, once.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/build.h"
#include "files/fileio.h"
#include "cache/cachestep.h"
#include "run/changes.h"
#include "cmd/ci.h"
#include "cmd/completion.h"
#include "model/diag.h"
#include "cmd/exec.h"
#include "report/explain.h"
#include "files/inputs.h"
#include "cmd/mcp.h"
#include "plan/graph.h"
#include "job/guard.h"
#include "report/handoff.h"
#include "files/hook.h"
#include "cmd/init.h"
#include "plan/plan.h"
#include "report/report.h"
#include "model/route.h"
#include "plan/shard.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#ifndef SQUAD_VERSION
#define SQUAD_VERSION "0.1.0"
#endif

static const char usage_text[] =
"usage: squad [options] [TARGET...]       run TARGETs (default: the Squadfile's 'default')\n"
"       squad run [options] TARGET...     the same; for a task named like a subcommand\n"
"       squad list [--names | --json]     tasks with their descriptions, needs and skills\n"
"       squad graph [--format=dot|mermaid] [TARGET...]\n"
"                                         the graph as DOT (pipe it to 'dot -Tsvg'), or Mermaid\n"
"       squad explain TASK                why TASK will or will not run\n"
"       squad exec [--name N] [--worker W] (--run CMD | --prompt TEXT)...\n"
"       squad exec < TASKS                ad-hoc tasks, no Squadfile edit: from the command\n"
"                                         line, or a YAML/JSON list of tasks on stdin (the\n"
"                                         Squadfile's task grammar); a result block, or\n"
"                                         --json one JSON document; see 'squad exec' below\n"
"       squad handoff [--json]            what waits for the tactician (with the\n"
"                                         agents' tool calls)\n"
"       squad handoff --merge [--json] FILE...\n"
"                                         the manifests of a run's shards (--shard K/N)\n"
"                                         as the single run's, into .squad/handoff.json\n"
"                                         (or on stdout with --json)\n"
"       squad done TASK [--failed] [--note TEXT | --note-file FILE]\n"
"                                         record the tactician's result for TASK\n"
"       squad done TASK --undo            take that mark back\n"
"       squad diff [--exec ID] TASK       the change an isolated task (isolate: worktree)\n"
"                                         left, as a patch\n"
"       squad apply [--exec ID] TASK      apply that change to your tree (never over your\n"
"                                         own edits: all of it, or nothing, a kill -9\n"
"                                         too); --exec ID: a task of that squad exec run\n"
"       squad hook install [--target NAME] [--force] | squad hook uninstall\n"
"                                         a git pre-commit hook running\n"
"                                         'squad --staged --stash'\n"
"       squad mcp                         a Model Context Protocol server on stdin/stdout:\n"
"                                         squad's tasks, runs, exec and hand-off as tools\n"
"                                         for Claude Code and other MCP clients\n"
"       squad init                        write a starter Squadfile from what the folder holds\n"
"       squad completion bash|zsh|fish    print a shell completion script\n"
"       squad ci github|gitlab [--shards N] [-o FILE] [TARGET...]\n"
"                                         a CI workflow for the targets' tasks: a job per\n"
"                                         task, 'needs:' as in the DAG, each running\n"
"                                         'squad run TASK' (the result cache makes its\n"
"                                         needs hits); or --shards N jobs of --shard K/N\n"
"                                         (1: one job); JUnit, logs and manifest kept\n"
"\n"
"options:\n"
"  -f, --file FILE       read FILE instead of ./Squadfile\n"
"  -C, --directory DIR   change to DIR first\n"
"  -j, --jobs N          run at most N tasks at once (default: number of CPUs)\n"
"  -k, --keep-going      after a failure, go on with every task not behind it\n"
"  -n, --dry-run         print the order and what each task would do (its\n"
"                        worker and command with vars expanded, environment\n"
"                        values kept as ${NAME}; or up to date), the limits,\n"
"                        and each agent worker's budgets with today's use;\n"
"                        run and write nothing\n"
"  -q, --quiet           print only failures and the summary\n"
"      --output MODE     task output: grouped (each task's in one piece, the\n"
"                        default), prefixed (as it comes, 'task | line'),\n"
"                        failed (only failing tasks'), quiet (none); past\n"
"                        256 KiB a task's output is cut, the log has it all\n"
"  -v, --verbose         print each command as it starts, as written (a value\n"
"                        from the environment stays ${NAME})\n"
"      --staged          run only tasks whose inputs match paths staged for commit\n"
"      --changed[=REF]   ... that differ from REF (default HEAD), untracked included\n"
"      --stash           run on exactly what is staged: unstaged changes and\n"
"                        untracked files are set aside (.squad/stash) and put\n"
"                        back after, even after a failure or an interrupt (the\n"
"                        installed hook runs 'squad --staged --stash')\n"
"  -B, --force           run every task, even those up to date\n"
"      --no-wait         when another squad runs here, exit 1 at once instead\n"
"                        of waiting for it to finish\n"
"      --replay          print the last output of tasks that are up to date\n"
"      --cache-write     store results in the shared cache too (SQUAD_CACHE_URL;\n"
"                        SQUAD_CACHE_WRITE=1 says the same)\n"
"      --json[=output]   events as JSON lines on stdout (the human output goes to\n"
"                        stderr); =output adds each task's output to the events\n"
"      --junit FILE      also write a JUnit XML report to FILE, for CI (a device\n"
"                        or FIFO is written through, never replaced)\n"
"      --shard K/N       run shard K of N: the selected tasks split in N parts,\n"
"                        balanced by recorded durations; a shard runs what its\n"
"                        own tasks need too (-n shows the shard)\n"
"      --merge           squad handoff: merge the manifests given (see above)\n"
"      --shards N        squad ci: N shard jobs instead of a job per task\n"
"  -o, --output-file FILE\n"
"                        squad ci: write the workflow to FILE (atomically)\n"
"      --worker NAME     run every skill-free task on worker NAME\n"
"      --strict-skills   a skill without a SKILL.md is an error, not a warning\n"
"      --color WHEN      auto, always or never (NO_COLOR is honoured); tasks\n"
"                        get NO_COLOR=1 TERM=dumb when squad's output is no\n"
"                        terminal or never, FORCE_COLOR=1 CLICOLOR_FORCE=1\n"
"                        with always\n"
"  -h, --help            this help\n"
"      --version         squad's version\n"
"\n"
"squad exec: --name N and --worker W apply to the next --run or --prompt; a\n"
"task without a name is named by its position (1, 2, ...). The Squadfile, if\n"
"there is one, lends its workers, vars, defaults, routing and skills, not its\n"
"tasks. Each exec has its own folder, .squad/exec/ID/ (logs, manifest; the\n"
"newest 20 are kept): it never waits for, nor touches, a run's .squad/lock\n"
"and state.\n"
"\n"
"Tasks with skills: are never run by squad. They, and tasks that fail with\n"
"escalate: true, go into .squad/handoff.json for the tactician, who reports\n"
"back with 'squad done'. A skill task is settled by that; an escalated task\n"
"is not: 'done' means \"fixed, check again\", so the next run runs it again\n"
"(a prompt's note may stand in as its answer when it meets 'expect').\n"
"\n"
"Agent workers: a task with a prompt goes to an agent worker, by default\n"
"the built-in 'qwen'. A worker's 'protocol: acp' (the built-ins qwen and\n"
"opencode) starts its agent once per slot and gives each task a session of\n"
"its own over the Agent Client Protocol; 'protocol: oneshot' (qwen-oneshot,\n"
"and any worker given a command of its own, unless it says acp) starts a\n"
"process per task. An ACP agent reads and edits only inside its task's dir\n"
"and runs a command only when the task's 'allow_commands' names the program\n"
"('allow_commands: [pytest, ruff]', or 'any'); each decision is in the\n"
"task's log. See squadfile(5).\n"
"\n"
"Tasks with isolate: worktree run in a git worktree of their own; their change\n"
"is applied (changes: apply, the shell's default), kept for review (review,\n"
"an agent's default: 'squad diff', then 'squad apply' or 'squad done --failed')\n"
"or discarded (discard).\n"
"\n"
"exit codes:\n"
"  0    every task done\n"
"  1    a task failed or timed out, escalated or not; or squad could not\n"
"       write .squad/ (disk full), stdout or --junit, or another squad runs\n"
"       here and --no-wait was given\n"
"  2    usage error or invalid Squadfile; or libgit2 cannot be loaded\n"
"       for a command that needs git\n"
"  3    nothing failed, but skill tasks or changes for review wait for the\n"
"       tactician\n"
"  130  interrupted (SIGINT, SIGTERM)\n"
"\n"
"The Squadfile reference is grammar/squadfile.md; see also squad(1).\n";

enum long_only {
	OPT_VERSION = 256,
	OPT_WORKER,
	OPT_COLOR,
	OPT_STRICT_SKILLS,
	OPT_FAILED,
	OPT_UNDO,
	OPT_NOTE,
	OPT_NOTE_FILE,
	OPT_JSON,
	OPT_JUNIT,
	OPT_STAGED,
	OPT_CHANGED,
	OPT_REPLAY,
	OPT_TARGET,
	OPT_NAMES,
	OPT_OUTPUT,
	OPT_FORMAT,
	OPT_NO_WAIT,
	OPT_RUN,
	OPT_PROMPT,
	OPT_NAME,
	OPT_STASH,
	OPT_SHARD,
	OPT_CACHE_WRITE,
	OPT_MERGE,
	OPT_OUT,
	OPT_SHARDS,
	OPT_EXEC,
};

struct options {
	const char *file;
	const char *directory;
	unsigned jobs;
	bool keep_going;
	bool dry_run;
	enum report_level level;
	const char *worker;
	int color; /* -1 auto, 0 never, 1 always */
	bool strict_skills;
	bool failed;          /* done --failed */
	bool undo;            /* done --undo: take a mark back */
	const char *note;     /* done --note */
	const char *note_file;
	bool json;            /* --json; for a run: events on stdout */
	bool json_output;     /* --json=output: task output in the events */
	const char *junit;    /* --junit FILE */
	unsigned shard_k, shard_n; /* --shard K/N; shard_n 0: no shard */
	const char *squad_command; /* how the tactician calls squad back */
	enum build_selection select;
	const char *changed_ref;
	bool force;           /* -B; for 'hook install': replace a foreign hook */
	bool replay;
	const char *target;   /* hook install --target */
	bool names;           /* list --names: the task names alone */
	enum report_output output;
	bool mermaid;         /* graph --format=mermaid */
	bool no_wait;         /* another squad holds the lock: fail, do not wait */
	bool file_given;      /* -f */
	bool stash;           /* --stash: run on the index's version of the tree */
	bool merge;           /* handoff --merge FILE...: the shards' manifests as one */
	const char *out;      /* ci -o FILE */
	unsigned shards;      /* ci --shards N; 0: a job per task */
	bool cache_write;     /* --cache-write: upload to the shared cache */
	const char *exec_id;  /* diff/apply --exec ID: a squad exec run's change */
};

/* What a command works on: the Squadfile loaded, checked and graphed,
 * its skills resolved. Only for commands marked CMD_SQUADFILE. */
struct model {
	struct squadfile sf;
	struct graph g;
	struct skills skills;
};

/* exec's --run, --prompt, --name, --worker, in order (exec.h); static, so
 * that an early return leaves nothing behind */
static struct strvec exec_items = STRVEC_INIT;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("squad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'squad --help'.\n", stderr);
	return EXIT_USAGE;
}

static unsigned cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

/* Load, check and graph the Squadfile; print diagnostics. Returns 0 or
 * EXIT_USAGE. */
static int load(struct squadfile *sf, struct graph *g, struct skills *skills,
		const struct options *o)
{
	struct diag_list diags = DIAG_LIST_INIT(o->file);
	struct strbuf out = STRBUF_INIT;
	int ret = 0;

	memset(g, 0, sizeof(*g));
	if (squadfile_load(sf, o->file, &diags) < 0) {
		ret = EXIT_USAGE;
	} else {
		route_apply(sf);
		if (route_resolve_skills(skills, sf, getenv("HOME"), o->strict_skills, &diags) < 0)
			ret = EXIT_USAGE;
		if (graph_build(g, sf, &diags) < 0)
			ret = EXIT_USAGE;
	}
	diag_format(&diags, &out);
	fputs(out.buf, stderr);
	strbuf_release(&out);
	diag_list_release(&diags);
	return ret;
}

/* A run's settings from the command line's (build.h). */
static void build_options_of(const struct options *o, struct build_options *bo)
{
	memset(bo, 0, sizeof(*bo));
	bo->jobs = o->jobs ? o->jobs : cpu_count();
	bo->keep_going = o->keep_going;
	bo->dry_run = o->dry_run;
	bo->force = o->force;
	bo->replay = o->replay;
	bo->no_wait = o->no_wait;
	bo->stash = o->stash;
	bo->cache_write = o->cache_write;
	bo->select = o->select;
	bo->changed_ref = o->changed_ref;
	bo->shard_k = o->shard_k;
	bo->shard_n = o->shard_n;
	bo->worker = o->worker;
	bo->level = o->level;
	bo->output = o->output;
	bo->color = o->color;
	bo->json = o->json;
	bo->json_output = o->json_output;
	bo->junit = o->junit;
	bo->squad_command = o->squad_command;
}

static int cmd_run(const struct options *o, struct model *m, const struct strvec *targets)
{
	struct build_options bo;

	build_options_of(o, &bo);
	return build_main(&bo, &m->sf, &m->g, &m->skills, targets);
}

static int cmd_list(const struct options *o, struct model *m, const struct strvec *args)
{
	if (args->nr)
		return usage_error("'squad list' takes no arguments (got '%s')", args->v[0]);
	if (o->names)
		for (size_t i = 0; i < m->sf.nr_tasks; i++)
			puts(m->sf.tasks[i].name);
	else if (o->json)
		report_list_json(stdout, &m->sf);
	else
		report_list(stdout, &m->sf);
	return EXIT_OK;
}

static int cmd_graph(const struct options *o, struct model *m, const struct strvec *targets)
{
	struct squadfile *sf = &m->sf;
	struct graph *g = &m->g;
	struct plan plan;
	struct strbuf err = STRBUF_INIT;
	struct strvec all = STRVEC_INIT;
	int ret = EXIT_OK;

	/* no target: the whole file, not only the default's closure */
	if (!targets->nr)
		for (size_t i = 0; i < sf->nr_tasks; i++)
			strvec_push(&all, sf->tasks[i].name);
	if (plan_build(&plan, sf, g, NULL, targets->nr ? targets : &all, NULL, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = EXIT_USAGE;
	} else {
		if (o->mermaid)
			report_graph_mermaid(stdout, &plan);
		else
			report_graph_dot(stdout, &plan);
	}
	plan_release(&plan);
	strvec_clear(&all);
	strbuf_release(&err);
	return ret;
}

/* The note of --note-file, at most STATE_MAX_TEXT bytes (a note is kept
 * in the journal that every run reads): a larger file, or /dev/zero,
 * ends the read at once. Returns 0, or -1 after saying why. */
static int read_note_file(const char *path, struct strbuf *note)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		fprintf(stderr, "squad: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	ret = strbuf_read_fd(note, fd, STATE_MAX_TEXT);
	if (ret < 0 && errno == EFBIG)
		fprintf(stderr, "squad: '%s' is longer than %zu bytes, the most squad keeps "
			"of a note; shorten it, or leave the text in a file of the project "
			"and name that file in the note\n", path, STATE_MAX_TEXT);
	else if (ret < 0)
		fprintf(stderr, "squad: cannot read '%s': %s\n", path, strerror(errno));
	close(fd);
	return ret;
}

static int cmd_done(const struct options *o, struct model *m, const struct strvec *args)
{
	const struct squadfile *sf = &m->sf;
	struct state st;
	struct strbuf err = STRBUF_INIT, note = STRBUF_INIT;
	int ret = EXIT_USAGE, rc;

	if (args->nr != 1)
		return usage_error("'squad done' takes one task name");
	/* a hand-edited manifest may name anything: a mark is for a task */
	if (squadfile_find_task(sf, args->v[0]) < 0) {
		struct strbuf name = STRBUF_INIT;

		strbuf_add_printable(&name, args->v[0]);
		ret = usage_error("no task '%s' in %s", name.buf, o->file);
		strbuf_release(&name);
		return ret;
	}
	if (o->note && o->note_file)
		return usage_error("give --note or --note-file, not both");
	if (o->undo && (o->note || o->note_file || o->failed))
		return usage_error("--undo takes back a mark: give it no --note, --note-file "
				   "or --failed");
	if (o->note_file && read_note_file(o->note_file, &note) < 0) {
		strbuf_release(&note);
		return EXIT_USAGE;
	}
	strbuf_rtrim(&note);
	if (o->note && strlen(o->note) > STATE_MAX_TEXT)
		return usage_error("the note is longer than %zu bytes, the most squad keeps; "
				   "shorten it, or leave the text in a file of the project "
				   "and name that file in the note", STATE_MAX_TEXT);
	if (o->note)
		strbuf_addstr(&note, o->note);
	strbuf_utf8_sanitize(&note);
	if (build_open_state(&st, sf->root, o->no_wait) < 0) {
		strbuf_release(&note);
		return EXIT_FAILED;
	}
	if (o->undo)
		rc = handoff_undo(&st, args->v[0], &err);
	else
		rc = handoff_done(&st, args->v[0], o->failed, note.len ? note.buf : NULL, &err);
	if (rc == 2) {
		struct strbuf name = STRBUF_INIT;

		strbuf_add_printable(&name, args->v[0]);
		if (o->failed)
			printf("squad: discarded the change of %s\n", name.buf);
		else
			printf("squad: cleared the review of %s; its patch stays ('squad diff %s')\n",
			       name.buf, name.buf);
		strbuf_release(&name);
		ret = EXIT_OK;
	} else if (rc == 0) {
		long n = squadfile_find_task(sf, args->v[0]);
		const struct task *t = &sf->tasks[n];
		struct strbuf name = STRBUF_INIT;

		strbuf_add_printable(&name, args->v[0]);
		if (o->undo)
			printf("squad: took back the mark on %s; the next run %s it again\n",
			       name.buf, t->skills.nr ? "hands off" : "runs");
		else if (t->skills.nr)
			printf("squad: recorded %s as %s; the next run continues behind it\n",
			       name.buf, o->failed ? "failed" : "done");
		else
			/* only a skill task is settled by the tactician's word */
			printf("squad: recorded %s as %s; the next run %s\n", name.buf,
			       o->failed ? "failed" : "done",
			       t->prompt && !o->failed
			       ? "takes the note as its answer if it meets 'expect', else runs it again"
			       : "runs it again and only its real result counts");
		strbuf_release(&name);
		ret = EXIT_OK;
	} else {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = rc > 0 ? EXIT_USAGE : EXIT_FAILED;
	}
	state_close(&st);
	strbuf_release(&err);
	strbuf_release(&note);
	return ret;
}

/* squad diff TASK, squad apply TASK: an isolated task's kept change;
 * with --exec ID, of a task of that squad exec run (`sf` is then NULL:
 * no Squadfile is read, the project is the folder it would be in). */
static int cmd_change(const struct options *o, const struct squadfile *sf, bool apply,
		      const struct strvec *args)
{
	struct strbuf dir = STRBUF_INIT, patch = STRBUF_INIT, err = STRBUF_INIT,
		      name = STRBUF_INIT;
	struct strvec touched = STRVEC_INIT, conflicts = STRVEC_INIT;
	struct state st;
	char *root = sf ? xstrdup(sf->root) : squadfile_folder(o->file);
	int rc = 0, ret = EXIT_FAILED;

	if (args->nr != 1) {
		ret = usage_error("'squad %s' takes one task name", apply ? "apply" : "diff");
		goto out;
	}
	strbuf_add_printable(&name, args->v[0]);
	if (sf && squadfile_find_task(sf, args->v[0]) < 0) {
		ret = usage_error("no task '%s' in %s", name.buf, o->file);
		goto out;
	}
	if (o->exec_id && exec_folder(root, o->exec_id, &dir, &err) < 0) {
		ret = usage_error("%s", err.buf);
		goto out;
	}
	if (!o->exec_id)
		state_root_path(&dir, root, NULL);
	if (!apply) {
		rc = changes_read(dir.buf, args->v[0], &patch, NULL, &err);
		if (rc == 0 && fwrite(patch.buf, 1, patch.len, stdout) == patch.len)
			ret = EXIT_OK;
	} else {
		if (o->exec_id) {
			/* as every command that opens .squad/: an apply a killed
			 * squad left is finished or undone first */
			strbuf_reset(&patch);
			state_root_path(&patch, root, NULL);
			build_recover_applies(patch.buf);
			if (exec_open_folder(&st, dir.buf, &err) < 0) {
				fprintf(stderr, "squad: %s\n", err.buf);
				goto out;
			}
		} else if (build_open_state(&st, root, o->no_wait) < 0) {
			goto out;
		}
		rc = changes_apply(&st, root, args->v[0], &touched, &conflicts, &err);
		if (rc == 0 && handoff_forget(&st, args->v[0], &err) < 0)
			rc = -1;
		state_close(&st);
		if (rc == 0) {
			printf("squad: applied the change of %s to your tree (%zu path%s):", name.buf,
			       touched.nr, touched.nr == 1 ? "" : "s");
			for (size_t i = 0; i < touched.nr; i++) {
				strbuf_reset(&patch);
				strbuf_add_printable(&patch, touched.v[i]);
				printf(" %s", patch.buf);
			}
			printf("\n");
			ret = EXIT_OK;
		} else if (rc == 1) {
			strbuf_addstr(&err, "; nothing was written. Conflicts in:");
			for (size_t i = 0; i < conflicts.nr; i++) {
				strbuf_addch(&err, ' ');
				strbuf_add_printable(&err, conflicts.v[i]);
			}
			rc = -1;
		}
		if (rc == 2)
			rc = 1;
	}
	if (rc == 1)
		fprintf(stderr, "squad: task '%s' has no kept change%s (only a task with "
			"'isolate: worktree' that changed something leaves one)\n", name.buf,
			o->exec_id ? " in that squad exec run" : "");
	else if (rc < 0)
		fprintf(stderr, "squad: %s\n", err.buf);
out:
	free(root);
	strvec_clear(&touched);
	strvec_clear(&conflicts);
	strbuf_release(&dir);
	strbuf_release(&patch);
	strbuf_release(&err);
	strbuf_release(&name);
	return ret;
}

static int cmd_diff(const struct options *o, struct model *m, const struct strvec *args)
{
	return cmd_change(o, m ? &m->sf : NULL, false, args);
}

static int cmd_apply(const struct options *o, struct model *m, const struct strvec *args)
{
	return cmd_change(o, m ? &m->sf : NULL, true, args);
}

/* squad handoff --merge FILE...: the shards' manifests as one run's
 * (handoff.h), into .squad/handoff.json (lock held), or with --json on
 * stdout only. */
static int cmd_handoff_merge(const struct options *o, const struct squadfile *sf,
			     const struct graph *g, const struct strvec *files)
{
	struct strbuf json = STRBUF_INIT, err = STRBUF_INIT;
	struct state st;
	char *path;
	int n;

	if (!files->nr)
		return usage_error("'squad handoff --merge' wants the manifests to merge "
				   "(the shards' handoff.json files)");
	path = realpath(o->file, NULL); /* as a run's manifest names it */
	if (!o->json && build_open_state(&st, sf->root, o->no_wait) < 0) {
		free(path);
		return EXIT_FAILED;
	}
	n = handoff_merge(sf, g, path ? path : o->file, files, o->json ? NULL : &st, &json,
			  &err);
	if (n < 0)
		fprintf(stderr, "squad: %s\n", err.buf);
	else if (o->json)
		fputs(json.buf, stdout);
	else if (n)
		printf("squad: merged %zu manifest%s: %d %s for the tactician "
		       "('squad handoff' lists them, %s/handoff.json)\n", files->nr,
		       files->nr == 1 ? "" : "s", n, n == 1 ? "task waits" : "tasks wait", st.dir);
	else
		printf("squad: merged %zu manifest%s: nothing waits for the tactician\n",
		       files->nr, files->nr == 1 ? "" : "s");
	if (!o->json)
		state_close(&st);
	free(path);
	strbuf_release(&json);
	strbuf_release(&err);
	return n < 0 ? EXIT_FAILED : EXIT_OK;
}

static int cmd_handoff(const struct options *o, struct model *m, const struct strvec *args)
{
	struct strbuf dir = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	if (o->merge)
		return cmd_handoff_merge(o, &m->sf, &m->g, args);
	if (args->nr)
		return usage_error("'squad handoff' takes no task names; --merge takes manifests");
	state_root_path(&dir, m->sf.root, NULL);
	rc = handoff_show(dir.buf, o->json, &out, &err);
	if (rc == 1 && !o->json)
		printf("nothing waits for the tactician\n");
	else if (rc == 1)
		printf("{\"version\": 1, \"tasks\": []}\n");
	else if (rc < 0)
		fprintf(stderr, "squad: %s\n", err.buf);
	fputs(out.buf, stdout);
	strbuf_release(&dir);
	strbuf_release(&out);
	strbuf_release(&err);
	return rc < 0 ? EXIT_FAILED : EXIT_OK;
}

/* squad ci github|gitlab [TARGET...]: the engine's workflow (ci.h) for
 * the targets' tasks, on stdout or into -o FILE (atomically). */
static int cmd_ci(const struct options *o, struct model *m, const struct strvec *args)
{
	struct squadfile *sf = &m->sf;
	struct graph *g = &m->g;
	struct ci_options co = {
		.shards = o->shards, .file = o->file_given ? o->file : NULL,
		.directory = o->directory,
	};
	struct strvec targets = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct plan plan;
	int ret = EXIT_OK;

	if (!args->nr || ci_parse_engine(args->v[0], &co.engine) < 0)
		return usage_error("usage: squad ci github|gitlab [--shards N] [-o FILE] "
				   "[TARGET...]");
	for (size_t i = 1; i < args->nr; i++)
		strvec_push(&targets, args->v[i]);
	co.targets = &targets;
	memset(&plan, 0, sizeof(plan));
	if (plan_build(&plan, sf, g, NULL, &targets, NULL, &err) < 0 ||
	    ci_write(&plan, &co, &out, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = EXIT_USAGE;
	} else if (o->out) {
		if (file_write(o->out, out.buf, out.len, &err) < 0) {
			fprintf(stderr, "squad: %s\n", err.buf);
			ret = EXIT_FAILED;
		}
	} else {
		fputs(out.buf, stdout);
	}
	plan_release(&plan);
	strvec_clear(&targets);
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

/* Plan TASK as a run would, but read the state without taking the lock:
 * explaining never waits for a run, nor disturbs one. */
static int cmd_explain(const struct options *o, struct model *m, const struct strvec *args)
{
	struct squadfile *sf = &m->sf;
	struct graph *g = &m->g;
	const struct skills *skills = &m->skills;
	struct state st;
	struct plan plan;
	struct build_options bo;
	struct plan_options po;
	struct inputs files = { 0 };
	struct strvec changed = STRVEC_INIT;
	struct strbuf prefix = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT;
	bool have_state;
	int ret = EXIT_OK;

	if (args->nr != 1)
		return usage_error("'squad explain' takes one task name");
	have_state = state_open(&st, sf->root, &err) == 0 && state_load(&st, &err) == 0;
	strbuf_reset(&err);
	memset(&plan, 0, sizeof(plan));
	build_options_of(o, &bo);
	if (build_plan_options(&bo, sf, have_state ? &st : NULL, &po, &files, &changed, &prefix,
			       &err) < 0 ||
	    plan_build(&plan, sf, g, have_state ? &st : NULL, args, &po, &err) < 0) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = EXIT_USAGE;
	} else {
		size_t n = (size_t)squadfile_find_task(sf, args->v[0]);
		bool cache_failed;
		struct cachestep *cache = build_open_cache(&bo, sf, &plan, -1, true, &cache_failed);

		explain_task(&out, &plan, have_state ? &st : NULL, skills, n,
			     o->jobs ? o->jobs : cpu_count());
		if (cache)
			cachestep_explain(cache, n, &out);
		cachestep_free(cache);
		fputs(out.buf, stdout);
	}
	plan_release(&plan);
	state_close(&st);
	inputs_release(&files);
	strvec_clear(&changed);
	strbuf_release(&prefix);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

static int cmd_hook(const struct options *o, struct model *m, const struct strvec *args)
{
	const struct squadfile *sf = &m->sf;
	struct strbuf where = STRBUF_INIT, err = STRBUF_INIT;
	char *squadfile = realpath(o->file, NULL);
	const char *target = o->target;
	int rc, ret = EXIT_OK;

	if (args->nr != 1 || (strcmp(args->v[0], "install") && strcmp(args->v[0], "uninstall"))) {
		free(squadfile);
		return usage_error("usage: squad hook install [--target NAME] [--force] | "
				   "squad hook uninstall");
	}
	if (!strcmp(args->v[0], "install")) {
		/* the hook's target: --target, else a task called precommit,
		 * else the Squadfile's default */
		if (!target && squadfile_find_task(sf, "precommit") >= 0)
			target = "precommit";
		if (target && squadfile_find_task(sf, target) < 0) {
			free(squadfile);
			return usage_error("--target '%s' is not a task", target);
		}
		if (!target && !sf->default_targets.nr) {
			free(squadfile);
			return usage_error("give --target, add a 'precommit' task, or set "
					   "'default:' in the Squadfile");
		}
		rc = hook_install(squadfile, o->squad_command, target, o->force, &where, &err);
		if (rc == 0)
			printf("squad: installed %s: each commit runs 'squad --staged --stash %s'\n",
			       where.buf, target ? target : "(the default target)");
	} else {
		rc = hook_uninstall(squadfile, &where, &err);
		if (rc == 0)
			printf("squad: removed %s\n", where.buf);
		else if (rc == 1)
			printf("squad: no hook of squad's at %s; nothing removed\n", where.buf);
		rc = rc == 1 ? 0 : rc;
	}
	if (rc) {
		fprintf(stderr, "squad: %s\n", err.buf);
		ret = rc > 0 ? EXIT_FAILED : EXIT_USAGE;
	}
	free(squadfile);
	strbuf_release(&where);
	strbuf_release(&err);
	return ret;
}

/* squad init: a starter ./Squadfile (after -C) from what the folder
 * holds; with -n, print it instead. */
static int cmd_init(const struct options *o, struct model *m, const struct strvec *args)
{
	struct strbuf path = STRBUF_INIT, summary = STRBUF_INIT, err = STRBUF_INIT;
	int rc;
	(void)m; /* no Squadfile: init writes one */

	if (args->nr)
		return usage_error("'squad init' takes no arguments (got '%s'); "
				   "-C DIR writes DIR/Squadfile", args->v[0]);
	if (strcmp(o->file, "Squadfile"))
		return usage_error("'squad init' writes ./Squadfile, not -f FILE; "
				   "-C DIR writes DIR/Squadfile");
	if (o->dry_run) {
		struct strbuf text = STRBUF_INIT;

		init_generate(".", &text, &summary);
		fputs(text.buf, stdout);
		fputs(summary.buf, stderr);
		strbuf_release(&text);
		strbuf_release(&summary);
		return EXIT_OK;
	}
	rc = init_squadfile(".", &path, &summary, &err);
	if (rc == 0) {
		printf("squad: wrote %s from what this folder holds:\n", path.buf);
		for (const char *line = summary.buf; *line; ) {
			const char *end = strchrnul(line, '\n');

			if (!strncmp(line, "left out: ", 10))
				fprintf(stderr, "squad: %.*s\n", (int)(end - line), line);
			else
				printf("  %.*s\n", (int)(end - line), line);
			line = *end ? end + 1 : end;
		}
		printf("next: 'squad list' for its tasks, 'squad -n' for the plan, 'squad' to run it\n");
	} else {
		fprintf(stderr, "squad: %s\n", err.buf);
	}
	strbuf_release(&path);
	strbuf_release(&summary);
	strbuf_release(&err);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/* squad exec: ad-hoc tasks (exec.h). */
static int cmd_exec(const struct options *o, struct model *m, const struct strvec *args)
{
	struct exec_options eo = {
		.file = o->file, .file_given = o->file_given, .items = &exec_items,
		.jobs = o->jobs ? o->jobs : cpu_count(), .keep_going = o->keep_going,
		.dry_run = o->dry_run, .level = o->level, .output = o->output,
		.color = o->color, .json = o->json, .strict_skills = o->strict_skills,
		.squad_command = o->squad_command,
	};
	(void)m; /* exec loads its own model (exec.h) */

	if (args->nr)
		return usage_error("'squad exec' takes no task names (got '%s'): give tasks "
				   "with --run or --prompt, or on standard input", args->v[0]);
	if (o->select != BUILD_SELECT_ALL || o->force || o->replay || o->junit || o->json_output ||
	    o->no_wait || o->stash || o->shard_n)
		return usage_error("'squad exec' runs every task it is given, in a folder of "
				   "its own: --staged, --changed, -B, --replay, --junit, "
				   "--json=output, --no-wait, --stash and --shard are for a run");
	if (o->dry_run && o->json)
		return usage_error("'squad exec -n' prints the plan; --json is for a run");
	return exec_main(&eo);
}

/* squad mcp: the MCP server (mcp.h). Its children are squad itself,
 * found through /proc/self/exe (argv[0] may be a bare name). */
static int cmd_mcp(const struct options *o, struct model *m, const struct strvec *args)
{
	struct mcp_options mo = { .version = SQUAD_VERSION };
	char *exe = realpath("/proc/self/exe", NULL);
	int ret;
	(void)m; /* each tool call's squad child loads the Squadfile */

	if (args->nr)
		return usage_error("'squad mcp' takes no arguments (got '%s'); the client "
				   "gives targets in its tool calls", args->v[0]);
	if (o->dry_run || o->json || o->select != BUILD_SELECT_ALL || o->force || o->junit ||
	    o->worker || o->jobs || o->keep_going)
		return usage_error("'squad mcp' takes only -f and -C; the rest are arguments "
				   "of its tools");
	mo.file = o->file_given ? o->file : NULL;
	mo.self = exe ? exe : o->squad_command;
	ret = mcp_main(&mo);
	free(exe);
	return ret ? EXIT_FAILED : EXIT_OK;
}

/* squad completion SHELL: the completion script, built in. */
static int cmd_completion(const struct options *o, struct model *m, const struct strvec *args)
{
	const char *script = args->nr == 1 ? completion_script(args->v[0]) : NULL;
	(void)o;
	(void)m;

	if (!script)
		return usage_error("usage: squad completion bash|zsh|fish");
	fputs(script, stdout);
	return EXIT_OK;
}

/* What squad prints on stdout is a report someone asked for (--json
 * events, a list, a graph): a write that failed (a full disk, a full
 * device) makes a run that went well exit 1, with one line on stderr.
 * Decided here, once, for every command. A reader that went away
 * (EPIPE: `squad list | head`) chose to stop reading: no error. */
static int check_stdout(int ret)
{
	int errnum = 0;

	if (fflush(stdout) != 0)
		errnum = errno;
	if (!errnum && !ferror(stdout))
		return ret;
	if (errnum == EPIPE)
		return ret;
	/* an error of an earlier write, flushed then, left no errno */
	fprintf(stderr, "squad: cannot write to standard output%s%s\n", errnum ? ": " : "",
		errnum ? strerror(errnum) : "");
	return ret == EXIT_OK || ret == EXIT_HANDOFF ? EXIT_FAILED : ret;
}

/* How main() prepares for a command (bit values of struct subcommand's
 * flags). */
enum command_flags {
	CMD_SQUADFILE = 1 << 0,  /* load, check and graph the Squadfile first; a
				  * bad one is a usage error before the command */
	CMD_PRELOAD = 1 << 1,    /* start libgit2's set-up and the index read
				  * beside the Squadfile's parse (not with --stash:
				  * the files change under it before the walk) */
	CMD_EXEC_ITEMS = 1 << 2, /* takes --run, --prompt and --name */
	CMD_SIGPIPE = 1 << 3,    /* a reader that goes away ends squad (it runs
				  * no task that must not be cut short) */
	CMD_OWN_STDOUT = 1 << 4, /* judges its stdout itself: no check_stdout() */
	CMD_EXEC_RUN = 1 << 5,   /* takes --exec ID: then works on that squad exec
				  * run's folder, and reads no Squadfile */
};

typedef int command_fn(const struct options *o, struct model *m, const struct strvec *args);

/* squad's subcommands, as git.c's table: a command is a row. `m` is NULL
 * for a command without CMD_SQUADFILE. The first row is also what runs
 * when the first argument names no command (`squad TARGET...`). */
static const struct subcommand {
	const char *name;
	command_fn *fn;
	unsigned flags; /* enum command_flags */
} commands[] = {
	{ "run",        cmd_run,        CMD_SQUADFILE | CMD_PRELOAD },
	{ "list",       cmd_list,       CMD_SQUADFILE },
	{ "graph",      cmd_graph,      CMD_SQUADFILE },
	{ "explain",    cmd_explain,    CMD_SQUADFILE },
	{ "done",       cmd_done,       CMD_SQUADFILE },
	{ "diff",       cmd_diff,       CMD_SQUADFILE | CMD_EXEC_RUN },
	{ "apply",      cmd_apply,      CMD_SQUADFILE | CMD_EXEC_RUN },
	{ "handoff",    cmd_handoff,    CMD_SQUADFILE },
	{ "ci",         cmd_ci,         CMD_SQUADFILE },
	{ "hook",       cmd_hook,       CMD_SQUADFILE },
	{ "exec",       cmd_exec,       CMD_EXEC_ITEMS | CMD_OWN_STDOUT },
	{ "mcp",        cmd_mcp,        CMD_OWN_STDOUT },
	{ "init",       cmd_init,       CMD_SIGPIPE },
	{ "completion", cmd_completion, CMD_SIGPIPE },
};

/* The command `name` names, or NULL. */
static const struct subcommand *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* Prepare what `cmd` asks for, call it, and judge its stdout. */
static int run_command(const struct subcommand *cmd, const struct options *o,
		       const struct strvec *args)
{
	struct model model = { .skills = SKILLS_INIT };
	struct model *m = (cmd->flags & CMD_SQUADFILE) &&
			   !(o->exec_id && (cmd->flags & CMD_EXEC_RUN)) ? &model : NULL;
	int ret;

	/* a reader that goes away (squad --json | head) must not kill squad
	 * while its tasks run; libuv gives children default dispositions */
	if (!(cmd->flags & CMD_SIGPIPE))
		signal(SIGPIPE, SIG_IGN);
	if ((cmd->flags & CMD_PRELOAD) && !o->stash) {
		/* a run lists its inputs' files: in a repository, libgit2's
		 * set-up and the index read go on beside the parse */
		char *folder = squadfile_folder(o->file);

		inputs_preload(folder);
		free(folder);
	}
	if (m) {
		ret = load(&m->sf, &m->g, &m->skills, o);
		if (!ret)
			ret = cmd->fn(o, m, args);
		route_skills_release(&m->skills);
		inputs_shutdown();
		graph_release(&m->g);
		squadfile_release(&m->sf);
	} else {
		ret = cmd->fn(o, NULL, args);
	}
	return cmd->flags & CMD_OWN_STDOUT ? ret : check_stdout(ret);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "directory", required_argument, NULL, 'C' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "worker", required_argument, NULL, OPT_WORKER },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "strict-skills", no_argument, NULL, OPT_STRICT_SKILLS },
		{ "failed", no_argument, NULL, OPT_FAILED },
		{ "undo", no_argument, NULL, OPT_UNDO },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "note-file", required_argument, NULL, OPT_NOTE_FILE },
		{ "json", optional_argument, NULL, OPT_JSON },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "staged", no_argument, NULL, OPT_STAGED },
		{ "changed", optional_argument, NULL, OPT_CHANGED },
		{ "force", no_argument, NULL, 'B' },
		{ "replay", no_argument, NULL, OPT_REPLAY },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "names", no_argument, NULL, OPT_NAMES },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
		{ "exec", required_argument, NULL, OPT_EXEC },
		{ "run", required_argument, NULL, OPT_RUN },
		{ "prompt", required_argument, NULL, OPT_PROMPT },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "stash", no_argument, NULL, OPT_STASH },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "cache-write", no_argument, NULL, OPT_CACHE_WRITE },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "output-file", required_argument, NULL, OPT_OUT },
		{ "shards", required_argument, NULL, OPT_SHARDS },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .file = "Squadfile", .level = REPORT_NORMAL, .color = -1 };
	char *self;
	struct strvec targets = STRVEC_INIT;
	const struct subcommand *command;
	int c, ret, fd;

	/* 0, 1 and 2 open, as a task's spawn expects: started with one
	 * closed, squad would put a log or a pipe there */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < 3)
		;
	if (fd >= 3)
		close(fd);
	/* the guard a run starts (guard.h): hidden, in no help or completion;
	 * not on a terminal or a file, where only a person would start it */
	if (argc == 2 && !strcmp(argv[1], "__guard"))
		return guard_main() ? usage_error("'__guard' is squad's own; 'squad run __guard' "
						  "runs a task of that name") : EXIT_OK;
	while ((c = getopt_long(argc, argv, "f:C:j:knqvhBo:", longopts, NULL)) != -1) {
		char *end;
		long n;

		switch (c) {
		case 'f':
			o.file = optarg;
			o.file_given = true;
			break;
		case 'C':
			o.directory = optarg;
			break;
		case 'j':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (*end || errno || n < 1 || n > 100000)
				return usage_error("-j wants a number of jobs from 1 to 100000, "
						   "not '%s'", optarg);
			o.jobs = (unsigned)n;
			break;
		case 'k':
			o.keep_going = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'q':
			o.level = REPORT_QUIET;
			break;
		case 'v':
			o.level = REPORT_VERBOSE;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("squad %s\n", SQUAD_VERSION);
			return EXIT_OK;
		case OPT_WORKER:
			o.worker = optarg;
			strvec_pushf(&exec_items, EXEC_ITEM_WORKER "%s", optarg);
			break;
		case OPT_RUN:
			strvec_pushf(&exec_items, EXEC_ITEM_RUN "%s", optarg);
			break;
		case OPT_PROMPT:
			strvec_pushf(&exec_items, EXEC_ITEM_PROMPT "%s", optarg);
			break;
		case OPT_NAME:
			strvec_pushf(&exec_items, EXEC_ITEM_NAME "%s", optarg);
			break;
		case OPT_COLOR:
			if (!strcmp(optarg, "always"))
				o.color = 1;
			else if (!strcmp(optarg, "never"))
				o.color = 0;
			else if (!strcmp(optarg, "auto"))
				o.color = -1;
			else
				return usage_error("--color wants auto, always or never, not '%s'",
						   optarg);
			break;
		case OPT_STRICT_SKILLS:
			o.strict_skills = true;
			break;
		case OPT_FAILED:
			o.failed = true;
			break;
		case OPT_UNDO:
			o.undo = true;
			break;
		case OPT_NOTE:
			o.note = optarg;
			break;
		case OPT_NOTE_FILE:
			o.note_file = optarg;
			break;
		case OPT_JSON:
			if (optarg && strcmp(optarg, "output"))
				return usage_error("--json takes no value, or 'output' (--json=output), "
						   "not '%s'", optarg);
			o.json = true;
			o.json_output = optarg != NULL;
			break;
		case OPT_JUNIT:
			if (!*optarg)
				return usage_error("--junit wants a file name");
			o.junit = optarg;
			break;
		case OPT_SHARD:
			if (shard_parse(optarg, &o.shard_k, &o.shard_n) < 0)
				return usage_error("--shard wants K/N with 1 <= K <= N <= 1000, "
						   "not '%s'", optarg);
			break;
		case OPT_MERGE:
			o.merge = true;
			break;
		case 'o':
			if (!*optarg)
				return usage_error("-o wants a file name");
			o.out = optarg;
			break;
		case OPT_SHARDS:
			errno = 0;
			n = strtol(optarg, &end, 10);
			/* GitLab's parallel: goes to 200, GitHub's matrix to 256 */
			if (*end || errno || n < 1 || n > 200)
				return usage_error("--shards wants a number from 1 to 200, not '%s'",
						   optarg);
			o.shards = (unsigned)n;
			break;
		case OPT_CACHE_WRITE:
			o.cache_write = true;
			break;
		case OPT_STAGED:
			o.select = BUILD_SELECT_STAGED;
			break;
		case OPT_CHANGED:
			o.select = BUILD_SELECT_CHANGED;
			o.changed_ref = optarg;
			break;
		case 'B':
			o.force = true;
			break;
		case OPT_REPLAY:
			o.replay = true;
			break;
		case OPT_NAMES:
			o.names = true;
			break;
		case OPT_TARGET:
			o.target = optarg;
			break;
		case OPT_NO_WAIT:
			o.no_wait = true;
			break;
		case OPT_EXEC:
			o.exec_id = optarg;
			break;
		case OPT_STASH:
			o.stash = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "dot") && strcmp(optarg, "mermaid"))
				return usage_error("--format wants dot or mermaid, not '%s'", optarg);
			o.mermaid = !strcmp(optarg, "mermaid");
			break;
		case OPT_OUTPUT: {
			static const char *const modes[] = {
				[OUTPUT_GROUPED] = "grouped", [OUTPUT_PREFIXED] = "prefixed",
				[OUTPUT_FAILED] = "failed", [OUTPUT_QUIET] = "quiet",
			};
			size_t m;

			for (m = 0; m < ARRAY_SIZE(modes) && strcmp(optarg, modes[m]); m++)
				;
			if (m == ARRAY_SIZE(modes))
				return usage_error("--output wants grouped, prefixed, failed or quiet, "
						   "not '%s'", optarg);
			o.output = (enum report_output)m;
			break;
		}
		default:
			fputs("Try 'squad --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	/* how the tactician calls this squad back: by path when it was run
	 * by path (build/squad), else by name */
	self = strchr(argv[0], '/') ? realpath(argv[0], NULL) : NULL;
	o.squad_command = self ? self : "squad";

	if (optind < argc && (command = find_command(argv[optind])))
		optind++;
	else
		command = &commands[0];
	for (int i = optind; i < argc; i++)
		strvec_push(&targets, argv[i]);
	for (size_t i = 0; i < exec_items.nr && !(command->flags & CMD_EXEC_ITEMS); i++)
		if (strncmp(exec_items.v[i], EXEC_ITEM_WORKER, strlen(EXEC_ITEM_WORKER))) {
			ret = usage_error("--run, --prompt and --name are for 'squad exec'");
			goto out;
		}
	if (o.exec_id && !(command->flags & CMD_EXEC_RUN)) {
		ret = usage_error("--exec ID is for 'squad diff' and 'squad apply'");
		goto out;
	}
	if ((o.out || o.shards || o.merge) &&
	    strcmp(command->name, o.merge ? "handoff" : "ci")) {
		ret = usage_error(o.merge ? "--merge is for 'squad handoff'"
				  : "-o and --shards are for 'squad ci'");
		goto out;
	}
	if (o.directory && chdir(o.directory) < 0) {
		fprintf(stderr, "squad: cannot change to '%s': %s\n", o.directory, strerror(errno));
		ret = EXIT_USAGE;
		goto out;
	}
	ret = run_command(command, &o, &targets);
out:
	free(self);
	strvec_clear(&targets);
	return ret;
}
