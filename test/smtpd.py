#!/usr/bin/python3
"""smtpd.py DIR [--pipelining]: a real SMTP server (Debian's python3-aiosmtpd) for the
tests, on a free port of 127.0.0.1.  Once it listens it writes the port to
DIR/port (atomically: the harness waits for that file).

Each accepted message is saved as DIR/NNNNNN.eml (the bytes received,
dot-stuffing undone) with its envelope in DIR/NNNNNN.env, one line
"from ADDR" then one "rcpt ADDR" per recipient.  Files appear atomically
(written to a .tmp name, then renamed), numbered in order of acceptance.
The reply to the end of data is "250 2.0.0 Ok: queued as NNNNNN".
Each acceptance is also appended to DIR/accepted, one line
"NNNNNN<TAB>RCPT<TAB>MESSAGE-ID" per recipient (the Message-ID without
its angle brackets, "-" when the message has none), written and flushed
before the 250 is sent: whatever the client saw accepted is in it.

Faults, chosen by the local part of a recipient (N is an optional count:
fail only the first N times this address is seen, then behave; without N,
always fail):
  tempfailN...  451 4.3.0 to RCPT TO
  bounce...     550 5.1.1 to RCPT TO (a dead address: hard)
  blocked...    554 5.7.1 to RCPT TO naming a blocklist (our fault:
                sender-side)
  full...       552 5.2.2 mailbox full to RCPT TO (soft)
  rejectN...    554 5.7.1 to the end of data (a 5xx that is not a bounce)
  dropN...      the connection is closed after the data, with no reply
With --pipelining the server offers PIPELINING (RFC 2920), which
aiosmtpd does not by default (it reads pipelined commands all the same).
Either way each MAIL FROM and each end of data adds a line to
DIR/pipeline, "PEERPORT mail grouped" when the RCPT TO and DATA after it
had arrived before its reply was written (else "mail alone"), and
"PEERPORT data next" when the next MAIL FROM had arrived with the end of
data (else "data end"): what the client sent without waiting.
AUTH PLAIN and LOGIN are offered in plaintext (loopback only): user
"nudge" with password "s3cret pass" succeeds, anything else gets 535.
Every session is counted in DIR/sessions (one line per EHLO/HELO), so a
test can tell how many connections carried its messages.
"""
import asyncio
import os
import re
import signal
import sys

from aiosmtpd.smtp import SMTP, AuthResult

FAULT = re.compile(r"^(tempfail|bounce|blocked|full|reject|drop)([0-9]*)")
MSGID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]*)>", re.I | re.M)


class Handler:
    def __init__(self, outdir):
        self.dir = outdir
        self.seq = 0
        self.seen = {}
        self.pipelining = False

    def fault(self, address, kinds):
        """The fault this recipient asks for now, or None."""
        m = FAULT.match(address.split("@")[0].lower())
        if not m or m.group(1) not in kinds:
            return None
        key = (m.group(1), address.lower())
        self.seen[key] = self.seen.get(key, 0) + 1
        if m.group(2) and self.seen[key] > int(m.group(2)):
            return None
        return m.group(1)

    def ahead(self, server):
        """What the client sent that the server has not read yet."""
        return bytes(getattr(server._reader, "_buffer", b""))

    def log(self, session, what):
        with open(os.path.join(self.dir, "pipeline"), "a") as f:
            f.write("%s %s\n" % (session.peer[1], what))

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        self.log(session, "mail grouped" if b"DATA\r\n" in
                 self.ahead(server).upper() else "mail alone")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    def write(self, name, data):
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.dir, name))

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        with open(os.path.join(self.dir, "sessions"), "a") as f:
            f.write(hostname + "\n")
        return responses

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        f = self.fault(address, ("tempfail", "bounce", "blocked", "full"))
        if f == "tempfail":
            return "451 4.3.0 Try again later"
        if f == "bounce":
            return "550 5.1.1 No such user"
        if f == "blocked":
            return ("554 5.7.1 Service unavailable; Client host "
                    "[127.0.0.1] blocked using zen.spamhaus.org")
        if f == "full":
            return "552 5.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.log(session, "data next" if self.ahead(server).upper()
                 .startswith(b"MAIL FROM") else "data end")
        f = None
        for r in envelope.rcpt_tos:
            f = f or self.fault(r, ("reject", "drop"))
        if f == "drop":
            server.transport.abort()
            return "421 4.4.2 Dropped"
        if f == "reject":
            return "554 5.7.1 Message refused"
        self.seq += 1
        name = "%06d" % self.seq
        env = "from %s\n" % envelope.mail_from
        env += "".join("rcpt %s\n" % r for r in envelope.rcpt_tos)
        self.write(name + ".eml", envelope.original_content)
        self.write(name + ".env", env.encode())
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        m = MSGID.search(head)
        mid = m.group(1).decode("ascii", "replace") if m else "-"
        with open(os.path.join(self.dir, "accepted"), "a") as f:
            f.write("".join("%s\t%s\t%s\n" % (name, r, mid)
                            for r in envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued as " + name


def authenticator(server, session, envelope, mechanism, auth_data):
    good = (auth_data.login == b"nudge" and
            auth_data.password == b"s3cret pass")
    # handled=False: aiosmtpd itself answers 535 to a failure.
    return AuthResult(success=good, handled=False)


async def main(outdir, opts):
    loop = asyncio.get_running_loop()
    handler = Handler(outdir)
    handler.pipelining = "--pipelining" in opts
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtpd.test", ident="nudge-smtpd",
                     authenticator=authenticator, auth_require_tls=False),
        "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    handler.write("port", b"%d\n" % port)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)
    await done.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
