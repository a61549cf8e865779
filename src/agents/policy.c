/* policy.c - the permission policy for agents; see policy.h. */
#include "agents/policy.h"
#include "job/worker.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* `path` (relative to `base`) made absolute with every symlink of its
 * existing part resolved; the part that does not exist yet (a file an
 * edit creates) is appended as written, and must hold no "..". Returns
 * NULL when it cannot be told where the path leads. */
static char *resolve(const char *base, const char *path)
{
	struct strbuf full = STRBUF_INIT, rest = STRBUF_INIT;
	char *real = NULL, *out = NULL;

	if (path[0] == '/')
		strbuf_addstr(&full, path);
	else
		strbuf_addf(&full, "%s/%s", base, path);
	for (;;) {
		char *slash;

		real = realpath(full.buf, NULL);
		if (real || errno != ENOENT)
			break;
		slash = strrchr(full.buf, '/');
		if (!slash || slash == full.buf)
			break;
		/* keep the missing last component, try its folder */
		{
			struct strbuf r = STRBUF_INIT;

			strbuf_addf(&r, "/%s%s", slash + 1, rest.buf);
			strbuf_release(&rest);
			rest = r;
		}
		strbuf_setlen(&full, (size_t)(slash - full.buf));
	}
	if (real && !strstr(rest.buf, "/../") &&
	    (rest.len < 3 || strcmp(rest.buf + rest.len - 3, "/.."))) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s%s", real, rest.buf);
		out = strbuf_detach(&sb, NULL);
	}
	free(real);
	strbuf_release(&full);
	strbuf_release(&rest);
	return out;
}

static bool inside(const char *path, const char *folder)
{
	size_t n = strlen(folder);

	if (n == 1 && folder[0] == '/')
		return true;
	return !strncmp(path, folder, n) && (path[n] == '/' || path[n] == '\0');
}

static bool allow_path(const struct task_policy *p, const char *target, const char *verb,
		       struct strbuf *why)
{
	char *dir = realpath(p->dir, NULL), *root = realpath(p->root, NULL);
	char *path = target && dir ? resolve(dir, target) : NULL;
	bool ok = false;

	if (!target)
		strbuf_addf(why, "no path given, so squad cannot check where it %s", verb);
	else if (!dir || !root)
		strbuf_addstr(why, "the task's folder cannot be resolved");
	else if (!path)
		strbuf_addstr(why, "the path cannot be resolved");
	else if (!inside(dir, root) || !inside(path, root))
		strbuf_addstr(why, "outside the project");
	else if (!inside(path, dir))
		strbuf_addstr(why, "outside the task's folder");
	else {
		strbuf_addstr(why, "inside the task's folder");
		ok = true;
	}
	free(dir);
	free(root);
	free(path);
	return ok;
}

static bool allow_command(const struct task_policy *p, const char *command, struct strbuf *why)
{
	struct strbuf prog = STRBUF_INIT;
	const char *s, *base;
	bool ok = false;

	if (!command || !*command) {
		strbuf_addstr(why, "no command given");
		return false;
	}
	if (p->any_command) {
		strbuf_addstr(why, "the task allows any command");
		return true;
	}
	if (!p->commands || !p->commands->nr) {
		strbuf_addstr(why, "the task allows no commands (allow_commands)");
		return false;
	}
	if (worker_needs_shell(command)) {
		strbuf_addstr(why, "it uses shell syntax, which only allow_commands: any allows");
		return false;
	}
	s = command + strspn(command, " \t\n");
	strbuf_add(&prog, s, strcspn(s, " \t\n"));
	base = strrchr(prog.buf, '/') ? strrchr(prog.buf, '/') + 1 : prog.buf;
	if (strvec_find(p->commands, base) >= 0) {
		strbuf_addf(why, "the task allows '%s'", base);
		ok = true;
	} else {
		strbuf_addf(why, "'%s' is not in the task's allow_commands", base);
	}
	strbuf_release(&prog);
	return ok;
}

bool policy_allows(const struct task_policy *p, const struct acp_request *req,
		   struct strbuf *why)
{
	switch (req->action) {
	case ACP_READ:
		return allow_path(p, req->target, "reads", why);
	case ACP_EDIT:
		return allow_path(p, req->target, "writes", why);
	case ACP_EXECUTE:
		return allow_command(p, req->target, why);
	case ACP_OTHER:
		break;
	}
	strbuf_addstr(why, "squad allows agents reads, edits and commands only");
	return false;
}
