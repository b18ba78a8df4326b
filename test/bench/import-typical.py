#!/usr/bin/python3
"""import-typical.py DB CONTACTS.CSV: the peer nudge import-list is measured
against.

What a competent user writes in an afternoon: the csv module, the address
lower-cased and checked with a regular expression, an executemany upsert
keyed on the email into a table with a UNIQUE email, list memberships from
the ;-separated `lists` column, one transaction, default pragmas. Prints
"rows N contacts N rejected N" to stderr.
"""
import csv
import re
import sqlite3
import sys

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    first_name TEXT,
    last_name TEXT,
    city TEXT,
    signup_date TEXT,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS list_members (
    list_id INTEGER NOT NULL REFERENCES lists (id),
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    PRIMARY KEY (list_id, contact_id)) WITHOUT ROWID;
"""

UPSERT = """
INSERT INTO contacts (email, phone, first_name, last_name, city, signup_date)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (email) DO UPDATE SET
    phone = excluded.phone,
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    city = excluded.city,
    signup_date = excluded.signup_date,
    updated_at = unixepoch()
"""

JOIN = """
INSERT OR IGNORE INTO list_members (list_id, contact_id)
SELECT ?, id FROM contacts WHERE email = ?
"""

# One address, ASCII, a dot in the domain and a TLD of letters.
VALID = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}")
CHUNK = 5000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[0])
    db, path = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(db)
    con.executescript(SCHEMA)
    list_id = {name: i for i, name in con.execute("SELECT id, name FROM lists")}
    rows = rejected = 0
    people, joins = [], []

    def flush():
        con.executemany(UPSERT, people)
        con.executemany(JOIN, joins)
        people.clear()
        joins.clear()

    with con, open(path, newline="", encoding="utf-8-sig") as f:
        for rec in csv.DictReader(f):
            rows += 1
            email = (rec.get("email") or "").strip().lower()
            if not VALID.fullmatch(email):
                rejected += 1
                continue
            people.append((email, rec.get("phone"), rec.get("first_name"),
                           rec.get("last_name"), rec.get("city"),
                           rec.get("signup_date")))
            seen = set()
            for name in (rec.get("lists") or "").split(";"):
                name = name.strip()
                if not name or name in seen:
                    continue
                seen.add(name)
                if name not in list_id:
                    list_id[name] = con.execute(
                        "INSERT INTO lists (name) VALUES (?)",
                        (name,)).lastrowid
                joins.append((list_id[name], email))
            if len(people) >= CHUNK:
                flush()
        flush()
    n = con.execute("SELECT count(*) FROM contacts").fetchone()[0]
    con.close()
    print(f"rows {rows} contacts {n} rejected {rejected}", file=sys.stderr)


if __name__ == "__main__":
    main()
