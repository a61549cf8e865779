#!/usr/bin/env bats
# A fixture for tests/lint-bats.sh (tests/e2e/lint.bats runs it): lines
# marked BAD must be found, the others not.

helper() {
	[ -e "$1" ] && return 0
	[ -s .squad/state ] && [ -s .squad/handoff.json ] # BAD
}

@test "shapes" {
	[ "$status" -eq 1 ] && [ -e out ] # BAD
	[[ $output == *a* ]] && [[ $output == *b* ]] # BAD
	has lint && has unit # BAD
	! grep -q secret log # BAD
	wait_for a &&
		wait_for b # BAD (the line above)
	[ "$status" -eq 1 ]
	[[ $output == *a* && $output == *b* ]]
	! grep -q secret log || false
	[ "$status" -eq 2 ] && [[ $output == x ]] || { echo "said: $output"; return 1; }
	[ -e x ] && rm x
	mkdir -p a && touch a/b
	for i in 1 2; do grep -q x f && break; done
	if [ -e a ] && [ -e b ]; then :; fi
	run bash -c '[ -e a ] && [ -e b ]'
	squadfile <<'Y'
tasks:
  t: "[ -e a ] && [ -e b ]"
Y
	cat <<-EOF
	[ -e a ] && [ -e b ]
	EOF
}
