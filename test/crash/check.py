#!/usr/bin/python3
"""check.py DB [--smtpd DIR] [--emu DIR] --chain CAMPAIGN STEP[,STEP...] ...

Compares what the servers accepted with the ledger of DB, after a crash
loop (test/crash/loop.py).  Every message carries "ref CAMPAIGN/STEP/ID"
in its text (ID the contact id); an email is also known by its
Message-ID, which nudge derives from the ledger key.

  --smtpd DIR   test/smtpd.py's directory: DIR/accepted
  --emu DIR     test/provider-emu.py's: DIR/requests, those answered 2xx
  --chain C S1,S2,...   campaign C's steps, in order: S1 is due for every
                contact with an address on its channel, each later step
                for those whose previous step is `sent`

Prints one line per problem, then "NAME COUNT" lines, sorted:
  accepted      messages the servers accepted
  sent, failed, unknown, claimed, bounced   ledger rows by status
  twice         keys the servers accepted more than once
  no-row        accepted messages with no ledger row
  not-sent-row  accepted messages whose row says they did not leave
                (failed or bounced: a lie to the user)
  wrong-rcpt    accepted messages to another address than the contact's
  lost-sent     `sent` rows the servers never accepted
  missing       due keys with no row, or a row still `claimed`
  extra         rows for keys that were not due
"""
import hashlib
import json
import os
import re
import sqlite3
import sys
from urllib.parse import parse_qs

REF = re.compile(r"ref ([A-Za-z0-9_-]+)/([A-Za-z0-9_-]*)/([0-9]+)")
ADDR = {"email": "email", "sms": "phone", "push": "push_id"}


def msgid(cid, step, contact):
    key = "nudge-%d-%s-%d" % (cid, step, contact)
    return hashlib.sha256(key.encode()).hexdigest()[:32] + ".nudge"


def main():
    db = sys.argv[1]
    smtpd = emu = None
    chains = []
    a = sys.argv[2:]
    while a:
        if a[0] == "--smtpd":
            smtpd, a = a[1], a[2:]
        elif a[0] == "--emu":
            emu, a = a[1], a[2:]
        elif a[0] == "--chain":
            chains.append((a[1], a[2].split(",")))
            a = a[3:]
        else:
            sys.exit("check.py: unknown option " + a[0])
    con = sqlite3.connect(db)
    contacts = {r[0]: r[1:] for r in con.execute(
        "SELECT id, email, phone, push_id FROM contacts")}
    rows = {}      # (campaign, step, contact) -> (status, channel, cid)
    byid = {}      # Message-ID -> key
    names = {c for c, _ in chains}
    for name, cid, step, contact, channel, status in con.execute(
            "SELECT k.name, k.id, m.step, m.contact_id, m.channel, m.status"
            " FROM messages m JOIN campaigns k ON k.id = m.campaign_id"):
        if name not in names:
            continue   # another campaign's, not through these servers
        rows[(name, step, contact)] = (status, channel)
        byid[msgid(cid, step, contact)] = (name, step, contact)
    problems = []
    n = {k: 0 for k in ("accepted", "sent", "failed", "unknown", "claimed",
                        "bounced", "twice", "no-row", "not-sent-row",
                        "wrong-rcpt", "lost-sent", "missing", "extra")}
    seen = {}

    def accepted(key, rcpt, what):
        n["accepted"] += 1
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            n["twice"] += 1
            problems.append("twice: %s/%s/%d (%s)" % (key + (what,)))
        row = rows.get(key)
        if row is None:
            n["no-row"] += 1
            problems.append("no ledger row: %s/%s/%d (%s)" % (key + (what,)))
            return
        if row[0] not in ("sent", "unknown"):
            n["not-sent-row"] += 1
            problems.append("accepted but %s: %s/%s/%d (%s)" %
                            ((row[0],) + key + (what,)))
        c = contacts.get(key[2])
        want = c[("email", "sms", "push").index(row[1])] if c else None
        if rcpt != want:
            n["wrong-rcpt"] += 1
            problems.append("to %s, not %s: %s/%s/%d" %
                            ((rcpt, want) + key))

    if smtpd is not None and os.path.exists(os.path.join(smtpd, "accepted")):
        for line in open(os.path.join(smtpd, "accepted")):
            seq, rcpt, mid = line.rstrip("\n").split("\t")
            key = byid.get(mid)
            if key is None:
                # not a key of the ledger: find what it was from its text
                with open(os.path.join(smtpd, seq + ".eml"), "rb") as f:
                    m = REF.search(f.read().decode("utf-8", "replace"))
                key = (m.group(1), m.group(2), int(m.group(3))) if m else \
                    ("?", "?", 0)
            accepted(key, rcpt, "email " + seq)
    if emu is not None and os.path.exists(os.path.join(emu, "requests")):
        for line in open(os.path.join(emu, "requests")):
            r = json.loads(line)
            if not isinstance(r["status"], int) or r["status"] >= 300 or \
                    r.get("repeat"):
                continue
            body = r["body"]
            if r["path"].endswith("/Messages.json"):
                f = parse_qs(body)
                rcpt, text = f["To"][0], f["Body"][0]
            else:
                j = json.loads(body)
                rcpt, text = j["topic"], j["message"]
            m = REF.search(text)
            key = (m.group(1), m.group(2), int(m.group(3))) if m else \
                ("?", "?", 0)
            accepted(key, rcpt, "request %d" % r["n"])

    for key, (status, channel) in rows.items():
        n[status] += 1
        if status == "sent" and key not in seen:
            n["lost-sent"] += 1
            problems.append("sent but never accepted: %s/%s/%d" % key)
    due = set()
    for name, steps in chains:
        for i, step in enumerate(steps):
            for c in contacts:
                if i == 0 or (rows.get((name, steps[i - 1], c)) or
                              ("",))[0] == "sent":
                    due.add((name, step, c))
    for key in sorted(due):
        row = rows.get(key)
        if row is None or row[0] == "claimed":
            n["missing"] += 1
            problems.append("%s: %s/%s/%d" % ((("no row",) if row is None
                            else ("still claimed",)) + key))
    for key in rows:
        if chains and key not in due:
            n["extra"] += 1
            problems.append("not due: %s/%s/%d" % key)
    for p in problems[:50]:
        print(p)
    if len(problems) > 50:
        print("... and %d more" % (len(problems) - 50))
    for k in sorted(n):
        print(k, n[k])
    return 0


if __name__ == "__main__":
    sys.exit(main())
