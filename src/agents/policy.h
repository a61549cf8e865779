/* policy.h - what an agent may do for a task: squad's answer to every
 * permission an ACP agent asks (acp.h).
 *
 * The rule, the same for every agent:
 *   - reads and edits: only paths inside the task's folder (symlinks
 *     resolved, so a link out of it leads nowhere);
 *   - shell commands: only when the task's `allow_commands` names the
 *     program (its first word, without a folder), or is `any`; a
 *     command with shell syntax (pipes, `;`, `$(...)`, redirections,
 *     variables) only with `any`, since its first word need not be what
 *     runs;
 *   - anything else (network fetches, terminals, modes): refused.
 * Nothing outside the project is ever allowed: the task's folder is
 * inside the Squadfile's folder, or nothing is.
 *
 * Pure but for the file system lookups that resolve paths.
 */
#ifndef SQUAD_POLICY_H
#define SQUAD_POLICY_H

#include <stdbool.h>

#include "agents/acp.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct task_policy {
	const char *dir;                /* the task's folder, absolute */
	const char *root;               /* the project: the Squadfile's folder */
	const struct strvec *commands;  /* program names allowed to run */
	bool any_command;               /* allow_commands: any */
};

/* May the agent do `req` for a task under `p`? Appends to `why` the
 * reason, whatever the answer (it is logged either way). */
bool policy_allows(const struct task_policy *p, const struct acp_request *req,
		   struct strbuf *why);

#endif
