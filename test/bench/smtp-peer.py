#!/usr/bin/python3
"""smtp-peer.py PORT COUNT FIRST MESSAGE: the peer of `nudge send` in
`make bench`: sends the message file COUNT times over one persistent
smtplib connection to 127.0.0.1:PORT, to contactFIRST@example.test and
on, the way a typical Python mailing script does.  run.sh runs one of
these, or four at once, and times them; the message is read beforehand.
"""
import smtplib
import sys


def main():
    port, count, first = (int(a) for a in sys.argv[1:4])
    with open(sys.argv[4], "rb") as f:
        msg = f.read()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test") as s:
        for i in range(first, first + count):
            s.sendmail("news@acme-shop.test", [f"contact{i}@example.test"], msg)


if __name__ == "__main__":
    main()
