/* glob.h - path patterns that select what git's ':(glob)' pathspecs select.
 *
 * For a pattern P and the tracked files of a repository, glob_match()
 * picks exactly the files `git ls-files -- ':(glob)P'` lists (git 2.39,
 * run at the top of the work tree; a globset with base B is `git -C B
 * ls-files`). Paths are given as git lists them: relative to the root,
 * '/' separated, no leading "./", no trailing '/'. Matching is byte-wise
 * and case-sensitive.
 *
 * The rules, as git applies them:
 *
 *  - A pattern matches a path when it equals the path or one of its
 *    leading folders, compared literally: "src" and "src/" select
 *    everything under src/. Only a literal comparison does this: "src/t*"
 *    selects files named src/t..., not what is inside folders src/t....
 *    The comparison ignores wildcards, so "a[1]" also selects a file
 *    literally named "a[1]" (and everything under a folder of that name).
 *  - Otherwise the whole path must match the pattern:
 *      `*`      any run of bytes other than '/', dot files included;
 *      `?`      one byte other than '/' (a UTF-8 "é" is two bytes);
 *      `[...]`  one byte of a set, never '/': ranges `a-z`, negation `[!..]`
 *               or `[^..]`, a `]` first is a member (`[]a]`), `-` first or
 *               last is a member, `\x` is x, and the classes `[:alpha:]`,
 *               alnum, blank, cntrl, digit, graph, lower, print, punct,
 *               space, upper, xdigit (ASCII only);
 *      `\x`     the byte x itself (`\*`, `\[`, `\\`);
 *      `**`     as a whole component it spans folders (a C comment
 *               cannot spell it next to a slash, hence the quotes):
 *               "**" alone selects everything, "a/" "**" everything in
 *               a/, "**" "/b" every b at any depth (top included), and
 *               "a/" "**" "/b" a/b, a/x/b, a/x/y/b. Anywhere else `**`
 *               is `*`: "a**b" is "a*b".
 *  - git tests wildcards only after the literal head of the pattern (the
 *    bytes before the first `*?[\`), so a `**` right after that head
 *    counts as a whole component: "src**" selects everything under src/
 *    and srcx/, and "a**" "/x" selects ax, a/x and ab/c/x.
 *  - "." and "./" components and repeated slashes are dropped ("./src//a"
 *    is "src/a"); "." alone, relative to base, selects everything.
 *
 * Refused with an error (git would match them only literally, or reject
 * them): an empty pattern, an absolute pattern, a ".." component, an
 * unclosed '[', an unknown [:class:], a trailing backslash.
 *
 * Matching is an NFA walk, O(pattern length x path length), without
 * recursion: no pattern can make it take exponential time or deep stack.
 */
#ifndef SQUAD_GLOB_H
#define SQUAD_GLOB_H

#include <stdbool.h>

#include "util/strbuf.h"
#include "util/strvec.h"

/* A compiled list of patterns relative to a base folder. */
struct globset;

/*
 * Compile `patterns` (see above), each relative to `base`: a folder
 * relative to the root, "" (or NULL) for the root itself, with or without
 * a trailing slash ("sub", "sub/" and "./sub" are the same; an absolute
 * base or one with ".." is an error). `base` is taken literally, even if
 * it holds wildcard characters.
 *
 * A pattern starting with '!' excludes (write "\!x" for a file named "!x").
 * A path is in the set when it matches at least one positive pattern and
 * no negative one, whatever their order (git's `:(exclude)` magic). As in
 * git, a list of only negative patterns excludes from "." (everything
 * under base); an empty list matches nothing. (git 2.39's ls-files also
 * lets an exclusion outside the positive patterns' common folder exclude
 * files inside it, e.g. "!lib/a.c" drops src/a.c from "src/" "*.c"; that
 * is a bug of its prefix optimisation, not copied here.)
 *
 * Returns the set, to be freed with globset_free(), or NULL with a
 * message (naming the first bad pattern) appended to `err`.
 */
struct globset *globset_new(const struct strvec *patterns, const char *base,
			    struct strbuf *err);

/* Is `path` (relative to the root, see above) in the set? */
bool globset_match(const struct globset *gs, const char *path);

/*
 * A folder prefix every match starts with: the literal folders the
 * positive patterns share, e.g. "src/t1/" for the pattern "src/t1/" "*.c",
 * "sub/" for base "sub", "" when there is none. It ends with '/' unless it
 * is empty, so a caller can skip the parts of a sorted file list outside
 * it. Owned by the set.
 */
const char *globset_prefix(const struct globset *gs);

void globset_free(struct globset *gs);

/* One pattern against one path, relative to the root, with no '!'
 * handling. An invalid pattern matches nothing. */
bool glob_match(const char *pattern, const char *path);

#endif
