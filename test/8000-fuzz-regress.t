#!/bin/sh
# The fuzz targets of test/fuzz/ as regression tests: each target's
# driver (test/fuzz/TARGET.regress, built by make check with the normal
# compiler and flags, so under ASan and UBSan with SAN=1) runs over the
# target's seed corpus and over every input a fuzzer once crashed it with
# (test/fuzz/regress/TARGET/), and must return from each: a failed
# invariant or a sanitizer report aborts it.
. "$(dirname "$0")/lib.sh"

F="$TESTDIR/fuzz"
targets=$(cd "$F" && ls *.c | grep -v '^driver\.c$' | sed 's/\.c$//')
n=0
for t in $targets; do
	n=$((n + 2))
	[ -d "$F/regress/$t" ] && n=$((n + 1))
done
plan $((n + 1))

for t in $targets; do
	ok "$t: has a seed corpus and a dictionary" \
	    test -s "$F/$t.dict" -a -n "$(ls "$F/corpus/$t" 2>/dev/null)"
	ok "$t: every seed returns" "$F/$t.regress" "$F/corpus/$t"
	if [ -d "$F/regress/$t" ]; then
		ok "$t: every kept crash returns" "$F/$t.regress" -v \
		    "$F/regress/$t"
	fi
done
exits "a missing input is an error" 1 "$F/token.regress" "$T/none"
done_testing
