# test/torture/send.sh: the send torture of 1020-send-smtp.t and
# 1030-send-file.t, sourced after fail.sh.  The caller sets TRANSPORT (the
# --transport URL) and defines got_all (the address of every message the
# server or the directory holds, one a line) and clear_got (empties it).
#
# Four contacts, one campaign; for each N the invariants of the ledger
# (DESIGN.md "Delivery guarantees"), checked after the failing run and
# again after a rerun without failures:
#   - no half-written row: after the failing run every row is `claimed`
#     (by the process that died: the rerun gives it back or turns it to
#     unknown) or final (sent, failed, bounced, or unknown when the
#     failure broke the SMTP session after the end of data); after a
#     clean exit, none is claimed;
#   - nothing sent for an uncommitted claim: every address the server
#     got a message for has a committed row;
#   - at most once: after the rerun no row is claimed, every contact has
#     exactly one row, nobody got two messages, and a `sent` row's
#     contact got its message.

cat >c.csv <<'CSV'
email,first_name,lists,city
ann@example.com,Ann,news,Haifa
bob@example.com,Bob,news,
cy@example.com,Cy,news,
di@example.com,Di,news,
CSV
nudge-import-list c.csv 2>/dev/null
nudge-segment 'list "news"' >"$T/stdin"
cp "$NUDGE_DB" base.db
FAIL_BASE=base.db
ADDRS="ann@example.com bob@example.com cy@example.com di@example.com"
send_run() {
	nudge-send --now 2026-11-02T09:00:00Z -c torture \
	    -t "$TESTDIR/send/hello.txt" --transport "$TRANSPORT"
}
set -- nudge-send --now 2026-11-02T09:00:00Z -c torture \
    -t "$TESTDIR/send/hello.txt" --transport "$TRANSPORT"
FAIL_SUMMARY='^nudge-send: (torture: read [0-9]+, sent |[0-9]+ held)'
prep() { rm -f "$NUDGE_DB"-*; cp base.db "$NUDGE_DB"; clear_got; }

# ledger: "ADDR STATUSES" for each contact (its rows' statuses, or -),
# and the store's integrity, in one sqlite3 run
ledger() {
	sqlite3 -batch -separator ' ' "$NUDGE_DB" "SELECT c.email,
	    coalesce(group_concat(m.status), '-') FROM contacts c
	    LEFT JOIN messages m ON m.contact_id = c.id GROUP BY c.email
	    ORDER BY c.email" 2>&1
}
# verify WHEN RC: the invariants on ledger and server, fail_bad for each
# broken one; WHEN is "" after the failing run, "rerun" after the rerun
verify() {
	_l=$(ledger) _got=$(got_all)
	for a in $ADDRS; do
		_r=$(printf '%s\n' "$_l" | sed -n "s/^$a //p")
		_g=$(printf '%s\n' "$_got" | grep -c "^$a\$")
		if [ -z "$1" ]; then
			case $_r in
			# unknown: the failure hit the SMTP session after the
			# end of data (the message may have arrived: 4600)
			-|claimed|sent|failed|bounced|unknown) ;;
			*) fail_bad own "$a: rows '$_r' after the failing run" ;;
			esac
			[ "$_g" = 0 ] || [ "$_r" != - ] ||
				fail_bad own "$a got a message with no committed claim (exit $2)"
			[ "$2" != 0 ] || [ "$_r" != claimed ] ||
				fail_bad own "$a: exit 0 left a claimed row"
		else
			case $_r in
			sent|failed|bounced|unknown) ;;
			*) fail_bad own "$a: rows '$_r' after the rerun" ;;
			esac
		fi
		[ "$_g" -le 1 ] || fail_bad own "$a got $_g messages $1"
		[ "$_r" != sent ] || [ "$_g" = 1 ] ||
			fail_bad own "$a: sent in the ledger, not on the server $1"
	done
}
check() { # N RC
	# the store untouched and nothing on the server: nothing to verify
	[ "$FAIL_SAME" = 1 ] && [ -z "$(got_all)" ] && return
	verify "" "$2"
	# a clean exit with all sent, or nothing changed at all: the rerun
	# would send nothing, or be the first run
	if [ "$2" = 0 ]; then
		[ "$(printf '%s\n' "$_l" | grep -vc ' sent$')" = 0 ] && return
	fi
	send_run <"$T/stdin" >"$T/rerun.out" 2>"$T/rerun.err" ||
		fail_bad own "the rerun exits $?: $(tr '\n' '|' <"$T/rerun.err")"
	verify rerun 0
}

fail_loop malloc prep check "$@"
fail_report "send to $TRANSPORT_NAME, malloc"
fail_loop io prep check "$@"
fail_report "send to $TRANSPORT_NAME, store I/O"
