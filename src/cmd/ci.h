/* ci.h - a CI engine's workflow for a Squadfile (`squad ci`).
 *
 * Two shapes, for GitHub Actions or GitLab CI:
 *   - one job per task of the plan, its `needs:` the task's needs, each
 *     running `squad run TASK`. squad has no "this task alone": a task
 *     needs its needs' outputs in its own checkout, so each job runs
 *     TASK's closure, and with the result cache (SQUAD_CACHE_* from the
 *     engine's secrets and variables) the needs are hits that the
 *     upstream jobs wrote;
 *   - `shards` jobs as a matrix (GitHub) or `parallel:` (GitLab), each
 *     running `squad --shard K/N TARGET...`, and on GitLab a last job
 *     that merges their hand-off manifests (`squad handoff --merge`).
 * Every job keeps its JUnit report (GitLab: `artifacts:reports:junit`;
 * GitHub: an artifact), its logs and its hand-off manifest; exit 3 (skill
 * tasks wait for the tactician) is a warning, not a failure.
 *
 * The YAML is written by libyaml's emitter: a task name is a scalar the
 * emitter quotes as it must, never YAML text. In a `run:` or `script:`
 * it is shell-quoted, and on GitHub every "${{" of it is written as an
 * expression that yields "${{", so no name is evaluated by the engine
 * nor by the shell. Job ids are the names made valid (see
 * ci_job_ids()). ci is pure: no I/O.
 */
#ifndef SQUAD_CI_H
#define SQUAD_CI_H

#include "plan/plan.h"
#include "util/strbuf.h"
#include "util/strvec.h"

enum ci_engine {
	CI_GITHUB, /* GitHub Actions: .github/workflows/squad.yml */
	CI_GITLAB, /* GitLab CI: .gitlab-ci.yml */
};

struct ci_options {
	enum ci_engine engine;
	unsigned shards;        /* N > 0: N shard jobs; 0: a job per task */
	const char *file;       /* -f FILE for squad in the jobs, or NULL */
	const char *directory;  /* -C DIR, or NULL */
	const struct strvec *targets; /* shards: as given; empty: the default */
};

/* "github" or "gitlab" into *engine. Returns 0, or -1 for another name. */
int ci_parse_engine(const char *name, enum ci_engine *engine);

/* The job id of each task of the plan (ids[n] for task n in the
 * plan; NULL for the others; each owned by the caller, freed with
 * free()). An id is the task's name lower-cased with every character
 * but [a-z0-9_-] as '-', starting with a letter or '_' and at most 64
 * bytes; when that changed the name, a '-' and 6 hex digits of a hash
 * of the name follow, so that an id does not change when other tasks
 * come and go. An id already taken (or, on GitLab, a keyword such as
 * `variables`, or the merge job's `squad-handoff`) gets "-2", "-3" ... */
void ci_job_ids(const struct plan *plan, enum ci_engine engine, char **ids);

/* Append to `out` the workflow for `plan` (built for the targets to
 * cover; its order is the jobs' order). Returns 0, or -1 with the
 * reason in err (the emitter failed: out of memory). */
int ci_write(const struct plan *plan, const struct ci_options *o, struct strbuf *out,
	     struct strbuf *err);

#endif
