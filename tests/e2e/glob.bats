#!/usr/bin/env bats
# glob.c against git itself: for each pattern (or set), the files of a real
# repository that `git ls-files -- ':(glob)P'` lists must be exactly the
# ones squad's matcher picks. The matcher runs through the driver mode of
# the unit test binary: `test_glob --match [--base DIR] PATTERN...`.
load helpers

# The build the squad binary under test comes from (build/, build-asan/, ...)
GLOB_DRIVER=${SQUAD_BUILD:-$(dirname "$SQUAD")}/tests/test_glob

# A tree of about 200 files: nested folders, dots, spaces, brackets,
# dashes, non-ASCII names, hidden files, names with glob characters.
make_tree() {
	local dirs=(
		"" src src/core src/t1 src/t2 src/t2/deep src/t2/deep/er src/.cache
		lib docs "docs/with space" "d[x]" dx a-b .config "unicodé" "日本"
		"src/t10" "srcx" "lib/src"
	)
	local names=(
		a.c b.h x-y.c x-y.h "file with space.txt" "foo[1].txt" foo1.txt
		README.md Makefile UPPER.C "é.txt" "naïve.c" "日本語.md" .hidden
		".x.c" "!bang" 'back\slash' "]x" "-dash" 'a*' "q?" "9lives"
		"tab	name" "v1.2.3.tar.gz" "ab"
	)
	local i j d f
	for i in "${!dirs[@]}"; do
		d=${dirs[$i]}
		for j in "${!names[@]}"; do
			f=${names[$j]}
			# a deterministic, uneven subset so that folders differ
			(( (i * 7 + j * 3) % 5 < 3 )) && continue
			mkdir -p "./$d"
			echo "$i $j" > "./${d:+$d/}$f"
		done
	done
	# a file next to a folder of the same stem, and a deep lone file
	echo > src/t1.c
	mkdir -p src/t2/deep/er/est
	echo > src/t2/deep/er/est/most.c
}

setup_file() {
	[ -x "$GLOB_DRIVER" ] || {
		echo "no glob driver at $GLOB_DRIVER (build the tests first)" >&2
		return 1
	}
	REPO=$BATS_FILE_TMPDIR/repo
	mkdir -p "$REPO"
	cd "$REPO" || return 1
	git init -q .
	make_tree
	git add -A
	git -c user.name=t -c user.email=t@example.com commit -qm tree
	export REPO
}

# The tracked files, one per line (none of them holds a newline).
all_files() {
	git -C "$REPO" ls-files -z | tr '\0' '\n'
}

# compare BASE PATTERN...: git and the driver select the same files.
# A leading '!' becomes git's exclude magic. Sets $selected to the count.
compare() {
	local base=$1 p specs=() ours theirs
	shift
	for p in "$@"; do
		if [[ $p == '!'* ]]; then
			specs+=(":(glob,exclude)${p#!}")
		else
			specs+=(":(glob)$p")
		fi
	done
	theirs=$(git -C "$REPO/$base" ls-files -z --full-name -- "${specs[@]}" | tr '\0' '\n' | LC_ALL=C sort) ||
		{ echo "git refused: $*" >&2; return 1; }
	ours=$(all_files | "$GLOB_DRIVER" --match --base "$base" "$@") ||
		{ echo "driver failed (exit $?) on: $*" >&2; return 1; }
	ours=$(LC_ALL=C sort <<<"$ours")
	if [ "$ours" != "$theirs" ]; then
		echo "base '$base', patterns: $*" >&2
		diff <(echo "$theirs") <(echo "$ours") | sed 's/^</  git only:/; s/^>/  ours only:/' >&2
		return 1
	fi
	selected=$(grep -c . <<<"$ours" || true)
}

# check_each BASE PATTERN...: compare each pattern on its own,
# then require that most of them select some but not all files.
check_each() {
	local base=$1 p total partial=0 failed=0
	shift
	total=$(all_files | wc -l)
	for p in "$@"; do
		if compare "$base" "$p"; then
			((selected > 0 && selected < total)) && partial=$((partial + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "$# patterns, $partial select some but not all of $total files, $failed differ" >&2
	[ "$failed" -eq 0 ]
	[ "$partial" -ge $(($# * 3 / 4)) ]
}

@test "the generated tree is big and varied" {
	local n
	n=$(all_files | wc -l)
	[ "$n" -ge 180 ]
	all_files | grep -q '^unicodé/'
	all_files | grep -q '^docs/with space/'
	all_files | grep -qF 'd[x]/'
	all_files | grep -q '/\.hidden$'
	all_files | grep -qF 'back\slash'
}

@test "single patterns select what git's :(glob) selects" {
	check_each "" \
		'*.c' '*' '**' '.' '*/*' '*/*/*' '?.c' '??.c' '???' \
		'src' 'src/' 'src/t1' 'src/*' 'src/*/' 'src/**' 'src/t*' 'src/t*/**' \
		'src/**/*.h' '**/*.c' '**/t1/**' '**/deep/**' 'src/**/deep/**/*.c' \
		'**/src' '**/src/**' 'a-b/**/x-y.?' '**.c' 'src**' 's**/*.c' 'lib**/x' \
		'a**b' 'src/**/' '*/.' './src//t1/./*.c' 'src/.' \
		'[ab].c' '**/[!ab]*' '**/[^a-z]*' '**/[]]x' '**/[]-a]*' '**/[a-c-]*' \
		'**/[-]*' '**/[z-a]*' '**/[[:upper:]]*' '**/[[:digit:]]*' \
		'**/*[[:space:]]*' '**/[[:punct:]]*' '**/*[[:blank:]]*' '**/[[:alph]*' \
		'**/foo[1].txt' '**/foo\[1\].txt' 'd[x]' 'd[x]/*' 'd\[x]/**' \
		'**/.*' '**/.hidden' '.config/*' '**/*é*' 'unicodé/**' '日本/*' \
		'**/??.txt' '**/?.txt' 'docs/with space/*' 'docs/with?space/**' \
		'**/a\*' '**/a*' '**/\!bang' '**/back\\slash' '**/back\slash' \
		'**/q\?' '**/*.*.*' '**/v1.2.3.tar.gz' '**\/a.c' 'src/**\/a.c' \
		'**/*tab*' 'UPPER.c' 'upper.C' 'src/t1.c' 'src/t1' 'lib/src' \
		'srcx' '*x' 'x**/' 'd*' 'd*/**'
}

@test "sets with exclusions select what git's :(exclude) leaves" {
	compare "" '**/*.c' '!src/**'
	compare "" '!src/**' '**/*.c'
	compare "" '**' '!**/*.h' '!docs'
	compare "" '!*.c'
	compare "" '!src' '!lib' '!**/.*'
	compare "" 'src' '!src/t1'
	compare "" 'src/**' '!src/t2/**' '!src/**/*.md'
	compare "" '*' '**/*.md' '!README.md'
	compare "" '**/*.[ch]' '!**/x-y.*' '!**/[ab].*'
	compare "" '.' '!.'
	[ "$selected" -eq 0 ]
}

@test "patterns relative to a folder select what git selects from there" {
	local base p
	for base in src "src/t2" "docs/with space" "d[x]" "unicodé" lib; do
		for p in '*' '**' '*.c' '**/*.c' '.' 't1' 't**' '[a-c]*' \
			'**/deep/**' 'src' '*/**' '**z.c'; do
			compare "$base" "$p"
		done
		compare "$base" '!*.c'
		compare "$base" '**' '!**/*.md' '!t1'
	done
}

# mutate PATH: sets $pattern to a pattern made from a tracked path,
# component by component, so that it matches that path or nearly does.
# (No $(...): a subshell would reseed $RANDOM.)
mutate() {
	local IFS=/ c out=() comps
	read -r -a comps <<<"$1"
	# sometimes only a leading folder, sometimes any depth before it
	((RANDOM % 4 == 0 && ${#comps[@]} > 1)) && unset 'comps[-1]'
	((RANDOM % 5 == 0)) && out+=('**')
	for c in "${comps[@]}"; do
		case $((RANDOM % 12)) in
		0) c='*' ;;
		1) c='**' ;;
		2) c="?${c:1}" ;;
		3) c="*${c: -2}" ;;
		4) [[ $c != *[\[\]]* ]] && c="${c:0:${#c}-1}*" ;;
		5) c="\\$c" ;;
		6) [[ ${c:0:1} != [\[\]\\^!] ]] && c="[${c:0:1}]${c:1}" ;;
		7) [[ ${c:0:1} == [a-z] ]] && c="[!a-${c:0:1}]${c:1}" ;;
		8) c="${c:0:1}**" ;;
		esac
		out+=("$c")
	done
	pattern=${out[*]}
}

@test "random patterns (fixed seed) select what git selects" {
	local pieces=(
		'*' '*' '**' '?' '/' '/' src t1 a .c x- '[a-c]' '[!.]' d e '**/'
		'/**' '\.' . '[[:alpha:]]' é ' ' '日本' '[]x]' '\[' h '*.' '\*'
	)
	local files i k p pattern n=0 some=0 failed=0
	mapfile -t files < <(all_files)
	RANDOM=4242
	for ((i = 0; i < 300; i++)); do
		if ((i % 3)); then
			mutate "${files[RANDOM % ${#files[@]}]}"
			p=$pattern
		else
			p=
			for ((k = RANDOM % 6; k >= 0; k--)); do
				p+=${pieces[RANDOM % ${#pieces[@]}]}
			done
		fi
		# both refuse these: empty, absolute, or a ".." component
		[[ -z $p || $p == /* || /$p/ == */../* ]] && continue
		n=$((n + 1))
		if compare "" "$p"; then
			((selected > 0)) && some=$((some + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "$n random patterns, $some select files, $failed differ" >&2
	[ "$n" -ge 250 ]
	[ "$some" -ge $((n / 2)) ]
	[ "$failed" -eq 0 ]
}

@test "the driver refuses invalid patterns with a message" {
	local p
	for p in 'a[' '**/[[:nope:]]' 'x\' '' '/abs' '../up' 'src/../lib' '!'; do
		run "$GLOB_DRIVER" --match "$p" </dev/null
		[ "$status" -eq 2 ]
		[[ $output == "test_glob: pattern '$p': "* ]]
	done
	# git refuses the last ones too; the first ones it would match only
	# against a file literally named so, and there is none here
	run git -C "$REPO" ls-files -- ':(glob)/abs'
	[ "$status" -ne 0 ]
	run git -C "$REPO" ls-files -- ':(glob)../up'
	[ "$status" -ne 0 ]
	[ -z "$(git -C "$REPO" ls-files -- ':(glob)a[' ':(glob)x\')" ]
}
