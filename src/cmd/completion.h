/* completion.h - shell completion scripts for squad, built into the binary.
 *
 * The scripts are completions/squad.bash, squad.zsh and squad.fish; CMake
 * turns them into C arrays at build time (cmake/embed-completions.cmake),
 * so `squad completion SHELL` prints exactly the file that is installed.
 * Each completes subcommands, options and their values, and task names,
 * which it gets from `squad list --names` run on the Squadfile the
 * command line being completed reads (its -f FILE and -C DIR).
 */
#ifndef SQUAD_COMPLETION_H
#define SQUAD_COMPLETION_H

/* The shells with a script, NULL-terminated: "bash", "zsh", "fish". */
extern const char *const completion_shells[];

/* The completion script for `shell` (a static string), or NULL when
 * there is none for it. */
const char *completion_script(const char *shell);

#endif
