#!/usr/bin/env bats
# tests/lint-bats.sh, the check that keeps assertions that cannot fail
# out of the suite, finds each shape it is meant to and nothing else.
bats_require_minimum_version 1.5.0
load helpers

@test "lint-bats.sh finds every assertion that cannot fail in its fixture, and only those" {
	local fixture=$SQUAD_SRC/tests/lint/cannot-fail.bats want

	run sh "$SQUAD_SRC/tests/lint-bats.sh" "$fixture"
	[ "$status" -eq 1 ]
	# a line ending in '# BAD', or followed by one saying '(the line above)'
	want=$(grep -n -e '# BAD$' -e '# BAD (the line above)$' "$fixture" | cut -d: -f1 |
		while read -r n; do
			if sed -n "${n}p" "$fixture" | grep -q 'the line above'; then
				echo $((n - 1))
			else
				echo "$n"
			fi
		done | sort -n)
	[ -n "$want" ]
	[ "$(printf '%s\n' "$output" | cut -d: -f2 | sort -n)" = "$want" ]
}

@test "lint-bats.sh finds nothing in the suite" {
	run sh "$SQUAD_SRC/tests/lint-bats.sh"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
