#!/usr/bin/env bats
# What a person sees: a live status line on a terminal, plain lines
# elsewhere, colours only where wanted, and the --output modes.
bats_require_minimum_version 1.5.0
load helpers

two_tasks() {
	squadfile <<'Y'
version: 1
default: all
tasks:
  fast: "echo fast-output"
  slow: "sleep 0.5; echo slow-output"
  bad: { run: "echo bad-output; false", needs: [fast] }
  all: { needs: [slow, bad] }
Y
}

# tty CMD...: run under a pseudo-terminal, output in tty.out
tty() {
	script -qfec "$*" /dev/null > tty.out 2>&1 || true
}

@test "on a terminal: a live status line and colours" {
	two_tasks
	unset NO_COLOR
	TERM=xterm tty "$SQUAD" -k -j2
	grep -q $'\r\033\[K' tty.out
	grep -q 'running: slow (shell' tty.out
	grep -q $'\033\[31mFAILED' tty.out
	grep -q fast-output tty.out
}

@test "piped: plain lines, not one escape code" {
	two_tasks
	unset NO_COLOR
	run "$SQUAD" -k -j2
	[ "$status" -eq 1 ]
	! printf '%s' "$output" | grep -q $'\033' || false
	! printf '%s' "$output" | grep -q $'\r' || false
	[[ $output == *"[1/4] ok fast"* ]]
}

@test "NO_COLOR and --color=never drop colours on a terminal; TERM=dumb drops all escapes" {
	two_tasks
	NO_COLOR=1 TERM=xterm tty "$SQUAD" -k
	! grep -q $'\033\[3[0-9]m' tty.out || false
	unset NO_COLOR
	TERM=xterm tty "$SQUAD" -k --color=never
	! grep -q $'\033\[3[0-9]m' tty.out || false
	TERM=dumb tty "$SQUAD" -k
	! grep -q $'\033' tty.out || false
}

@test "--color=always colours a pipe too" {
	two_tasks
	run "$SQUAD" -k --color=always
	printf '%s' "$output" | grep -q $'\033\[32mok'
}

@test "--output=prefixed streams whole lines as 'task | line'" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  a: "for i in $(seq 1 30); do echo A$i; sleep 0.01; done; printf 'no newline at end'"
  b: "for i in $(seq 1 30); do printf 'B%s' $i; sleep 0.005; echo; done"
  all: { needs: [a, b] }
Y
	run "$SQUAD" -j2 --output=prefixed
	[ "$status" -eq 0 ]
	# every line of a task's output arrives whole, in order
	[ "$(printf '%s\n' "$output" | grep -c '^a | A[0-9]*$')" -eq 30 ]
	[ "$(printf '%s\n' "$output" | grep -c '^b | B[0-9]*$')" -eq 30 ]
	printf '%s\n' "$output" | grep '^b | ' | sed 's/^b | B//' | sort -nc
	printf '%s\n' "$output" | grep -qx 'a | no newline at end'
}

@test "--output=failed shows only failing tasks' output; quiet shows none" {
	two_tasks
	# (the summary table quotes last lines: look for the output itself)
	run "$SQUAD" -k --output=failed
	! printf '%s\n' "$output" | grep -qx fast-output || false
	printf '%s\n' "$output" | grep -qx bad-output
	[[ $output == *"ok fast"* ]]
	run "$SQUAD" -k --output=quiet
	! printf '%s\n' "$output" | grep -qx fast-output || false
	! printf '%s\n' "$output" | grep -qx bad-output || false
	[[ $output == *"FAILED bad"* ]]
	run "$SQUAD" --output=loud
	[ "$status" -eq 2 ]
}

@test "the summary: a table of tasks, counts, wall time, the slowest tasks" {
	two_tasks
	run "$SQUAD" -k
	[[ $output =~ \ \ fast\ +ok\ +shell\ +[0-9.]+s\ +fast-output ]]
	[[ $output =~ \ \ all\ +skipped\ +-\ +- ]]
	[[ $output == *"squad: 2 ok, 1 failed, 1 skipped in "* ]]
	[[ $output == *"slowest: slow "* ]]
	[[ $output == *"failed bad: log "*".squad/logs/bad.log"* ]]
}
