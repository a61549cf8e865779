/* gitinfo.h - what squad asks of git, through libgit2 (never a `git`
 * subprocess): HEAD, branch and the dirty paths of a working tree.
 */
#ifndef SQUAD_GITINFO_H
#define SQUAD_GITINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"
#include "util/strvec.h"

struct gitinfo {
	bool in_repo;
	char *workdir;       /* top of the working tree, with a trailing '/' */
	char *head;          /* commit id (hex), or NULL on an unborn branch */
	char *branch;        /* short name, or NULL when HEAD is detached */
	struct strvec dirty; /* paths (from workdir) changed or untracked */
};

/* Fill `gi` for the repository holding `path` (gi->in_repo = false
 * outside one). Returns 0, or -1 with libgit2's message in err. */
int gitinfo_read(struct gitinfo *gi, const char *path, struct strbuf *err);
void gitinfo_release(struct gitinfo *gi);

/* The git blob id (SHA-1, hex) of data: the content hash squad uses for
 * fingerprints, the same a file gets in git's index. */
void gitinfo_hash(const char *data, size_t len, char hex[41]);

/* libgit2's global set-up, once per process. */
void gitinfo_global_init(void);
void gitinfo_global_shutdown(void);

#endif
