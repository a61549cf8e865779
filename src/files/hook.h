/* hook.h - squad as a git pre-commit hook.
 *
 * `squad hook install` writes a pre-commit hook into the repository's
 * hooks folder (core.hooksPath when set, else .git/hooks) that runs
 * `squad --staged TARGET` for the Squadfile, from the top of the working
 * tree. A hook squad did not write is kept unless `force`; `uninstall`
 * removes only squad's own.
 *
 * The hook calls squad by the absolute path of the binary that installed
 * it (/proc/self/exe, even when that one was found on PATH): git may run
 * hooks with another PATH. When that file is gone it falls back to
 * `squad` on PATH, and when there is none it says so in one line on
 * stderr (reinstall with `squad hook install`) and exits 127. It runs
 * `squad --staged --stash`: the tasks see exactly what is staged
 * (stash.h).
 */
#ifndef SQUAD_HOOK_H
#define SQUAD_HOOK_H

#include <stdbool.h>

#include "util/strbuf.h"

/* Install the hook. `squadfile` is the Squadfile's absolute path,
 * `squad_command` how to call squad when /proc/self/exe cannot be
 * resolved, `target` the target (NULL: the
 * Squadfile's default). On success `where` gets the hook's path.
 * Returns 0, 1 when a hook not written by squad is in the way (and not
 * `force`), -1 on error (reason in err). */
int hook_install(const char *squadfile, const char *squad_command, const char *target,
		 bool force, struct strbuf *where, struct strbuf *err);

/* Remove squad's hook. Returns 0 (removed), 1 (none of squad's there:
 * another hook is left alone), -1 on error. */
int hook_uninstall(const char *squadfile, struct strbuf *where, struct strbuf *err);

#endif
