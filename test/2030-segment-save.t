#!/bin/sh
# nudge segment --save NAME and @NAME: saved, expanded at compile time,
# replaced, cycles and unknown names refused.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/segment/fixture.sh"
plan 15

ok "--save stores a segment" seg --save engaged 'opened within 7d or clicked within 7d'
is "--save prints nothing by itself" "$(cat "$T/.out")" ""
is "the segments table holds it" "$(sql 'SELECT name, expr FROM segments')" \
	"engaged	opened within 7d or clicked within 7d"
# engaged = opened {1,4} or clicked {1,2}
is "@name inside an expression" \
	"$(seg 'list "newsletter" and not @engaged')" "3"
is "@name alone" "$(seg '@engaged' | tr '\n' ' ')" "1 2 4 "
is "--save with --count saves and counts" \
	"$(seg --save vips --count 'list "vip"')" "2"
ok "--save replaces an earlier definition" seg --save vips 'list "newsletter"'
is "the new definition is used" "$(seg -c '@vips')" "3"
is "a later definition of a referenced segment is seen" \
	"$(seg --save nl -c '@vips and not @engaged')" "1"
exits "an unknown @name is an error" 64 seg 'list "vip" or @nope'
is "it names the segment, with a caret" "$(cat "$T/.err")" \
	'nudge-segment: column 15: no saved segment @nope
    list "vip" or @nope
                  ^'
exits "a segment that refers to itself is refused" 64 seg --save loop '@loop or list "vip"'
exits "a cycle through another segment is refused" 64 seg --save vips '@nl'
is "the cycle is named" "$(head -1 "$T/.err")" \
	'nudge-segment: column 1: in @nl: column 1: saved segments refer to each other in a cycle: @vips -> @nl -> @vips'
is "refused definitions are not stored" \
	"$(sql 'SELECT name, expr FROM segments ORDER BY name')" \
	"engaged	opened within 7d or clicked within 7d
nl	@vips and not @engaged
vips	list \"newsletter\""
done_testing
