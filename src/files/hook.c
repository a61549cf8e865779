/* hook.c - the pre-commit hook; see hook.h. */
#include "files/hook.h"
#include "files/fileio.h"
#include "files/gitinfo.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The line that tells squad's hook from any other. */
#define HOOK_MARK "# squad-hook: written by 'squad hook install'"

/* The hook's path, and the Squadfile's path relative to the working
 * tree's top, for the repository holding `squadfile`. */
static int hook_path(const char *squadfile, struct strbuf *path, struct strbuf *rel,
		     struct strbuf *err)
{
	struct strbuf workdir = STRBUF_INIT;
	int ret = -1;

	if (gitinfo_hook_path(squadfile, "pre-commit", path, &workdir, err) < 0)
		goto out;
	if (strncmp(squadfile, workdir.buf, workdir.len)) {
		strbuf_addf(err, "'%s' is not inside the working tree '%s'", squadfile, workdir.buf);
		goto out;
	}
	strbuf_addstr(rel, squadfile + workdir.len);
	ret = 0;
out:
	strbuf_release(&workdir);
	return ret;
}

/* Is the hook at `path` one squad wrote? -1: no file there. */
static int is_ours(const char *path)
{
	struct strbuf text = STRBUF_INIT;
	int ours;

	if (strbuf_read_file(&text, path) < 0)
		return errno == ENOENT ? -1 : 0;
	ours = strstr(text.buf, HOOK_MARK) != NULL;
	strbuf_release(&text);
	return ours;
}

int hook_install(const char *squadfile, const char *squad_command, const char *target,
		 bool force, struct strbuf *where, struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT, script = STRBUF_INIT;
	char *folder, *self = NULL;
	int ret = -1;

	if (hook_path(squadfile, where, &rel, err) < 0)
		goto out;
	if (is_ours(where->buf) == 0 && !force) {
		strbuf_addf(err, "'%s' exists and was not written by squad; it is kept "
			    "(--force replaces it)", where->buf);
		ret = 1;
		goto out;
	}
	folder = xstrdup(where->buf);
	*strrchr(folder, '/') = '\0';
	if (mkdir(folder, 0777) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create '%s': %s", folder, strerror(errno));
		free(folder);
		goto out;
	}
	free(folder);
	/* by the absolute path of this very binary, found on PATH or not:
	 * git may run the hook with another PATH (a GUI client) */
	self = realpath("/proc/self/exe", NULL);
	strbuf_addf(&script, "#!/bin/sh\n%s; 'squad hook uninstall' removes it.\n", HOOK_MARK);
	strbuf_addstr(&script, "# Runs the tasks whose inputs the commit changes, on exactly what is\n"
		      "# staged (--stash sets the rest aside meanwhile).\nsquad=");
	strbuf_add_shell_quoted(&script, self ? self : squad_command);
	strbuf_addstr(&script, "\nif [ ! -x \"$squad\" ]; then\n"
		      "\tif command -v squad >/dev/null 2>&1; then\n"
		      "\t\tsquad=squad\n"
		      "\telse\n"
		      "\t\tprintf '%s\\n' \"squad: the pre-commit hook cannot find squad ('$squad' is "
		      "gone and none is on PATH): install it, then run 'squad hook install' "
		      "again\" >&2\n"
		      "\t\texit 127\n"
		      "\tfi\n"
		      "fi\n"
		      "cd \"$(git rev-parse --show-toplevel)\" || exit 1\n\"$squad\" -f ");
	strbuf_add_shell_quoted(&script, rel.buf);
	strbuf_addstr(&script, " --staged --stash");
	if (target) {
		strbuf_addstr(&script, " run ");
		strbuf_add_shell_quoted(&script, target);
	}
	strbuf_addstr(&script, "\nstatus=$?\n"
		      "if [ \"$status\" -eq 3 ]; then\n"
		      "\techo \"squad: the commit waits for the tactician: 'squad handoff' lists "
		      "what to do; report with 'squad done' (a change for review: 'squad apply' "
		      "or 'squad done --failed'), then commit again\" >&2\n"
		      "fi\nexit \"$status\"\n");
	if (file_write(where->buf, script.buf, script.len, err) < 0 ||
	    chmod(where->buf, 0755) < 0) {
		if (!err->len)
			strbuf_addf(err, "cannot make '%s' executable: %s", where->buf,
				    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(self);
	strbuf_release(&rel);
	strbuf_release(&script);
	return ret;
}

int hook_uninstall(const char *squadfile, struct strbuf *where, struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT;
	int ours, ret = -1;

	if (hook_path(squadfile, where, &rel, err) < 0)
		goto out;
	ours = is_ours(where->buf);
	if (ours <= 0) {
		ret = 1;
		goto out;
	}
	if (unlink(where->buf) < 0) {
		strbuf_addf(err, "cannot remove '%s': %s", where->buf, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&rel);
	return ret;
}
