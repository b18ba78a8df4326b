# test/torture/fail.sh: the failure-injection loop of the torture tests
# (test/torture/1*.t), sourced after ../lib.sh.
#
#   fail_loop KIND PREP CHECK CMD...
#
# runs CMD once for every N = 1, 2, ... with test/torture/failmalloc.so
# preloaded and KIND's N-th operation failing (KIND: malloc, the N-th
# allocation; io, the N-th write or sync of the store), until a run no
# longer reaches its failure (then it must exit 0: the whole loop covered
# every allocation or write of the command).  Before each run, the shell
# function PREP restores the starting state (the store, the server's
# mailbox); after it, the generic checks below and then the function
# CHECK N RC (the command's own invariants; it calls fail_bad for each
# broken one) run.  CMD's stdin is $T/stdin when that file exists.
#
# FAIL_BASE, when set, names the store PREP copies to $NUDGE_DB: a run
# that leaves it unchanged skips the integrity check and sets FAIL_SAME=1
# for CHECK.
#
# Generic checks, for every N:
#   exit: 0 or a sysexits code (64-78): no signal, no abort, no 1
#   stderr: when the exit is not 0, exactly one line, "nudge-CMD: ...",
#           besides the command's summary lines (those matching the
#           grep -E pattern FAIL_SUMMARY); never a sanitizer's report
#   store: PRAGMA integrity_check says ok
# With valgrind installed, a sample of the N (FAIL_VG_SAMPLES of them,
# default 4, spread over the range; FAIL_VG_SAMPLES=all for every N) runs
# again under memcheck: no error, no definite or indirect leak.
#
# fail_report then prints one TAP line per check, with the first failing
# N of each and what it did.  FAIL_MAX caps N (a safety net, default
# 100000).

FAIL_SO="$TOP/test/torture/failmalloc.so"
# ASan wants its runtime first in the library list; the shim goes first
# and passes every allocation it does not fail on to ASan's malloc
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
[ -f "$FAIL_SO" ] || { echo "Bail out! $FAIL_SO is not built: make torture"; exit 1; }
FAIL_KINDS="exit stderr store own leak"
FAIL_SUMMARY=${FAIL_SUMMARY:-'^$'}

fail_reset() {
	for k in $FAIL_KINDS; do : >"$T/bad.$k"; done
	FAIL_N=0 FAIL_HITS=0 FAIL_VG=0 FAIL_LAST_RC=
}

# fail_bad KIND MSG: records that N broke check KIND (the first 5 kept
# in full).
fail_bad() {
	_k=$1; shift
	if [ "$(wc -l <"$T/bad.$_k")" -lt 5 ]; then
		printf 'N=%s: %s\n' "$FAIL_N" "$*" >>"$T/bad.$_k"
	else
		printf 'N=%s\n' "$FAIL_N" >>"$T/bad.$_k"
	fi
}

_fail_env() { # the variable that fails the N-th operation of KIND
	case $1 in
	malloc) echo FAILMALLOC_N ;;
	io) echo FAILIO_N ;;
	*) echo "Bail out! fail_loop: kind $1"; exit 1 ;;
	esac
}

_fail_run() { # _fail_run VAR N CMD...: one run with the shim
	_v=$1 _nn=$2; shift 2
	rm -f "$T/hit" "$T/count"
	if [ -f "$T/stdin" ]; then
		env LD_PRELOAD="$FAIL_SO" "$_v=$_nn" FAILMALLOC_HIT="$T/hit" \
		    FAILMALLOC_COUNT="$T/count" "$@" <"$T/stdin" >"$T/run.out" 2>"$T/run.err"
	else
		env LD_PRELOAD="$FAIL_SO" "$_v=$_nn" FAILMALLOC_HIT="$T/hit" \
		    FAILMALLOC_COUNT="$T/count" "$@" </dev/null >"$T/run.out" 2>"$T/run.err"
	fi
}

_fail_vg() { # _fail_vg VAR N CMD...: the same run under valgrind
	_v=$1 _nn=$2; shift 2
	rm -f "$T/vg.log"
	env LD_PRELOAD="$FAIL_SO" "$_v=$_nn" FAILMALLOC_HIT="$T/hit.vg" \
	    valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect --error-exitcode=99 \
	    --suppressions="$TESTDIR/valgrind.supp" --log-file="$T/vg.log" \
	    "$@" <"${FAIL_STDIN:-/dev/null}" >/dev/null 2>"$T/vg.err"
	_vrc=$?
	if [ "$_vrc" = 99 ] || [ -s "$T/vg.log" ]; then
		fail_bad leak "valgrind (exit $_vrc): $(grep -m3 'lost\|Invalid\|uninit\|at 0x\|by 0x' "$T/vg.log" | tr '\n' ' ' | cut -c1-600)"
		cp "$T/vg.log" "$TOP/test/torture/vg-$(basename "$0" .t)-$FAIL_N.log" 2>/dev/null
	fi
}

fail_loop() {
	_kind=$1 _prep=$2 _check=$3; shift 3
	_var=$(_fail_env "$_kind")
	fail_reset
	FAIL_STDIN=
	[ -f "$T/stdin" ] && FAIL_STDIN="$T/stdin"
	# how many there are, to spread the valgrind sample
	$_prep
	_fail_run "$_var" 999999999 "$@"
	_total=$(cut -d' ' -f"$([ "$_kind" = malloc ] && echo 1 || echo 2)" "$T/count" 2>/dev/null)
	_total=${_total:-1}
	_samples=${FAIL_VG_SAMPLES:-4}
	command -v valgrind >/dev/null || _samples=0
	# a sanitizer build (make torture SAN=1): LeakSanitizer checks every
	# run at exit instead (its report fails the stderr and exit checks)
	ldd "$TOP/nudge-send" 2>/dev/null | grep -q libasan && _samples=0
	if [ "$_samples" = all ]; then
		_step=1
	elif [ "$_samples" -gt 0 ]; then
		_step=$((_total / _samples + 1))
	else
		_step=0
	fi
	while :; do
		FAIL_N=$((FAIL_N + 1))
		$_prep
		_fail_run "$_var" "$FAIL_N" "$@"
		_rc=$?
		FAIL_LAST_RC=$_rc
		if [ ! -e "$T/hit" ]; then
			# past the last one: the run is a clean one
			[ "$_rc" = 0 ] || fail_bad exit "no failure injected, yet exit $_rc: $(head -3 "$T/run.err")"
			break
		fi
		FAIL_HITS=$((FAIL_HITS + 1))
		case $_rc in
		0|6[4-9]|7[0-8]) ;;
		*) fail_bad exit "exit $_rc: $(head -3 "$T/run.err")" ;;
		esac
		if grep -q 'Sanitizer\|runtime error' "$T/run.err"; then
			fail_bad stderr "a sanitizer report: $(grep -m1 'Sanitizer\|runtime error' "$T/run.err")"
		elif [ "$_rc" != 0 ] && { [ "$(grep -cvE "$FAIL_SUMMARY" "$T/run.err")" != 1 ] ||
		    ! grep -q '^nudge-[a-z-]*: ' "$T/run.err"; }; then
			fail_bad stderr "exit $_rc, stderr: $(head -5 "$T/run.err" | tr '\n' '|')"
		fi
		# a store byte for byte as the run found it (FAIL_BASE, with no
		# journal or WAL left) needs no integrity check: FAIL_SAME=1
		FAIL_SAME=0
		if [ -n "${FAIL_BASE:-}" ] && cmp -s "$FAIL_BASE" "$NUDGE_DB" &&
		    [ -z "$(ls "$NUDGE_DB"-* 2>/dev/null)" ]; then
			FAIL_SAME=1
		elif [ -f "$NUDGE_DB" ]; then
			_ic=$(sqlite3 "$NUDGE_DB" 'PRAGMA integrity_check' 2>&1)
			[ "$_ic" = ok ] || fail_bad store "integrity_check: $_ic"
		fi
		$_check "$FAIL_N" "$_rc"
		if [ "$_step" -gt 0 ] && [ $((FAIL_N % _step)) = 0 ]; then
			FAIL_VG=$((FAIL_VG + 1))
			$_prep
			_fail_vg "$_var" "$FAIL_N" "$@"
		fi
		[ "$FAIL_N" -lt "${FAIL_MAX:-100000}" ] || {
			fail_bad exit "FAIL_MAX reached"; break; }
	done
}

# fail_report WHAT: the TAP lines of the last loop.
fail_report() {
	is "$1: the loop ended with a clean run" "$FAIL_LAST_RC" 0
	diag "$1: $FAIL_HITS failures injected, $FAIL_VG of them also under valgrind"
	_fail_tap "$1: every failure exits 0 or with a sysexits code" exit
	_fail_tap "$1: every failing exit says one line, no sanitizer report" stderr
	_fail_tap "$1: the store passes integrity_check after each" store
	_fail_tap "$1: its own invariants hold after each" own
	_fail_tap "$1: no leak or memory error under valgrind" leak
}

_fail_tap() {
	if [ -s "$T/bad.$2" ]; then
		_result 1 "$1"
		diag "$(wc -l <"$T/bad.$2") runs broke it:" "$(head -5 "$T/bad.$2")"
	else
		_result 0 "$1"
	fi
}

# fail_once_whole CMD...: for a command that writes in one transaction
# (import-list, event import), run next by
# `fail_loop KIND whole_prep whole_check CMD...`.  Keeps the store as it
# is now as FAIL_BASE and records what the test's shell function `state`
# prints before and after one clean run of CMD.  whole_prep puts the kept
# store back; whole_check wants a failing run to leave the store as it
# was, a clean exit to leave all of it, and a rerun without failures then
# to do all of it.  CMD's words hold no blanks.
fail_once_whole() {
	_whole_cmd=$*
	cp "$NUDGE_DB" base.db
	FAIL_BASE=base.db
	before=$(state)
	"$@" 2>/dev/null
	want=$(state)
}
whole_prep() { rm -f "$NUDGE_DB"-*; cp base.db "$NUDGE_DB"; }
whole_check() { # N RC
	[ "$FAIL_SAME" = 1 ] && [ "$2" != 0 ] && return # as it was: no rerun
	if [ "$2" = 0 ]; then
		[ "$(state)" = "$want" ] || fail_bad own "exit 0 but the store holds: $(state | tr '\n' ' ')"
		return
	fi
	[ "$(state)" = "$before" ] || fail_bad own "exit $2 but the store changed: $(state | tr '\n' ' ')"
	# shellcheck disable=SC2086 # the words of CMD
	$_whole_cmd >/dev/null 2>"$T/rerun.err" ||
		fail_bad own "the rerun failed: $(cat "$T/rerun.err")"
	[ "$(state)" = "$want" ] || fail_bad own "after the rerun: $(state | tr '\n' ' ')"
}
