#!/bin/sh
# run.sh [import] [events] [segment] [startup] [send] [trigger] [track] [sms] [report] [predict]: nudge's benchmarks
# (`make bench`), each against its peers, measured in the same run.
#
# One line per figure, "name<TAB>metric<TAB>value", on stdout (also kept
# in $BENCH_TMP/results-DATE.tsv), then a summary with ratios and targets
# as "# " lines; progress on stderr.  Each figure is the median of $RUNS
# runs (imports) or of $QRUNS runs after a warm-up (queries); the 10M-event
# load runs once.  Data is generated once under $BENCH_TMP and reused.
# A nudge command that is not built yet is skipped with a note.
# Environment: BENCH_TMP, RUNS, QRUNS, NC, NE, QUICK=1 (NC=20000,
# NE=200000, RUNS=1: a smoke check), NUDGE_BIN (where nudge-* are; default
# the top of the tree), BENCH_STORE (run the segment part on this store
# instead of building one), HYPERFINE=no (time with a shell loop even if
# hyperfine is installed).  See test/bench/README.md.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$TOP/test/bench
BIN=${NUDGE_BIN:-$TOP}
BENCH_TMP=${BENCH_TMP:-/tmp/nudge-bench}
if [ "${QUICK:-0}" = 1 ]; then
	NC=${NC:-20000} NE=${NE:-200000} RUNS=${RUNS:-1} STARTN=${STARTN:-50}
	NS=${NS:-2000}
fi
NS=${NS:-20000}
NC=${NC:-1000000}
NE=${NE:-10000000}
RUNS=${RUNS:-3}
QRUNS=${QRUNS:-5}
STARTN=${STARTN:-200}
NOW=2026-11-01T00:00:00Z
PY=/usr/bin/python3
GEN=$BENCH/gen
# The push campaign of seed segment 4 (gen's calendar does not depend on
# the seed or the sizes); sql/seg4.sql names it too.
PUSH=2026-10-28-push-new-arrivals
export LC_ALL=C
unset NUDGE_DB NUDGE_CONFIG

mkdir -p "$BENCH_TMP" || exit 73
RESULTS=$BENCH_TMP/results-$(date -u +%Y%m%dT%H%M%SZ).tsv
LOG=$BENCH_TMP/bench.log
CFG=$BENCH_TMP/nudge.yaml
: >"$LOG"
printf 'default_country: IL\n' >"$CFG"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# emit NAME METRIC VALUE: one result line.
emit() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3"
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"
}

# have CMD: true when the nudge command CMD (e.g. segment) is built;
# otherwise says that what needs it is skipped.
have() {
	[ -x "$BIN/nudge-$1" ] && return 0
	say "skipped: $2 ($BIN/nudge-$1 is not built)"
	return 1
}

# median: the median of the numbers on stdin, one per line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ns() { date +%s%N; }
t=0		# set by timed_run

# secs T0 T1: nanosecond stamps to seconds.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", (b - a) / 1e9 }'; }

# rate COUNT SECONDS
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d\n", n / s + 0.5 }'; }

# ok_rc RC: 0 or 65 (some rows rejected, as the dirty data intends).
ok_rc() { [ "$1" = 0 ] || [ "$1" = 65 ]; }

# GNU time gives the peak RSS; else a python wrapper does.
if /usr/bin/time --version 2>&1 | grep -q GNU; then
	rss_run() { f=$1; shift; /usr/bin/time -f %M -o "$f" "$@"; }
else
	rss_run() { "$PY" "$BENCH/rss.py" "$@"; }
fi

# timed_run OUTVAR CMD...: runs CMD once (stdout to /dev/null, stderr to
# the log), sets OUTVAR to the seconds it took; returns CMD's status.
timed_run() {
	_v=$1
	shift
	_t0=$(ns)
	"$@" >/dev/null 2>>"$LOG"
	_rc=$?
	_t1=$(ns)
	eval "$_v=\$(secs $_t0 $_t1)"
	return $_rc
}

if [ "${HYPERFINE:-yes}" != no ] && command -v hyperfine >/dev/null 2>&1; then
	HF=1
else
	HF=0
fi

# quote ARG...: the arguments as one sh-quoted string (for hyperfine -N).
quote() {
	_q=""
	for _a; do
		_q="$_q '$(printf '%s' "$_a" | sed "s/'/'\\\\''/g")'"
	done
	printf '%s\n' "${_q# }"
}

# qtime RUNS WARMUP CMD...: median seconds of RUNS runs of CMD after
# WARMUP runs, output discarded, no shell in between (hyperfine -N); or
# a loop of date +%s%N stamps less the cost of the stamps themselves.
qtime() {
	_r=$1 _w=$2
	shift 2
	if [ "$HF" = 1 ]; then
		_j=$BENCH_TMP/hf.json
		hyperfine -N -i --style none --warmup "$_w" --runs "$_r" \
		    --export-json "$_j" -- "$(quote "$@")" >/dev/null 2>>"$LOG" ||
			{ say "hyperfine failed: $*"; echo nan; return; }
		sed -n 's/^ *"median": *\([0-9.e+-]*\),*$/\1/p' "$_j" | head -n 1 |
		    awk '{ printf "%.6f\n", $1 }'
		return
	fi
	_i=0
	while [ $_i -lt "$_w" ]; do
		"$@" >/dev/null 2>&1
		_i=$((_i + 1))
	done
	if [ -z "${STAMP_COST:-}" ]; then
		STAMP_COST=$(_i=0; while [ $_i -lt 50 ]; do
			_t0=$(ns); _t1=$(ns); echo $((_t1 - _t0)); _i=$((_i + 1))
		done | median)
	fi
	_i=0
	while [ $_i -lt "$_r" ]; do
		_t0=$(ns)
		"$@" >/dev/null 2>&1
		_t1=$(ns)
		echo $((_t1 - _t0))
		_i=$((_i + 1))
	done | median | awk -v c="$STAMP_COST" '{ $1 -= c
		printf "%.6f\n", ($1 < 0 ? 0 : $1) / 1e9 }'
}

# --- data ----------------------------------------------------------------

[ -x "$GEN" ] || die "$GEN is not built: run make bench"
KEY=$(cksum <"$BENCH/gen.c" | cut -d' ' -f1)

# contacts: the path of the contacts CSV, generated on first use.
contacts_csv() {
	_f=$BENCH_TMP/contacts-$NC-$KEY.csv
	if [ ! -s "$_f" ]; then
		say "generating $_f"
		{ "$GEN" contacts "$NC" >"$_f.tmp" 2>>"$LOG" &&
		    mv "$_f.tmp" "$_f"; } || die "gen contacts failed"
		tail -n 1 "$LOG" >&2
	fi
	echo "$_f"
}

events_csv() {
	_f=$BENCH_TMP/events-$NC-$NE-$KEY.csv
	if [ ! -s "$_f" ]; then
		say "generating $_f"
		{ "$GEN" events "$NC" "$NE" >"$_f.tmp" 2>>"$LOG" &&
		    mv "$_f.tmp" "$_f"; } || die "gen events failed"
		tail -n 1 "$LOG" >&2
	fi
	echo "$_f"
}

rmdb() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

CSTORE=$BENCH_TMP/contacts-$NC.db		# contacts only, made by nudge
STORE=${BENCH_STORE:-$BENCH_TMP/store-$NC-$NE.db}	# contacts and events

# nudge_import DB CSV: nudge import-list into DB; RSS_FILE gets its peak.
nudge_import() {
	rss_run "$BENCH_TMP/rss" "$BIN/nudge-import-list" --db "$1" \
	    --config "$CFG" "$2"
}

# --- (a) import ----------------------------------------------------------

part_import() {
	csv=$(contacts_csv)
	db=$BENCH_TMP/import.db
	say "import: $NC contacts, median of $RUNS runs each"

	: >"$BENCH_TMP/t"
	i=0
	while [ $i -lt "$RUNS" ]; do
		rmdb "$db"
		timed_run t sqlite3 "$db" ".import --csv $csv bare" ||
			die "sqlite3 .import failed (see $LOG)"
		echo "$t" >>"$BENCH_TMP/t"
		i=$((i + 1))
	done
	emit import-sqlite3-bare rows_per_s "$(rate "$NC" "$(median <"$BENCH_TMP/t")")"

	: >"$BENCH_TMP/t"
	i=0
	while [ $i -lt "$RUNS" ]; do
		rmdb "$db"
		timed_run t "$PY" "$BENCH/import-typical.py" "$db" "$csv" ||
			die "import-typical.py failed (see $LOG)"
		echo "$t" >>"$BENCH_TMP/t"
		i=$((i + 1))
	done
	emit import-python-typical rows_per_s "$(rate "$NC" "$(median <"$BENCH_TMP/t")")"
	say "import-typical.py: $(tail -n 1 "$LOG")"
	rmdb "$db"

	have import-list "nudge import-list" || return 0
	: >"$BENCH_TMP/t"
	: >"$BENCH_TMP/m"
	i=0
	while [ $i -lt "$RUNS" ]; do
		rmdb "$db"
		timed_run t nudge_import "$db" "$csv"
		rc=$?
		ok_rc $rc || { say "nudge import-list exited $rc (see $LOG)"; return 0; }
		echo "$t" >>"$BENCH_TMP/t"
		tail -n 1 "$BENCH_TMP/rss" >>"$BENCH_TMP/m"
		i=$((i + 1))
	done
	emit import-nudge rows_per_s "$(rate "$NC" "$(median <"$BENCH_TMP/t")")"
	emit import-nudge peak_rss_mb "$(median <"$BENCH_TMP/m" | awk '{ printf "%.1f\n", $1 / 1024 }')"
	say "nudge import-list: $(tail -n 1 "$LOG")"
	say "store: $(sqlite3 -readonly "$db" 'SELECT count(*) FROM contacts') contacts, $(sqlite3 -readonly "$db" 'SELECT count(*) FROM list_members') list memberships"

	: >"$BENCH_TMP/t"
	i=0
	while [ $i -lt "$RUNS" ]; do
		timed_run t nudge_import "$db" "$csv"
		rc=$?
		ok_rc $rc || { say "nudge import-list (again) exited $rc"; return 0; }
		echo "$t" >>"$BENCH_TMP/t"
		i=$((i + 1))
	done
	emit reimport-nudge rows_per_s "$(rate "$NC" "$(median <"$BENCH_TMP/t")")"
	rmdb "$CSTORE"
	mv "$db" "$CSTORE"
}

# --- (b) events ----------------------------------------------------------

# contacts_store: make $CSTORE with one (untimed) nudge import-list, unless
# the import part just left it.
contacts_store() {
	[ -s "$CSTORE" ] && return 0
	have import-list "the store for events and segments" || return 1
	csv=$(contacts_csv)
	say "importing $NC contacts with nudge import-list (not timed)"
	rmdb "$CSTORE.tmp"
	nudge_import "$CSTORE.tmp" "$csv" >/dev/null 2>>"$LOG"
	rc=$?
	ok_rc $rc || { say "nudge import-list exited $rc (see $LOG)"; return 1; }
	mv "$CSTORE.tmp" "$CSTORE"
}

part_events() {
	have event "nudge event import" || return 0
	contacts_store || return 0
	csv=$(events_csv)
	rmdb "$STORE"
	rm -f "$STORE.ok"
	cp "$CSTORE" "$STORE"
	say "events: loading $NE events with nudge event import (one run)"
	timed_run t rss_run "$BENCH_TMP/rss" "$BIN/nudge-event" import \
	    --db "$STORE" --config "$CFG" "$csv"
	rc=$?
	ok_rc $rc || { say "nudge event import exited $rc (see $LOG)"; return 0; }
	emit events-nudge events_per_s "$(rate "$NE" "$t")"
	emit events-nudge peak_rss_mb "$(tail -n 1 "$BENCH_TMP/rss" | awk '{ printf "%.1f\n", $1 / 1024 }')"
	say "nudge event import: $(tail -n 1 "$LOG")"
	say "store: $(sqlite3 -readonly "$STORE" 'SELECT count(*) FROM events') events, $(du -m "$STORE" | cut -f1) MB"
	touch "$STORE.ok"
}

# --- (c) segments --------------------------------------------------------

# The seed segments (1-7) and the win-back audience (8); sql/segN.sql is
# the hand-written SQL for segN.
seg_expr() {
	case $1 in
	1) echo 'list "newsletter" and not opened within 7d' ;;
	2) echo 'list "vip" or list "newsletter"' ;;
	3) echo 'clicked in last 3 email campaigns' ;;
	4) echo "received channel push campaign \"$PUSH\" and not clicked campaign \"$PUSH\"" ;;
	5) echo 'ad_view source = "facebook" at least 2 times within 30d' ;;
	6) echo 'sales_call within 14d' ;;
	7) echo 'not received within 1d and not purchase within 2d' ;;
	8) echo 'purchase and not purchase within 90d' ;;
	esac
}

part_segment() {
	if [ -z "${BENCH_STORE:-}" ] && [ ! -e "$STORE.ok" ]; then
		say "segment: no store of $NC contacts and $NE events yet: building it"
		part_events
		[ -e "$STORE.ok" ] || { say "skipped: segments (no store)"; return 0; }
	fi
	[ -s "$STORE" ] || die "$STORE: no such store"
	"$GEN" campaigns | grep -q "^$PUSH," || die "gen has no campaign $PUSH"
	nudge=1
	have segment "nudge segment (the hand-written SQL still runs)" || nudge=0
	say "segments on $STORE: median of $QRUNS runs after a warm-up"
	n=1
	while [ $n -le 8 ]; do
		expr=$(seg_expr $n)
		sql=$BENCH/sql/seg$n.sql
		sqlite3 -readonly "$STORE" <"$sql" >"$BENCH_TMP/ids" 2>>"$LOG" ||
			say "seg$n.sql failed (see $LOG)"
		srows=$(wc -l <"$BENCH_TMP/ids")
		emit seg$n-sql seconds "$(qtime "$QRUNS" 1 sqlite3 -readonly "$STORE" ".read $sql")"
		emit seg$n-sql rows "$srows"
		if [ $nudge = 1 ]; then
			set -- "$BIN/nudge-segment" --db "$STORE" --config "$CFG" \
			    --now "$NOW" --format ids "$expr"
			"$@" >"$BENCH_TMP/ids" 2>>"$LOG" ||
				say "nudge segment failed: $expr (see $LOG)"
			nrows=$(wc -l <"$BENCH_TMP/ids")
			emit seg$n-nudge seconds "$(qtime "$QRUNS" 1 "$@")"
			emit seg$n-nudge rows "$nrows"
			[ "$nrows" = "$srows" ] ||
				say "WARNING: seg$n: nudge segment gives $nrows rows, the SQL $srows: $expr"
		fi
		n=$((n + 1))
	done
}

# --- (c2) report ---------------------------------------------------------

# nudge report over every campaign of the store, last-touch (the
# default), beside sql/report.sql computing the same figures; the part
# warns when they differ.
part_report() {
	if [ -z "${BENCH_STORE:-}" ] && [ ! -e "$STORE.ok" ]; then
		say "report: no store of $NC contacts and $NE events yet: building it"
		part_events
		[ -e "$STORE.ok" ] || { say "skipped: report (no store)"; return 0; }
	fi
	sql=$BENCH/sql/report.sql
	say "report on $STORE: median of $QRUNS runs after a warm-up"
	sqlite3 -readonly -csv "$STORE" <"$sql" >"$BENCH_TMP/report-sql.csv" 2>>"$LOG" ||
		say "report.sql failed (see $LOG)"
	emit report-sql seconds "$(qtime "$QRUNS" 1 sqlite3 -readonly "$STORE" ".read $sql")"
	emit report-sql rows "$(wc -l <"$BENCH_TMP/report-sql.csv")"
	have report "nudge report (the hand-written SQL still ran)" || return 0
	set -- "$BIN/nudge-report" --db "$STORE" --config "$CFG" --format csv
	"$@" >"$BENCH_TMP/report-nudge.csv" 2>>"$LOG" ||
		say "nudge report failed (see $LOG)"
	emit report-nudge seconds "$(qtime "$QRUNS" 1 "$@")"
	# campaign, messages, contacts, converted, conversions, revenue
	tail -n +2 "$BENCH_TMP/report-nudge.csv" | tr -d '\r' |
	    cut -d, -f1-3,12,14,15 | sort >"$BENCH_TMP/report-nudge.cut"
	sort "$BENCH_TMP/report-sql.csv" >"$BENCH_TMP/report-sql.cut"
	emit report-nudge rows "$(wc -l <"$BENCH_TMP/report-nudge.cut")"
	emit report-nudge conversions "$(awk -F, '{ n += $5 } END { print n + 0 }' "$BENCH_TMP/report-nudge.cut")"
	if cmp -s "$BENCH_TMP/report-nudge.cut" "$BENCH_TMP/report-sql.cut"; then
		emit report-same figures yes
	else
		emit report-same figures no
		say "WARNING: nudge report and report.sql differ: diff $BENCH_TMP/report-sql.cut $BENCH_TMP/report-nudge.cut"
	fi
}

# --- (d) process start ---------------------------------------------------

part_startup() {
	d=$BENCH_TMP/startup
	mkdir -p "$d"
	say "startup: median of $STARTN runs each"
	printf 'int main(void) { return 0; }\n' >"$d/empty.c"
	cc -O2 -o "$d/empty" "$d/empty.c" || die "cannot compile $d/empty.c"
	emit start-c-empty ms "$(qtime "$STARTN" 10 "$d/empty" | awk '{ printf "%.2f\n", $1 * 1000 }')"
	emit start-sqlite3-cli ms "$(qtime "$STARTN" 10 sqlite3 :memory: 'SELECT 1' | awk '{ printf "%.2f\n", $1 * 1000 }')"
	if have event "the nudge-event start-up figure"; then
		emit start-nudge-event-help ms "$(qtime "$STARTN" 10 "$BIN/nudge-event" --help | awk '{ printf "%.2f\n", $1 * 1000 }')"
	fi
	if have segment "the nudge-segment start-up figure" &&
	    have import-list "the nudge-segment start-up figure (its tiny store)"; then
		tiny=$d/tiny.db
		rmdb "$tiny"
		printf 'email,first_name,lists\na@example.com,A,one\nb@example.com,B,two\n' >"$d/tiny.csv"
		"$BIN/nudge-import-list" --db "$tiny" --config "$CFG" "$d/tiny.csv" 2>>"$LOG" ||
			say "nudge import-list of $d/tiny.csv failed"
		"$BIN/nudge-segment" --db "$tiny" --count 'list "none"' >/dev/null 2>>"$LOG" ||
			say "nudge segment --count 'list \"none\"' exits non-zero"
		emit start-nudge-segment ms "$(qtime "$STARTN" 10 "$BIN/nudge-segment" --db "$tiny" --count 'list "none"' | awk '{ printf "%.2f\n", $1 * 1000 }')"
	fi
	for c in segment event import-list; do
		[ -x "$BIN/nudge-$c" ] || continue
		if ldd "$BIN/nudge-$c" 2>/dev/null | grep -q libcurl; then
			emit link-nudge-$c libcurl yes
			say "WARNING: nudge-$c links libcurl (~9 ms at every start)"
		else
			emit link-nudge-$c libcurl no
		fi
	done
}

# --- (e) send ------------------------------------------------------------

# free_port: a TCP port free on 127.0.0.1 just now.
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (5 s at most).
wait_port() {
	"$PY" - "$1" <<'PYEOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PYEOF
}

# ticks PID: the user + system clock ticks a live process has used.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# send_run NAME CMD...: runs CMD (stdin from $d/ids) $RUNS times into the
# sink and emits NAME msgs_per_s (median), and the CPU of the client and
# of the sink (100 = one core) and the client's messages per CPU-second
# (user + system, its children's too: the figure a loaded machine does
# not bend) of the median run; each run with a fresh copy of the store
# ($d/run.db) and a fresh campaign.
send_run() {
	_name=$1
	shift
	: >"$d/runs"
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		rmdb "$d/run.db"
		cp "$d/base.db" "$d/run.db"
		_s0=$(ticks "$SINK")
		_t0=$(ns)
		/usr/bin/time -f '%U %S' -o "$d/cpu" "$@" <"$d/ids" >/dev/null 2>>"$LOG" ||
			{ say "send: $_name failed (see $LOG)"; return 1; }
		_t1=$(ns)
		_s1=$(ticks "$SINK")
		_w=$(secs "$_t0" "$_t1")
		printf '%s %s %s %s\n' "$(rate "$NS" "$_w")" \
		    "$(awk -v w="$_w" '{ printf "%d", 100 * ($1 + $2) / w }' "$d/cpu")" \
		    "$(awk -v a="$_s0" -v b="$_s1" -v w="$_w" -v hz="$(getconf CLK_TCK)" \
		    'BEGIN { printf "%d", 100 * (b - a) / hz / w }')" \
		    "$(awk -v n="$NS" '{ c = $1 + $2; printf "%d", (c > 0 ? n / c : 0) }' "$d/cpu")" >>"$d/runs"
		_i=$((_i + 1))
	done
	# the median run by rate, with its CPU figures
	sort -n "$d/runs" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)' >"$d/med"
	emit "$_name" msgs_per_s "$(cut -d' ' -f1 "$d/med")"
	emit "$_name" cpu_pct_client "$(cut -d' ' -f2 "$d/med")"
	emit "$_name" cpu_pct_sink "$(cut -d' ' -f3 "$d/med")"
	emit "$_name" msgs_per_cpu_s "$(cut -d' ' -f4 "$d/med")"
}

# check_ledger: every message of the last run is in the ledger as sent,
# with its sent event.
check_ledger() {
	_m=$(sqlite3 "$d/run.db" "SELECT count(*) FROM messages WHERE status = 'sent'")
	_e=$(sqlite3 "$d/run.db" "SELECT count(*) FROM events WHERE type = 'sent'")
	[ "$_m" = "$NS" ] && [ "$_e" = "$NS" ] ||
		die "send: the ledger holds $_m sent messages and $_e sent events, not $NS"
}

part_send() {
	have send "the send part" && have import-list "the send part" &&
	    have segment "the send part" || return 0
	if [ ! -x /usr/sbin/smtp-sink ]; then
		say "skipped: send (no /usr/sbin/smtp-sink: apt-get install postfix)"
		return 0
	fi
	d=$BENCH_TMP/send
	rm -rf "$d"
	mkdir -p "$d"
	awk -v n="$NS" 'BEGIN { print "email,first_name,last_name,city"
		for (i = 0; i < n; i++)
			printf "contact%d@example.test,Dana%d,Levi,Haifa\n", i, i }' >"$d/contacts.csv"
	"$BIN/nudge-import-list" --db "$d/base.db" --config "$CFG" --list bench \
	    "$d/contacts.csv" 2>>"$LOG" || die "send: the import failed"
	"$BIN/nudge-segment" --db "$d/base.db" 'list "bench"' >"$d/ids" ||
		die "send: the segment failed"
	tpl=$BENCH/mail.tmpl
	nudge="$BIN/nudge-send --db $d/run.db --campaign bench --template $tpl"

	say "send: $NS messages, rendering only (--dry-run)"
	cp "$d/base.db" "$d/run.db"
	: >"$d/dry"
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		timed_run t $nudge --dry-run <"$d/ids" ||
			die "send --dry-run failed (see $LOG)"
		rate "$NS" "$t" >>"$d/dry"
		_i=$((_i + 1))
	done
	emit send-nudge-dryrun msgs_per_s "$(median <"$d/dry")"

	# the same with blocks (nudge-template(5)): an order confirmation
	# reading each contact's latest purchase (3 items, an #each in both
	# parts), an #if on the purchases, :money and :date
	say "send: $NS messages with blocks and event data, rendering only (--dry-run)"
	awk -v n="$NS" 'BEGIN { for (i = 0; i < n; i++)
		printf "{\"contact\":\"contact%d@example.test\",\"type\":\"purchase\",\"at\":\"2026-11-01T10:00:00Z\",\"order\":\"A-%d\",\"total\":%d,\"currency\":\"ILS\",\"items\":[{\"name\":\"Wool coat\",\"quantity\":1,\"price\":489},{\"name\":\"Merino scarf\",\"quantity\":2,\"price\":129},{\"name\":\"Knitted beanie\",\"quantity\":1,\"price\":59}]}\n", i, i, (i % 2) ? 806 : 59 }' >"$d/events.jsonl"
	cp "$d/base.db" "$d/blocks.db"
	"$BIN/nudge-event" import --db "$d/blocks.db" "$d/events.jsonl" 2>>"$LOG" ||
		die "send: the purchase import failed"
	: >"$d/dryb"
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		timed_run t "$BIN/nudge-send" --db "$d/blocks.db" --campaign bench \
		    --template "$BENCH/mail-blocks.tmpl" --dry-run <"$d/ids" ||
			die "send --dry-run with blocks failed (see $LOG)"
		rate "$NS" "$t" >>"$d/dryb"
		_i=$((_i + 1))
	done
	emit send-nudge-dryrun-blocks msgs_per_s "$(median <"$d/dryb")"

	# the plain template naming a computed field (nudge-config(5)
	# computed:), over the same purchases: against send-nudge-dryrun
	say "send: $NS messages with a computed field, rendering only (--dry-run)"
	{ cat "$CFG"; printf 'computed:\n  total_spent: "sum of total over purchase"\n'; } >"$d/computed.yaml"
	{ cat "$BENCH/mail.tmpl"; printf 'You spent {{total_spent}} with us.\n'; } >"$d/computed.tmpl"
	: >"$d/dryc"
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		timed_run t "$BIN/nudge-send" --db "$d/blocks.db" --config "$d/computed.yaml" \
		    --campaign bench --template "$d/computed.tmpl" --dry-run <"$d/ids" ||
			die "send --dry-run with a computed field failed (see $LOG)"
		rate "$NS" "$t" >>"$d/dryc"
		_i=$((_i + 1))
	done
	emit send-nudge-dryrun-computed msgs_per_s "$(median <"$d/dryc")"

	# a journey started by each purchase (entry: on purchase): NS
	# instances, STEP#EVENT lines from trigger, the order template
	# reading each line's own event (event.*) instead of the latest
	say "send: $NS journey instances with their entry events, rendering only (--dry-run)"
	sed 's/latest\.purchase\./event./g' "$BENCH/mail-blocks.tmpl" >"$d/event.tmpl"
	printf 'name: bench-journey\nentry: on purchase\nsteps:\n  - {id: thanks, channel: email, template: %s}\n' \
	    "$d/event.tmpl" >"$d/journey.yaml"
	"$BIN/nudge-trigger" --db "$d/blocks.db" --config "$CFG" --now 2026-11-01T12:00:00Z \
	    "$d/journey.yaml" >"$d/lines" 2>>"$LOG" || die "send: the journey's trigger failed"
	[ "$(wc -l <"$d/lines")" -eq "$NS" ] || die "send: the journey's trigger gave $(wc -l <"$d/lines") lines, not $NS"
	: >"$d/dryi"
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		timed_run t "$BIN/nudge-send" --db "$d/blocks.db" --config "$CFG" \
		    --dry-run <"$d/lines" ||
			die "send --dry-run of journey instances failed (see $LOG)"
		rate "$NS" "$t" >>"$d/dryi"
		_i=$((_i + 1))
	done
	emit send-nudge-dryrun-instances msgs_per_s "$(median <"$d/dryi")"
	rmdb "$d/blocks.db"

	# the message the peers send: one nudge wrote, so sizes are the same
	rmdb "$d/run.db"
	cp "$d/base.db" "$d/run.db"
	head -n 1 "$d/ids" | $nudge --transport "file://$d/one" >/dev/null 2>>"$LOG" ||
		die "send: the file transport failed"
	cp "$d"/one/new/*.eml "$d/one.eml"
	emit send-message bytes "$(wc -c <"$d/one.eml" | tr -d ' ')"

	port=$(free_port)
	if [ "$(id -u)" = 0 ]; then sinkuser="-u nobody"; else sinkuser=""; fi
	/usr/sbin/smtp-sink -h sink.test $sinkuser "127.0.0.1:$port" 256 \
	    >/dev/null 2>>"$LOG" &
	SINK=$!
	wait_port "$port" || { kill "$SINK"; die "send: smtp-sink did not start"; }
	say "send: $NS messages of $(wc -c <"$d/one.eml") bytes into smtp-sink on port $port, $RUNS runs each"
	url=smtp://127.0.0.1:$port
	for np in 1 4 8; do
		send_run "send-nudge-$np" $nudge --transport "$url" --parallel "$np" &&
		    check_ledger
	done
	q=$((NS / 4))
	send_run send-smtplib-1 "$PY" "$BENCH/smtp-peer.py" "$port" "$NS" 0 "$d/one.eml"
	send_run send-smtplib-4 sh -c 'for k in 0 1 2 3; do
		"$1" "$2" "$3" "$4" $((k * $4)) "$5" & done; wait' sh \
	    "$PY" "$BENCH/smtp-peer.py" "$port" "$q" "$d/one.eml"
	if command -v curl >/dev/null 2>&1; then
		awk -v n="$NS" -v url="$url" -v f="$d/one.eml" 'BEGIN {
			for (i = 0; i < n; i++)
				printf "%surl = \"%s\"\nmail-from = \"news@acme-shop.test\"\nmail-rcpt = \"contact%d@example.test\"\nupload-file = \"%s\"\n", i ? "next\n" : "", url, i, f }' >"$d/curl.cfg"
		send_run send-curl-parallel4 curl -sS --parallel --parallel-max 4 -K "$d/curl.cfg"
	fi
	kill "$SINK"
	wait "$SINK" 2>/dev/null
}

# --- (f) trigger ---------------------------------------------------------

# trigger_campaigns DIR: the thirteen campaigns of the trigger part — the
# seven seed segments as audiences of one-step campaigns, a three-step
# waterfall, a two-step win-back with a goal, a weekly recurring message
# (gen's contacts have no push ids: the "push" steps go by email), and the
# example journeys of campaigns/ as they are: abandoned-cart (no cart
# events in gen's store: its entry query finds none), post-purchase (an
# instance per purchase of the last week) and vip (the computed field
# total_spent, TCFG).
trigger_campaigns() {
	mkdir -p "$1/t"
	cp -R "$TOP/campaigns/templates" "$1/"
	cp "$TOP/campaigns/abandoned-cart.yaml" "$TOP/campaigns/post-purchase.yaml" \
	    "$TOP/campaigns/vip.yaml" "$1/"
	printf 'Subject: hi {{first_name|there}}\nFrom: a@example.com\n\nhi\n' >"$1/t/m.txt"
	printf '\nhi {{first_name|there}}\n' >"$1/t/m.sms"
	n=1
	while [ $n -le 7 ]; do
		{
			printf 'name: bench-seg%d\naudience: >-\n  %s\n' $n "$(seg_expr $n)"
			printf 'steps:\n  - {id: s1, channel: email, template: t/m.txt}\n'
		} >"$1/seg$n.yaml"
		n=$((n + 1))
	done
	cat >"$1/waterfall.yaml" <<'YAML'
name: bench-waterfall
audience: list "vip"
goal: purchase
steps:
  - {id: push1, channel: email, template: t/m.txt}
  - {id: email1, channel: email, template: t/m.txt, after: 2d, if: not opened step "push1"}
  - {id: sms1, channel: sms, template: t/m.sms, after: 3d, fallback: true}
YAML
	cat >"$1/win-back.yaml" <<'YAML'
name: bench-win-back
audience: purchase and not purchase within 90d
goal: purchase
steps:
  - {id: email1, channel: email, template: t/m.txt}
  - {id: email2, channel: email, template: t/m.txt, after: 2d, fallback: true}
YAML
	cat >"$1/weekly.yaml" <<'YAML'
name: bench-weekly
audience: not opened within 7d
entry: every 7d
steps:
  - {id: push, channel: email, template: t/m.txt}
YAML
}

# trigger_audience NAME: the audience of campaign NAME of trigger_campaigns.
trigger_audience() {
	case $1 in
	seg[1-7]) seg_expr "${1#seg}" ;;
	waterfall) echo 'list "vip"' ;;
	win-back) echo 'purchase and not purchase within 90d' ;;
	weekly) echo 'not opened within 7d' ;;
	vip) echo 'purchase within 1d and total_spent > 500' ;;
	esac
}

# ledger_claim DB DUE TIME: records every line of DUE (trigger's output)
# as a sent ledger row, as send would have, in one sqlite3 transaction.
ledger_claim() {
	sqlite3 "$1" >/dev/null 2>>"$LOG" <<SQL
CREATE TEMP TABLE due (contact_id INTEGER, campaign TEXT, step TEXT, file TEXT);
.mode tabs
.import $2 due
BEGIN;
INSERT OR IGNORE INTO campaigns (name, created_at) SELECT DISTINCT campaign, $3 FROM due;
INSERT INTO messages (campaign_id, step, contact_id, channel, status, attempts, claimed_at, updated_at, entry_event)
  SELECT k.id, d.step, d.contact_id, 'email', 'sent', 1, $3, $3,
    CASE WHEN instr(d.step, '#') > 0 THEN CAST(substr(d.step, instr(d.step, '#') + 1) AS INTEGER) ELSE 0 END
  FROM due d JOIN campaigns k ON k.name = d.campaign;
COMMIT;
SQL
}

part_trigger() {
	have trigger "nudge trigger" || return 0
	if [ -z "${BENCH_STORE:-}" ] && [ ! -e "$STORE.ok" ]; then
		say "trigger: no store of $NC contacts and $NE events yet: building it"
		part_events
		[ -e "$STORE.ok" ] || { say "skipped: trigger (no store)"; return 0; }
	fi
	db=$BENCH_TMP/trigger.db
	dir=$BENCH_TMP/campaigns
	rm -rf "$dir"
	trigger_campaigns "$dir"
	# the example campaigns' names: cart_updated (no such events here)
	# and the computed field of vip.yaml
	TCFG=$BENCH_TMP/trigger.yaml
	{ cat "$CFG"; printf 'event_types: [purchase, cart_updated]\ncomputed:\n  total_spent: "sum of total over purchase"\n'; } >"$TCFG"
	# a copy: the ledger rows written here stay out of the shared store
	rmdb "$db"
	sqlite3 -readonly "$STORE" ".backup '$db'" 2>>"$LOG" || { say "trigger: cannot copy $STORE"; return 0; }
	now=$(date -u -d "${NOW%Z}" +%s)
	set -- "$BIN/nudge-trigger" --db "$db" --config "$TCFG" "$dir"/*.yaml
	say "trigger: 13 campaigns on $NC contacts and $NE events"
	"$@" --now "$NOW" >"$BENCH_TMP/due" 2>>"$LOG" || { say "nudge trigger failed (see $LOG)"; return 0; }
	timed_run t "$@" --now "$NOW"
	emit trigger-first seconds "$t"
	emit trigger-first due "$(wc -l <"$BENCH_TMP/due")"
	say "trigger: $(cut -f2 "$BENCH_TMP/due" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
	ledger_claim "$db" "$BENCH_TMP/due" "$now"
	"$@" --now "$NOW" >"$BENCH_TMP/due2" 2>>"$LOG"
	emit trigger-idle due "$(wc -l <"$BENCH_TMP/due2")"
	emit trigger-idle seconds "$(qtime "$QRUNS" 1 "$@" --now "$NOW")"
	# per campaign, nothing due, beside its audience alone (nudge
	# segment --count): what trigger adds to the audience's own query
	for f in "$dir"/*.yaml; do
		c=$(basename "$f" .yaml)
		emit "trigger-idle-$c" seconds "$(qtime 3 1 "$BIN/nudge-trigger" --db "$db" --config "$TCFG" --now "$NOW" "$f")"
		a=$(trigger_audience "$c")
		[ -n "$a" ] || continue  # a journey of events: no audience
		emit "audience-$c" seconds "$(qtime 3 1 "$BIN/nudge-segment" --db "$db" --config "$TCFG" --now "$NOW" --count "$a")"
	done
	later=$(date -u -d "@$((now + 2 * 86400 + 60))" +%Y-%m-%dT%H:%M:%SZ)
	"$@" --now "$later" >"$BENCH_TMP/due3" 2>>"$LOG"
	emit trigger-later due "$(wc -l <"$BENCH_TMP/due3")"
	emit trigger-later seconds "$(qtime "$QRUNS" 1 "$@" --now "$later")"
	# the peer: the seven seed audiences alone, hand-written, in sqlite3
	cat "$BENCH"/sql/seg[1-7].sql >"$BENCH_TMP/audiences.sql"
	emit trigger-peer-audiences seconds "$(qtime "$QRUNS" 1 sqlite3 -readonly "$db" ".read $BENCH_TMP/audiences.sql")"
}

# --- (g) track: tracking through a web server ----------------------------

# part_track: events/s recorded by nudge-track as a CGI program under a
# real lighttpd on loopback, driven by wrk; the peers in the same run are
# the same lighttpd serving the 43-byte GIF as a static file and running a
# CGI program that only prints it (cgi-floor.c: the cost of a fork and
# exec per request, which no CGI program can beat); then clicks through
# nudge-track's FastCGI mode (mod_fastcgi, two processes).  TRACK_SECS: seconds
# of wrk per URL (10).
part_track() {
	d=$BENCH_TMP/track
	secs=${TRACK_SECS:-10}
	mkdir -p "$d/www"
	command -v wrk >/dev/null || { say "skipped: track (wrk is not installed)"; return; }
	lh=$(command -v lighttpd || echo /usr/sbin/lighttpd)
	[ -x "$lh" ] || { say "skipped: track (lighttpd is not installed)"; return; }
	have track "the track part" && have event "the track part (its store)" || return
	cc -O2 -o "$d/www/zero" "$BENCH/cgi-floor.c" || die "cannot compile cgi-floor.c"
	"$d/www/zero" | tail -c 43 >"$d/www/pixel.gif"
	ln -sf "$BIN/nudge-track" "$d/www/t"
	db=$d/track.db
	rmdb "$db"
	printf 'email\n' >"$d/c.csv"
	awk 'BEGIN { for (i = 0; i < 1000; i++) printf "c%d@example.com\n", i }' >>"$d/c.csv"
	"$BIN/nudge-import-list" --db "$db" --config "$CFG" "$d/c.csv" 2>>"$LOG" ||
		die "import for track failed"
	"$BIN/nudge-event" add --db "$db" --config "$CFG" --contact 1 --type sent \
	    --channel email --campaign bench 2>>"$LOG" >/dev/null || die "event add failed"
	port=$(free_port)
	tcfg=$d/config.yaml
	printf 'tracking:\n  base_url: http://127.0.0.1:%s/t\n  secret: bench-secret\n' "$port" >"$tcfg"
	chmod 600 "$tcfg"
	{
		echo 'server.modules = ( "mod_setenv", "mod_cgi" )'
		echo "server.document-root = \"$d/www\""
		echo 'server.bind = "127.0.0.1"'
		echo "server.port = $port"
		echo "server.errorlog = \"$d/lighttpd.err\""
		echo 'server.max-worker = 0'
		echo '$HTTP["url"] =~ "^/(t|zero)(/|$)" { cgi.assign = ( "" => "" ) }'
		echo 'server.modules += ( "mod_fastcgi" )'
		echo "fastcgi.server = ( \"/f\" => (( \"socket\" => \"$d/fcgi.sock\", \"bin-path\" => \"$BIN/nudge-track\", \"max-procs\" => 2, \"check-local\" => \"disable\", \"bin-environment\" => ( \"NUDGE_CONFIG\" => \"$tcfg\", \"NUDGE_DB\" => \"$db\" ) )) )"
		echo "setenv.add-environment = ( \"NUDGE_CONFIG\" => \"$tcfg\", \"NUDGE_DB\" => \"$db\" )"
	} >"$d/lighttpd.conf"
	"$lh" -D -f "$d/lighttpd.conf" >>"$LOG" 2>&1 </dev/null &
	lpid=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/pixel.gif"; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			kill "$lpid" 2>/dev/null
			die "lighttpd did not start"
		fi
		sleep 0.05
	done
	click=$(NUDGE_CONFIG=$tcfg "$BIN/nudge-track" url --db "$db" click bench 1 https://shop.example/)
	open=$(NUDGE_CONFIG=$tcfg "$BIN/nudge-track" url --db "$db" open bench 1)
	code=$(curl -s -o /dev/null -w '%{http_code}' "$click")
	if [ "$code" != 302 ]; then
		kill "$lpid"
		die "a click answered $code, not 302"
	fi
	say "track: wrk -t2 -c8 -d${secs}s on each of 5 URLs"
	before=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT count(*) FROM events WHERE type = 'clicked'")
	track_wrk track-click "$click"
	after=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT count(*) FROM events WHERE type = 'clicked'")
	emit track-click events_recorded "$((after - before))"
	track_wrk track-open "$open"
	# the same through the FastCGI server (two processes, store kept open)
	fclick=$(echo "$click" | sed "s|:$port/t/|:$port/f/|")
	before=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT count(*) FROM events WHERE type = 'clicked'")
	track_wrk track-fcgi-click "$fclick"
	after=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT count(*) FROM events WHERE type = 'clicked'")
	emit track-fcgi-click events_recorded "$((after - before))"
	track_wrk track-cgi-floor "http://127.0.0.1:$port/zero"
	track_wrk track-static-gif "http://127.0.0.1:$port/pixel.gif"
	for c in $(pgrep -P "$lpid"); do kill "$c"; done
	kill "$lpid"
	wait "$lpid" 2>/dev/null
}

# track_wrk NAME URL: wrk on URL; emits requests/s, requests and answers
# that were not 2xx or 3xx (or socket errors).
track_wrk() {
	out=$(wrk -t2 -c8 -d"${secs}s" "$2" 2>&1)
	echo "$out" >>"$LOG"
	emit "$1" req_per_s "$(echo "$out" | awk '/^Requests\/sec/ { printf "%d\n", $2 + 0.5 }')"
	emit "$1" requests "$(echo "$out" | awk '/requests in/ { print $1 }')"
	emit "$1" errors "$(echo "$out" | awk '/Non-2xx or 3xx/ { n += $NF }
	    /Socket errors/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i }
	    END { print n + 0 }')"
}

# --- (h) sms -------------------------------------------------------------

# nudge send --channel sms (twilio profile, ledger and events written for
# every message) to nginx on loopback answering 201 at once, against a
# Python http.client keep-alive loop, curl --parallel --parallel-max 4 and
# wrk (the server's limit), all on the same nginx in the same run.
# Environment: SMS_N (messages, default 20000), SMS_PARALLEL (nudge's
# connections, default 8).
part_sms() {
	have send "the sms part" || return 0
	for tool in nginx curl wrk; do
		command -v "$tool" >/dev/null 2>&1 && continue
		say "skipped: the sms part ($tool is not installed: nginx-light, curl, wrk)"
		return 0
	done
	n=${SMS_N:-20000}
	d=$BENCH_TMP/sms
	rm -rf "$d" && mkdir -p "$d/nginx" || die "sms: cannot make $d"
	port=$(free_port)
	sed -e "s|@DIR@|$d/nginx|g" -e "s|@PORT@|$port|g" \
	    "$BENCH/nginx-sms.conf" >"$d/nginx/nginx.conf"
	nginx -p "$d/nginx" -c "$d/nginx/nginx.conf" 2>>"$LOG" &
	ngx=$!
	i=0
	until curl -s -o /dev/null -d x "http://127.0.0.1:$port/"; do
		i=$((i + 1))
		[ "$i" -gt 100 ] && { kill "$ngx"; die "sms: nginx did not start"; }
		sleep 0.05
	done
	# the store: n contacts with phones (untimed)
	awk -v n="$n" 'BEGIN { print "phone,first_name,lists"
		for (i = 1; i <= n; i++) printf "+97250%07d,Name%d,bench\n", i, i }' \
	    >"$d/contacts.csv"
	export NUDGE_DB="$d/sms.db" BENCH_TOKEN=authtoken
	"$BIN/nudge-import-list" -k phone "$d/contacts.csv" 2>>"$LOG" >&2 ||
	    { kill "$ngx"; die "sms: import failed"; }
	"$BIN/nudge-segment" 'list "bench"' >"$d/ids"
	cat >"$d/nudge.yaml" <<-EOF
	channels:
	  sms:
	    provider: $TOP/samples/providers/twilio.yaml
	    url: http://127.0.0.1:$port
	    user: AC0123456789
	    secret_env: BENCH_TOKEN
	    sender: {default: "+15005550006"}
	    parallel: ${SMS_PARALLEL:-8}
	    rate: 1000000/s
	EOF
	printf '\nAutumn sale: 20%% off everything until Sunday, {{first_name}}. Code AUTUMN20. Reply STOP to opt out\n' >"$d/promo.sms"
	url="http://127.0.0.1:$port/2010-04-01/Accounts/AC0123456789/Messages.json"
	awk -v n="$n" -v u="$url" 'BEGIN { for (i = 1; i <= n; i++) {
		printf "url = \"%s\"\nrequest = \"POST\"\n", u
		printf "data = \"To=%%2B97250%07d&From=%%2B15005550006&Body=Autumn+sale%%3A+20%%25+off+everything+until+Sunday%%2C+Name%d.+Code+AUTUMN20.+Reply+STOP+to+opt+out\"\n", i, i
		print "header = \"Authorization: Basic QUMwMTIzNDU2Nzg5OmF1dGh0b2tlbg==\""
		print "output = \"/dev/null\""
		if (i < n) print "next" } }' >"$d/curl.cfg"
	for r in $(seq "$RUNS"); do
		say "sms: run $r of $RUNS"
		if timed_run t "$BIN/nudge-send" --config "$d/nudge.yaml" \
		    --channel sms -c "bench-$r" -t "$d/promo.sms" <"$d/ids"; then
			rate "$n" "$t" >>"$d/nudge.r"
		else
			say "sms: nudge send failed (see $LOG)"
		fi
		timed_run t $PY "$BENCH/sms-python.py" "$port" "$n" &&
		    rate "$n" "$t" >>"$d/python.r"
		timed_run t curl --no-progress-meter --parallel --parallel-max 4 \
		    -K "$d/curl.cfg" && rate "$n" "$t" >>"$d/curl.r"
	done
	sent=$(sqlite3 "$d/sms.db" "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'bench-1' AND m.status = 'sent'")
	evs=$(sqlite3 "$d/sms.db" "SELECT count(*) FROM events e JOIN campaigns c ON c.id = e.campaign_id WHERE c.name = 'bench-1' AND e.type = 'sent'")
	wrk -t2 -c64 -d5s -s "$BENCH/sms-post.lua" "$url" >"$d/wrk.out" 2>&1
	kill "$ngx" 2>/dev/null
	wait "$ngx" 2>/dev/null
	unset NUDGE_DB
	[ -s "$d/nudge.r" ] && emit sms-nudge req_per_s "$(median <"$d/nudge.r")"
	emit sms-nudge ledger_sent "$sent"
	emit sms-nudge sent_events "$evs"
	[ -s "$d/python.r" ] && emit sms-python-keepalive req_per_s "$(median <"$d/python.r")"
	[ -s "$d/curl.r" ] && emit sms-curl-parallel4 req_per_s "$(median <"$d/curl.r")"
	emit sms-wrk req_per_s "$(awk '/Requests\/sec/ { printf "%d", $2 }' "$d/wrk.out")"
}

# --- (i) predict ---------------------------------------------------------

# nudge predict fitting BG/NBD and Gamma-Gamma on NC contacts and NE
# events, of which the purchases predict-gen draws from the models
# themselves (some 3.5 a contact), the rest opens.  Its own store,
# built once and reused.
part_predict() {
	have predict "nudge predict" || return 0
	[ -x "$BENCH/predict-gen" ] || { say "skipped: predict ($BENCH/predict-gen is not built)"; return 0; }
	pstore=$BENCH_TMP/store-predict-$NC-$NE.db
	if [ ! -f "$pstore.ok" ]; then
		rmdb "$pstore"
		say "predict: generating $NC contacts, $NE events"
		"$BIN/nudge-event" import --create --db "$pstore" --config "$CFG" /dev/null 2>>"$LOG" &&
		"$BENCH/predict-gen" "$pstore" "$NC" "$NE" || { say "predict-gen failed"; return 0; }
		touch "$pstore.ok"
	fi
	for i in $(seq "$RUNS"); do
		timed_run t rss_run "$BENCH_TMP/rss" "$BIN/nudge-predict" \
		    --db "$pstore" --config "$CFG" --now 2027-01-01 || {
			say "nudge predict failed (see $LOG)"; return 0; }
		echo "$t"
	done | median >"$BENCH_TMP/predict.s"
	emit predict-nudge seconds "$(cat "$BENCH_TMP/predict.s")"
	emit predict-nudge peak_rss_mb "$(tail -n 1 "$BENCH_TMP/rss" | awk '{ printf "%.1f\n", $1 / 1024 }')"

	# each contact's best hour from the store's opens (predict-gen's
	# carry no proxy: all count)
	for i in $(seq "$RUNS"); do
		timed_run t rss_run "$BENCH_TMP/rss" "$BIN/nudge-predict" hours \
		    --db "$pstore" --config "$CFG" --now 2027-01-01 || {
			say "nudge predict hours failed (see $LOG)"; return 0; }
		echo "$t"
	done | median >"$BENCH_TMP/predict-hours.s"
	emit predict-hours seconds "$(cat "$BENCH_TMP/predict-hours.s")"
	emit predict-hours peak_rss_mb "$(tail -n 1 "$BENCH_TMP/rss" | awk '{ printf "%.1f\n", $1 / 1024 }')"

	# NS messages rendered (--dry-run) from the bench template, and from
	# the same naming five predictions: what the predictions add
	have send "the predictions' send" || return 0
	d=$BENCH_TMP/predict-send
	rm -rf "$d"
	mkdir -p "$d"
	sqlite3 "$pstore" "INSERT OR IGNORE INTO attr_keys (key) VALUES ('city');
		SELECT contact_id FROM predictions LIMIT $NS" >"$d/ids"
	{ cat "$BENCH/mail.tmpl"; printf 'You are {{churn_risk}} likely to be gone; your year with us: {{clv_365d:money}} ({{p_alive}}, {{expected_purchases_90d}}, {{expected_order_value}}).\n'; } >"$d/pred.tmpl"
	: >"$d/plain"
	: >"$d/pred"
	for i in $(seq "$RUNS"); do
		for k in plain pred; do
			tpl=$d/pred.tmpl
			[ "$k" = plain ] && tpl=$BENCH/mail.tmpl
			timed_run t "$BIN/nudge-send" --db "$pstore" --config "$CFG" \
			    --campaign bench --template "$tpl" --dry-run \
			    --now 2027-01-01 <"$d/ids" || {
				say "send --dry-run with predictions failed (see $LOG)"; return 0; }
			rate "$NS" "$t" >>"$d/$k"
		done
	done
	emit send-predict-plain msgs_per_s "$(median <"$d/plain")"
	emit send-predict-fields msgs_per_s "$(median <"$d/pred")"
}

# --- summary -------------------------------------------------------------

summary() {
	awk -F'\t' '
	{ v[$1 "/" $2] = $3 }
	function has(k) { return (k in v) && v[k] != "" && v[k] != "nan" }
	function x(a, b) { return sprintf("%.2fx", a / b) }
	END {
		print "#"
		print "# summary (targets in brackets)"
		if (has("import-nudge/rows_per_s")) {
			n = v["import-nudge/rows_per_s"]
			printf "# import: nudge %d rows/s = %s the bare sqlite3 .import [>= 0.5x], %s import-typical.py [>= 3x]; peak RSS %s MB [< 64]; re-import %d rows/s\n",
			    n, x(n, v["import-sqlite3-bare/rows_per_s"]),
			    x(n, v["import-python-typical/rows_per_s"]),
			    v["import-nudge/peak_rss_mb"], v["reimport-nudge/rows_per_s"]
		} else if (has("import-python-typical/rows_per_s"))
			printf "# import: peers only: bare .import %d rows/s, import-typical.py %d rows/s (%s)\n",
			    v["import-sqlite3-bare/rows_per_s"],
			    v["import-python-typical/rows_per_s"],
			    x(v["import-sqlite3-bare/rows_per_s"], v["import-python-typical/rows_per_s"])
		if (has("events-nudge/events_per_s"))
			printf "# events: nudge event import %d events/s, peak RSS %s MB\n",
			    v["events-nudge/events_per_s"], v["events-nudge/peak_rss_mb"]
		for (i = 1; i <= 8; i++) {
			s = "seg" i
			if (!has(s "-sql/seconds"))
				continue
			if (has(s "-nudge/seconds")) {
				a = v[s "-nudge/seconds"]; b = v[s "-sql/seconds"]
				miss = (a > 1.5 * b || a >= 1) ? "  MISSED" : ""
				if (v[s "-nudge/rows"] != v[s "-sql/rows"])
					rows = sprintf("  ROWS DIFFER: nudge %d, SQL %d",
					    v[s "-nudge/rows"], v[s "-sql/rows"])
				else
					rows = sprintf("  (%d rows)", v[s "-sql/rows"])
				printf("# %s: nudge %.3f s, SQL %.3f s = %s [<= 1.5x, < 1 s]%s%s\n",
				    s, a, b, x(a, b), miss, rows)
			} else
				printf "# %s: SQL %.3f s (%d rows)\n", s,
				    v[s "-sql/seconds"], v[s "-sql/rows"]
		}
		if (has("report-nudge/seconds"))
			printf "# report, all campaigns, last-touch: nudge %.3f s [< 2 s]%s, SQL %.3f s = %s; %d campaigns, %d conversions credited, figures %s\n",
			    v["report-nudge/seconds"],
			    (v["report-nudge/seconds"] >= 2 ? "  MISSED" : ""),
			    v["report-sql/seconds"],
			    x(v["report-nudge/seconds"], v["report-sql/seconds"]),
			    v["report-nudge/rows"], v["report-nudge/conversions"],
			    v["report-same/figures"] == "yes" ? "the same" : "DIFFER"
		if (has("start-c-empty/ms")) {
			printf "# startup: C empty %s ms, sqlite3 CLI %s ms", v["start-c-empty/ms"], v["start-sqlite3-cli/ms"]
			if (has("start-nudge-segment/ms"))
				printf ", nudge segment --count %s ms", v["start-nudge-segment/ms"]
			if (has("start-nudge-event-help/ms"))
				printf ", nudge-event --help %s ms", v["start-nudge-event-help/ms"]
			printf " [< 3 ms]\n"
		}
		if (has("send-nudge-4/msgs_per_s") && has("send-smtplib-4/msgs_per_s")) {
			b = v["send-nudge-1/msgs_per_s"]
			for (p = 4; p <= 8; p += 4)
				if (v["send-nudge-" p "/msgs_per_s"] > b)
					b = v["send-nudge-" p "/msgs_per_s"]
			printf "# send into smtp-sink (%d B messages): nudge %d msgs/s with 1 connection, %d with 4, %d with 8; smtplib %d (1 connection), %d (4 processes); curl --parallel 4: %s\n",
			    v["send-message/bytes"], v["send-nudge-1/msgs_per_s"],
			    v["send-nudge-4/msgs_per_s"], v["send-nudge-8/msgs_per_s"],
			    v["send-smtplib-1/msgs_per_s"], v["send-smtplib-4/msgs_per_s"],
			    has("send-curl-parallel4/msgs_per_s") ? v["send-curl-parallel4/msgs_per_s"] : "-"
			printf "# send: best nudge %d msgs/s = %s smtplib 4 processes [>= 1.5x], %s smtplib 1 connection [>= 5x]; 1 connection each: %s\n",
			    b, x(b, v["send-smtplib-4/msgs_per_s"]), x(b, v["send-smtplib-1/msgs_per_s"]),
			    x(v["send-nudge-1/msgs_per_s"], v["send-smtplib-1/msgs_per_s"])
			printf "# send, messages per CPU-second of the client: nudge %d (1 connection), %d (4), %d (8); smtplib %d (1 connection), %d (4 processes); curl --parallel 4: %s\n",
			    v["send-nudge-1/msgs_per_cpu_s"], v["send-nudge-4/msgs_per_cpu_s"],
			    v["send-nudge-8/msgs_per_cpu_s"], v["send-smtplib-1/msgs_per_cpu_s"],
			    v["send-smtplib-4/msgs_per_cpu_s"],
			    has("send-curl-parallel4/msgs_per_cpu_s") ? v["send-curl-parallel4/msgs_per_cpu_s"] : "-"
		}
		if (has("send-nudge-dryrun/msgs_per_s"))
			printf "# send --dry-run (render and build): %d msgs/s [>= 50000]\n", v["send-nudge-dryrun/msgs_per_s"]
		# ratios to the plain figure of this same run
		p = v["send-nudge-dryrun/msgs_per_s"]
		if (has("send-nudge-dryrun-blocks/msgs_per_s"))
			printf "# send --dry-run with blocks and event data: %d msgs/s = %.2f of plain\n", v["send-nudge-dryrun-blocks/msgs_per_s"], v["send-nudge-dryrun-blocks/msgs_per_s"] / p
		if (has("send-nudge-dryrun-computed/msgs_per_s"))
			printf "# send --dry-run with a computed field: %d msgs/s = %.2f of plain [>= 0.80]%s\n", v["send-nudge-dryrun-computed/msgs_per_s"], v["send-nudge-dryrun-computed/msgs_per_s"] / p, (v["send-nudge-dryrun-computed/msgs_per_s"] < 0.8 * p ? "  MISSED" : "")
		if (has("send-nudge-dryrun-instances/msgs_per_s"))
			printf "# send --dry-run of journey instances (STEP#EVENT lines, event.*): %d msgs/s = %.2f of plain\n", v["send-nudge-dryrun-instances/msgs_per_s"], v["send-nudge-dryrun-instances/msgs_per_s"] / p
		if (has("trigger-idle/seconds"))
			printf "# trigger, 13 campaigns (3 of them campaigns/ examples): nothing due %.3f s [< 2 s]%s; first run %.3f s (%d due); two days later %.3f s (%d due); the 7 seed audiences alone in sqlite3 %.3f s\n",
			    v["trigger-idle/seconds"], (v["trigger-idle/seconds"] >= 2 ? "  MISSED" : ""),
			    v["trigger-first/seconds"], v["trigger-first/due"],
			    v["trigger-later/seconds"], v["trigger-later/due"],
			    v["trigger-peer-audiences/seconds"]
		ts = 0; as = 0; line = ""
		for (k in v)
			if (k ~ /^trigger-idle-.*\/seconds$/) {
				c = substr(k, 14, index(k, "/") - 14)
				ts += v[k]; as += v["audience-" c "/seconds"]
				line = line sprintf(" %s %.2f/%.2f", c, v[k], v["audience-" c "/seconds"])
			}
		if (line != "")
			printf "# trigger, nothing due, per campaign (trigger/its audience alone, nudge segment --count): sum %.2f/%.2f s;%s\n", ts, as, line
		for (k in v)
			if (k ~ /^link-/)
				l = l " " substr(k, 6, index(k, "/") - 6) "=" v[k]
		if (l != "")
			printf "# links libcurl [no]:%s\n", l
		if (has("track-click/req_per_s"))
			printf "# track: clicks %d/s (%d requests, %d events recorded, %d errors), opens %d/s; peers: CGI floor %d/s, static GIF %d/s; clicks = %s the CGI floor\n",
			    v["track-click/req_per_s"], v["track-click/requests"],
			    v["track-click/events_recorded"], v["track-click/errors"],
			    v["track-open/req_per_s"], v["track-cgi-floor/req_per_s"],
			    v["track-static-gif/req_per_s"],
			    x(v["track-click/req_per_s"], v["track-cgi-floor/req_per_s"])
		if (has("track-fcgi-click/req_per_s"))
			printf "# track FastCGI: clicks %d/s (%d requests, %d events recorded, %d errors) = %s the CGI program\n",
			    v["track-fcgi-click/req_per_s"], v["track-fcgi-click/requests"],
			    v["track-fcgi-click/events_recorded"], v["track-fcgi-click/errors"],
			    x(v["track-fcgi-click/req_per_s"], v["track-click/req_per_s"])
		if (has("predict-nudge/seconds"))
			printf "# predict: nudge predict fits on %d contacts / %d events in %.1f s [< 30 s]%s, peak RSS %s MB\n",
			    nc, ne, v["predict-nudge/seconds"],
			    (v["predict-nudge/seconds"] >= 30 ? "  MISSED" : ""),
			    v["predict-nudge/peak_rss_mb"]
		if (has("predict-hours/seconds"))
			printf "# predict hours: the best hour of %d contacts from their opens in %.1f s, peak RSS %s MB\n",
			    nc, v["predict-hours/seconds"], v["predict-hours/peak_rss_mb"]
		if (has("send-predict-fields/msgs_per_s")) {
			o = v["send-predict-plain/msgs_per_s"] / v["send-predict-fields/msgs_per_s"] - 1
			printf "# predict send: five predictions in a template add %+.0f%% to send --dry-run (%d against %d msgs/s) [<= +20%%]%s\n",
			    100 * o, v["send-predict-fields/msgs_per_s"],
			    v["send-predict-plain/msgs_per_s"], (o > 0.2 ? "  MISSED" : "")
		}
		if (has("sms-nudge/req_per_s")) {
			n = v["sms-nudge/req_per_s"]
			printf "# sms: nudge send %d req/s = %s the Python keep-alive loop [>= 5x], %s curl --parallel 4 [>= 2x], %s of wrk (%d req/s) [aim 0.5]; ledger %d sent, %d sent events\n",
			    n, x(n, v["sms-python-keepalive/req_per_s"]),
			    x(n, v["sms-curl-parallel4/req_per_s"]),
			    sprintf("%.2f", n / v["sms-wrk/req_per_s"]),
			    v["sms-wrk/req_per_s"], v["sms-nudge/ledger_sent"],
			    v["sms-nudge/sent_events"]
		}
	}' nc="$NC" ne="$NE" "$RESULTS"
}

# --- main ----------------------------------------------------------------

[ $# -gt 0 ] || set -- import events segment report startup send trigger track sms predict
for p; do
	case $p in
	import|events|segment|report|startup|send|trigger|track|sms|predict) ;;
	*) die "usage: run.sh [import] [events] [segment] [report] [startup] [send] [trigger] [track] [sms] [predict]" ;;
	esac
done
{
	echo "# nudge bench $(date -u +%Y-%m-%dT%H:%M:%SZ) NC=$NC NE=$NE RUNS=$RUNS QRUNS=$QRUNS"
	echo "# $(uname -srm); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
} >"$RESULTS"
say "results also in $RESULTS; details in $LOG"
start=$(date +%s)
for p; do
	t0=$(date +%s)
	"part_$p"
	say "$p: $(($(date +%s) - t0)) s"
done
summary
say "done in $(($(date +%s) - start)) s"
