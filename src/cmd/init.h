/* init.h - `squad init`: a starter Squadfile from what a folder holds.
 *
 * init_squadfile() looks at a project folder for the tools it uses and
 * writes DIR/Squadfile with a task for each:
 *
 *   package.json    an install task (`npm ci` with package-lock.json, else
 *                   `npm install`; pnpm, yarn or bun when their lock file
 *                   is there), and a task per script that needs it: `npm
 *                   run NAME`; hooks (pretest), install scripts and servers
 *                   (start, dev, watch) left out. A build's outputs: where
 *                   its command, tsconfig.json or package.json's main say
 *   Python          pytest (pytest.ini, [tool.pytest] in pyproject.toml,
 *                   [tool:pytest] in setup.cfg, [pytest] in tox.ini, test
 *                   files under tests/): `python3 -m pytest -q`, or `python3
 *                   -m unittest discover` for unittest-style tests when
 *                   python3 cannot import pytest; ruff or flake8
 *                   configuration: a lint task
 *   Makefile        a task per plain `name:` rule: `make NAME` (no pattern
 *                   rules, no .SPECIAL targets, nothing that installs,
 *                   cleans, deploys or serves)
 *   Cargo.toml      cargo build (outputs target/debug), cargo test
 *                   (expect: "test result: ok")
 *   go.mod          go build ./..., go test ./... (expect: "ok <package>",
 *                   when the module has a _test.go file)
 *
 * It writes only what will pass on this machine: a tool a run would not
 * find on PATH (worker_search_path(), the workers' own lookup) gets no
 * task, nor does a Python runner that `python3 -c 'import MODULE'`,
 * started as a task would be, cannot import. A build reads no test
 * folder or test file (its inputs exclude them).
 *   .claude/skills  the skills found, in a commented example of a
 *                   skill-tagged task
 *
 * plus a `default:` target grouping the tests and checks, and comments
 * that say how to use the file. What it writes always loads with
 * squadfile_load(); a folder where nothing is recognised gets a small
 * commented example.
 *
 * An existing Squadfile is never replaced: the new one is written beside
 * it under a temporary name and hard-linked into place, which fails when
 * the name is taken, so the file appears whole or not at all.
 */
#ifndef SQUAD_INIT_H
#define SQUAD_INIT_H

#include "util/strbuf.h"

/* Write DIR/Squadfile; DIR NULL or "." is the current folder.
 * Returns 0 when written: `out_path` gets the path written, `summary`
 * what was found, one line each (every line ends in '\n'); a line that
 * begins "left out: " names a task not written (a tool not on PATH, a
 * runner python3 cannot import), why, and how to add it: the caller
 * shows those as warnings. The written file holds the same lines in its
 * opening comment.
 * Returns 1 when DIR already has a Squadfile, which is left as it is;
 * -1 on any other error. In both cases the reason is in `err` and
 * nothing was written. */
int init_squadfile(const char *dir, struct strbuf *out_path, struct strbuf *summary,
		   struct strbuf *err);

/* What init_squadfile() would write for DIR: the file's text appended to
 * `text`, the summary to `summary`. Reads DIR, writes nothing. */
void init_generate(const char *dir, struct strbuf *text, struct strbuf *summary);

#endif
