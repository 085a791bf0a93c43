#!/usr/bin/python3
"""token_server.py - a test stand-in for the vendor backend that mints
realtime client secrets for devices (see README.md, "Token server").

    POST /v1/hark/client_secret
    Authorization: Bearer <device credential>
    Content-Type: application/json
    {optional: {"expires_after": {"seconds": N}, "session": {...}}}

A valid credential gets 200 and the body OpenAI's
POST /v1/realtime/client_secrets returns,
{"value": "ek_...", "expires_at": <unix s>, "session": {...}}; a missing or
wrong one gets 401. The issued secret is random ("ek_test_<hex>") unless
--secret fixes it, which lets a test give the same value to mock_cloud.py
--token. Neither the device credential nor an issued secret is ever written
to the log, stdout or stderr (only to --issued FILE, when asked).

Standard library only (http.server + ssl). Run with /usr/bin/python3.
"""

import argparse
import hmac
import http.server
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time

import mock_tls  # tools/mock-cloud/mock_tls.py, beside this script

REDACTED = "<REDACTED>"
MAX_BODY = 64 * 1024
TTL_MIN, TTL_MAX = 10, 7200             # OpenAI's expires_after.seconds range
HANDSHAKE_TIMEOUT_S = 10


class State:
    """Configuration, the request counter and the JSONL log (thread-safe)."""

    def __init__(self, args, credential):
        self.args = args
        self.credential = credential
        self.lock = threading.Lock()
        self.requests = 0
        self.issued = 0
        self.log_file = open(args.log, "a", buffering=1) if args.log else None
        self.secrets_seen = {credential}
        if args.secret:
            self.secrets_seen.add(args.secret)

    def next_request(self):
        with self.lock:
            self.requests += 1
            return self.requests

    def scrub(self, text):
        for s in self.secrets_seen:
            if s:
                text = text.replace(s, REDACTED)
        return text

    def log(self, entry):
        if not self.log_file:
            return
        entry = {"_t": time.time(), **entry}
        line = json.dumps(entry, ensure_ascii=False)
        with self.lock:
            self.log_file.write(self.scrub(line) + "\n")

    def remember_secret(self, value):
        with self.lock:
            self.secrets_seen.add(value)
            self.issued += 1
        if self.args.issued:
            tmp = self.args.issued + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(value + "\n")
            os.replace(tmp, self.args.issued)

    def close(self):
        if self.log_file:
            self.log_file.close()


def redact_headers(headers):
    out = {}
    for k, v in headers.items():
        if k.lower() in ("authorization", "proxy-authorization"):
            scheme = v.split(" ", 1)[0] if v else ""
            v = f"{scheme} {REDACTED}" if scheme and " " in v else REDACTED
        out[k] = v
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hark-token-server/1"

    def version_string(self):
        return self.server_version

    requests_seen = 0

    def log_message(self, fmt, *args):      # http.server's stderr access log: off
        pass

    def send_json(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def handle_any(self):
        st = self.server.state
        self.requests_seen += 1
        entry = {"_dir": "request", "_req": st.next_request(), "method": self.command,
                 "path": self.path, "peer": f"{self.client_address[0]}:{self.client_address[1]}",
                 "headers": redact_headers(self.headers), "body_bytes": 0}
        status, body, extra = self.serve(st, entry)
        entry["status"] = status
        st.log(entry)              # before the reply: a test that saw the reply sees the line
        self.send_json(status, body, extra)

    @staticmethod
    def error(status, code, message, extra=None):
        return status, {"error": {"type": "invalid_request_error", "code": code,
                                  "message": message}}, extra

    def serve(self, st, entry):
        """Returns (status, reply body, extra headers); notes details in entry."""
        if self.path.split("?", 1)[0] != st.args.path:
            return self.error(404, "not_found", f"No route for {self.path}")
        if self.command != "POST":
            return self.error(405, "method_not_allowed", "Use POST", {"Allow": "POST"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return self.error(413 if length > MAX_BODY else 400, "invalid_body", "Bad Content-Length")
        raw = self.rfile.read(length) if length else b""
        entry["body_bytes"] = len(raw)

        # Authentication first: a refused device learns nothing else.
        auth = self.headers.get("Authorization", "")
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return self.error(401, "missing_credential", "Missing bearer device credential",
                              {"WWW-Authenticate": 'Bearer realm="hark"'})
        if not hmac.compare_digest(given.strip().encode(), st.credential.encode()):
            return self.error(401, "invalid_device_credential", "Device credential not recognised",
                              {"WWW-Authenticate": 'Bearer realm="hark", error="invalid_token"'})

        try:
            req = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            req = None
        if not isinstance(req, dict):
            return self.error(400, "invalid_json", "The body must be a JSON object")
        ttl = st.args.ttl
        ea = req.get("expires_after")
        if isinstance(ea, dict) and "seconds" in ea:
            s = ea["seconds"]
            if not isinstance(s, int) or isinstance(s, bool) or not TTL_MIN <= s <= TTL_MAX:
                return self.error(400, "invalid_value",
                                  f"expires_after.seconds must be an integer {TTL_MIN}..{TTL_MAX}")
            ttl = s
        session = {"type": "realtime", "object": "realtime.session",
                   "id": "sess_" + secrets.token_hex(8), "model": st.args.model,
                   "output_modalities": ["audio"],
                   "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}},
                             "output": {"format": {"type": "audio/pcm", "rate": 24000},
                                        "voice": "marin"}}}
        if isinstance(req.get("session"), dict):
            session.update(req["session"])
        value = st.args.secret or "ek_test_" + secrets.token_hex(16)
        expires_at = int(time.time()) + ttl
        st.remember_secret(value)
        entry["expires_at"] = expires_at
        return 200, {"value": value, "expires_at": expires_at, "session": session}, None

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx, state):
        super().__init__(addr, Handler)
        self.ctx = ctx
        self.state = state

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's thread, so a
        # client that stalls or aborts it cannot block the accept loop.
        peer = f"{client_address[0]}:{client_address[1]}"
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.state.log({"_dir": "tls_error", "peer": peer, "error": str(e)})
            return
        try:
            h = self.RequestHandlerClass(tls, client_address, self)
            if not h.requests_seen:
                # e.g. a client that rejects our certificate only after the
                # handshake (mbedtls with verification left to the caller)
                self.state.log({"_dir": "no_request", "peer": peer, "tls": tls.version()})
        except (ssl.SSLError, OSError) as e:
            self.state.log({"_dir": "io_error", "peer": peer, "error": str(e)})
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        self.state.log({"_dir": "error", "peer": f"{client_address[0]}:{client_address[1]}",
                        "error": repr(sys.exc_info()[1])})


def parse_args(argv):
    p = argparse.ArgumentParser(description="Test token endpoint: mints realtime client secrets "
                                            "for a device credential (see README.md).")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port; 0 (default) picks a free one")
    p.add_argument("--cert", required=True, help="server certificate (PEM, may include the chain)")
    p.add_argument("--key", required=True, help="server key (PEM)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--device-cred", metavar="FILE", help="file whose first line is the valid "
                                                        "device credential")
    g.add_argument("--credential", metavar="VALUE", help="the valid device credential")
    p.add_argument("--secret", help="issue this fixed client secret (default: ek_test_<random>)")
    p.add_argument("--issued", metavar="FILE", help="write each issued secret here (mode 0600)")
    p.add_argument("--ttl", type=int, default=600,
                   help=f"secret lifetime in seconds, {TTL_MIN}..{TTL_MAX} (default 600)")
    p.add_argument("--model", default="gpt-realtime-2", help="model in the returned session")
    p.add_argument("--path", default="/v1/hark/client_secret", help="endpoint path")
    p.add_argument("--log", help="JSONL request log (appended; credentials redacted)")
    p.add_argument("--ready-file", help="write the listening port here once ready")
    return p.parse_args(argv)


def main():
    args = parse_args(sys.argv[1:])
    if not TTL_MIN <= args.ttl <= TTL_MAX:
        print(f"token_server: --ttl must be {TTL_MIN}..{TTL_MAX}", file=sys.stderr)
        return 2
    if args.device_cred:
        try:
            with open(args.device_cred) as f:
                credential = f.readline().strip()
        except OSError as e:
            print(f"token_server: {args.device_cred}: {e.strerror}", file=sys.stderr)
            return 2
    else:
        credential = args.credential.strip()
    if not credential:
        print("token_server: the device credential is empty", file=sys.stderr)
        return 2
    ctx = mock_tls.server_context(args.cert, args.key, "token_server")
    if ctx is None:
        return 2
    state = State(args, credential)
    try:
        server = Server((args.host, args.port), ctx, state)
    except OSError as e:
        print(f"token_server: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    print(port, flush=True)
    print(f"token_server: listening on https://{args.host}:{port} "
          f"(token URL https://localhost:{port}{args.path})", file=sys.stderr, flush=True)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.ready_file)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    state.close()
    print(f"token_server: stopped ({state.requests} requests, {state.issued} secrets issued)",
          file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
