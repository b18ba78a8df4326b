#!/usr/bin/python3
"""loop.py [options] -- CMD [| CMD ...]: the crash loop of the crash tests.

Runs the pipeline CMD | CMD ... (each CMD split at blanks, no shell),
kills one of its processes with SIGKILL at a random point, and starts
the same pipeline again, KILLS times; then reruns it, as a user would,
until every stage exits 0 (and, for a pipeline, send gave back no claims
of a killed send: trigger had read what was due before they were given
back, so the next run sends them).

  --seed N        the random generator's seed (the same seed, the same
                  choices: delays, progress targets, victims)
  --kills N       how many kills
  --total N       the number of messages the pipeline has to deliver
  --progress F    a file whose line count is the number delivered so far
                  (the SMTP server's or the provider emulator's log);
                  repeatable, the counts are added
  --db F          the store: what is left to send is --total less the
                  ledger rows added since the start (a kill leaves the
                  messages it had started unknown, never to be sent)
  --stdin F       the first stage's standard input (else /dev/null)
  --dir D         where each run's stdout and stderr go (run-NNN.out,
                  run-NNN.err)

A kill comes either early (one in five: 0 to 300 ms after the start, in
the store's opening, the recovery of an earlier crash or the skipping of
what is done) or when the delivered count reaches a random target between
the current count and what is left, spread so that the kills cover the
whole send.  The victim is the last stage (send); with two stages, one
kill in ten takes the whole pipeline (trigger and send, as a reboot or a
timeout would).

Prints one line a run: "run N: killed WHO at COUNT (MODE), C claimed"
(WHO: send, or all)
(C: the ledger rows the killed process had claimed, with --db) or
"run N: exit CODES", and at the end "kills K runs R".  Exits 1 when the
reruns after the last kill do not end with every stage 0 within 20 runs.
"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time


def count(files):
    n = 0
    for f in files:
        try:
            with open(f, "rb") as fp:
                n += sum(chunk.count(b"\n") for chunk in
                         iter(lambda: fp.read(1 << 16), b""))
        except FileNotFoundError:
            pass
    return n


def ledger_rows(db):
    if not db or not os.path.exists(db):
        return 0
    con = sqlite3.connect(db, timeout=60)
    try:
        return con.execute("SELECT count(*) FROM messages").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def claimed_by(db, pid):
    """The claims a killed process left: what becomes unknown."""
    if not db:
        return 0
    con = sqlite3.connect(db, timeout=60)
    try:
        return con.execute("SELECT count(*) FROM messages WHERE status ="
                           " 'claimed' AND claimed_by LIKE ?",
                           ("%d@%%" % pid,)).fetchone()[0]
    finally:
        con.close()


def gave_back(stages, run, outdir):
    """True when run was a pipeline whose send gave back claims of a
    killed send (they never left): its trigger had read what is due
    before send's recovery gave them back, so the next run, as cron's
    next one would, sends them."""
    if len(stages) < 2:
        return False
    with open(os.path.join(outdir, "run-%03d.err" % run), "rb") as fp:
        return b"had not left: given back" in fp.read()


def start(stages, run, outdir, stdin):
    out = open(os.path.join(outdir, "run-%03d.out" % run), "wb")
    err = open(os.path.join(outdir, "run-%03d.err" % run), "wb")
    procs = []
    prev = open(stdin, "rb") if stdin else subprocess.DEVNULL
    for i, argv in enumerate(stages):
        last = i == len(stages) - 1
        p = subprocess.Popen(argv, stdin=prev,
                             stdout=out if last else subprocess.PIPE,
                             stderr=err)
        if prev is not subprocess.DEVNULL:
            prev.close()
        prev = p.stdout
        procs.append(p)
    out.close()
    err.close()
    return procs


def main():
    args = sys.argv[1:]
    opts = {"--seed": "1", "--kills": "10", "--total": "0",
            "--dir": ".", "--stdin": "", "--db": ""}
    progress = []
    while args and args[0] != "--":
        k, v = args[0], args[1]
        args = args[2:]
        if k == "--progress":
            progress.append(v)
        else:
            opts[k] = v
    stages, cur = [], []
    for w in args[1:]:
        if w == "|":
            stages.append(cur)
            cur = []
        else:
            cur.append(w)
    stages.append(cur)
    rng = random.Random(int(opts["--seed"]))
    kills, total = int(opts["--kills"]), int(opts["--total"])
    outdir = opts["--dir"]
    os.makedirs(outdir, exist_ok=True)

    rows0 = ledger_rows(opts["--db"])
    run = done = 0
    while done < kills:
        run += 1
        left = kills - done
        early = rng.random() < 0.2
        now = count(progress)
        # the next kill somewhere in the next 1/left of what is left,
        # so that the kills cover the whole send
        rest = max(0, total - (ledger_rows(opts["--db"]) - rows0))
        span = max(2, 2 * rest // (left + 1))
        target = now + rng.randint(1, span)
        delay = rng.uniform(0, 0.3)
        victim = len(stages) - 1
        if len(stages) > 1 and rng.random() < 0.1:
            victim = 0
        procs = start(stages, run, outdir, opts["--stdin"])
        t0 = time.monotonic()
        killed = None
        while killed is None:
            if all(p.poll() is not None for p in procs):
                break
            if early:
                if time.monotonic() - t0 >= delay:
                    killed = count(progress)
            elif count(progress) >= target:
                killed = count(progress)
            if killed is not None:
                # victim 0: the whole pipeline, first to last (a reboot,
                # a timeout); else the last stage alone
                for p in procs[victim:] if victim == 0 else [procs[-1]]:
                    try:
                        p.send_signal(signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            else:
                time.sleep(0.003)
        codes = [p.wait() for p in procs]
        if killed is not None and codes[-1] == -signal.SIGKILL:
            done += 1
            print("run %d: killed %s at %d (%s), %d claimed" % (
                  run, "all" if victim == 0 and len(stages) > 1 else
                  stages[-1][1] if len(stages[-1]) > 1 else stages[-1][0],
                  killed, "%.0f ms" % (delay * 1000)
                  if early else "target %d" % target,
                  claimed_by(opts["--db"], procs[-1].pid)), flush=True)
        else:
            print("run %d: exit %s (%s, at %d)" % (run, " ".join(map(str,
                  codes)), "%.0f ms" % (delay * 1000) if early else
                  "target %d" % target, count(progress)), flush=True)
            if all(c == 0 for c in codes):
                break   # it finished before the kill: nothing left
    for _ in range(20):
        run += 1
        codes = [p.wait() for p in start(stages, run, outdir, opts["--stdin"])]
        print("run %d: exit %s" % (run, " ".join(map(str, codes))),
              flush=True)
        if all(c == 0 for c in codes) and not gave_back(stages, run,
                                                          outdir):
            print("kills %d runs %d" % (done, run))
            return 0
    print("kills %d runs %d" % (done, run))
    return 1


if __name__ == "__main__":
    sys.exit(main())
