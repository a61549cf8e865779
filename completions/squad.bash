# bash completion for squad                                -*- shell-script -*-
#
# Load it in the current shell:   source <(squad completion bash)
# or for every shell (bash-completion looks there by itself):
#   squad completion bash > ~/.local/share/bash-completion/completions/squad
#
# Completes subcommands, options and their values, and task names, which
# come from 'squad list --names' run on the Squadfile that the command
# line being completed reads (its -f FILE and -C DIR).

# _squad_add PREFIX CUR WORD...: add PREFIX+WORD to COMPREPLY for each
# WORD that starts with CUR. (Not compgen -W, which would expand a $(...)
# written in a task name.)
_squad_add() {
	local prefix=$1 cur=$2 word
	shift 2
	for word; do
		if [[ $word == "$cur"* ]]; then
			COMPREPLY+=("$prefix$word")
		fi
	done
	return 0
}

# _squad_tilde WORD: WORD with a leading ~ made $HOME (bash leaves it as
# typed in the words it hands to a completion function).
_squad_tilde() {
	local word=$1
	# shellcheck disable=SC2088 # the tilde is matched, not expanded
	[[ $word == "~" || $word == "~/"* ]] && word=$HOME${word:1}
	printf '%s\n' "$word"
}

# _squad_tasks PREFIX CUR: add PREFIX+NAME for each task NAME that starts
# with CUR, from the Squadfile that the words before the cursor
# (_squad_words) point squad at.
_squad_tasks() {
	local prefix=$1 cur=$2 word name i
	local -a cmd

	cmd=("$(_squad_tilde "${_squad_words[0]}")")
	for ((i = 1; i < ${#_squad_words[@]}; i++)); do
		word=${_squad_words[i]}
		case $word in
		-f | --file | -C | --directory)
			((i + 1 < ${#_squad_words[@]})) &&
				cmd+=("$word" "$(_squad_tilde "${_squad_words[i + 1]}")")
			((i++)) ;;
		--file=* | --directory=*)
			cmd+=("${word%%=*}" "$(_squad_tilde "${word#*=}")") ;;
		-f?* | -C?*)
			cmd+=("${word:0:2}" "$(_squad_tilde "${word:2}")") ;;
		esac
	done
	while IFS= read -r name; do
		_squad_add "$prefix" "$cur" "$name"
	done < <("${cmd[@]}" list --names 2>/dev/null </dev/null)
	return 0
}

# _squad_files PREFIX CUR [-d]: files (or folders) starting with CUR.
_squad_files() {
	local prefix=$1 cur=$2 what=${3:--f} file
	cur=$(_squad_tilde "$cur")
	while IFS= read -r file; do
		COMPREPLY+=("$prefix$file")
	done < <(compgen "$what" -- "$cur")
	compopt -o filenames 2>/dev/null || true # only inside a completion
	return 0
}

# _squad_value OPTION PREFIX CUR: the values of OPTION that start with CUR.
# Returns 1 when OPTION takes no value.
_squad_value() {
	local opt=$1 prefix=$2 cur=$3 ref
	case $opt in
	-f | --file | --junit | --note-file | -o | --output-file) _squad_files "$prefix" "$cur" ;;
	-C | --directory) _squad_files "$prefix" "$cur" -d ;;
	--color) _squad_add "$prefix" "$cur" auto always never ;;
	--output) _squad_add "$prefix" "$cur" grouped prefixed failed quiet ;;
	--format) _squad_add "$prefix" "$cur" dot mermaid ;;
	--json) _squad_add "$prefix" "$cur" output ;;
	--target) _squad_tasks "$prefix" "$cur" ;;
	--changed)
		while IFS= read -r ref; do
			_squad_add "$prefix" "$cur" "$ref"
		done < <(git for-each-ref --format='%(refname:short)' refs/heads refs/tags \
			refs/remotes 2>/dev/null; echo HEAD) ;;
	-j | --jobs | --worker | --note | --run | --prompt | --name | --shards | --exec) ;;
	*) return 1 ;;
	esac
	return 0
}

# Options that take a value in the next word.
_squad_takes_value() {
	case $1 in
	-f | --file | -C | --directory | -j | --jobs | --worker | --color | --output | \
		--junit | --note | --note-file | --target | --format | --run | --prompt | --name | \
		--shard | --shards | -o | --output-file | --exec) return 0 ;;
	esac
	return 1
}

_squad() {
	local cur line sub='' word i nargs=0 keep=''
	local breaks=${COMP_WORDBREAKS-$' \t\n"\'><=;|&(:'}
	local -a _squad_words

	COMPREPLY=()
	# The line before the cursor, split at blanks only: a task name may
	# hold ':' or '=', where bash's own split (COMP_WORDBREAKS) cuts.
	if [[ -n ${COMP_LINE-} ]]; then
		line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
	else
		# called with COMP_WORDS alone: glue back what '=' and ':' split
		line=
		for ((i = 0; i <= COMP_CWORD; i++)); do
			word=${COMP_WORDS[i]-}
			if ((i == 0)); then
				line=$word
			elif [[ $word == [=:] || ${COMP_WORDS[i - 1]} == [=:] ]]; then
				line+=$word
			else
				line+=" $word"
			fi
		done
	fi
	read -ra _squad_words <<<"$line"
	if [[ -z $line || $line == *[[:blank:]] ]]; then
		cur=
	else
		cur=${_squad_words[${#_squad_words[@]} - 1]}
		unset '_squad_words[${#_squad_words[@]}-1]'
	fi
	((${#_squad_words[@]})) || _squad_words=(squad)

	# the subcommand: the first word that is neither an option nor the
	# value of one (squad takes options anywhere on the line)
	for ((i = 1; i < ${#_squad_words[@]}; i++)); do
		word=${_squad_words[i]}
		if _squad_takes_value "$word"; then
			((i++))
		elif [[ $word != -* ]]; then
			if [[ -z $sub ]]; then sub=$word; else ((nargs++)); fi
		fi
	done

	if [[ $cur == --*=* ]]; then
		_squad_value "${cur%%=*}" "${cur%%=*}=" "${cur#*=}"
	elif ((${#_squad_words[@]} > 1)) &&
		_squad_takes_value "${_squad_words[${#_squad_words[@]} - 1]}"; then
		_squad_value "${_squad_words[${#_squad_words[@]} - 1]}" "" "$cur"
	elif [[ $cur == -* ]]; then
		_squad_add "" "$cur" --file --directory --jobs --keep-going --dry-run --quiet \
			--verbose --staged --changed --stash --force --replay --cache-write --json --junit --shard --output \
			--worker --strict-skills --color --no-wait --format --help --version
		case $sub in
		list) _squad_add "" "$cur" --names --json ;;
		graph) _squad_add "" "$cur" --format ;;
		done) _squad_add "" "$cur" --failed --note --note-file --undo ;;
		hook) _squad_add "" "$cur" --target ;;
		exec) _squad_add "" "$cur" --run --prompt --name ;;
		handoff) _squad_add "" "$cur" --merge ;;
		diff | apply) _squad_add "" "$cur" --exec ;;
		ci) _squad_add "" "$cur" --shards --output-file ;;
		esac
		if [[ $cur == - ]]; then
			_squad_add "" "$cur" -f -C -j -k -n -q -v -B -h
		fi
	else
		case $sub in
		'')
			_squad_add "" "$cur" run list graph handoff 'done' hook init completion explain exec mcp ci diff apply
			_squad_tasks "" "$cur" ;;
		hook) if ((!nargs)); then _squad_add "" "$cur" install uninstall; fi ;;
		completion) if ((!nargs)); then _squad_add "" "$cur" bash zsh fish; fi ;;
		explain | done | diff | apply) if ((!nargs)); then _squad_tasks "" "$cur"; fi ;;
		ci) if ((!nargs)); then _squad_add "" "$cur" github gitlab; else _squad_tasks "" "$cur"; fi ;;
		handoff) _squad_files "" "$cur" ;; # --merge FILE...
		list | init | exec | mcp) ;;
		*) _squad_tasks "" "$cur" ;; # run, graph, or a task: more tasks
		esac
	fi

	# bash replaces only what follows the last COMP_WORDBREAKS character
	# of the word (a ':' or '=' in it, usually): drop what comes before
	for ((i = ${#cur} - 1; i >= 0; i--)); do
		if [[ $breaks == *"${cur:i:1}"* ]]; then
			keep=${cur:0:i+1}
			break
		fi
	done
	if [[ -n $keep ]]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$keep"}
		done
	fi
	return 0
}

complete -F _squad squad
