#!/bin/sh
# lint-bats.sh - find bats assertions that cannot fail.
#
# bats fails a test when a command in its body fails, by way of `set -e`;
# and `set -e` ignores a failure anywhere in an `a && b` list but its last
# command, and any command negated with `!`. So in a test body
#
#   [ "$status" -eq 1 ] && [ -e out ]     checks only that out exists,
#   ! grep -q secret log                  checks nothing at all.
#
# This script prints each such line of the given files (default: tests/e2e/*.bats next to it) as FILE:LINE: text, and
# exits 1 when it found one. What it looks at: a line (of a test, a
# setup or a helper) outside here-documents, with quoted strings taken out, that
#   - joins checks with `&&` and has no `||` (an `a && b || fail` fails
#     when any part does): its first and its last command are both checks
#     (`[`, `[[`, `test`, `!`, grep, cmp, diff, jq, and the helpers has,
#     alive, wait_for), unless it is the condition of an if, elif, while
#     or until. `[ -e x ] && rm x` (a check, then an action) is a
#     condition, and `[[ a && b ]]` one check: both are let be;
#   - starts with `!` and has no `||` (write `! cmd || false`).
# Write one assertion per line instead.
#
#   tests/lint-bats.sh [FILE.bats...]

if [ $# -eq 0 ]; then
	set -- "$(dirname "$0")"/e2e/*.bats
fi

awk '
function is_check(cmd) {
	sub(/^[ \t(]+/, "", cmd)
	return cmd ~ /^(\[|\[\[|test|!|grep|cmp|diff|jq|has|alive|wait_for)([ \t]|$)/
}
FNR == 1 { heredoc = "" }
# the end of a here-document: its word alone (tabs first, for <<-)
heredoc != "" {
	line = $0
	if (strip_tabs)
		sub(/^\t+/, "", line)
	if (line == heredoc)
		heredoc = ""
	next
}
{
	text = $0
	# quoted strings hold text for others (bash -c, a Squadfile): out
	gsub(/\\./, "", text)
	gsub(/\047[^\047]*\047/, "\047\047", text)
	gsub(/"[^"]*"/, "\"\"", text)
	# a here-document starts: skip its body
	if (match($0, /<<-?[ \t]*[\047"]?[A-Za-z_][A-Za-z0-9_]*/)) {
		word = substr($0, RSTART, RLENGTH)
		strip_tabs = word ~ /^<<-/
		sub(/^<<-?[ \t]*[\047"]?/, "", word)
		heredoc = word
	}
	gsub(/#.*/, "", text)
	if (text ~ /^[ \t]*(if|elif|while|until)[ \t]/)
		next
	# a [[ ]] is one check, whatever && it holds
	gsub(/\[\[([^]]|\][^]])*\]\]/, "[[ ]]", text)
	n = split(text, part, /&&/)
	if (n > 1 && text !~ /\|\|/ && is_check(part[1]) && (is_check(part[n]) || part[n] ~ /^[ \t]*$/)) {
		printf "%s:%d: only its last command is checked: %s\n", FILENAME, FNR, $0
		bad = 1
	} else if (text ~ /^[ \t]*![ \t]/ && text !~ /\|\|/) {
		printf "%s:%d: a command negated with ! is never checked (add || false): %s\n",
		       FILENAME, FNR, $0
		bad = 1
	}
}
END { exit bad }
' "$@"
