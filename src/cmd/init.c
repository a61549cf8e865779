/* init.c - `squad init`: detect a project's tools, write a starter Squadfile. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/init.h"
#include "files/fileio.h"
#include "job/spawner.h"
#include "model/squadfile.h"
#include "files/state.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "job/worker.h"

/* Files larger than this are not looked into: a configuration file or a
 * Makefile a person writes is far smaller. */
#define MAX_READ (1024 * 1024)
/* Tasks taken from one source at most: a starter file stays readable. */
#define MAX_PER_SOURCE 40

/* One task of the file to be written. */
struct starter_task {
	char *name;
	char *desc;             /* one line, or NULL */
	char *run;
	const char *expect;     /* a PCRE2 pattern (static), or NULL */
	struct strvec inputs;
	struct strvec outputs;
	struct strvec needs;
	const char *section;    /* the comment it is listed under (static) */
	bool check;             /* a test or a lint: joins the default target */
	bool from_make;         /* make's checks join the default only alone */
	bool build;             /* builds: the default's fallback */
	bool install;           /* installs what the others need: never the default */
	const char *anchor;     /* inputs written as &ANCHOR [...], or NULL */
	const char *alias;      /* inputs written as *ALIAS, or NULL */
};

struct starter {
	const char *dir;
	struct starter_task *tasks;
	size_t nr, alloc;
	struct strvec skills;   /* .claude/skills/NAME/SKILL.md */
	struct strbuf *summary; /* what was found, one line each */
	char *target;           /* the default target */
	bool grouped;           /* the last task groups the default's tasks */
	size_t left_out;        /* "left out: " lines in the summary */
	bool python_looked_up;  /* python3 was searched for on PATH: */
	char *python;           /* the file found, or NULL */
};

/* Subcommands: a task called like one could only be run as `squad run X`. */
static const char *const subcommands[] = {
	"run", "list", "graph", "handoff", "done", "hook", "init", "completion", "explain", NULL,
};

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* --- the folder ------------------------------------------------------ */

static void path_in(struct strbuf *sb, const char *dir, const char *name)
{
	strbuf_reset(sb);
	if (dir && *dir && strcmp(dir, ".")) {
		strbuf_addstr(sb, dir);
		if (sb->buf[sb->len - 1] != '/')
			strbuf_addch(sb, '/');
	}
	strbuf_addstr(sb, name);
}

/* Does DIR/NAME exist as a regular file (want_dir false) or a folder? */
static bool has(const struct starter *s, const char *name, bool want_dir)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	bool ok;

	path_in(&path, s->dir, name);
	ok = stat(path.buf, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
	strbuf_release(&path);
	return ok;
}

/* Read DIR/NAME into `out` (reset first). Returns 0, or -1 when it is
 * missing, unreadable or too large to be a hand-written file. */
static int read_small(const struct starter *s, const char *name, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = -1;

	strbuf_reset(out);
	path_in(&path, s->dir, name);
	if (stat(path.buf, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MAX_READ &&
	    strbuf_read_file(out, path.buf) == 0)
		ret = 0;
	strbuf_release(&path);
	return ret;
}

/* Does the file DIR/NAME contain `needle`? */
static bool file_mentions(const struct starter *s, const char *name, const char *needle)
{
	struct strbuf text = STRBUF_INIT;
	bool found = read_small(s, name, &text) == 0 && strstr(text.buf, needle);

	strbuf_release(&text);
	return found;
}

/* --- the machine ---------------------------------------------------- */

/* init writes only what will pass here: a task for a tool that a run
 * cannot find, or a test runner the project's Python cannot import,
 * would fail its first run. What it leaves out it says, with how to add
 * it, on a "left out: " line of the summary (main shows those on stderr;
 * the written file keeps them in its opening comment). */
static void left_out(struct starter *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void left_out(struct starter *s, const char *fmt, ...)
{
	va_list ap;

	strbuf_addstr(s->summary, "left out: ");
	va_start(ap, fmt);
	strbuf_vaddf(s->summary, fmt, ap);
	va_end(ap);
	strbuf_addch(s->summary, '\n');
	s->left_out++;
}

/* The PATH a task is run with: squad's own (a task's env inherits it),
 * or the workers' default when squad has none. */
static const char *run_path(void)
{
	const char *path = getenv("PATH");

	return path ? path : WORKER_DEFAULT_PATH;
}

/* Will a run find PROGRAM? The lookup a worker makes (worker.c), on the
 * PATH a task gets. */
static bool on_path(const char *program)
{
	struct strbuf found = STRBUF_INIT;
	bool ok = worker_search_path(program, run_path(), &found) == 0;

	strbuf_release(&found);
	return ok;
}

/* The python3 a task's `python3 -m ...` would run, or NULL. */
static const char *find_python(struct starter *s)
{
	if (!s->python_looked_up) {
		struct strbuf found = STRBUF_INIT;

		s->python_looked_up = true;
		if (worker_search_path("python3", run_path(), &found) == 0)
			s->python = strbuf_detach(&found, NULL);
		strbuf_release(&found);
	}
	return s->python;
}

/* An import that has not ended by then is taken as a failure (a hang
 * guard: importing pytest takes well under a second). */
#define IMPORT_TIMEOUT_MS 60000

/* Can the python3 a task would run import MODULE? `python3 -c 'import
 * MODULE'` is started as a task is (spawner.h: the same exec, no shell,
 * stdin from /dev/null), in the project's folder and with squad's
 * environment, and its exit status says. The folder matters: a version
 * manager's shim (pyenv reads .python-version) chooses the interpreter
 * by it, and `python3 -m MODULE` finds what the folder holds first, as
 * this import does (so it runs nothing the task would not). Output is
 * thrown away. False when there is no python3, it cannot be started,
 * or it is still running after IMPORT_TIMEOUT_MS (it is then killed). */
static bool python_imports(struct starter *s, const char *module)
{
	extern char **environ;
	const char *python = find_python(s);
	struct command cmd = COMMAND_INIT;
	struct spawner sp;
	struct strbuf err = STRBUF_INIT;
	int devnull = -1, status = 0, waited = 0;
	bool ok = false;
	pid_t pid, got;

	if (!python)
		return false;
	if (spawner_init(&sp, &err) < 0) {
		strbuf_release(&err);
		return false;
	}
	cmd.cwd = realpath(s->dir && *s->dir ? s->dir : ".", NULL);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!cmd.cwd || devnull < 0)
		goto out;
	strvec_push(&cmd.argv, "python3");
	strvec_push(&cmd.argv, "-c");
	strvec_pushf(&cmd.argv, "import %s", module);
	for (char **e = environ; *e; e++)
		strvec_push(&cmd.env, *e);
	if (spawner_start(&sp, &cmd, python, devnull, devnull, &pid, NULL))
		goto out;
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 || (got < 0 && errno == EINTR)) {
		if (waited >= IMPORT_TIMEOUT_MS) {
			kill(-pid, SIGKILL); /* its process group: see spawner.h */
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			goto out;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		waited += 10;
	}
	ok = got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
out:
	if (devnull >= 0)
		close(devnull);
	command_release(&cmd);
	spawner_release(&sp);
	strbuf_release(&err);
	return ok;
}

/* --- tasks ----------------------------------------------------------- */

/* A name squad accepts and that needs no quoting in a command line (so
 * that `npm run NAME` is exec'd directly, and no `${` is expanded):
 * [A-Za-z0-9_.:/@+-], starting with a letter, digit or '_'. Anything else
 * is left out rather than guessed at. */
static bool plain_name(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 64 || !(isalnum((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.:/@+-", *p))
			return false;
	return !squadfile_check_name(name);
}

static bool name_taken(const struct starter *s, const char *name)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->tasks[i].name, name))
			return true;
	return in_list(name, subcommands);
}

/* Add a task called `name`, or PREFIX-name when that is taken (by an
 * earlier source, or by a subcommand), or PREFIX-name-2 ... Returns it;
 * the pointer is valid until the next add_task(). */
static struct starter_task *add_task(struct starter *s, const char *prefix, const char *name,
				     const char *section, char *run)
{
	struct strbuf unique = STRBUF_INIT;
	struct starter_task *t;

	strbuf_addstr(&unique, name);
	for (int n = 1; name_taken(s, unique.buf); n++) {
		strbuf_reset(&unique);
		strbuf_addf(&unique, "%s-%s", prefix, name);
		if (n > 1)
			strbuf_addf(&unique, "-%d", n);
	}
	ALLOC_GROW(s->tasks, s->nr + 1, s->alloc);
	t = &s->tasks[s->nr++];
	memset(t, 0, sizeof(*t));
	t->name = strbuf_detach(&unique, NULL);
	t->run = run;
	t->section = section;
	strvec_init(&t->inputs);
	strvec_init(&t->outputs);
	strvec_init(&t->needs);
	return t;
}

static void starter_release(struct starter *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->tasks[i].name);
		free(s->tasks[i].desc);
		free(s->tasks[i].run);
		strvec_clear(&s->tasks[i].inputs);
		strvec_clear(&s->tasks[i].outputs);
		strvec_clear(&s->tasks[i].needs);
	}
	free(s->tasks);
	strvec_clear(&s->skills);
	free(s->target);
	free(s->python);
}

/* Is `name` a test or a check (not a fix, a watch or a snapshot update)? */
static bool check_like(const char *name)
{
	static const char *const words[] = {
		"test", "tests", "lint", "check", "typecheck", "type-check", "types",
		"tsc", "vet", "e2e", "spec", NULL,
	};

	if (strstr(name, "fix") || strstr(name, "watch") || strstr(name, "update") ||
	    strstr(name, "format") || strstr(name, "fmt"))
		return ends_with(name, ":check") || ends_with(name, "-check");
	for (size_t i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);

		if (!strncmp(name, words[i], n) && (!name[n] || strchr(":-_.", name[n])))
			return true;
	}
	return ends_with(name, ":check") || ends_with(name, "-check");
}

/* Text for a desc: one line, at most 72 bytes (cut at a UTF-8 boundary). */
static char *one_line(const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = text; *p; p++)
		strbuf_addch(&sb, *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p);
	if (sb.len > 72) {
		size_t cut = 69;

		while (cut > 0 && (sb.buf[cut] & 0xC0) == 0x80)
			cut--;
		strbuf_setlen(&sb, cut);
		strbuf_addstr(&sb, "...");
	}
	return strbuf_detach(&sb, NULL);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append "a, b, c" to sb. */
static void add_names(struct strbuf *sb, const struct strvec *names)
{
	for (size_t i = 0; i < names->nr; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", names->v[i]);
}

/* Push each of `names` that exists in the folder; a folder as "NAME/" + "**". */
static void push_existing(const struct starter *s, struct strvec *inputs,
			  const char *const *names, bool dirs)
{
	for (; *names; names++)
		if (has(s, *names, dirs)) {
			if (dirs)
				strvec_pushf(inputs, "%s/**", *names);
			else
				strvec_push(inputs, *names);
		}
}

static void copy_inputs(struct strvec *to, const struct strvec *from)
{
	for (size_t i = 0; i < from->nr; i++)
		strvec_push(to, from->v[i]);
}

static bool same_list(const struct strvec *a, const struct strvec *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

/* Tasks from `first` on that were given the same inputs (a build's differ:
 * no tests in them): the list is written once, under a YAML anchor on the
 * first that has it, and the others refer to it. */
static void share_inputs(struct starter *s, size_t first, const char *anchor)
{
	for (size_t i = first; i < s->nr; i++) {
		struct starter_task *t = &s->tasks[i];
		bool shared = false;

		if (!t->inputs.nr || t->alias)
			continue;
		for (size_t j = i + 1; j < s->nr; j++)
			if (same_list(&t->inputs, &s->tasks[j].inputs)) {
				s->tasks[j].alias = anchor;
				shared = true;
			}
		if (shared) {
			t->anchor = anchor;
			return;
		}
	}
}

/* JavaScript's test files (a.test.js, a.spec.ts, a_test.js), which no
 * build reads: pushed as exclusions to a build's inputs. */
static void exclude_tests(struct strvec *inputs)
{
	static const char *const tests[] = {
		"!**/*.test.*", "!**/*.spec.*", "!**/*_test.*", NULL,
	};

	for (size_t i = 0; tests[i]; i++)
		strvec_push(inputs, tests[i]);
}

/* A folder a configuration names as where a build writes, made relative
 * and plain ("./dist/" -> "dist"), into `out`; false for one that is not
 * inside the project or not a plain path. */
static bool output_folder(const char *given, size_t len, struct strbuf *out)
{
	strbuf_reset(out);
	while (len >= 2 && !strncmp(given, "./", 2)) {
		given += 2;
		len -= 2;
	}
	while (len && given[len - 1] == '/')
		len--;
	if (!len || given[0] == '/' || len > 200)
		return false;
	strbuf_add(out, given, len);
	for (const char *p = out->buf; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.@+/-", *p))
			return false;
	return strcmp(out->buf, ".") && !strstr(out->buf, "..") && !strstr(out->buf, "//");
}

/* --- package.json ------------------------------------------------------ */

/* The pattern the success summary of the test runner a script calls
 * matches (each checked against the runner's real output, colour codes
 * included), or NULL for a runner not known. */
static const char *npm_expect(const char *cmd)
{
	if (strstr(cmd, "vitest") || strstr(cmd, "jest"))
		return "\\bTests:?\\s.*?(\\d+ passed)";  /* Tests:  2 passed, 2 total */
	if (strstr(cmd, "uvu"))
		return "(Passed:\\s+\\d+)";
	if (strstr(cmd, "mocha"))
		return "(\\d+ passing)";
	if (strstr(cmd, "node --test"))
		return "^(?:# |\xe2\x84\xb9 )(pass \\d+)";       /* TAP piped, spec on a terminal */
	return NULL;
}

/* Scripts npm runs by itself around install and publish. */
static bool npm_lifecycle(const char *name)
{
	static const char *const names[] = {
		"preinstall", "install", "postinstall", "preuninstall", "uninstall",
		"postuninstall", "prepublish", "prepublishOnly", "publish", "postpublish",
		"preprepare", "prepare", "postprepare", "prepack", "postpack",
		"preversion", "version", "postversion", "dependencies", "restart",
		"stop", "prestop", "poststop", "prestart", "poststart", NULL,
	};

	return in_list(name, names);
}

/* Scripts that keep running (servers, watchers): a task would never end. */
static bool npm_long_running(const char *name, const char *cmd)
{
	static const char *const names[] = {
		"start", "dev", "serve", "server", "watch", "preview", "storybook", NULL,
	};

	return in_list(name, names) || strstr(name, "watch") || starts_with(name, "dev:") ||
	       starts_with(name, "serve") || starts_with(name, "start:") ||
	       strstr(cmd, "--watch") != NULL;
}

/* Is `word` in `cmd` as a whole word (blank, start or end around it)? */
static const char *find_word(const char *cmd, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(cmd, word); p; p = strstr(p + 1, word))
		if ((p == cmd || isspace((unsigned char)p[-1])) &&
		    (!p[n] || isspace((unsigned char)p[n]) || p[n] == '='))
			return p;
	return NULL;
}

/* The string value of "key" in a JSON-with-comments file (tsconfig.json
 * allows comments, which a JSON reader refuses): the text between the
 * quotes after `"key":`. Returns false when it is not there. */
static bool loose_json_string(const char *text, const char *key, struct strbuf *out)
{
	struct strbuf quoted = STRBUF_INIT;
	const char *p, *end;
	bool ok = false;

	strbuf_addf(&quoted, "\"%s\"", key);
	if ((p = strstr(text, quoted.buf))) {
		p += quoted.len;
		p += strspn(p, " \t\r\n");
		if (*p == ':') {
			p++;
			p += strspn(p, " \t\r\n");
			if (*p == '"' && (end = strchr(p + 1, '"'))) {
				strbuf_reset(out);
				strbuf_add(out, p + 1, (size_t)(end - p - 1));
				ok = true;
			}
		}
	}
	strbuf_release(&quoted);
	return ok;
}

/* Where a build script writes, as its configuration says, in `out` (a
 * folder or file relative to the project) and what said it in *from:
 * its command's --outDir/--out-dir/--outdir/--dist-dir/--outfile,
 * tsconfig.json's outDir when it runs tsc, its tool's fixed default
 * (vite, webpack, parcel: dist; next: .next), or the folder of
 * package.json's main when that is dist/, build/ or out/. False when
 * none does: the task then has no outputs. */
static bool npm_build_output(const struct starter *s, const char *cmd, json_t *package,
			     struct strbuf *out, const char **from)
{
	static const char *const flags[] = {
		"--outDir", "--out-dir", "--outdir", "--dist-dir", "--outfile", NULL,
	};
	static const char *const built[] = { "dist", "build", "out", NULL };
	struct strbuf text = STRBUF_INIT, value = STRBUF_INIT;
	const char *main_file = json_string_value(json_object_get(package, "main"));
	bool ok = false;

	for (size_t i = 0; flags[i] && !ok; i++) {
		const char *p = find_word(cmd, flags[i]);

		if (!p)
			continue;
		p += strlen(flags[i]);
		p += *p == '=' ? 1 : strspn(p, " \t");
		ok = output_folder(p, strcspn(p, " \t\"'&;|)"), out);
		*from = "its command";
	}
	if (!ok && find_word(cmd, "tsc") && read_small(s, "tsconfig.json", &text) == 0 &&
	    loose_json_string(text.buf, "outDir", &value)) {
		ok = output_folder(value.buf, value.len, out);
		*from = "tsconfig.json";
	}
	if (!ok && ((find_word(cmd, "vite") && find_word(cmd, "build")) || find_word(cmd, "webpack") ||
		    (find_word(cmd, "parcel") && find_word(cmd, "build")))) {
		ok = output_folder("dist", 4, out);
		*from = "its tool's default";
	} else if (!ok && find_word(cmd, "next") && find_word(cmd, "build")) {
		ok = output_folder(".next", 5, out);
		*from = "its tool's default";
	}
	if (!ok && main_file) {
		for (size_t i = 0; built[i] && !ok; i++) {
			size_t n = strlen(built[i]);
			const char *f = starts_with(main_file, "./") ? main_file + 2 : main_file;

			if (!strncmp(f, built[i], n) && f[n] == '/') {
				ok = output_folder(built[i], n, out);
				*from = "package.json's main";
			}
		}
	}
	strbuf_release(&text);
	strbuf_release(&value);
	return ok;
}

/* The command that installs a project's dependencies with `runner`, as
 * its lock file says: `npm ci` installs exactly the lock file (and
 * fails when it disagrees with package.json); without one, `npm
 * install` writes it. */
static const char *npm_install_command(const struct starter *s, const char *runner)
{
	if (!strcmp(runner, "pnpm"))
		return "pnpm install --frozen-lockfile";
	if (!strcmp(runner, "yarn"))
		return "yarn install --frozen-lockfile";
	if (!strcmp(runner, "bun"))
		return "bun install --frozen-lockfile";
	return has(s, "package-lock.json", false) ? "npm ci" : "npm install";
}

/* Does package.json list any dependency, so that installing fills
 * node_modules? (With none, npm writes no node_modules at all.) */
static bool npm_has_dependencies(json_t *package)
{
	static const char *const keys[] = {
		"dependencies", "devDependencies", "optionalDependencies", "peerDependencies", NULL,
	};

	for (size_t i = 0; keys[i]; i++) {
		json_t *deps = json_object_get(package, keys[i]);

		if (json_is_object(deps) && json_object_size(deps))
			return true;
	}
	return false;
}

static void detect_npm(struct starter *s)
{
	static const char *const src_dirs[] = {
		"src", "lib", "app", "pages", "components", "test", "tests", "__tests__", NULL,
	};
	static const char *const lock_files[] = {
		"package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock", NULL,
	};
	struct strbuf path = STRBUF_INIT, line = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf notes = STRBUF_INIT;
	struct strvec inputs = STRVEC_INIT, taken = STRVEC_INIT, servers = STRVEC_INIT;
	const char *runner = "npm", *key, *from = NULL;
	struct starter_task *install;
	char *install_name = NULL;
	json_t *root = NULL, *scripts, *value;
	json_error_t jerr;
	size_t count = 0, first;
	bool usable;

	if (!has(s, "package.json", false))
		return;
	if (has(s, "pnpm-lock.yaml", false))
		runner = "pnpm";
	else if (has(s, "yarn.lock", false))
		runner = "yarn";
	else if (has(s, "bun.lockb", false) || has(s, "bun.lock", false))
		runner = "bun";

	path_in(&path, s->dir, "package.json");
	root = json_load_file(path.buf, 0, &jerr);
	if (!root) {
		strbuf_addf(s->summary, "package.json: not read (%s, line %d): no npm tasks\n",
			    jerr.text, jerr.line);
		goto out;
	}
	scripts = json_object_get(root, "scripts");
	if (!json_is_object(scripts) || !json_object_size(scripts)) {
		strbuf_addstr(s->summary, "package.json: no scripts\n");
		goto out;
	}

	/* what the scripts read, when the project keeps its code in folders;
	 * a task without inputs simply always runs */
	push_existing(s, &inputs, src_dirs, true);
	if (inputs.nr) {
		DIR *d;
		struct dirent *e;

		strvec_push(&inputs, "package.json");
		for (size_t i = 0; lock_files[i]; i++)
			if (has(s, lock_files[i], false))
				strvec_push(&inputs, lock_files[i]);
		/* the tools' own configuration: tsconfig.json, jest.config.js,
		 * .eslintrc.json ... (sorted, so the file does not depend on the
		 * order readdir() happens to give) */
		path_in(&path, s->dir, ".");
		if ((d = opendir(path.buf))) {
			struct strvec configs = STRVEC_INIT;

			while ((e = readdir(d)))
				if (plain_name(e->d_name[0] == '.' ? e->d_name + 1 : e->d_name) &&
				    (strstr(e->d_name, ".config.") || starts_with(e->d_name, "tsconfig") ||
				     starts_with(e->d_name, ".eslintrc") || starts_with(e->d_name, ".babelrc")) &&
				    has(s, e->d_name, false))
					strvec_push(&configs, e->d_name);
			closedir(d);
			qsort(configs.v, configs.nr, sizeof(*configs.v), compare_names);
			copy_inputs(&inputs, &configs);
			strvec_clear(&configs);
		}
	}

	/* the tasks, when the runner is there to run them */
	usable = on_path(runner);
	if (usable) {
		install = add_task(s, runner, "install", "package.json scripts",
				   xstrdup(npm_install_command(s, runner)));
		install->desc = xstrdup("the dependencies, as package.json and its lock file say");
		install->install = true;
		strvec_push(&install->inputs, "package.json");
		for (size_t i = 0; lock_files[i]; i++)
			if (has(s, lock_files[i], false))
				strvec_push(&install->inputs, lock_files[i]);
		if (npm_has_dependencies(root))
			strvec_push(&install->outputs, "node_modules");
		install_name = xstrdup(install->name);
	}
	first = s->nr;
	json_object_foreach(scripts, key, value) {
		const char *cmd = json_string_value(value);
		struct starter_task *t;

		if (!cmd || npm_lifecycle(key))
			continue;
		/* preX and postX run by themselves around X */
		if ((starts_with(key, "pre") && json_object_get(scripts, key + 3)) ||
		    (starts_with(key, "post") && json_object_get(scripts, key + 4)))
			continue;
		if (npm_long_running(key, cmd)) {
			strvec_push(&servers, key);
			continue;
		}
		if (!plain_name(key) || count == MAX_PER_SOURCE)
			continue;
		count++;
		if (!usable) {
			strvec_push(&taken, key);
			continue;
		}
		strbuf_reset(&line);
		strbuf_addf(&line, "%s run %s", runner, key);
		t = add_task(s, runner, key, "package.json scripts", strbuf_detach(&line, NULL));
		t->desc = one_line(cmd);
		t->check = check_like(key);
		if (t->check)
			t->expect = npm_expect(cmd);
		t->build = starts_with(key, "build");
		strvec_push(&t->needs, install_name);
		strvec_push(&taken, t->name);
		if (!t->build) {
			copy_inputs(&t->inputs, &inputs);
			continue;
		}
		/* a build reads the code, not the tests, and not what it writes */
		if (npm_build_output(s, cmd, root, &out, &from)) {
			strvec_push(&t->outputs, out.buf);
			strbuf_addf(&notes, "package.json: task %s writes %s (from %s)\n", t->name,
				    out.buf, from);
		} else {
			strbuf_addf(&notes, "package.json: task %s has no outputs: neither its command, "
				    "tsconfig.json nor package.json's main says where it writes; add "
				    "'outputs: [FOLDER]' so that squad runs it again when they are gone\n",
				    t->name);
		}
		for (size_t i = 0; i < inputs.nr; i++) {
			const char *in = inputs.v[i];
			size_t n = strcspn(in, "/");

			if (in[n] == '/' && ((n == 4 && starts_with(in, "test")) ||
					     (n == 5 && starts_with(in, "tests")) ||
					     (n == 9 && starts_with(in, "__tests__")) ||
					     (t->outputs.nr && n == out.len && starts_with(in, out.buf))))
				continue;
			strvec_push(&t->inputs, in);
		}
		if (t->inputs.nr)
			exclude_tests(&t->inputs);
	}

	share_inputs(s, first, "npm-inputs");
	if (!usable) {
		if (taken.nr) {
			strbuf_reset(&line);
			add_names(&line, &taken);
			left_out(s, "the package.json scripts (%s): %s is not on PATH; install it, "
				 "then run 'squad init' again in a new folder or add a task per script, "
				 "such as '%s: { run: %s run %s }'",
				 line.buf, runner, taken.v[0], runner, taken.v[0]);
		}
		goto out;
	}
	strbuf_addf(s->summary, "package.json: %zu script%s as tasks run with %s", taken.nr,
		    taken.nr == 1 ? "" : "s", runner);
	if (taken.nr) {
		strbuf_addstr(s->summary, " (");
		add_names(s->summary, &taken);
		strbuf_addch(s->summary, ')');
	}
	strbuf_addf(s->summary, ", after task %s (%s)", install_name, npm_install_command(s, runner));
	if (servers.nr) {
		strbuf_addstr(s->summary, "; left out, as they keep running: ");
		add_names(s->summary, &servers);
	}
	strbuf_addch(s->summary, '\n');
	strbuf_add(s->summary, notes.buf, notes.len);
out:
	json_decref(root);
	free(install_name);
	strvec_clear(&inputs);
	strvec_clear(&taken);
	strvec_clear(&servers);
	strbuf_release(&path);
	strbuf_release(&line);
	strbuf_release(&out);
	strbuf_release(&notes);
}

/* --- Python ------------------------------------------------------------ */

/* Does FOLDER hold a pytest file (test_*.py, *_test.py, conftest.py)? */
static bool has_pytest_files(const struct starter *s, const char *folder)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *e;
	bool found = false;
	DIR *d;

	path_in(&path, s->dir, folder);
	if ((d = opendir(path.buf))) {
		while (!found && (e = readdir(d)))
			found = !strcmp(e->d_name, "conftest.py") ||
				(ends_with(e->d_name, ".py") &&
				 (starts_with(e->d_name, "test_") || ends_with(e->d_name, "_test.py")));
		closedir(d);
	}
	strbuf_release(&path);
	return found;
}

/* Does FOLDER hold a test*.py file that uses unittest (the files
 * `python3 -m unittest discover` finds, and can run without pytest)? */
static bool has_unittest_files(const struct starter *s, const char *folder)
{
	struct strbuf path = STRBUF_INIT, name = STRBUF_INIT;
	struct dirent *e;
	bool found = false;
	DIR *d;

	path_in(&path, s->dir, folder);
	if ((d = opendir(path.buf))) {
		while (!found && (e = readdir(d))) {
			if (!starts_with(e->d_name, "test") || !ends_with(e->d_name, ".py"))
				continue;
			strbuf_reset(&name);
			strbuf_addf(&name, "%s/%s", folder, e->d_name);
			found = file_mentions(s, name.buf, "unittest");
		}
		closedir(d);
	}
	strbuf_release(&path);
	strbuf_release(&name);
	return found;
}

/* The unittest command for the project's unittest-style tests, or NULL.
 * A tests/ folder without __init__.py is not a package: discovery starts
 * in it (the project's folder is still on sys.path, through -m); with
 * one, from the top (-t .), so that its relative imports work. */
static char *unittest_command(const struct starter *s)
{
	static const char *const folders[] = { "tests", "test", NULL };
	struct strbuf init = STRBUF_INIT;
	char *cmd = NULL;

	for (size_t i = 0; folders[i] && !cmd; i++) {
		if (!has_unittest_files(s, folders[i]))
			continue;
		strbuf_reset(&init);
		strbuf_addf(&init, "%s/__init__.py", folders[i]);
		bool package = has(s, init.buf, false);

		strbuf_reset(&init);
		strbuf_addf(&init, "python3 -m unittest discover -s %s%s", folders[i],
			    package ? " -t ." : "");
		cmd = strbuf_detach(&init, NULL);
	}
	if (!cmd && has_unittest_files(s, "."))
		cmd = xstrdup("python3 -m unittest discover");
	strbuf_release(&init);
	return cmd;
}

static void detect_python(struct starter *s)
{
	static const char *const configs[] = {
		"pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini",
		"ruff.toml", ".ruff.toml", ".flake8", NULL,
	};
	struct strvec inputs = STRVEC_INIT, found = STRVEC_INIT;
	struct starter_task *t;
	const char *pytest = NULL, *linter = NULL, *python;
	char *unittest = NULL;
	size_t first = s->nr;

	if (has(s, "pytest.ini", false))
		pytest = "pytest.ini";
	else if (file_mentions(s, "pyproject.toml", "[tool.pytest"))
		pytest = "[tool.pytest] in pyproject.toml";
	else if (file_mentions(s, "setup.cfg", "[tool:pytest]"))
		pytest = "[tool:pytest] in setup.cfg";
	else if (file_mentions(s, "tox.ini", "[pytest]"))
		pytest = "[pytest] in tox.ini";
	else if (has_pytest_files(s, "tests"))
		pytest = "test files in tests/";
	else if (has_pytest_files(s, "test"))
		pytest = "test files in test/";
	else if (file_mentions(s, "pyproject.toml", "pytest"))
		pytest = "pytest in pyproject.toml";

	if (has(s, "ruff.toml", false) || has(s, ".ruff.toml", false))
		linter = "ruff";
	else if (file_mentions(s, "pyproject.toml", "[tool.ruff"))
		linter = "ruff";
	else if (has(s, ".flake8", false) || file_mentions(s, "setup.cfg", "[flake8]") ||
		 file_mentions(s, "tox.ini", "[flake8]"))
		linter = "flake8";
	if (!pytest && !linter)
		return;

	strvec_push(&inputs, "**/*.py");
	push_existing(s, &inputs, configs, false);
	python = find_python(s);

	if (linter && !strcmp(linter, "ruff") && !on_path("ruff")) {
		left_out(s, "a ruff lint task: ruff is configured here but not on PATH; install it "
			 "(pipx install ruff) and add "
			 "'lint: { run: ruff check ., inputs: [\"**/*.py\"] }'");
		linter = NULL;
	} else if (linter && !strcmp(linter, "flake8") && !python_imports(s, "flake8")) {
		/* run as `python3 -m flake8`: the project's Python must have it */
		left_out(s, "a flake8 lint task: flake8 is configured here but %s%s cannot import it; "
			 "install it (python3 -m pip install flake8) and add "
			 "'lint: { run: python3 -m flake8, inputs: [\"**/*.py\"] }'",
			 python ? "python3 on PATH, " : "there is no python3 on PATH",
			 python ? python : "");
		linter = NULL;
	}
	if (pytest && !python_imports(s, "pytest")) {
		struct strbuf program = STRBUF_INIT, aside = STRBUF_INIT;

		/* `python3 -m pytest` would fail: the tests written for unittest
		 * still run without it, the others wait for pytest. A pytest
		 * program on PATH runs with another Python (its own shebang),
		 * which may not have what the project imports: it is named, not
		 * used. */
		unittest = unittest_command(s);
		if (worker_search_path("pytest", run_path(), &program) == 0)
			strbuf_addf(&aside, " (the pytest program on PATH, %s, runs another Python)",
				    program.buf);
		if (!python)
			left_out(s, "the Python tests: there is no python3 on PATH; install Python 3 "
				 "with pytest, then add 'test: { run: python3 -m pytest -q }'");
		else if (unittest)
			left_out(s, "a pytest task: python3 on PATH, %s, cannot import pytest%s, so the "
				 "tests run with unittest; to run them with pytest, install it "
				 "(python3 -m pip install pytest) and change the task's run to "
				 "'python3 -m pytest -q', its expect to '(\\d+ passed)'", python, aside.buf);
		else
			left_out(s, "a pytest task: python3 on PATH, %s, cannot import pytest%s; install it "
				 "(python3 -m pip install pytest) and add a task 'test' with run 'python3 -m "
				 "pytest -q' and expect '(\\d+ passed)'", python, aside.buf);
		if (!python || !unittest)
			pytest = NULL;
		strbuf_release(&program);
		strbuf_release(&aside);
	}
	if (linter) {
		t = add_task(s, "py", "lint", "Python",
			     xstrdup(!strcmp(linter, "ruff") ? "ruff check ." : "python3 -m flake8"));
		t->desc = xstrdup(!strcmp(linter, "ruff") ? "Python lint (ruff)" : "Python lint (flake8)");
		t->check = true;
		copy_inputs(&t->inputs, &inputs);
		strvec_pushf(&found, "%s (task %s)", linter, t->name);
	}
	if (pytest && unittest) {
		t = add_task(s, "py", "test", "Python", unittest);
		unittest = NULL;
		t->desc = xstrdup("Python tests (unittest: no pytest here)");
		/* "Ran 3 tests in 0.001s" then "OK": none found is not a pass */
		t->expect = "^(Ran [1-9]\\d* tests?) in ";
		t->check = true;
		copy_inputs(&t->inputs, &inputs);
		strvec_pushf(&found, "unittest (task %s), for the tests of %s", t->name, pytest);
	} else if (pytest) {
		t = add_task(s, "py", "test", "Python", xstrdup("python3 -m pytest -q"));
		t->desc = xstrdup("Python tests (pytest)");
		t->expect = "(\\d+ passed)";
		t->check = true;
		copy_inputs(&t->inputs, &inputs);
		strvec_pushf(&found, "pytest (task %s), from %s", t->name, pytest);
	}
	if (!found.nr)
		goto out;
	share_inputs(s, first, "py-inputs");
	strbuf_addstr(s->summary, "Python: ");
	for (size_t i = 0; i < found.nr; i++)
		strbuf_addf(s->summary, "%s%s", i ? "; " : "", found.v[i]);
	strbuf_addch(s->summary, '\n');
out:
	free(unittest);
	strvec_clear(&inputs);
	strvec_clear(&found);
}

/* --- Cargo and Go ---------------------------------------------------- */

/* Does FOLDER, or a folder under it down to `depth` levels, hold a file
 * whose name ends in `suffix`? Hidden folders, vendor/ and testdata/ are
 * not looked into (go test skips them too). */
static bool has_file_ending(const struct starter *s, const char *folder, const char *suffix,
			    int depth)
{
	struct strbuf path = STRBUF_INIT, sub = STRBUF_INIT;
	struct dirent *e;
	bool found = false;
	DIR *d;

	path_in(&path, s->dir, folder);
	if (!(d = opendir(path.buf))) {
		strbuf_release(&path);
		return false;
	}
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "vendor") ||
		    !strcmp(e->d_name, "testdata"))
			continue;
		strbuf_reset(&sub);
		if (strcmp(folder, "."))
			strbuf_addf(&sub, "%s/", folder);
		strbuf_addstr(&sub, e->d_name);
		if (ends_with(e->d_name, suffix) && has(s, sub.buf, false))
			found = true;
		else if (depth > 0 && has(s, sub.buf, true))
			found = has_file_ending(s, sub.buf, suffix, depth - 1);
	}
	closedir(d);
	strbuf_release(&path);
	strbuf_release(&sub);
	return found;
}

/* A toolchain's two tasks, build and test. A build reads no test file
 * (`build_inputs`, the test's inputs with the tests excluded) and writes
 * `output` (NULL: nothing it keeps). When `tool` is not on PATH, neither
 * is written: they are left out, with how to add them. */
static void add_build_and_test(struct starter *s, const char *tool, const char *section,
			       const char *build, const char *test, const struct strvec *inputs,
			       const struct strvec *build_inputs, const char *output)
{
	size_t first = s->nr;
	struct starter_task *t;

	if (!on_path(tool)) {
		left_out(s, "the %s tasks (%s, %s): %s is not on PATH; install it, then add "
			 "'build: { run: %s }' and 'test: { run: %s }'", section, build, test, tool,
			 build, test);
		return;
	}
	t = add_task(s, tool, "build", section, xstrdup(build));
	t->desc = xstrdup(build);
	t->build = true;
	copy_inputs(&t->inputs, build_inputs);
	if (output)
		strvec_push(&t->outputs, output);
	strbuf_addf(s->summary, "%s: %s (task %s", section, build, t->name);
	if (output)
		strbuf_addf(s->summary, ", writes %s", output);
	strbuf_addch(s->summary, ')');
	t = add_task(s, tool, "test", section, xstrdup(test));
	t->desc = xstrdup(test);
	t->check = true;
	/* cargo's "test result: ok. 3 passed; 0 failed; ..." per target;
	 * go's "ok  <TAB>example.com/m<TAB>0.003s" per package with tests
	 * (one without says "[no test files]": a module with no test
	 * file at all gets no expect, so that it still passes) */
	if (!strcmp(tool, "cargo"))
		t->expect = "^(test result: ok\\. \\d+ passed)";
	else if (!strcmp(tool, "go") && has_file_ending(s, ".", "_test.go", 4))
		t->expect = "^(ok\\s+\\S+)";
	copy_inputs(&t->inputs, inputs);
	strbuf_addf(s->summary, ", %s (task %s)\n", test, t->name);
	share_inputs(s, first, !strcmp(tool, "go") ? "go-inputs" : "cargo-inputs");
}

static void detect_cargo(struct starter *s)
{
	struct strvec inputs = STRVEC_INIT, build = STRVEC_INIT;

	if (!has(s, "Cargo.toml", false))
		return;
	strvec_push(&inputs, "**/*.rs");
	strvec_push(&inputs, "**/Cargo.toml");
	if (has(s, "Cargo.lock", false))
		strvec_push(&inputs, "Cargo.lock");
	copy_inputs(&build, &inputs);
	/* integration tests (tests/ beside each Cargo.toml), which
	 * cargo build does not compile */
	strvec_push(&build, "!**/tests/**");
	/* cargo build writes target/debug, unless told to write elsewhere */
	add_build_and_test(s, "cargo", "Cargo.toml", "cargo build", "cargo test", &inputs, &build,
			   getenv("CARGO_TARGET_DIR") || has(s, ".cargo/config.toml", false) ||
			   has(s, ".cargo/config", false) ? NULL : "target/debug");
	strvec_clear(&inputs);
	strvec_clear(&build);
}

static void detect_go(struct starter *s)
{
	struct strvec inputs = STRVEC_INIT, build = STRVEC_INIT;

	if (!has(s, "go.mod", false))
		return;
	strvec_push(&inputs, "**/*.go");
	strvec_push(&inputs, "go.mod");
	if (has(s, "go.sum", false))
		strvec_push(&inputs, "go.sum");
	copy_inputs(&build, &inputs);
	strvec_push(&build, "!**/*_test.go");
	/* `go build ./...` of several packages compiles them and keeps nothing */
	add_build_and_test(s, "go", "go.mod", "go build ./...", "go test ./...", &inputs, &build,
			   NULL);
	strvec_clear(&inputs);
	strvec_clear(&build);
}

/* --- Makefile ------------------------------------------------------------ */

/* Targets that change the machine, publish, clean or never end. */
static bool make_unwanted(const char *name)
{
	static const char *const prefixes[] = {
		"install", "uninstall", "dist", "release", "deploy", "publish", "upload",
		"push", "serve", "watch", "run", "start", NULL,
	};
	static const char *const names[] = { "help", "dev", "shell", "all-clean", "FORCE", NULL };

	if (strstr(name, "clean") || in_list(name, names))
		return true;
	for (size_t i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(name, prefixes[i], n) && (!name[n] || strchr("-_:", name[n])))
			return true;
	}
	return false;
}

/* What a Makefile says about its rules. */
struct make_rules {
	struct strvec targets;  /* plain targets, each once, in file order */
	struct strvec descs;    /* one per target: its "## text", or the
				 * comment line above its rule, or "" */
	struct strvec phony;    /* the prerequisites of .PHONY */
};

/* A comment's text, when it says something ("# ------" does not). */
static void comment_text(const char *text, struct strbuf *out)
{
	strbuf_reset(out);
	text += strspn(text, "# \t");
	for (const char *p = text; *p; p++)
		if (isalnum((unsigned char)*p)) {
			strbuf_addstr(out, text);
			strbuf_rtrim(out);
			return;
		}
}

/* Push each blank-separated word of `words` (modified) to `list`. */
static void split_words(char *words, struct strvec *list)
{
	char *word, *next;

	for (word = words; *word; word = next) {
		size_t n = strcspn(word, " \t");

		next = word[n] ? word + n + 1 : word + n;
		word[n] = '\0';
		if (*word)
			strvec_push(list, word);
	}
}

/* Read the plain rules of a Makefile: `name other: prereqs` lines,
 * outside recipes, continuations and define blocks. Not variable
 * assignments (`X := a`, `t: X = a`), pattern rules (`%.o:`), special
 * targets (`.PHONY:`, whose prerequisites are kept apart), targets with
 * a `$`, or file-like names (`a.o`, `build/x`). */
static void make_rules_read(struct make_rules *mr, const char *text)
{
	bool continued = false, in_define = false;
	struct strbuf line = STRBUF_INIT, above = STRBUF_INIT, desc = STRBUF_INIT;
	struct strvec words = STRVEC_INIT;
	const char *p = text;

	while (*p) {
		const char *end = strchrnul(p, '\n');
		bool was_continued = continued;
		char *colon, *hash;

		strbuf_reset(&line);
		strbuf_add(&line, p, (size_t)(end - p));
		p = *end ? end + 1 : end;
		if (line.len && line.buf[line.len - 1] == '\r')
			strbuf_setlen(&line, line.len - 1);
		continued = line.len && line.buf[line.len - 1] == '\\';
		if (was_continued)
			continue;
		if (in_define) {
			in_define = strncmp(line.buf, "endef", 5) != 0;
			continue;
		}
		if (!strncmp(line.buf, "define", 6) && (!line.buf[6] || isspace((unsigned char)line.buf[6]))) {
			in_define = true;
			continue;
		}
		if (line.buf[0] == '#') {
			comment_text(line.buf, &above);
			continue;
		}
		if (!line.len || isspace((unsigned char)line.buf[0])) {
			strbuf_reset(&above);
			continue;
		}
		/* "target: deps ## what it does", else the comment above */
		strbuf_reset(&desc);
		if ((hash = strstr(line.buf, "##")))
			comment_text(hash, &desc);
		else
			strbuf_addstr(&desc, above.buf);
		strbuf_reset(&above);
		if ((hash = strchr(line.buf, '#')))
			strbuf_setlen(&line, (size_t)(hash - line.buf));
		colon = strchr(line.buf, ':');
		if (!colon || colon[1] == '=' || (colon[1] == ':' && colon[2] == '=') ||
		    strchr(colon, '=') || memchr(line.buf, '=', (size_t)(colon - line.buf)))
			continue;
		*colon = '\0';
		strvec_clear(&words);
		split_words(line.buf, &words);
		if (words.nr == 1 && !strcmp(words.v[0], ".PHONY")) {
			char *deps = colon + 1 + (colon[1] == ':');

			if ((hash = strchr(deps, ';')))
				*hash = '\0';
			split_words(deps, &mr->phony);
			continue;
		}
		for (size_t i = 0; i < words.nr; i++) {
			const char *word = words.v[i];

			if (word[0] == '.' || strpbrk(word, "%$./") || !plain_name(word) ||
			    strvec_find(&mr->targets, word) >= 0)
				continue;
			strvec_push(&mr->targets, word);
			strvec_push(&mr->descs, desc.buf);
		}
	}
	strvec_clear(&words);
	strbuf_release(&line);
	strbuf_release(&above);
	strbuf_release(&desc);
}

static void detect_make(struct starter *s)
{
	static const char *const makefiles[] = { "GNUmakefile", "makefile", "Makefile", NULL };
	struct make_rules mr = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	struct strvec taken = STRVEC_INIT, left = STRVEC_INIT;
	struct strbuf text = STRBUF_INIT;
	const char *makefile = NULL, *build = NULL;
	size_t first = s->nr;
	bool usable;

	/* the file GNU make itself would read */
	for (size_t i = 0; makefiles[i] && !makefile; i++)
		if (read_small(s, makefiles[i], &text) == 0)
			makefile = makefiles[i];
	if (!makefile)
		return;
	make_rules_read(&mr, text.buf);
	usable = on_path("make");

	for (size_t i = 0; i < mr.targets.nr; i++) {
		const char *name = mr.targets.v[i];
		struct strbuf run = STRBUF_INIT;
		struct starter_task *t;

		/* a Makefile that lists its .PHONY targets says which of its
		 * rules are tasks rather than files */
		if (mr.phony.nr && strvec_find(&mr.phony, name) < 0)
			continue;
		if (make_unwanted(name)) {
			strvec_push(&left, name);
			continue;
		}
		if (taken.nr == MAX_PER_SOURCE)
			break;
		if (!usable) {
			strvec_push(&taken, name);
			continue;
		}
		strbuf_addf(&run, "make %s", name);
		t = add_task(s, "make", name, makefile, strbuf_detach(&run, NULL));
		if (*mr.descs.v[i])
			t->desc = one_line(mr.descs.v[i]);
		t->check = check_like(name);
		t->from_make = true;
		if (!build && (!strcmp(name, "all") || !strcmp(name, "build"))) {
			t->build = true;
			build = t->name;
		}
		strvec_push(&taken, t->name);
	}
	/* two makes in one tree may build the same file at once: every other
	 * target waits for the one that builds */
	for (size_t i = first; build && i < s->nr; i++)
		if (!s->tasks[i].build)
			strvec_push(&s->tasks[i].needs, build);

	if (!usable) {
		if (taken.nr) {
			struct strbuf names = STRBUF_INIT;

			add_names(&names, &taken);
			left_out(s, "the %s's targets (%s): make is not on PATH; install it "
				 "(apt-get install make), then add a task per target, such as "
				 "'%s: { run: make %s }'", makefile, names.buf, taken.v[0], taken.v[0]);
			strbuf_release(&names);
		}
		goto out;
	}
	strbuf_addf(s->summary, "%s: %zu target%s as tasks run with make", makefile, taken.nr,
		    taken.nr == 1 ? "" : "s");
	if (taken.nr) {
		strbuf_addstr(s->summary, " (");
		add_names(s->summary, &taken);
		strbuf_addch(s->summary, ')');
	}
	if (left.nr) {
		strbuf_addstr(s->summary, "; left out: ");
		add_names(s->summary, &left);
	}
	strbuf_addch(s->summary, '\n');
	/* make knows which of its files are up to date, squad does not */
	if (build)
		strbuf_addf(s->summary, "%s: no inputs or outputs: task %s runs make each time, "
			    "which rebuilds only what changed; to let squad skip it, add the "
			    "files it reads as 'inputs' and those it writes as 'outputs'\n",
			    makefile, build);
out:
	strvec_clear(&mr.targets);
	strvec_clear(&mr.descs);
	strvec_clear(&mr.phony);
	strvec_clear(&taken);
	strvec_clear(&left);
	strbuf_release(&text);
}

/* --- Claude Code skills ------------------------------------------------ */

static void detect_skills(struct starter *s)
{
	struct strbuf path = STRBUF_INIT, skill = STRBUF_INIT;
	struct dirent *e;
	DIR *d;

	path_in(&path, s->dir, ".claude/skills");
	if (!(d = opendir(path.buf))) {
		strbuf_release(&path);
		return;
	}
	while ((e = readdir(d))) {
		if (!plain_name(e->d_name))
			continue;
		strbuf_reset(&skill);
		strbuf_addf(&skill, ".claude/skills/%s/SKILL.md", e->d_name);
		if (has(s, skill.buf, false))
			strvec_push(&s->skills, e->d_name);
	}
	closedir(d);
	qsort(s->skills.v, s->skills.nr, sizeof(*s->skills.v), compare_names);
	if (s->skills.nr) {
		strbuf_addf(s->summary, ".claude/skills: %zu skill%s (", s->skills.nr,
			    s->skills.nr == 1 ? "" : "s");
		add_names(s->summary, &s->skills);
		strbuf_addstr(s->summary, "), in a commented example of a skill-tagged task\n");
	}
	strbuf_release(&path);
	strbuf_release(&skill);
}

/* --- the file ------------------------------------------------------------ */

/* `s` as a YAML scalar: plain when no YAML reader could take it for
 * anything but text, double-quoted otherwise. */
static void add_scalar(struct strbuf *sb, const char *s, bool always_quote)
{
	static const char *const words[] = {
		"true", "false", "yes", "no", "on", "off", "y", "n", "null", NULL,
	};
	bool plain = !always_quote && (isalnum((unsigned char)s[0]) || s[0] == '_' || s[0] == '/');

	for (const char *p = s; plain && *p; p++)
		plain = isalnum((unsigned char)*p) || strchr(" _./+@%^=-", *p);
	if (plain && (s[strlen(s) - 1] == ' ' || strspn(s, "0123456789.+-") == strlen(s)))
		plain = false;
	for (size_t i = 0; plain && words[i]; i++)
		plain = strcasecmp(s, words[i]) != 0;
	if (plain) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addf(sb, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			strbuf_addf(sb, "\\x%02x", *p);
		else
			strbuf_addch(sb, (char)*p);
	}
	strbuf_addch(sb, '"');
}

/* A flow list, `[a, b]`, starting at column `col`; wrapped before
 * column 78, its later lines indented by `indent`. */
static void add_list(struct strbuf *sb, const struct strvec *items, bool always_quote,
		     size_t col, size_t indent)
{
	struct strbuf item = STRBUF_INIT;

	strbuf_addch(sb, '[');
	col++;
	for (size_t i = 0; i < items->nr; i++) {
		strbuf_reset(&item);
		add_scalar(&item, items->v[i], always_quote);
		if (i && col + 2 + item.len > 77) {
			strbuf_addf(sb, ",\n%*s", (int)indent, "");
			col = indent;
		} else if (i) {
			strbuf_addstr(sb, ", ");
			col += 2;
		}
		strbuf_add(sb, item.buf, item.len);
		col += item.len;
	}
	strbuf_addch(sb, ']');
	strbuf_release(&item);
}

/* `text` as comment lines, each "PREFIX" + line; control bytes read from
 * the folder's files cannot end a comment early. */
/* Where the reference is: the page a build tree holds next to this
 * squad (build/man/man5, put there by CMake), else the installed one. */
static void add_reference(struct strbuf *out)
{
	struct strbuf page = STRBUF_INIT;
	char *exe = realpath("/proc/self/exe", NULL);
	char *slash = exe ? strrchr(exe, '/') : NULL;

	if (slash) {
		strbuf_add(&page, exe, (size_t)(slash - exe));
		strbuf_addstr(&page, "/man/man5/squadfile.5");
	}
	if (page.len && access(page.buf, R_OK) == 0)
		strbuf_addf(out, "# Edit it freely; the reference is 'man -l %s'\n"
			    "# ('man 5 squadfile' once squad is installed).\n#\n", page.buf);
	else
		strbuf_addstr(out, "# Edit it freely; the reference is 'man 5 squadfile'.\n#\n");
	strbuf_release(&page);
	free(exe);
}

static void add_comment(struct strbuf *sb, const char *prefix, const char *text)
{
	size_t indent = strlen(prefix);

	while (*text) {
		const char *end = strchrnul(text, '\n');
		size_t col = indent;

		strbuf_addstr(sb, prefix);
		/* word by word, wrapped before column 78 */
		for (const char *p = text; p < end;) {
			size_t n = strcspn(p, " \n");

			if (p + n > end)
				n = (size_t)(end - p);
			if (col > indent && col + 1 + n > 78) {
				strbuf_addf(sb, "\n%s  ", prefix);
				col = indent + 2;
			} else if (col > indent) {
				strbuf_addch(sb, ' ');
				col++;
			}
			for (size_t i = 0; i < n; i++)
				strbuf_addch(sb, (unsigned char)p[i] < 0x20 ? ' ' : p[i]);
			col += n;
			p += n;
			while (p < end && *p == ' ')
				p++;
		}
		strbuf_addch(sb, '\n');
		text = *end ? end + 1 : end;
	}
}

static void render_task(struct strbuf *out, const struct starter_task *t)
{
	strbuf_addstr(out, "  ");
	add_scalar(out, t->name, false);
	strbuf_addstr(out, ":\n");
	if (t->desc) {
		strbuf_addstr(out, "    desc: ");
		add_scalar(out, t->desc, true);
		strbuf_addch(out, '\n');
	}
	if (t->run) {
		strbuf_addstr(out, "    run: ");
		add_scalar(out, t->run, false);
		strbuf_addch(out, '\n');
	}
	if (t->needs.nr) {
		strbuf_addstr(out, "    needs: ");
		add_list(out, &t->needs, false, 11, 6);
		strbuf_addch(out, '\n');
	}
	if (t->expect)
		strbuf_addf(out, "    expect: '%s'\n", t->expect); /* static, no quote in it */
	if (t->alias) {
		strbuf_addf(out, "    inputs: *%s\n", t->alias);
	} else if (t->inputs.nr) {
		strbuf_addstr(out, "    inputs: ");
		if (t->anchor)
			strbuf_addf(out, "&%s ", t->anchor);
		add_list(out, &t->inputs, true, 12 + (t->anchor ? strlen(t->anchor) + 2 : 0), 6);
		strbuf_addch(out, '\n');
	}
	if (t->outputs.nr) {
		strbuf_addstr(out, "    outputs: ");
		add_list(out, &t->outputs, true, 13, 6);
		strbuf_addch(out, '\n');
	}
}

static const char example_tasks[] =
"  # A task runs a command; it may need other tasks first, list the files\n"
"  # it reads (inputs: squad skips it while they are unchanged), and give a\n"
"  # pattern its output must match (expect). For instance:\n"
"  #\n"
"  # lint:\n"
"  #   run: ruff check .\n"
"  #   inputs: [\"**/*.py\"]\n"
"  # unit:\n"
"  #   run: python3 -m pytest -q\n"
"  #   needs: [lint]\n"
"  #   expect: '(\\d+ passed)'\n"
"  #   inputs: [\"**/*.py\"]\n";

/* The commented example of a skill-tagged task, with the skills found. */
static void render_skill_example(struct strbuf *out, const struct starter *s,
				 const char *after)
{
	const char *skill = s->skills.nr ? s->skills.v[0] : "code-review";

	strbuf_addstr(out, "\n  # A task with skills is never run by squad: it waits, with the results\n"
			   "  # of the tasks it needs, for the tactician (such as Claude Code), who\n"
			   "  # reports back with 'squad done TASK'.");
	if (s->skills.nr) {
		strbuf_addstr(out, " Skills in .claude/skills:\n  # ");
		add_names(out, &s->skills);
		strbuf_addch(out, '.');
	}
	strbuf_addstr(out, " Uncomment to use:\n  #\n  # review:\n");
	strbuf_addf(out, "  #   skills: [%s]\n", skill);
	if (after)
		strbuf_addf(out, "  #   needs: [%s]\n", after);
	strbuf_addstr(out, "  #   prompt: \"Review the change against the skill's checklist; cite file:line\"\n");
}

/* The default target: the tests and checks (make's only when no other
 * tool gave any: a Makefile often wraps the same tests), else the
 * builds, else the first task. Several are grouped under one task, so
 * that they can be run by name too. */
static void choose_default(struct starter *s)
{
	static const enum { CHECKS, MAKE_CHECKS, BUILDS } kinds[] = { CHECKS, MAKE_CHECKS, BUILDS };
	struct strvec defaults = STRVEC_INIT;

	for (size_t k = 0; k < ARRAY_SIZE(kinds) && !defaults.nr; k++)
		for (size_t i = 0; i < s->nr; i++) {
			const struct starter_task *t = &s->tasks[i];

			if (kinds[k] == CHECKS ? t->check && !t->from_make :
			    kinds[k] == MAKE_CHECKS ? t->check : t->build)
				strvec_push(&defaults, t->name);
		}
	for (size_t i = 0; i < s->nr && !defaults.nr; i++)
		if (!s->tasks[i].install)
			strvec_push(&defaults, s->tasks[i].name);
	if (!defaults.nr && s->nr)
		strvec_push(&defaults, s->tasks[0].name);
	if (defaults.nr > 1) {
		struct starter_task *group = add_task(s, "squad", "check", NULL, NULL);

		group->desc = xstrdup("every test and check: the default target");
		copy_inputs(&group->needs, &defaults);
		s->grouped = true;
	}
	s->target = xstrdup(defaults.nr > 1 ? s->tasks[s->nr - 1].name :
			    defaults.nr ? defaults.v[0] : "hello");
	strvec_clear(&defaults);
}

static void render(const struct starter *s, const char *summary, struct strbuf *out)
{
	const char *section = NULL;

	strbuf_addstr(out, "# Squadfile: the tasks of this project, for squad. Written by 'squad init'\n");
	if (s->nr || s->left_out) {
		strbuf_addstr(out, "# from what it found here:\n");
		add_comment(out, "#   ", summary);
	} else {
		strbuf_addstr(out, "# as an example: it found no tool it knows here (package.json, pytest,\n"
				   "# ruff, flake8, a Makefile, Cargo.toml, go.mod).\n");
	}
	add_reference(out);
	strbuf_addf(out, "#   squad              run the default target (%s)\n", s->target);
	strbuf_addstr(out, "#   squad TASK...      run TASKs, after the tasks they need\n"
			   "#   squad list         the tasks\n"
			   "#   squad -n           the plan: what would run, in which order\n");
	if (s->nr)
		strbuf_addstr(out, "#\n"
				   "# A task with inputs is skipped while those files and its definition\n"
				   "# are as they were at its last success (-B runs it anyway), and\n"
				   "# 'squad --staged' runs only the tasks whose inputs a commit touches:\n"
				   "# add to a task's inputs any other file it reads.\n");
	strbuf_addstr(out, "version: 1\ndefault: ");
	add_scalar(out, s->target, false);
	strbuf_addstr(out, "\n\ntasks:\n");

	if (!s->nr) {
		strbuf_addstr(out, "  hello:\n"
				   "    desc: \"an example: replace it with your own tasks\"\n"
				   "    run: echo hello from squad\n\n");
		strbuf_addstr(out, example_tasks);
		render_skill_example(out, s, "unit");
		return;
	}
	for (size_t i = 0; i < s->nr; i++) {
		const struct starter_task *t = &s->tasks[i];

		if (s->grouped && i == s->nr - 1) {
			strbuf_addstr(out, "\n  # the default target: the tests and checks above\n");
		} else if (t->section != section) {
			strbuf_addf(out, "%s  # %s\n", section ? "\n" : "", t->section);
			section = t->section;
		}
		render_task(out, t);
	}
	render_skill_example(out, s, s->target);
}

/* YAML takes only printable Unicode, in UTF-8 (YAML 1.1, 5.1): a byte
 * that is not part of valid UTF-8, or a character outside tab, newline,
 * CR, U+0020-U+007E, U+00A0-U+D7FF, U+E000-U+FFFD and past U+FFFF, which
 * a desc or a comment may take from the folder's files, becomes '?', so
 * that what init writes always loads. So do YAML 1.1's other line
 * breaks (U+0085, U+2028, U+2029): one would end a comment early, or
 * fold a desc. */
static void yaml_printable(struct strbuf *text)
{
	struct strbuf out = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)text->buf, *end = p + text->len;

	while (p < end) {
		uint32_t cp = 0;
		size_t n = utf8_decode(p, (size_t)(end - p), &cp);

		if (n && (cp == '\t' || cp == '\n' || cp == '\r' || (cp >= 0x20 && cp <= 0x7e) ||
			  (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
			  (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000)) {
			strbuf_add(&out, p, n);
			p += n;
		} else {
			strbuf_addch(&out, '?');
			p += n ? n : 1;
		}
	}
	strbuf_reset(text);
	strbuf_add(text, out.buf, out.len);
	strbuf_release(&out);
}

void init_generate(const char *dir, struct strbuf *text, struct strbuf *summary)
{
	struct starter s = { .dir = dir };
	struct strbuf found = STRBUF_INIT, written = STRBUF_INIT;

	strvec_init(&s.skills);
	s.summary = &found;
	detect_npm(&s);
	detect_python(&s);
	detect_cargo(&s);
	detect_go(&s);
	detect_make(&s);
	detect_skills(&s);
	if (!s.nr && s.left_out)
		strbuf_addstr(&found, "no task that would pass here: wrote an example to edit\n");
	else if (!s.nr)
		strbuf_addstr(&found, "no tool recognised: wrote an example to edit\n");
	choose_default(&s);
	render(&s, found.buf, &written);
	yaml_printable(&written);
	strbuf_add(text, written.buf, written.len);
	strbuf_add(summary, found.buf, found.len);
	strbuf_release(&written);
	strbuf_release(&found);
	starter_release(&s);
}

int init_squadfile(const char *dir, struct strbuf *out_path, struct strbuf *summary,
		   struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	struct strbuf text = STRBUF_INIT, found = STRBUF_INIT;
	const char *folder = dir && *dir ? dir : ".";
	struct stat st;
	int ret = -1;

	if (stat(folder, &st) < 0) {
		strbuf_addf(err, "cannot write a Squadfile in '%s': %s", folder, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		strbuf_addf(err, "cannot write a Squadfile in '%s': not a folder", folder);
		goto out;
	}
	path_in(&path, dir, "Squadfile");
	if (lstat(path.buf, &st) == 0) {
		strbuf_addf(err, "'%s' already exists; squad init leaves it as it is", path.buf);
		ret = 1;
		goto out;
	}
	init_generate(dir, &text, &found);

	/* written whole under another name, then linked to its own: link()
	 * fails with EEXIST rather than replace a Squadfile that appeared
	 * in the meantime, where rename() would replace it */
	path_in(&tmp, dir, ".Squadfile.init.");
	strbuf_addf(&tmp, "%ld", (long)getpid());
	if (file_write_own(tmp.buf, text.buf, text.len, err) < 0)
		goto out;
	if (link(tmp.buf, path.buf) == 0) {
		ret = 0;
	} else if (errno == EEXIST) {
		strbuf_addf(err, "'%s' already exists; squad init leaves it as it is", path.buf);
		ret = 1;
	} else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOSYS ||
		   errno == EMLINK || errno == EXDEV) {
		/* a file system without hard links: look, then rename */
		if (lstat(path.buf, &st) == 0) {
			strbuf_addf(err, "'%s' already exists; squad init leaves it as it is", path.buf);
			ret = 1;
		} else if (rename(tmp.buf, path.buf) < 0) {
			strbuf_addf(err, "cannot create '%s': %s", path.buf, strerror(errno));
		} else {
			ret = 0;
		}
	} else {
		strbuf_addf(err, "cannot create '%s': %s", path.buf, strerror(errno));
	}
	unlink(tmp.buf);
	if (ret == 0) {
		strbuf_add(out_path, path.buf, path.len);
		strbuf_add(summary, found.buf, found.len);
	}
out:
	strbuf_release(&path);
	strbuf_release(&tmp);
	strbuf_release(&text);
	strbuf_release(&found);
	return ret;
}
