#!/usr/bin/python3
"""provider-emu.py DIR [CERT KEY]: a local emulator of the HTTP APIs of nudge's shipped
provider profiles (samples/providers/), for the tests.

Listens on a free loopback port, written to DIR/port once it listens;
with CERT and KEY it speaks HTTPS with that certificate.
Every request is appended to DIR/requests as one JSON line: n (1, 2, ...),
t (Unix time, float), port (the client's: one per connection), method, path, headers (all but Host and
Content-Length, names lower-cased, sorted), body, and what it answered
(status, or "drop").

It answers each API as the provider does:
  POST /2010-04-01/Accounts/SID/Messages.json   twilio: 201 {"sid": "SM<n>"}
  POST /v1/Account/ID/Message/                  plivo: 202 {"message_uuid": [...]}
  POST /json/1.3/createMessage                  pushwoosh: 200 {... "Messages": [...]}
  POST /notifications                           onesignal: 200 {"id": ...}
  POST /                                        ntfy: 200 {"id": ...}
  POST /nudge                                   webhook: 200 {"id": ...}
A request repeating an idempotency key already answered (the
I-Twilio-Idempotency-Token or Idempotency-Key header) gets the first
answer's id again, and is recorded with "repeat": true.

Faults come from DIR/faults, read at each request: one action a line,
the first line used up by the request it applies to:
  429 SECS      429 with Retry-After: SECS (date+SECS: as an HTTP date)
  500, 503      that status (the provider's error JSON)
  400           a permanent error: {"message"/"error": "invalid number"}
  401           bad credentials
  slow SECS     answer normally after SECS seconds
  drop          close the connection without an answer
  reset         reset the connection (RST) without an answer
  stall         send the status line, headers and part of the body,
                then nothing more for 30 s
  garbage       answer bytes that are not HTTP, then close
  html STATUS   that status with an HTML page (not JSON)
  huge STATUS   that status with a 2 MB body: JSON whose id comes after
                1 MB of padding, for a 2xx; else plain text
A line ending in '*' is never used up (e.g. "500*": the provider is down).
"""
import email.utils
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
LOCK = threading.Lock()
STATE = {"n": 0, "keys": {}}


def next_fault():
    path = os.path.join(DIR, "faults")
    with LOCK:
        try:
            with open(path) as f:
                lines = [l.strip() for l in f if l.strip()]
        except FileNotFoundError:
            return None
        if not lines:
            return None
        first = lines[0]
        if first.endswith("*"):
            return first[:-1].strip()
        with open(path + ".tmp", "w") as f:
            f.write("".join(l + "\n" for l in lines[1:]))
        os.rename(path + ".tmp", path)
        return first


def record(entry):
    with LOCK:
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")


def answer_for(path, n, body):
    """(status, JSON) of a successful call to the API behind path."""
    if path.startswith("/2010-04-01/Accounts/") and path.endswith("/Messages.json"):
        return 201, {"sid": "SM%06d" % n, "status": "queued"}
    if path.startswith("/v1/Account/") and path.endswith("/Message/"):
        return 202, {"api_id": "api-%d" % n, "message": "message(s) queued",
                     "message_uuid": ["plivo-%06d" % n]}
    if path == "/json/1.3/createMessage":
        return 200, {"status_code": 200, "status_message": "OK",
                     "response": {"Messages": ["PW%06d" % n]}}
    if path == "/notifications":
        return 200, {"id": "os-%06d" % n, "external_id": None}
    if path == "/":
        return 200, {"id": "ntfy%06d" % n, "event": "message"}
    if path == "/nudge":
        return 200, {"id": "wh-%06d" % n}
    return 404, {"error": "no such API: " + path}


def error_json(path, msg):
    if path.startswith("/2010-04-01/"):
        return {"code": 21211, "message": msg, "status": 400}
    if path == "/json/1.3/createMessage":
        return {"status_code": 210, "status_message": msg}
    if path == "/notifications":
        return {"errors": [msg]}
    return {"error": msg}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # the headers and the body are two writes: with Nagle's algorithm
    # the body waits for the client's delayed ACK, 40 ms a request
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        with LOCK:
            STATE["n"] += 1
            n = STATE["n"]
        hdrs = {k.lower(): v for k, v in self.headers.items()
                if k.lower() not in ("host", "content-length")}
        entry = {"n": n, "t": time.time(), "port": self.client_address[1],
                 "method": self.command,
                 "path": self.path, "headers": dict(sorted(hdrs.items())),
                 "body": body}
        fault = next_fault()
        status, extra = None, {}
        if fault == "drop":
            entry["status"] = "drop"
            record(entry)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault in ("reset", "stall", "garbage"):
            entry["status"] = fault
            record(entry)
            self.close_connection = True
            if fault == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
                self.connection.close()
                return
            if fault == "garbage":
                self.wfile.write(b"\x16\x03\x01 SSH-2.0-OpenSSH_9.2 garbage\r\n")
            else:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: "
                                 b"application/json\r\nContent-Length: "
                                 b"64\r\n\r\n{\"sid\": \"SM")
            self.wfile.flush()
            if fault == "stall":
                time.sleep(30)
            return
        if fault and fault.split()[0] in ("html", "huge"):
            kind, status = fault.split()[0], int(fault.split()[1])
            entry["status"] = status
            record(entry)
            if kind == "html":
                ctype = "text/html"
                out = b"<html><body><h1>Welcome to nginx!</h1></body></html>\n"
            elif status < 300:
                ctype = "application/json"
                out = json.dumps({"pad": "x" * (1 << 20),
                                  "sid": "SM%06d" % n}).encode()
                out += b" " * (2 * (1 << 20) - len(out))
            else:
                ctype = "text/plain"
                out = b"error " * (2 * (1 << 20) // 6)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        if fault and fault.startswith("slow"):
            time.sleep(float(fault.split()[1]))
            fault = None
        if fault and fault.split()[0] == "429":
            status, data = 429, error_json(self.path, "Too Many Requests")
            ra = fault.split()[1] if len(fault.split()) > 1 else "1"
            if ra.startswith("date+"):
                ra = email.utils.formatdate(time.time() + float(ra[5:]),
                                            usegmt=True)
            extra["Retry-After"] = ra
        elif fault in ("500", "502", "503", "504"):
            status, data = int(fault), error_json(self.path, "internal error")
        elif fault == "400":
            status, data = 400, error_json(self.path, "invalid number")
        elif fault == "401":
            status, data = 401, error_json(self.path, "authenticate")
        else:
            key = (self.headers.get("I-Twilio-Idempotency-Token")
                   or self.headers.get("Idempotency-Key"))
            status, data = answer_for(self.path, n, body)
            with LOCK:
                if key and key in STATE["keys"] and status < 300:
                    status, data = STATE["keys"][key]
                    entry["repeat"] = True
                elif key and status < 300:
                    STATE["keys"][key] = (status, data)
        entry["status"] = status
        record(entry)
        out = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) > 3:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
