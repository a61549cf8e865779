/* completion.c - the shell completion scripts, as built in by CMake. */
#include <string.h>

#include "cmd/completion.h"

/* completion_scripts.c, written at build time from completions/ */
extern const char completion_bash[], completion_zsh[], completion_fish[];

const char *const completion_shells[] = { "bash", "zsh", "fish", NULL };

const char *completion_script(const char *shell)
{
	if (!strcmp(shell, "bash"))
		return completion_bash;
	if (!strcmp(shell, "zsh"))
		return completion_zsh;
	if (!strcmp(shell, "fish"))
		return completion_fish;
	return NULL;
}
