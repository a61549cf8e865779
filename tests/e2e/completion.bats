#!/usr/bin/env bats
# Shell completion: the scripts in completions/, and 'squad completion SHELL'.
bats_require_minimum_version 1.5.0
load helpers

# A stand-in for squad that records how it was called and prints task
# names, so that the scripts can be tested apart from 'squad list --names'.
stub_squad() {
	mkdir -p bin
	cat > bin/squad <<EOF2
#!/bin/sh
printf '%s\n' "\$*" >> "$BATS_TEST_TMPDIR/calls"
printf '%s\n' lint unit 'db:migrate' '\$(touch pwned)'
EOF2
	chmod +x bin/squad
	STUB=$BATS_TEST_TMPDIR/bin/squad
}

# complete_bash WORD...: the bash completions of the words (the last is
# the one being completed), as the function gets them from readline
# (COMP_LINE, COMP_POINT) and as COMP_WORDS/COMP_CWORD alone; both must
# agree. One per line in $output.
complete_bash() {
	local line words_only
	line="$*"
	# shellcheck source=/dev/null
	source "$SQUAD_SRC/completions/squad.bash"
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE=$line COMP_POINT=${#line}
	COMP_WORDBREAKS=$' \t\n"\'><;|&(' # without ':' and '=', so that both ways agree
	COMPREPLY=()
	_squad
	output=$(printf '%s\n' "${COMPREPLY[@]}")
	unset COMP_LINE COMP_POINT
	COMPREPLY=()
	_squad
	words_only=$(printf '%s\n' "${COMPREPLY[@]}")
	[ "$output" = "$words_only" ] || { echo "COMP_LINE: $output; COMP_WORDS: $words_only" >&2; return 1; }
}

has() { grep -qxF -- "$1" <<<"$output"; }

@test "bash: subcommands, options and their values" {
	complete_bash squad ''
	for sub in run list graph handoff done hook init completion explain; do has "$sub"; done
	complete_bash squad --co
	has --color
	[ "$(wc -l <<<"$output")" -eq 1 ]
	complete_bash squad --color ''
	[ "$output" = $'auto\nalways\nnever' ]
	complete_bash squad --output ''
	[ "$output" = $'grouped\nprefixed\nfailed\nquiet' ]
	complete_bash squad hook ''
	[ "$output" = $'install\nuninstall' ]
	complete_bash squad completion ''
	[ "$output" = $'bash\nzsh\nfish' ]
	complete_bash squad done --n
	has --note
	has --note-file
	complete_bash squad done --u
	has --undo
	complete_bash squad list --n
	has --names
	complete_bash squad exec --
	has --run
	has --prompt
	has --name
	complete_bash squad ex
	has exec
	complete_bash squad apply --e
	has --exec
	complete_bash squad diff --e
	has --exec
}

@test "bash: every long option of --help is offered" {
	local opt
	complete_bash squad --
	for opt in $("$SQUAD" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		case $opt in --names | --failed | --note | --note-file | --undo | --target | --run | --prompt | --name | --merge | --shards | --output-file | --exec) continue ;; esac
		has "$opt" || { echo "not offered: $opt" >&2; return 1; }
	done
}

@test "bash: --opt=value and file values, with readline's own word breaks" {
	source "$SQUAD_SRC/completions/squad.bash"
	COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
	COMP_LINE='squad --color=al' COMP_POINT=16
	_squad
	# bash replaces what follows the '=': the value alone
	[ "${COMPREPLY[*]}" = always ]
	mkdir -p sub/dir && touch sub/file.yml
	COMPREPLY=() COMP_LINE='squad -C su' COMP_POINT=11
	_squad
	[ "${COMPREPLY[*]}" = sub ]
	COMPREPLY=() COMP_LINE='squad -f sub/f' COMP_POINT=14
	_squad
	[ "${COMPREPLY[*]}" = sub/file.yml ]
}

@test "bash: task names from the Squadfile that -f and -C point at" {
	stub_squad
	complete_bash "$STUB" -C proj -f other.yml run ''
	[ "$output" = $'lint\nunit\ndb:migrate\n$(touch pwned)' ]
	[ "$(sort -u calls)" = "-C proj -f other.yml list --names" ]
	[ ! -e pwned ] # a task name is never expanded
	rm calls
	complete_bash "$STUB" --file=x.yml u
	[ "$output" = unit ]
	[ "$(sort -u calls)" = "--file x.yml list --names" ]
	# a name with ':' as readline splits it: only the part after the ':'
	source "$SQUAD_SRC/completions/squad.bash"
	COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
	COMP_LINE="$STUB db:m" COMP_POINT=${#COMP_LINE} COMPREPLY=()
	_squad
	[ "${COMPREPLY[*]}" = migrate ]
	# where no task is wanted, squad is not called
	rm calls
	complete_bash "$STUB" list ''
	[ -z "$output" ]
	[ ! -e calls ]
}

@test "bash: task names from the real squad" {
	squadfile <<'Y'
version: 1
tasks:
  lint: "true"
  "db:migrate": "true"
  unit: { run: "true", needs: [lint] }
Y
	complete_bash "$SQUAD" ''
	has lint
	has unit
	has db:migrate
	has run
	complete_bash "$SQUAD" run u
	[ "$output" = unit ]
	mkdir elsewhere && mv Squadfile elsewhere/
	complete_bash "$SQUAD" -C elsewhere l
	[ "$output" = $'lint\nlist' ] || [ "$output" = $'list\nlint' ]
}

@test "squad completion SHELL prints the scripts in completions/" {
	for shell in bash zsh fish; do
		"$SQUAD" completion "$shell" > "got.$shell"
		cmp "got.$shell" "$SQUAD_SRC/completions/squad.$shell"
	done
	run "$SQUAD" completion tcsh
	[ "$status" -eq 2 ]
	[[ $output == *bash*zsh*fish* ]]
}

@test "bash: the script passes bash -n and shellcheck" {
	bash -n "$SQUAD_SRC/completions/squad.bash"
	command -v shellcheck >/dev/null || skip "no shellcheck"
	shellcheck -s bash "$SQUAD_SRC/completions/squad.bash"
}

@test "zsh: the script parses, and completes subcommands, values and tasks" {
	command -v zsh >/dev/null || skip "no zsh"
	zsh -n "$SQUAD_SRC/completions/squad.zsh"
	stub_squad
	# an interactive zsh in a pty, whose compadd prints what it is given
	cat > capture.zsh <<'Z'
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "PS1= ; autoload -U compinit; compinit -u -d $PWD/.zcompdump"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' menu no"
zpty -w z "source ${(q)1}"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; local h; for h in $__hits; do print -r -- "<h""it>$h</h""it>"; done; builtin compadd "$@"; }'
zpty -w z 'zle -N _done; _done () { print -r -- "<e""nd>"; exit }; bindkey "^X" _done'
zpty -n -w z "$2"$'\t'
zpty -n -w z $'\C-x'
zpty -r z out '*<end>*' || exit 1
print -r -- "$out" | tr -d '\r' | grep -ao '<hit>[^<]*</hit>' | sed 's/<hit>//; s/<\/hit>//' | sort -u
zpty -d z
Z
	run timeout 30 zsh capture.zsh "$SQUAD_SRC/completions/squad.zsh" "$STUB "
	[ "$status" -eq 0 ]
	has explain
	has completion
	has lint
	has db:migrate
	run timeout 30 zsh capture.zsh "$SQUAD_SRC/completions/squad.zsh" "$STUB --output "
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "failed grouped prefixed quiet " ]
	rm -f calls
	run timeout 30 zsh capture.zsh "$SQUAD_SRC/completions/squad.zsh" "$STUB -f other.yml run "
	has unit
	grep -qxF -- "-f other.yml list --names" calls
}

@test "fish: the script parses, and completes subcommands, values and tasks" {
	command -v fish >/dev/null || skip "no fish"
	fish -n "$SQUAD_SRC/completions/squad.fish"
	stub_squad
	fish_complete() {
		output=$(fish --no-config -c "source $SQUAD_SRC/completions/squad.fish; complete -C '$1'" | cut -f1)
	}
	fish_complete "$STUB "
	has explain
	has completion
	has lint
	has db:migrate
	fish_complete "$STUB --color "
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "always auto never " ]
	fish_complete "$STUB hook "
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "install uninstall " ]
	rm -f calls
	fish_complete "$STUB -C proj run u"
	[ "$output" = unit ]
	grep -qxF -- "-C proj list --names" calls
	fish_complete "$STUB list "
	! has lint || false
}
