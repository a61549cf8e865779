/* test_init.c - squad init: what it finds in a folder, and that what it writes loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/graph.h"
#include "cmd/init.h"
#include "model/squadfile.h"
#include "util/strbuf.h"

static char root[256];

static char *saved_path;

/* init writes a task only for a tool a run finds on PATH, and a Python
 * test or lint task only when python3 can import its runner: stand-ins
 * for each. The python3 stand-in imports every module but those named
 * in $SQUAD_TEST_NO_MODULES (tests/e2e/init.bats asks a real python3). */
static const char python_stand_in[] =
	"#!/bin/sh\n"
	"for m in $SQUAD_TEST_NO_MODULES; do [ \"$2\" = \"import $m\" ] && exit 1; done\n"
	"exit 0\n";

static void write_program(const char *bin, const char *name, const char *text)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	strbuf_addf(&path, "%s/%s", bin, name);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	strbuf_release(&path);
}

static int setup(void **state)
{
	static const char *const tools[] = {
		"ruff", "npm", "pnpm", "yarn", "bun", "make", "cargo", "go", NULL,
	};
	struct strbuf path = STRBUF_INIT;
	char bin[300];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/squad-test-init.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(bin, sizeof(bin), "%s-bin", root);
	assert_int_equal(mkdir(bin, 0777), 0);
	for (size_t i = 0; tools[i]; i++)
		write_program(bin, tools[i], "#!/bin/sh\nexit 0\n");
	write_program(bin, "python3", python_stand_in);
	unsetenv("SQUAD_TEST_NO_MODULES");
	if (!saved_path)
		saved_path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	/* only the stand-ins: what the machine has does not change a test */
	setenv("PATH", bin, 1);
	strbuf_release(&path);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	setenv("PATH", saved_path, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s-bin'", root);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* Write ROOT/REL (its folders made as needed). */
static void write_file(const char *rel, const char *text)
{
	struct strbuf path = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&path, "%s/%s", root, rel);
	for (char *slash = strchr(path.buf + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		assert_true(mkdir(path.buf, 0777) == 0 || errno == EEXIST);
		*slash = '/';
	}
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	strbuf_release(&path);
}

/* Run init on ROOT (it must succeed), then load what it wrote: every
 * Squadfile init writes must load without a word and form a graph. The
 * summary goes to `summary` when given. */
static void init_and_load(struct squadfile *sf, struct strbuf *summary)
{
	struct strbuf path = STRBUF_INIT, sum = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf out = STRBUF_INIT, expected = STRBUF_INIT;
	struct diag_list diags = DIAG_LIST_INIT("Squadfile");
	struct graph g;
	int ret;

	ret = init_squadfile(root, &path, &sum, &err);
	if (ret != 0)
		fail_msg("init_squadfile: %d: %s", ret, err.buf);
	strbuf_addf(&expected, "%s/Squadfile", root);
	assert_string_equal(path.buf, expected.buf);
	assert_true(sum.len > 0 && sum.buf[sum.len - 1] == '\n');

	ret = squadfile_load(sf, path.buf, &diags);
	if (ret == 0)
		ret = graph_build(&g, sf, &diags);
	diag_format(&diags, &out);
	if (ret < 0 || out.len) {
		struct strbuf text = STRBUF_INIT;

		strbuf_read_file(&text, path.buf);
		fail_msg("the Squadfile init wrote does not load cleanly:\n%s\n%s", out.buf, text.buf);
	}
	graph_release(&g);
	if (summary)
		strbuf_addstr(summary, sum.buf);
	diag_list_release(&diags);
	strbuf_release(&path);
	strbuf_release(&sum);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&expected);
}

static const struct task *task(const struct squadfile *sf, const char *name)
{
	long i = squadfile_find_task(sf, name);

	if (i < 0)
		fail_msg("no task '%s'", name);
	return &sf->tasks[i];
}

static void assert_no_task(const struct squadfile *sf, const char *name)
{
	if (squadfile_find_task(sf, name) >= 0)
		fail_msg("unexpected task '%s'", name);
}

static void assert_default(const struct squadfile *sf, const char *name)
{
	assert_int_equal(sf->default_targets.nr, 1);
	assert_string_equal(sf->default_targets.v[0], name);
}

/* The file init wrote, for looking into (a static buffer). */
static const char *written(void)
{
	static char text[64 * 1024];
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;

	strbuf_addf(&path, "%s/Squadfile", root);
	assert_int_equal(strbuf_read_file(&sb, path.buf), 0);
	assert_true(sb.len < sizeof(text));
	memcpy(text, sb.buf, sb.len + 1);
	strbuf_release(&path);
	strbuf_release(&sb);
	return text;
}

static void node_scripts(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;
	const struct task *t;

	(void)state;
	write_file("package.json",
		   "{\"name\": \"app\", \"scripts\": {"
		   "\"build\": \"tsc -p .\", \"test\": \"jest\", \"pretest\": \"npm run build\","
		   "\"lint\": \"eslint src\", \"start\": \"node dist/index.js\","
		   "\"dev\": \"vite\", \"test:watch\": \"jest --watch\", \"postinstall\": \"husky\","
		   "\"typecheck\": \"tsc --noEmit\", \"weird name\": \"x\", \"$(x)\": \"y\","
		   "\"list\": \"echo a subcommand's name\"}}");
	write_file("src/index.ts", "");
	write_file("tsconfig.json", "{}");
	init_and_load(&sf, &summary);

	t = task(&sf, "test");
	assert_string_equal(t->run, "npm run test");
	assert_string_equal(t->desc, "jest");
	assert_true(strvec_find(&t->inputs, "src/**") >= 0);
	assert_true(strvec_find(&t->inputs, "package.json") >= 0);
	assert_true(strvec_find(&t->inputs, "tsconfig.json") >= 0);
	/* the same inputs, written once under an anchor */
	assert_int_equal(task(&sf, "lint")->inputs.nr, t->inputs.nr);
	assert_non_null(strstr(written(), "&npm-inputs"));
	assert_string_equal(task(&sf, "build")->run, "npm run build");
	assert_string_equal(task(&sf, "npm-list")->run, "npm run list");
	assert_no_task(&sf, "list");
	assert_no_task(&sf, "start");
	assert_no_task(&sf, "dev");
	assert_no_task(&sf, "test:watch");
	assert_no_task(&sf, "pretest");
	assert_no_task(&sf, "postinstall");
	assert_no_task(&sf, "$(x)");

	/* the default groups the tests and checks, not the build */
	assert_default(&sf, "check");
	t = task(&sf, "check");
	assert_null(t->run);
	assert_int_equal(t->needs.nr, 3);
	assert_string_equal(t->needs.v[0], "test");
	assert_string_equal(t->needs.v[1], "lint");
	assert_string_equal(t->needs.v[2], "typecheck");

	assert_non_null(strstr(summary.buf, "package.json: "));
	assert_non_null(strstr(summary.buf, "start, dev, test:watch"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void node_runner_from_lock_file(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("package.json", "{\"scripts\": {\"test\": \"vitest run\", \"test:unit\": \"vitest\"}}");
	write_file("pnpm-lock.yaml", "");
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "test")->run, "pnpm run test");
	/* a name with ':' is quoted, and still a task of its own */
	assert_string_equal(task(&sf, "test:unit")->run, "pnpm run test:unit");
	assert_int_equal(task(&sf, "test")->inputs.nr, 0); /* no source folder: always runs */
	assert_default(&sf, "check");
	squadfile_release(&sf);
}

static void node_without_scripts_or_unreadable(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;

	(void)state;
	write_file("package.json", "{\"name\": \"x\", \"scripts\": {");
	init_and_load(&sf, &summary);
	assert_non_null(strstr(summary.buf, "package.json: not read"));
	assert_default(&sf, "hello");
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void python_pyproject(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;
	const struct task *t;

	(void)state;
	write_file("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.pytest.ini_options]\n"
		   "addopts = \"-q\"\n\n[tool.ruff]\nline-length = 100\n");
	write_file("app/core.py", "");
	init_and_load(&sf, &summary);

	t = task(&sf, "test");
	assert_string_equal(t->run, "python3 -m pytest -q");
	assert_string_equal(t->expect, "(\\d+ passed)");
	assert_non_null(t->expect_re);
	assert_true(strvec_find(&t->inputs, "**/*.py") >= 0);
	assert_true(strvec_find(&t->inputs, "pyproject.toml") >= 0);
	assert_string_equal(task(&sf, "lint")->run, "ruff check .");
	assert_default(&sf, "check");
	assert_non_null(strstr(summary.buf, "[tool.pytest] in pyproject.toml"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void python_tests_folder_and_flake8(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("tests/test_core.py", "def test_a():\n    pass\n");
	write_file("setup.cfg", "[metadata]\nname = x\n\n[flake8]\nmax-line-length = 100\n");
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "test")->run, "python3 -m pytest -q");
	assert_string_equal(task(&sf, "lint")->run, "python3 -m flake8");
	squadfile_release(&sf);
}

static void python_without_tests_is_not_pytest(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("pyproject.toml", "[project]\nname = \"x\"\n");
	write_file("tests/data.json", "{}");
	init_and_load(&sf, NULL);
	assert_no_task(&sf, "test");
	assert_default(&sf, "hello");
	squadfile_release(&sf);
}

/* python3 on PATH cannot import pytest: unittest-style tests run with
 * unittest, pytest-style ones get no task; both say why. */
static void python_without_pytest(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;
	const struct task *t;

	(void)state;
	setenv("SQUAD_TEST_NO_MODULES", "pytest flake8", 1);
	write_file("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.pytest.ini_options]\n");
	write_file("tests/test_core.py", "import unittest\n\nclass T(unittest.TestCase):\n"
		   "    def test_a(self):\n        pass\n");
	write_file("tests/__init__.py", "");
	init_and_load(&sf, &summary);
	t = task(&sf, "test");
	assert_string_equal(t->run, "python3 -m unittest discover -s tests -t .");
	assert_string_equal(t->expect, "^(Ran [1-9]\\d* tests?) in ");
	assert_non_null(strstr(summary.buf, "left out: a pytest task: python3 on PATH, "));
	assert_non_null(strstr(summary.buf, "cannot import pytest, so the tests run with unittest"));
	assert_non_null(strstr(written(), "#   left out: a pytest task"));
	squadfile_release(&sf);
	strbuf_release(&summary);
	unsetenv("SQUAD_TEST_NO_MODULES");
}

static void python_without_pytest_and_pytest_style_tests(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT, pytest = STRBUF_INIT;

	(void)state;
	setenv("SQUAD_TEST_NO_MODULES", "pytest flake8", 1);
	write_file("test/test_core.py", "def test_a():\n    assert True\n");
	write_file(".flake8", "[flake8]\n");
	strbuf_addf(&pytest, "%s-bin", root);
	write_program(pytest.buf, "pytest", "#!/bin/sh\nexit 0\n");
	init_and_load(&sf, &summary);
	/* named, not used: it runs another Python's pytest */
	strbuf_reset(&pytest);
	strbuf_addf(&pytest, "cannot import pytest (the pytest program on PATH, %s-bin/pytest, "
		    "runs another Python); install it", root);
	assert_non_null(strstr(summary.buf, pytest.buf));
	assert_no_task(&sf, "test");
	assert_no_task(&sf, "lint");
	assert_default(&sf, "hello");
	assert_non_null(strstr(summary.buf, "; install it (python3 -m pip "
					    "install pytest) and add a task 'test'"));
	assert_non_null(strstr(summary.buf, "left out: a flake8 lint task: flake8 is configured "
					    "here but python3 on PATH, "));
	assert_non_null(strstr(summary.buf, "no task that would pass here"));
	assert_null(strstr(written(), "found no tool it knows"));
	squadfile_release(&sf);
	strbuf_release(&summary);
	strbuf_release(&pytest);
	unsetenv("SQUAD_TEST_NO_MODULES");
}

/* Without the tools on PATH: no task for any of them, each left out. */
static void tools_not_on_path(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT, empty = STRBUF_INIT;

	(void)state;
	strbuf_addf(&empty, "%s/tests", root); /* a folder with no program */
	write_file("tests/x", "");
	setenv("PATH", empty.buf, 1);
	write_file("package.json", "{\"scripts\": {\"test\": \"jest\"}}");
	write_file("tests/test_a.py", "def test_a():\n    pass\n");
	write_file("Makefile", "all:\n\ttrue\n");
	write_file("Cargo.toml", "[package]\nname = \"x\"\n");
	write_file("go.mod", "module m\n");
	init_and_load(&sf, &summary);
	assert_int_equal(sf.nr_tasks, 1);
	task(&sf, "hello");
	assert_non_null(strstr(summary.buf, "left out: the package.json scripts (test): npm is "
					    "not on PATH"));
	assert_non_null(strstr(summary.buf, "left out: the Python tests: there is no python3 on PATH"));
	assert_non_null(strstr(summary.buf, "left out: the Makefile's targets (all): make is not on PATH"));
	assert_non_null(strstr(summary.buf, "left out: the Cargo.toml tasks (cargo build, cargo "
					    "test): cargo is not on PATH"));
	assert_non_null(strstr(summary.buf, "left out: the go.mod tasks (go build ./..., go test "
					    "./...): go is not on PATH"));
	squadfile_release(&sf);
	strbuf_release(&summary);
	strbuf_release(&empty);
}

/* The install task every script needs, and a build's inputs and outputs. */
static void node_install_and_build_outputs(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;
	const struct task *t;

	(void)state;
	write_file("package.json",
		   "{\"name\": \"app\", \"main\": \"./build/index.js\", \"scripts\": {"
		   "\"build\": \"esbuild src/index.ts --bundle --outdir=out\","
		   "\"build:types\": \"tsc -p .\", \"build:docs\": \"typedoc\","
		   "\"build:lib\": \"babel src --out-dir lib\", \"test\": \"jest\"},"
		   "\"dependencies\": {\"left-pad\": \"1\"}}");
	write_file("package-lock.json", "{}");
	write_file("src/index.ts", "");
	write_file("lib/keep.js", "");
	write_file("test/a.test.ts", "");
	write_file("tsconfig.json", "/* outDir below */ {\"compilerOptions\": {\"outDir\": \"types/\"}}");
	init_and_load(&sf, &summary);

	t = task(&sf, "install");
	assert_string_equal(t->run, "npm ci");
	assert_int_equal(t->inputs.nr, 2);
	assert_string_equal(t->inputs.v[0], "package.json");
	assert_string_equal(t->inputs.v[1], "package-lock.json");
	assert_int_equal(t->outputs.nr, 1);
	assert_string_equal(t->outputs.v[0], "node_modules");
	assert_int_equal(t->needs.nr, 0);
	for (size_t i = 0; i < sf.nr_tasks; i++)
		if (sf.tasks[i].run && strcmp(sf.tasks[i].name, "install")) {
			assert_int_equal(sf.tasks[i].needs.nr, 1);
			assert_string_equal(sf.tasks[i].needs.v[0], "install");
		}

	assert_string_equal(task(&sf, "build")->outputs.v[0], "out");
	assert_string_equal(task(&sf, "build:types")->outputs.v[0], "types");
	assert_string_equal(task(&sf, "build:lib")->outputs.v[0], "lib");
	/* typedoc: only package.json's main says, ./build/ */
	assert_string_equal(task(&sf, "build:docs")->outputs.v[0], "build");

	/* a build reads no tests, and not what it writes */
	t = task(&sf, "build:lib");
	assert_true(strvec_find(&t->inputs, "src/**") >= 0);
	assert_true(strvec_find(&t->inputs, "lib/**") < 0);
	assert_true(strvec_find(&t->inputs, "test/**") < 0);
	assert_true(strvec_find(&t->inputs, "!**/*.test.*") >= 0);
	assert_true(strvec_find(&task(&sf, "build")->inputs, "lib/**") >= 0);
	t = task(&sf, "test");
	assert_true(strvec_find(&t->inputs, "test/**") >= 0);
	assert_true(strvec_find(&t->inputs, "!**/*.test.*") < 0);
	assert_true(t->outputs.nr == 0);
	assert_non_null(strstr(summary.buf, "after task install (npm ci)"));
	assert_non_null(strstr(summary.buf, "task build:types writes types (from tsconfig.json)"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void node_build_without_outputs_says_so(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;

	(void)state;
	write_file("package.json", "{\"scripts\": {\"build\": \"node make.js\"}}");
	init_and_load(&sf, &summary);
	assert_string_equal(task(&sf, "install")->run, "npm install");
	assert_int_equal(task(&sf, "install")->outputs.nr, 0); /* no dependencies: no node_modules */
	assert_int_equal(task(&sf, "build")->outputs.nr, 0);
	assert_default(&sf, "build");
	assert_non_null(strstr(summary.buf, "task build has no outputs: neither its command, "
					    "tsconfig.json nor package.json's main says where it writes"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

/* Bytes from the folder's files that YAML does not take (not UTF-8, a
 * control character) become '?': what init writes still loads. */
static void text_that_is_not_yaml_printable(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("Makefile", ".PHONY: all\nall: ## builds \xa0 it\x7f\x1b[0m \xc2\x85 \xe2\x80\xa8 "
		   "\xc3\xa9\n\ttrue\n");
	init_and_load(&sf, NULL);
	/* a desc is double-quoted: control characters go in escaped */
	assert_string_equal(task(&sf, "all")->desc, "builds ? it\x7f\x1b[0m ? ? \xc3\xa9");
	assert_non_null(strstr(written(), "desc: \"builds ? it\\x7f\\x1b[0m"));
	squadfile_release(&sf);
}

static void makefile_rules(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;
	const struct task *t;

	(void)state;
	write_file("Makefile",
		   ".PHONY: all test lint docs clean install\n"
		   "CC := cc\n"
		   "X = a:b\n"
		   "# Build everything\n"
		   "all: prog\n"
		   "prog: main.o\n"
		   "\t$(CC) -o $@ $^\n"
		   "%.o: %.c\n"
		   "\t$(CC) -c $<\n"
		   "test: all ## run the unit tests\n"
		   "\t./prog --test\n"
		   "lint:\n"
		   "\tcppcheck . # not: a rule\n"
		   "docs: CFLAGS += -g\n"
		   "clean:\n"
		   "\trm -f *.o\n"
		   "install: all\n"
		   "\tcp prog /usr/local/bin\n"
		   "define RECIPE\n"
		   "inside: define\n"
		   "endef\n"
		   "long: a \\\n"
		   "  cont: b\n"
		   "$(OBJ): x\n"
		   "src/x.o: y\n");
	init_and_load(&sf, &summary);

	assert_int_equal(sf.nr_tasks, 4); /* all, test, lint and the default group */
	t = task(&sf, "all");
	assert_string_equal(t->run, "make all");
	assert_string_equal(t->desc, "Build everything");
	t = task(&sf, "test");
	assert_string_equal(t->run, "make test");
	assert_string_equal(t->desc, "run the unit tests");
	/* two makes must not build in one tree at once */
	assert_int_equal(t->needs.nr, 1);
	assert_string_equal(t->needs.v[0], "all");
	assert_string_equal(task(&sf, "lint")->needs.v[0], "all");
	assert_no_task(&sf, "prog");    /* a file, not in .PHONY */
	assert_no_task(&sf, "clean");
	assert_no_task(&sf, "install");
	assert_no_task(&sf, "inside");
	assert_no_task(&sf, "cont");
	assert_no_task(&sf, "docs");    /* only a target-specific variable */
	assert_default(&sf, "check");
	assert_non_null(strstr(summary.buf, "left out: clean, install"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void makefile_without_phony_and_beside_another_tool(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("Makefile", "build:\n\tgo build\ntest:\n\tgo test ./...\nhelp:\n\techo\n");
	write_file("go.mod", "module example.com/m\n\ngo 1.21\n");
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "build")->run, "go build ./...");
	assert_string_equal(task(&sf, "test")->run, "go test ./...");
	assert_string_equal(task(&sf, "make-build")->run, "make build");
	assert_string_equal(task(&sf, "make-test")->run, "make test");
	assert_no_task(&sf, "help");
	/* the Makefile wraps the same tests: the default takes go's */
	assert_default(&sf, "test");
	squadfile_release(&sf);
}

static void cargo(void **state)
{
	struct squadfile sf;
	const struct task *t;

	(void)state;
	write_file("Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.1.0\"\n");
	write_file("Cargo.lock", "");
	write_file("src/main.rs", "fn main() {}\n");
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "build")->run, "cargo build");
	t = task(&sf, "test");
	assert_string_equal(t->run, "cargo test");
	assert_true(strvec_find(&t->inputs, "**/*.rs") >= 0);
	assert_true(strvec_find(&t->inputs, "Cargo.lock") >= 0);
	assert_default(&sf, "test");
	squadfile_release(&sf);
}

/* Remove the Squadfile init wrote, to run it again. */
static void remove_squadfile(void)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/Squadfile", root);
	assert_int_equal(unlink(path.buf), 0);
	strbuf_release(&path);
}

static void go_module(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("go.mod", "module example.com/m\n");
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "build")->run, "go build ./...");
	assert_string_equal(task(&sf, "test")->run, "go test ./...");
	assert_true(strvec_find(&task(&sf, "test")->inputs, "go.mod") >= 0);
	assert_null(task(&sf, "test")->expect); /* no test file: "[no test files]" only */
	assert_true(strvec_find(&task(&sf, "build")->inputs, "!**/*_test.go") >= 0);
	assert_int_equal(task(&sf, "build")->outputs.nr, 0);
	assert_default(&sf, "test");
	squadfile_release(&sf);

	/* a test file two folders down (not in vendor/ or testdata/) */
	write_file("vendor/x/a_test.go", "package x\n");
	write_file("testdata/a_test.go", "package x\n");
	remove_squadfile();
	init_and_load(&sf, NULL);
	assert_null(task(&sf, "test")->expect);
	squadfile_release(&sf);
	write_file("internal/calc/calc_test.go", "package calc\n");
	remove_squadfile();
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "test")->expect, "^(ok\\s+\\S+)");
	squadfile_release(&sf);
}

static void skills_in_a_commented_example(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;
	const char *text;

	(void)state;
	write_file("go.mod", "module m\n");
	write_file(".claude/skills/security-review/SKILL.md", "---\nname: security-review\n---\n");
	write_file(".claude/skills/api-design/SKILL.md", "---\nname: api-design\n---\n");
	write_file(".claude/skills/notes/README.md", "not a skill\n");
	init_and_load(&sf, &summary);
	text = written();
	assert_non_null(strstr(text, "  #   skills: [api-design]\n"));
	assert_non_null(strstr(text, "api-design, security-review"));
	assert_null(strstr(text, "notes"));
	/* an example only: nothing waits for the tactician */
	for (size_t i = 0; i < sf.nr_tasks; i++)
		assert_int_equal(sf.tasks[i].skills.nr, 0);
	assert_non_null(strstr(summary.buf, ".claude/skills: 2 skills (api-design, security-review)"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void nothing_found_writes_an_example(void **state)
{
	struct squadfile sf;
	struct strbuf summary = STRBUF_INIT;

	(void)state;
	write_file("README", "hello\n");
	init_and_load(&sf, &summary);
	assert_int_equal(sf.nr_tasks, 1);
	assert_default(&sf, "hello");
	assert_string_equal(task(&sf, "hello")->run, "echo hello from squad");
	assert_non_null(strstr(written(), "#   skills: [code-review]"));
	assert_non_null(strstr(summary.buf, "no tool recognised"));
	squadfile_release(&sf);
	strbuf_release(&summary);
}

static void names_shared_by_tools(void **state)
{
	struct squadfile sf;

	(void)state;
	write_file("package.json", "{\"scripts\": {\"test\": \"vitest run\", \"lint\": \"eslint .\"}}");
	write_file("tests/test_api.py", "");
	write_file("ruff.toml", "");
	write_file("Makefile", ".PHONY: test\ntest:\n\tnpm test\n");
	init_and_load(&sf, NULL);
	assert_string_equal(task(&sf, "test")->run, "npm run test");
	assert_string_equal(task(&sf, "lint")->run, "npm run lint");
	assert_string_equal(task(&sf, "py-test")->run, "python3 -m pytest -q");
	assert_string_equal(task(&sf, "py-lint")->run, "ruff check .");
	assert_string_equal(task(&sf, "make-test")->run, "make test");
	assert_default(&sf, "check");
	assert_int_equal(task(&sf, "check")->needs.nr, 4);
	squadfile_release(&sf);
}

static void an_existing_squadfile_is_left_alone(void **state)
{
	struct strbuf path = STRBUF_INIT, sum = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf link_path = STRBUF_INIT, text = STRBUF_INIT;
	struct dirent *e;
	DIR *d;

	(void)state;
	write_file("Squadfile", "mine\n");
	write_file("go.mod", "module m\n");
	assert_int_equal(init_squadfile(root, &path, &sum, &err), 1);
	assert_non_null(strstr(err.buf, "already exists"));
	assert_int_equal(path.len, 0);
	assert_int_equal(sum.len, 0);
	assert_string_equal(written(), "mine\n");

	/* a symlink, even a dangling one, is a Squadfile too */
	strbuf_addf(&link_path, "%s/Squadfile", root);
	assert_int_equal(unlink(link_path.buf), 0);
	assert_int_equal(symlink("elsewhere", link_path.buf), 0);
	strbuf_reset(&err);
	assert_int_equal(init_squadfile(root, &path, &sum, &err), 1);
	strbuf_addf(&text, "%s/elsewhere", root);
	assert_int_equal(access(text.buf, F_OK), -1);

	/* and no temporary file is left behind */
	assert_non_null(d = opendir(root));
	while ((e = readdir(d)))
		if (strstr(e->d_name, "init"))
			fail_msg("left behind: %s", e->d_name);
	closedir(d);
	strbuf_release(&path);
	strbuf_release(&sum);
	strbuf_release(&err);
	strbuf_release(&link_path);
	strbuf_release(&text);
}

static void written_whole_and_nothing_else(void **state)
{
	struct squadfile sf;
	struct dirent *e;
	DIR *d;
	size_t entries = 0;

	(void)state;
	init_and_load(&sf, NULL);
	assert_non_null(d = opendir(root));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			entries++;
	closedir(d);
	assert_int_equal(entries, 1);
	squadfile_release(&sf);
}

static void a_missing_folder_is_an_error(void **state)
{
	struct strbuf path = STRBUF_INIT, sum = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf dir = STRBUF_INIT;

	(void)state;
	strbuf_addf(&dir, "%s/nope", root);
	assert_int_equal(init_squadfile(dir.buf, &path, &sum, &err), -1);
	assert_non_null(strstr(err.buf, "nope"));
	assert_int_equal(path.len, 0);
	strbuf_release(&path);
	strbuf_release(&sum);
	strbuf_release(&err);
	strbuf_release(&dir);
}

static void generate_writes_nothing(void **state)
{
	struct strbuf text = STRBUF_INIT, sum = STRBUF_INIT, path = STRBUF_INIT;

	(void)state;
	write_file("go.mod", "module m\n");
	init_generate(root, &text, &sum);
	assert_non_null(strstr(text.buf, "version: 1\n"));
	assert_non_null(strstr(sum.buf, "go.mod: "));
	strbuf_addf(&path, "%s/Squadfile", root);
	assert_int_equal(access(path.buf, F_OK), -1);
	strbuf_release(&text);
	strbuf_release(&sum);
	strbuf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(node_scripts),
		T(node_runner_from_lock_file),
		T(node_without_scripts_or_unreadable),
		T(python_pyproject),
		T(python_tests_folder_and_flake8),
		T(python_without_tests_is_not_pytest),
		T(python_without_pytest),
		T(python_without_pytest_and_pytest_style_tests),
		T(tools_not_on_path),
		T(text_that_is_not_yaml_printable),
		T(node_install_and_build_outputs),
		T(node_build_without_outputs_says_so),
		T(makefile_rules),
		T(makefile_without_phony_and_beside_another_tool),
		T(cargo),
		T(go_module),
		T(skills_in_a_commented_example),
		T(nothing_found_writes_an_example),
		T(names_shared_by_tools),
		T(an_existing_squadfile_is_left_alone),
		T(written_whole_and_nothing_else),
		T(a_missing_folder_is_an_error),
		T(generate_writes_nothing),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
