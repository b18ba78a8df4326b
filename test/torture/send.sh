# test/torture/send.sh: the send torture of 1020-send-smtp.t and
# 1030-send-file.t, sourced after fail.sh.  The caller sets TRANSPORT (the
# --transport URL) and defines got ADDR (how many messages for ADDR the
# server or the directory holds) and clear_got (empties it).
#
# Four contacts, one campaign; for each N the invariants of the ledger
# (DESIGN.md "Delivery guarantees"), checked after the failing run and
# again after a rerun without failures:
#   - no half-written row: after the failing run every row is `claimed`
#     (by the process that died: the rerun turns it to unknown) or
#     final (sent, failed, bounced); after a clean exit, none is claimed;
#   - nothing sent for an uncommitted claim: every address the server
#     got a message for has a committed row;
#   - at most once: after the rerun no row is claimed, every contact has
#     exactly one row, nobody got two messages, and a `sent` row's
#     contact got its message.

cat >c.csv <<'CSV'
email,first_name,lists
ann@example.com,Ann,news
bob@example.com,Bob,news
cy@example.com,Cy,news
di@example.com,Di,news
CSV
nudge-import-list c.csv 2>/dev/null
nudge-segment 'list "news"' >"$T/stdin"
cp "$NUDGE_DB" base.db
ADDRS="ann@example.com bob@example.com cy@example.com di@example.com"
send_run() {
	nudge-send --now 2026-11-02T09:00:00Z -c torture \
	    -t "$TESTDIR/send/hello.txt" --transport "$TRANSPORT"
}
set -- nudge-send --now 2026-11-02T09:00:00Z -c torture \
    -t "$TESTDIR/send/hello.txt" --transport "$TRANSPORT"
FAIL_SUMMARY='^nudge-send: torture: read [0-9]+, sent '
prep() { rm -f "$NUDGE_DB"-*; cp base.db "$NUDGE_DB"; clear_got; }

# rows ADDR: the statuses of ADDR's ledger rows
rows() {
	sqlite3 -batch "$NUDGE_DB" "SELECT m.status FROM messages m
	    JOIN contacts c ON c.id = m.contact_id WHERE c.email = '$1'" 2>&1
}
check() { # N RC
	if cmp -s base.db "$NUDGE_DB" && [ -z "$(ls "$NUDGE_DB"-* 2>/dev/null)" ]; then
		_same=1
	else
		_same=0
	fi
	for a in $ADDRS; do
		_r=$(rows "$a") _g=$(got "$a")
		case $_r in
		''|claimed|sent|failed|bounced) ;;
		*) fail_bad own "$a: rows '$_r' after the failing run" ;;
		esac
		[ "$_g" -le 1 ] || fail_bad own "$a got $_g messages"
		[ "$_g" = 0 ] || [ -n "$_r" ] ||
			fail_bad own "$a got a message with no committed claim (exit $2)"
		[ "$2" != 0 ] || [ "$_r" != claimed ] ||
			fail_bad own "$a: exit 0 left a claimed row"
		[ "$_r" != sent ] || [ "$_g" = 1 ] ||
			fail_bad own "$a: sent in the ledger, not on the server"
	done
	# nothing changed at all: the rerun would be the first run
	[ "$_same" = 1 ] && [ "$(got_total)" = 0 ] && return
	send_run <"$T/stdin" >"$T/rerun.out" 2>"$T/rerun.err"
	_rrc=$?
	case $_rrc in
	0) ;;
	*) fail_bad own "the rerun exits $_rrc: $(tr '\n' '|' <"$T/rerun.err")" ;;
	esac
	for a in $ADDRS; do
		_r=$(rows "$a") _g=$(got "$a")
		case $_r in
		sent|failed|bounced|unknown) ;;
		*) fail_bad own "$a: rows '$_r' after the rerun" ;;
		esac
		[ "$_g" -le 1 ] || fail_bad own "$a got $_g messages after the rerun"
		[ "$_r" != sent ] || [ "$_g" = 1 ] ||
			fail_bad own "$a: sent in the ledger, not on the server, after the rerun"
	done
}

fail_loop malloc prep check "$@"
fail_report "send to $TRANSPORT_NAME, malloc"
fail_loop io prep check "$@"
fail_report "send to $TRANSPORT_NAME, store I/O"
