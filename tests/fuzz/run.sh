#!/bin/sh
# Build the libFuzzer harnesses with clang into build-fuzz/ and run each
# for SECONDS (default 60). See tests/fuzz/README.md.
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
#
# First every input under tests/fuzz/regressions/HARNESS/ is replayed;
# then the harness fuzzes, starting from tests/fuzz/corpus/HARNESS/ with
# its dictionary. New inputs go to build-fuzz/corpus/HARNESS/ (not into
# the repository), crashes to build-fuzz/artifacts/HARNESS/, the whole
# output to build-fuzz/logs/HARNESS.log. Prints, per harness, the
# executions and the crashes; exits 1 if any harness crashed, leaked,
# ran out of memory or timed out, 2 if it could not be built.
#
# Environment: CC (default clang), FUZZ_TIMEOUT (seconds one input may
# take, default 25), FUZZ_JOBS (harnesses run at once, default 1),
# FUZZ_ARGS (more libFuzzer flags, e.g. -use_value_profile=1).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
all="fuzz_squadfile fuzz_expand fuzz_qwen_json fuzz_state fuzz_glob fuzz_filecache fuzz_gitstamp fuzz_jsonrpc fuzz_artifact fuzz_acp fuzz_handoff_merge fuzz_init fuzz_treewrite"
CC=${CC:-clang}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-25}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_ARGS=${FUZZ_ARGS:-}

seconds=60
case ${1:-} in
'' | *[!0-9]*) ;;
*) seconds=$1; shift ;;
esac
harnesses=${*:-$all}
for h in $harnesses; do
	case " $all " in
	*" $h "*) ;;
	*) echo "run.sh: unknown harness '$h' (known: $all)" >&2; exit 2 ;;
	esac
done

# The package that holds libFuzzer's runtime, for the message below.
apt_line() {
	major=$("$CC" -dumpversion 2>/dev/null | cut -d. -f1)
	echo "apt-get install libclang-rt-${major:-14}-dev"
}

if ! command -v "$CC" >/dev/null || ! "$CC" --version 2>/dev/null | grep -q clang; then
	echo "run.sh: '$CC' is not clang; the harnesses need clang and libFuzzer" \
		"(apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
fi
probe=$(mktemp -d "${TMPDIR:-/tmp}/squad-fuzz-probe.XXXXXX")
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$probe/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" \
	>"$probe/log" 2>&1; then
	cat "$probe/log" >&2
	echo "run.sh: $CC cannot link -fsanitize=fuzzer: libFuzzer's runtime is missing." >&2
	echo "run.sh: on Debian, as root: $(apt_line)" >&2
	rm -rf "$probe"
	exit 2
fi
rm -rf "$probe"

echo "run.sh: building into $build"
mkdir -p "$build"
# two run.sh at once (other harnesses) build one after the other
exec 9>"$build/.build.lock"
flock 9
if ! cmake -S "$root" -B "$build" -G Ninja -DSQUAD_FUZZ=ON -DSQUAD_TESTS=OFF \
	-DSQUAD_SANITIZE=OFF -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>"$build/configure.log" 2>&1; then
	cat "$build/configure.log" >&2
	echo "run.sh: configuring failed; if libFuzzer is missing: $(apt_line)" >&2
	exit 2
fi
# shellcheck disable=SC2086 # a list of targets
if ! cmake --build "$build" --target $harnesses >"$build/build.log" 2>&1; then
	cat "$build/build.log" >&2
	echo "run.sh: building failed" >&2
	exit 2
fi
flock -u 9
exec 9>&-

# harness_args HARNESS: libFuzzer flags of its own. fuzz_squadfile's
# corpus holds YAML alias bombs that take 100-200 ms each (the loader
# walks its whole node budget) beside inputs that take 0.2 ms: weighting
# the choice of inputs by their speed multiplies its executions by ten.
harness_args() {
	case $1 in
	fuzz_squadfile) echo -entropic_scale_per_exec_time=1 ;;
	esac
}

# run_one HARNESS: replay its regressions, then fuzz; writes
# $build/logs/HARNESS.result as "HARNESS EXECS CRASHES STATUS".
run_one() {
	h=$1
	bin=$build/tests/fuzz/$h
	log=$build/logs/$h.log
	art=$build/artifacts/$h
	work=$build/corpus/$h
	status=ok
	mkdir -p "$work" "$art"
	: >"$log"
	# slow-unit-* files are libFuzzer's record of its slowest inputs (10 s
	# or more, as a loaded machine can make any input): not failures,
	# which -timeout decides
	before=$(find "$art" -type f ! -name 'slow-unit-*' | wc -l)

	regressions=$(find "$here/regressions/$h" -type f ! -name '.*' 2>/dev/null | sort)
	if [ -n "$regressions" ]; then
		# shellcheck disable=SC2086 # file names from our own tree, no blanks
		if ! "$bin" -rss_limit_mb=2048 -timeout="$FUZZ_TIMEOUT" \
			-artifact_prefix="$art/" $regressions >>"$log" 2>&1; then
			status=regression-failed
		fi
	fi
	if [ $status = ok ]; then
		set -- -max_total_time="$seconds" -rss_limit_mb=2048 \
			-timeout="$FUZZ_TIMEOUT" -print_final_stats=1 \
			-artifact_prefix="$art/" -dict="$here/$h.dict"
		# shellcheck disable=SC2086,SC2046 # lists of flags
		if ! "$bin" "$@" $(harness_args "$h") $FUZZ_ARGS "$work" "$here/corpus/$h" \
			>>"$log" 2>&1; then
			status=failed
		fi
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ -z "$execs" ]; then
		execs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
	fi
	crashes=$(($(find "$art" -type f ! -name 'slow-unit-*' | wc -l) - before))
	if [ $status = ok ] && [ "$crashes" -gt 0 ]; then
		status=failed
	fi
	if [ $status != ok ]; then
		# the kind of failure, from libFuzzer's own words
		kind=$(grep -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer): [a-z-]+|runtime error|ALARM: working on the last Unit for [0-9]+ seconds|out-of-memory|run interrupted|^fuzz_[a-z_]+: [^:]*' "$log" | head -n 1 | tr ' ' '_')
		status="$status(${kind:-see_log})"
	fi
	echo "$h ${execs:-0} $crashes $status" >"$build/logs/$h.result"
}

mkdir -p "$build/logs"
echo "run.sh: $seconds s per harness: $harnesses"
running=0
for h in $harnesses; do
	rm -f "$build/logs/$h.result"
	if [ "$FUZZ_JOBS" -gt 1 ]; then
		run_one "$h" &
		running=$((running + 1))
		if [ $running -ge "$FUZZ_JOBS" ]; then
			wait
			running=0
		fi
	else
		run_one "$h"
	fi
done
wait

failed=0
printf '%-16s %12s %8s  %s\n' harness executions crashes result
for h in $harnesses; do
	if [ -f "$build/logs/$h.result" ]; then
		read -r name execs crashes status <"$build/logs/$h.result"
	else
		name=$h execs=0 crashes=0 status=no-result
	fi
	printf '%-16s %12s %8s  %s\n' "$name" "$execs" "$crashes" "$status"
	case $status in
	ok) ;;
	*) failed=1; echo "    log: $build/logs/$h.log; inputs: $build/artifacts/$h/" ;;
	esac
done
exit $failed
