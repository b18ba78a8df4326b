#!/bin/sh
# nudge segment errors: syntax errors with a column and a caret (64), a
# missing store (66, and not created), usage.
. "$(dirname "$0")/lib.sh"
plan 29

exits "a missing store is 66" 66 nudge segment --count 'list "x"'
like "it names the file" "$(cat "$T/.err")" "^nudge-segment: .*/nudge.db: No such file or directory \(nudge import-list or --create makes a store\)$"
ok "and it is not created" test ! -e "$NUDGE_DB"
exits "--db names the store too" 66 nudge segment --db "$T/other.db" 'opened'
exits "--save makes no store without --create" 66 \
	nudge segment --db "$T/typo.db" --save s 'opened'
ok "none made" test ! -e "$T/typo.db"

. "$TESTDIR/segment/fixture.sh"

# syntax EXPR COLUMN MESSAGE: exit 64 and exactly these three lines
syntax() {
	exits "64: $1" 64 nudge segment "$1"
	_caret=$(printf "%$(($2 - 1))s" '')
	is "message and caret: $1" "$(cat "$T/.err")" "nudge-segment: column $2: $3
    $1
    $_caret^"
}
syntax 'not opened within soon' 19 'expected a duration such as 7d after "within", got "soon"'
syntax 'list vip' 6 'expected a list name in double quotes after "list", got "vip"'
syntax 'list "x" and (opened or' 24 'expected a predicate (list "NAME", subscribed CHANNEL, @NAME, an event type such as opened, or FIELD OP VALUE), got the end of the expression'
syntax 'clicked at least 0 times' 18 'expected a whole number after "at least", got "0"'
syntax '(opened within 7d' 18 'expected ")" to close the "(" at column 1, got the end of the expression'
syntax 'city = Haifa' 8 'expected a value after "=" (a "quoted string" or a number), got "Haifa"'
syntax 'opened clicked' 8 'expected "and", "or" or the end, got "clicked"'
syntax 'list "unterminated' 6 'this string has no closing "'
syntax 'subscribed fax' 12 'expected a channel (email, sms or push) after "subscribed", got "fax"'

exits "a caret under Hebrew counts characters" 64 nudge segment 'first_name = "דנה" and within 7d'
is "caret placed by character" "$(cat "$T/.err")" 'nudge-segment: column 24: expected a predicate (list "NAME", subscribed CHANNEL, @NAME, an event type such as opened, or FIELD OP VALUE), got "within"
    first_name = "דנה" and within 7d
                           ^'
exits "no expression is a usage error" 64 nudge segment
ok "--help exits 0" nudge segment --help
is "--help prints the usage" "$(cat "$T/.out")" "usage: nudge segment [-c] [-f ids|tsv|csv|json|table] [--explain]
                     [--fields field,...] [--now time] [--original-names]
                     [--save name] [--create] [--db file] [--config file]
                     expr ..."
done_testing
