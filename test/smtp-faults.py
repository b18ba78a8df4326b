#!/usr/bin/python3
"""smtp-faults.py DIR [OPTIONS]: an SMTP server that misbehaves on purpose,
for the protocol fault tests (test/46xx).  Built on python3-aiosmtpd, as
test/smtpd.py; it listens on a free port of 127.0.0.1 and writes it to
DIR/port once it listens.

Each accepted message is saved as DIR/NNNNNN.eml with its envelope in
DIR/NNNNNN.env ("from ADDR", then "rcpt ADDR" lines), as test/smtpd.py
does.  A message whose reply the server withholds (--drop-after-data) is
saved the same way first: the server had it, as a real one would have
queued it.  Every session adds a line to DIR/sessions, every command the
client sent (its verb, or "AUTH" with no data) a line to DIR/commands.

Options (faults):
  --drop-after-data N   the first N messages: the connection is closed
                        after the end of data, before any reply (-1: all)
  --stall-after-data N  the first N messages: the reply to the end of
                        data comes only after 30 s (-1: all)
  --stall-from N        the same from the Nth message of the run on (a
                        server that hangs once N - 1 are accepted)
  --tls CERT KEY        implicit TLS (smtps) with this certificate
  --starttls CERT KEY   offer STARTTLS with this certificate
  --mail-421 N          in each session, after N messages, answer
                        "421 4.3.2" to the next MAIL FROM and close
  --rcpt-421 N          the first N RCPT TO of the run: "421 4.4.5" and
                        the connection is closed
  --bytewise            every reply is written one byte a write, each
                        write flushed, 1 ms apart
  --slow SECS           every reply waits SECS first
  --pipelining          offer PIPELINING (RFC 2920)
  --long-lines          an EHLO line and the reply to each end of data
                        of 6000 characters (more than a client's buffer)
  --auth-only MECH      offer only AUTH MECH (LOGIN or PLAIN), or none
AUTH PLAIN and LOGIN are offered (also in plaintext): user "nudge" with
password "s3cret pass" succeeds.
"""
import argparse
import asyncio
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, outdir, opts):
        self.dir = outdir
        self.o = opts
        self.seq = 0
        self.dropped = 0
        self.stalled = 0
        self.rcpt421 = 0

    def write(self, name, data):
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.dir, name))

    def log(self, name, line):
        with open(os.path.join(self.dir, name), "a") as f:
            f.write(line + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        session.nmsg = 0
        self.log("sessions", hostname)
        if self.o.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        if self.o.long_lines:
            responses.insert(1, "250-X-LONG " + "x" * 6000)
        return responses

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        if (self.o.mail_421 is not None and
                getattr(session, "nmsg", 0) >= self.o.mail_421):
            await server.push("421 4.3.2 Service shutting down")
            server.transport.close()
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.o.rcpt_421 is not None and self.rcpt421 < self.o.rcpt_421:
            self.rcpt421 += 1
            await server.push("421 4.4.5 Too busy, closing")
            server.transport.close()
            return "421 4.4.5 Too busy, closing"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        name = "%06d" % self.seq
        env = "from %s\n" % envelope.mail_from
        env += "".join("rcpt %s\n" % r for r in envelope.rcpt_tos)
        self.write(name + ".eml", envelope.original_content)
        self.write(name + ".env", env.encode())
        session.nmsg = getattr(session, "nmsg", 0) + 1
        d = self.o.drop_after_data
        if d is not None and (d < 0 or self.dropped < d):
            self.dropped += 1
            self.log("dropped", name)
            server.transport.abort()
            return "451 4.3.0 never seen"
        d = self.o.stall_after_data
        if (d is not None and (d < 0 or self.stalled < d) or
                self.o.stall_from is not None and
                self.seq >= self.o.stall_from):
            self.stalled += 1
            self.log("stalled", name)
            await asyncio.sleep(30)
        if self.o.long_lines:
            return "250 2.0.0 Ok: queued as " + name + " " + "y" * 6000
        return "250 2.0.0 Ok: queued as " + name


class FaultySMTP(SMTP):
    """Replies written slowly or one byte at a time, as asked."""

    def __init__(self, handler, **kw):
        self.o = handler.o
        self.h = handler
        super().__init__(handler, **kw)

    async def push(self, status):
        if isinstance(status, str):
            status = status.encode("utf-8")
        if self.o.slow:
            await asyncio.sleep(self.o.slow)
        if self._writer.transport.is_closing():
            return
        if not self.o.bytewise:
            self._writer.write(status + b"\r\n")
            await self._writer.drain()
            return
        # No pause after the last byte: STARTTLS swaps the protocol as
        # soon as its 220 is written, before the client's hello comes.
        for i, c in enumerate(status + b"\r\n"):
            if i > 0:
                await asyncio.sleep(0.001)
            if self._writer.transport.is_closing():
                return
            self._writer.write(bytes([c]))
            await self._writer.drain()

    async def smtp_AUTH(self, arg):
        self.h.log("commands", "AUTH")
        return await super().smtp_AUTH(arg)


def authenticator(server, session, envelope, mechanism, auth_data):
    good = (auth_data.login == b"nudge" and
            auth_data.password == b"s3cret pass")
    return AuthResult(success=good, handled=False)


def context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--drop-after-data", type=int)
    ap.add_argument("--stall-after-data", type=int)
    ap.add_argument("--stall-from", type=int)
    ap.add_argument("--tls", nargs=2)
    ap.add_argument("--starttls", nargs=2)
    ap.add_argument("--mail-421", type=int)
    ap.add_argument("--rcpt-421", type=int)
    ap.add_argument("--bytewise", action="store_true")
    ap.add_argument("--slow", type=float, default=0)
    ap.add_argument("--pipelining", action="store_true")
    ap.add_argument("--long-lines", action="store_true")
    ap.add_argument("--auth-only", choices=["LOGIN", "PLAIN", "none"])
    o = ap.parse_args()
    loop = asyncio.get_running_loop()
    handler = Handler(o.dir, o)
    kw = dict(hostname="faults.test", ident="nudge-smtp-faults",
              authenticator=authenticator, auth_require_tls=False)
    if o.starttls:
        kw["tls_context"] = context(*o.starttls)
    if o.auth_only:
        kw["auth_exclude_mechanism"] = [m for m in ("LOGIN", "PLAIN")
                                        if m != o.auth_only]
    server = await loop.create_server(
        lambda: FaultySMTP(handler, **kw), "127.0.0.1", 0,
        ssl=context(*o.tls) if o.tls else None)
    port = server.sockets[0].getsockname()[1]
    handler.write("port", b"%d\n" % port)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)
    await done.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
