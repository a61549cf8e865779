#!/usr/bin/env bats
# The man pages: they render cleanly, document every option, and install.
bats_require_minimum_version 1.5.0
load helpers

# the page as text, roff escapes undone enough for grep: \- is -
page_text() {
	sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' "$SQUAD_SRC/docs/$1"
}

@test "both pages render without a warning" {
	command -v groff >/dev/null || skip "no groff (apt-get install groff-base)"
	local page
	for page in squad.1 squadfile.5; do
		run --separate-stderr env LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$SQUAD_SRC/docs/$page"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ] || { echo "$page: $stderr" >&2; return 1; }
	done
	command -v man >/dev/null || skip "no man (apt-get install man-db)"
	run --separate-stderr env MANWIDTH=80 man -l "$SQUAD_SRC/docs/squad.1"
	[ "$status" -eq 0 ]
	[[ $output == *"EXIT STATUS"* ]]
}

@test "squad(1) documents every long option and subcommand of --help" {
	local text opt sub
	text=$(page_text squad.1)
	for opt in $("$SQUAD" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "$opt" <<<"$text" || { echo "squad.1 lacks $opt" >&2; return 1; }
	done
	for sub in $("$SQUAD" --help | sed -n 's/^ *\(usage: \)\{0,1\}squad \([a-z]\{1,\}\).*/\2/p' | sort -u); do
		grep -qE -- "^\.(SY|TP|B|BR?) .*\b$sub\b|^\.SY \"squad $sub" <<<"$text" ||
			{ echo "squad.1 lacks the subcommand $sub" >&2; return 1; }
	done
	# and the exit codes
	for code in 0 1 2 3 130; do
		grep -qx ".B $code" <<<"$text"
	done
}

@test "squadfile(5) documents every task key of the grammar" {
	local text key
	text=$(page_text squadfile.5)
	for key in desc run prompt needs skills worker dir env timeout retries escalate expect inputs outputs \
		version tasks vars defaults default workers routing skills_dir \
		command slots output prompt_template model daily_limit daily_tokens per_minute rate_limit_pattern \
		protocol allow_commands; do
		grep -qE "^\.[A-Z]+ (.*[ \"])?$key([ \"]|\$)" <<<"$text" ||
			{ echo "squadfile.5 lacks $key" >&2; return 1; }
	done
}

@test "--help and squad(1) sum up the agent workers' protocol and allow_commands as squadfile(5) has them" {
	local help text five word
	help=$("$SQUAD" --help)
	text=$(page_text squad.1)
	five=$(page_text squadfile.5)
	for word in "protocol" "acp" "oneshot" "allow_commands" "any" "qwen-oneshot" "opencode"; do
		[[ $help == *"$word"* ]] || { echo "--help lacks $word" >&2; return 1; }
		[[ $text == *"$word"* ]] || { echo "squad.1 lacks $word" >&2; return 1; }
		[[ $five == *"$word"* ]] || { echo "squadfile.5 lacks $word" >&2; return 1; }
	done
	# the example in both is a task key squadfile(5) documents
	[[ $help == *"allow_commands: [pytest, ruff]"* ]]
	grep -qF 'allow_commands: [pytest, ruff]' <<<"$text"
}

@test "cmake --install puts the pages and the completions where man and the shells look" {
	local build
	build=$(dirname "$SQUAD")
	[ -f "$build/cmake_install.cmake" ] || skip "squad was not built by cmake here"
	run cmake --install "$build" --prefix "$BATS_TEST_TMPDIR/root"
	[ "$status" -eq 0 ]
	cd "$BATS_TEST_TMPDIR/root"
	[ -x bin/squad ]
	cmp share/man/man1/squad.1 "$SQUAD_SRC/docs/squad.1"
	cmp share/man/man5/squadfile.5 "$SQUAD_SRC/docs/squadfile.5"
	cmp share/bash-completion/completions/squad "$SQUAD_SRC/completions/squad.bash"
	cmp share/zsh/site-functions/_squad "$SQUAD_SRC/completions/squad.zsh"
	cmp share/fish/vendor_completions.d/squad.fish "$SQUAD_SRC/completions/squad.fish"
	command -v man >/dev/null || skip "no man to look the page up with"
	MANPATH=$PWD/share/man man -w squadfile | grep -q 'man5/squadfile.5'
}

@test "the reference the starter Squadfile names exists in the build tree and man reads it" {
	mkdir proj
	cd proj
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	page=$(sed -n "s/^# Edit it freely; the reference is 'man -l \(.*\)'$/\1/p" Squadfile)
	[ "$page" = "$(dirname "$SQUAD")/man/man5/squadfile.5" ]
	cmp "$page" "$SQUAD_SRC/docs/squadfile.5"
	run man -l "$page"
	[ "$status" -eq 0 ]
	[[ $output == *"squadfile"* ]]
	MANPATH=$(dirname "$SQUAD")/man run man -w 5 squadfile
	[ "$output" = "$(dirname "$SQUAD")/man/man5/squadfile.5" ]
}
