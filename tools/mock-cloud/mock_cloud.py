#!/usr/bin/python3
"""mock_cloud.py - a local mock of the OpenAI Realtime API (GA shapes) over wss.

Serves /v1/realtime?model=..., /v1/realtime?intent=transcription and
/v1/realtime/translations?model=gpt-realtime-translate with the GA event
names and shapes, plays a WAV file as the assistant's answer (faster than
real time), validates client events roughly like the real server, logs every
client event as JSON lines, and can misbehave on purpose (see README.md).

Standard library + websockets 10.4 only. Run with /usr/bin/python3.
"""

import argparse
import array
import asyncio
import base64
import binascii
import copy
import http
import json
import math
import os
import random
import signal
import string
import sys
import time
import urllib.parse
import wave

import websockets
import websockets.server
from websockets.exceptions import ConnectionClosed

import mock_tls  # tools/mock-cloud/mock_tls.py, beside this script

REDACTED = "<REDACTED>"
MAX_MESSAGE = 64 * 1024 * 1024          # inbound frame/message limit (bytes)
MAX_APPEND_BYTES = 15 * 1024 * 1024     # decoded audio per append event
SESSION_MAX_MINUTES = 60

CLIENT_TYPES_REALTIME = [
    "session.update", "session.close", "input_audio_buffer.append",
    "session.input_audio_buffer.append", "input_audio_buffer.commit",
    "input_audio_buffer.clear", "conversation.item.create",
    "conversation.item.truncate", "conversation.item.delete",
    "conversation.item.retrieve", "response.create", "response.cancel",
]
CLIENT_TYPES_TRANSLATION = [
    "session.update", "session.input_audio_buffer.append", "session.close",
]
VOICES = ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse",
          "marin", "cedar"]
REASONING_EFFORTS = ["minimal", "low", "medium", "high", "xhigh"]
FORMAT_TYPES = ["audio/pcm", "audio/pcmu", "audio/pcma"]

SCRIPT_KEYS = {
    "transcript", "input_transcript", "responses", "speed", "chunk_ms",
    "first_audio_delay_ms", "reply_latency_ms", "errors_after_events",
    "rate_limits", "rate_limits_when", "disconnect_after_ms",
    "close_session_after_ms", "slow_bytes_per_s", "partial_message",
    "huge_message_bytes", "hostile", "translation_lag_ms", "connections",
    "auth_failure",
}
HOSTILE_KINDS = {
    "invalid_json", "partial_json", "wrong_types", "unknown_event",
    "missing_type", "binary_frame", "invalid_base64_delta",
    "stale_response_done",
}
DEFAULT_TRANSCRIPT = "This is the mock assistant speaking."
DEFAULT_INPUT_TRANSCRIPT = "Hello from the mock microphone."

_ID_CHARS = string.ascii_letters + string.digits


class ApiError(Exception):
    """A client error, reported as an `error` event (session stays open)."""

    def __init__(self, code, message, param=None, etype="invalid_request_error"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.etype = etype


class ScriptError(Exception):
    pass


# ---------------------------------------------------------------------------
# G.711 (pure Python; audioop is deprecated) and audio helpers

def _ulaw_encode(s):
    BIAS, CLIP = 0x84, 32635
    sign = 0x80 if s < 0 else 0
    if s < 0:
        s = -s
    if s > CLIP:
        s = CLIP
    s += BIAS
    exp, mask = 7, 0x4000
    while exp > 0 and not (s & mask):
        exp -= 1
        mask >>= 1
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def _ulaw_decode(u):
    u = ~u & 0xFF
    sign, exp, mant = u & 0x80, (u >> 4) & 7, u & 0x0F
    s = (((mant << 3) + 0x84) << exp) - 0x84
    return -s if sign else s


_SEG_AEND = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]


def _alaw_encode(pcm):
    pcm >>= 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = 8
    for i, end in enumerate(_SEG_AEND):
        if pcm <= end:
            seg = i
            break
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= ((pcm >> 1) if seg < 2 else (pcm >> seg)) & 0x0F
    return aval ^ mask


def _alaw_decode(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if (a & 0x80) else -t


ULAW_DECODE = [_ulaw_decode(i) for i in range(256)]
ALAW_DECODE = [_alaw_decode(i) for i in range(256)]


def pcm24k_to_g711(pcm, kind):
    """24 kHz PCM16 LE bytes -> 8 kHz G.711 bytes (3-sample average, encode)."""
    a = array.array("h")
    a.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder == "big":
        a.byteswap()
    enc = _ulaw_encode if kind == "audio/pcmu" else _alaw_encode
    out = bytearray()
    for i in range(0, len(a) - 2, 3):
        out.append(enc((a[i] + a[i + 1] + a[i + 2]) // 3))
    return bytes(out)


def decode_to_pcm16(data, kind):
    """Input audio bytes in format `kind` -> list of int samples."""
    if kind == "audio/pcmu":
        return [ULAW_DECODE[b] for b in data]
    if kind == "audio/pcma":
        return [ALAW_DECODE[b] for b in data]
    a = array.array("h")
    a.frombytes(data[: len(data) // 2 * 2])
    if sys.byteorder == "big":
        a.byteswap()
    return a


def fmt_rate(fmt):
    return 24000 if fmt.get("type") == "audio/pcm" else 8000


def bytes_per_ms(fmt):
    return 48 if fmt.get("type") == "audio/pcm" else 8


def load_wav(path):
    """Read a 24 kHz mono PCM16 WAV; raise ValueError with a clear message."""
    try:
        w = wave.open(path, "rb")
    except (wave.Error, EOFError) as e:
        raise ValueError(f"{path}: not a PCM WAV file ({e})") from None
    with w:
        ch, sw, rate, comp = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()
        if comp != "NONE" or sw != 2 or ch != 1 or rate != 24000:
            raise ValueError(
                f"{path}: need 24000 Hz mono 16-bit PCM WAV, got {rate} Hz, "
                f"{ch} channel(s), {8 * sw}-bit, compression {comp} "
                f"(convert with: sox IN -r 24000 -c 1 -b 16 OUT.wav)")
        data = w.readframes(w.getnframes())
    if not data:
        raise ValueError(f"{path}: WAV has no audio frames")
    return data


def builtin_answer():
    """1.5 s, 300 Hz tone with 20 ms fades, 24 kHz PCM16 LE."""
    n = 36000
    a = array.array("h")
    for i in range(n):
        env = min(1.0, i / 480, (n - 1 - i) / 480)
        a.append(int(8000 * env * math.sin(2 * math.pi * 300 * i / 24000)))
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def split_words(text):
    """'a b c' -> ['a', ' b', ' c'] (append-only deltas)."""
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words) if w or i == 0]


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a decimal number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def expect(v, kinds, path, what):
    """Type check: kinds is a tuple of python types (bool excluded from int)."""
    ok = isinstance(v, kinds) and not (isinstance(v, bool) and bool not in kinds)
    if not ok:
        raise ApiError("invalid_type",
                       f"Invalid type for '{path}': expected {what}, but got {type_name(v)} instead.",
                       path)


def check_keys(obj, allowed, path):
    for k in obj:
        if k not in allowed:
            p = f"{path}.{k}" if path else k
            raise ApiError("unknown_parameter", f"Unknown parameter: '{p}'.", p)


def check_enum(v, allowed, path):
    if v not in allowed:
        vals = ", ".join(f"'{a}'" for a in allowed[:-1]) + f", and '{allowed[-1]}'"
        raise ApiError("invalid_value", f"Invalid value: '{v}'. Supported values are: {vals}.", path)


# ---------------------------------------------------------------------------
# Slow transport: trickles every outgoing byte at a fixed rate.

class TrickleTransport:
    """Wraps an asyncio transport; write() queues, a task drips the bytes out.

    All writes (data frames, pings, pongs, close) go through the same queue,
    so frame bytes never interleave; a single frame arrives in many pieces."""

    def __init__(self, inner, bytes_per_s):
        self._inner = inner
        self._rate = max(1, int(bytes_per_s))
        self._buf = bytearray()
        self._close_pending = False
        self._task = None

    def write(self, data):
        self._buf += data
        if self._task is None or self._task.done():
            self._task = asyncio.get_event_loop().create_task(self._drip())

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    async def _drip(self):
        tick = 0.02
        piece = max(1, int(self._rate * tick))
        while self._buf:
            if self._inner.is_closing():
                self._buf.clear()
                break
            chunk = bytes(self._buf[:piece])
            del self._buf[:piece]
            self._inner.write(chunk)
            await asyncio.sleep(tick)
        if self._close_pending:
            self._inner.close()

    def close(self):
        if self._buf:
            self._close_pending = True
        else:
            self._inner.close()

    def abort(self):
        self._buf.clear()
        self._inner.abort()

    def can_write_eof(self):
        return False

    def __getattr__(self, name):
        return getattr(self._inner, name)


# ---------------------------------------------------------------------------

class Log:
    def __init__(self, path, token, log_out):
        self.f = open(path, "a", encoding="utf-8") if path else None
        self.token = token
        self.log_out = log_out

    def write(self, obj):
        if not self.f:
            return
        line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        if self.token and self.token in line:
            line = line.replace(self.token, REDACTED)
        self.f.write(line + "\n")
        self.f.flush()

    def close(self):
        if self.f:
            self.f.close()
            self.f = None


class MockServer:
    def __init__(self, args, script, answer):
        self.args = args
        self.script = script
        self.answer = answer
        self.log = Log(args.log, args.token, args.log_out)
        self.conn_count = 0
        self.rng = random.Random(args.seed) if args.seed is not None else random.Random()

    def new_id(self, prefix):
        return prefix + "".join(self.rng.choice(_ID_CHARS) for _ in range(21))

    def conn_script(self, n):
        s = {k: v for k, v in self.script.items() if k != "connections"}
        conns = self.script.get("connections") or []
        if n - 1 < len(conns):
            s.update(conns[n - 1])
        return s


def make_protocol(mock):
    class MockProtocol(websockets.server.WebSocketServerProtocol):
        async def process_request(self, path, headers):
            mock.conn_count += 1
            self.conn_no = mock.conn_count
            self.script = mock.conn_script(self.conn_no)
            self.fatal = None
            url = urllib.parse.urlsplit(path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            self.req_path, self.req_query = url.path, query
            hdrs = {}
            token = None
            for name, value in headers.raw_items():
                lname = name.lower()
                if lname == "authorization":
                    parts = value.split(None, 1)
                    if len(parts) == 2 and parts[0].lower() == "bearer":
                        token = parts[1].strip()
                    value = (parts[0] + " " + REDACTED) if len(parts) == 2 else REDACTED
                elif lname == "sec-websocket-protocol":
                    protos = [p.strip() for p in value.split(",")]
                    for p in protos:
                        if p.startswith("openai-insecure-api-key.") and token is None:
                            token = p[len("openai-insecure-api-key."):]
                    value = ", ".join(
                        "openai-insecure-api-key." + REDACTED
                        if p.startswith("openai-insecure-api-key.") else p for p in protos)
                hdrs[name] = hdrs[name] + ", " + value if name in hdrs else value
            entry = {"_t": time.time(), "_conn": self.conn_no, "_dir": "connect",
                     "path": url.path, "query": query, "headers": hdrs}
            try:
                entry["peer"] = "%s:%s" % self.transport.get_extra_info("peername")[:2]
            except Exception:
                pass

            def reply(status, code, message, etype="invalid_request_error"):
                entry["status"] = int(status)
                mock.log.write(entry)
                body = json.dumps({"error": {"message": message, "type": etype,
                                             "param": None, "code": code}}, indent=2) + "\n"
                return (status, [("Content-Type", "application/json")], body.encode())

            # Endpoint selection.
            if url.path in ("/v1/realtime", "/v1/realtime/"):
                if query.get("intent") == "transcription":
                    self.mode = "transcription"
                else:
                    self.mode = "realtime"
                    model = query.get("model")
                    if "call_id" in query:
                        self.fatal = ("invalid_request_error", "invalid_value", 4000,
                                      "The mock cloud does not implement call_id sideband sessions.")
                    elif not model:
                        self.fatal = ("invalid_request_error", "missing_model", 4000,
                                      "You must provide a model parameter, for example "
                                      "wss://api.openai.com/v1/realtime?model=gpt-realtime-2")
                    elif not model.startswith(("gpt-realtime", "gpt-4o-realtime",
                                               "gpt-4o-mini-realtime", "gpt-audio")) \
                            or "translate" in model or "whisper" in model:
                        self.fatal = ("invalid_request_error", "invalid_model", 4000,
                                      f'Model "{model}" is not supported in realtime mode.')
            elif url.path in ("/v1/realtime/translations", "/v1/realtime/translations/"):
                self.mode = "translation"
                model = query.get("model")
                if not model:
                    self.fatal = ("invalid_request_error", "missing_model", 4000,
                                  "You must provide a model parameter, for example "
                                  "wss://api.openai.com/v1/realtime/translations?model=gpt-realtime-translate")
                elif not model.startswith("gpt-realtime-translate"):
                    self.fatal = ("invalid_request_error", "invalid_model", 4000,
                                  f'Model "{model}" is not supported for translation sessions.')
            else:
                return reply(http.HTTPStatus.NOT_FOUND, "not_found",
                             f"Invalid URL (GET {url.path})")

            # Authentication.
            auth_err = None
            if token is None:
                auth_err = (None, "Missing bearer or basic authentication in header")
            elif not token or (mock.args.token is not None and token != mock.args.token):
                auth_err = ("invalid_api_key", "Incorrect API key provided. You can find your "
                            "API key at https://platform.openai.com/account/api-keys.")
            if auth_err:
                mode = self.script.get("auth_failure", mock.args.auth_failure)
                if mode == "http":
                    return reply(http.HTTPStatus.UNAUTHORIZED, auth_err[0], auth_err[1])
                self.fatal = ("invalid_request_error", auth_err[0], 3000, auth_err[1])
            elif self.fatal is None and any(
                    v.replace(" ", "").lower() == "realtime=v1"
                    for v in headers.get_all("OpenAI-Beta")):
                self.fatal = ("invalid_request_error", "beta_api_shape_disabled", 4000,
                              "The beta Realtime API shape (OpenAI-Beta: realtime=v1) is "
                              "disabled for this model; use the GA event shapes.")
            entry["status"] = 101
            mock.log.write(entry)
            return None

    return MockProtocol


# ---------------------------------------------------------------------------

class Response:
    def __init__(self, rid, spec, out_fmt, modalities, conversation, voice, metadata,
                 max_output_tokens):
        self.id = rid
        self.spec = spec
        self.out_fmt = out_fmt
        self.modalities = modalities
        self.conversation = conversation
        self.voice = voice
        self.metadata = metadata
        self.max_output_tokens = max_output_tokens
        self.cancel_reason = None
        self.wake = asyncio.Event()
        self.task = None
        self.output = []

    def cancel(self, reason):
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self.wake.set()

    async def sleep(self, secs):
        """Sleep unless cancelled; returns True when cancelled."""
        if self.cancel_reason:
            return True
        if secs > 0:
            try:
                await asyncio.wait_for(self.wake.wait(), secs)
            except asyncio.TimeoutError:
                pass
        return self.cancel_reason is not None


class Session:
    """One WebSocket connection."""

    def __init__(self, mock, ws):
        self.mock = mock
        self.ws = ws
        self.n = ws.conn_no
        self.script = ws.script
        self.mode = ws.mode
        self.model = ws.req_query.get("model") or None
        self.sid = mock.new_id("sess_")
        self.conv_id = mock.new_id("conv_")
        self.created_at = time.time()
        self.expires_at = int(self.created_at) + SESSION_MAX_MINUTES * 60
        self.items = {}            # id -> item dict (with private "_audio" bytes)
        self.order = []            # conversation order of item ids
        self.call_ids = set()
        self.inbuf = bytearray()   # uncommitted input audio
        self.in_total_ms = 0.0     # all input audio this session
        self.active = None         # running Response
        self.n_responses = 0
        self.n_events = 0
        self.n_commits = 0
        self.assistant_audio_sent = False
        self.tasks = set()
        self.rl_remaining = None
        self.hostile_in_response = []
        self.closed = False
        self.speed = float(self.script.get("speed", mock.args.speed))
        self.chunk_ms = int(self.script.get("chunk_ms", 100))
        self.latency = self.script.get("reply_latency_ms", 0) / 1000.0
        # VAD state
        self.vad_rem = b""
        self.vad_speech = False
        self.vad_run = 0
        self.vad_sil = 0.0
        self.vad_item = None
        # translation state
        self.tr_in_ms = 0.0
        self.tr_out_ms = 0.0
        self.tr_pos = 0
        self.tr_word = 0
        self.tr_in_word = 0
        self.session = self.default_session()

    # -- config ---------------------------------------------------------------

    def default_session(self):
        pcm = {"type": "audio/pcm", "rate": 24000}
        if self.mode == "realtime":
            return {
                "type": "realtime", "object": "realtime.session", "id": self.sid,
                "model": self.model, "output_modalities": ["audio"],
                "instructions": "You are a helpful, witty, and friendly AI (mock cloud).",
                "tools": [], "tool_choice": "auto", "max_output_tokens": "inf",
                "tracing": None, "prompt": None, "truncation": "auto",
                "expires_at": self.expires_at,
                "audio": {
                    "input": {"format": dict(pcm), "transcription": None, "noise_reduction": None,
                              "turn_detection": self.vad_defaults("server_vad")},
                    "output": {"format": dict(pcm), "voice": "alloy", "speed": 1.0},
                },
                "include": None,
            }
        if self.mode == "transcription":
            return {
                "type": "transcription", "object": "realtime.transcription_session",
                "id": self.sid, "expires_at": self.expires_at,
                "audio": {"input": {"format": dict(pcm), "transcription": None,
                                    "noise_reduction": None,
                                    "turn_detection": self.vad_defaults("server_vad")}},
                "include": None,
            }
        return {
            "type": "translation", "object": "realtime.translation_session", "id": self.sid,
            "model": self.model, "expires_at": self.expires_at,
            "audio": {"input": {"format": dict(pcm), "transcription": None,
                                "noise_reduction": None},
                      "output": {"format": dict(pcm), "language": "en"}},
        }

    def vad_defaults(self, kind):
        if kind == "semantic_vad":
            return {"type": "semantic_vad", "eagerness": "auto", "create_response": True,
                    "interrupt_response": True}
        if self.mode == "transcription":
            return {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                    "silence_duration_ms": 200}
        return {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                "silence_duration_ms": 200, "idle_timeout_ms": None,
                "create_response": True, "interrupt_response": True}

    @property
    def in_fmt(self):
        return self.session["audio"]["input"]["format"]

    @property
    def turn_detection(self):
        return self.session["audio"]["input"].get("turn_detection")

    # -- I/O --------------------------------------------------------------------

    def public_session(self):
        return copy.deepcopy(self.session)

    async def send(self, ev):
        if self.closed:
            return False
        ev = dict(ev)
        typ = ev.pop("type")
        ev = {"type": typ, "event_id": self.mock.new_id("event_"), **ev}
        text = json.dumps(ev, separators=(",", ":"))
        return await self.send_raw(text, ev)

    async def send_raw(self, data, ev=None):
        if self.closed:
            return False
        try:
            await self.ws.send(data)
        except ConnectionClosed:
            self.closed = True
            return False
        if self.mock.args.log_out:
            entry = {"_t": time.time(), "_conn": self.n, "_dir": "out"}
            if ev is not None:
                entry.update(ev)
            else:
                entry["_raw"] = data[:200] if isinstance(data, str) else "<binary %d>" % len(data)
            self.mock.log.write(entry)
        return True

    async def error(self, err, event_id=None):
        await self.send({"type": "error", "error": {
            "type": err.etype, "code": err.code, "message": err.message,
            "param": err.param, "event_id": event_id}})

    def spawn(self, coro):
        t = asyncio.get_event_loop().create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)
        return t

    async def fatal_close(self, etype, code, close_code, message):
        await self.send({"type": "error", "error": {
            "type": etype, "code": code, "message": message, "param": None, "event_id": None}})
        reason = etype + ("." + code if code else "")
        await self.ws.close(close_code, reason)

    # -- main loop ------------------------------------------------------------

    async def run(self):
        ws = self.ws
        if ws.fatal:
            await self.fatal_close(*ws.fatal)
            self.mock.log.write({"_t": time.time(), "_conn": self.n, "_dir": "close",
                                 "code": ws.close_code, "reason": ws.close_reason})
            return
        rate = self.script.get("slow_bytes_per_s")
        if rate:
            ws.transport = TrickleTransport(ws.transport, rate)
        await self.send({"type": "session.created", "session": self.public_session()})
        await self.start_misbehaviour()
        try:
            async for msg in ws:
                self.n_events += 1
                await self.on_message(msg)
                await self.check_scripted_errors()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            if self.active:
                self.active.cancel("client_cancelled")
            for t in list(self.tasks):
                t.cancel()
            self.mock.log.write({"_t": time.time(), "_conn": self.n, "_dir": "close",
                                 "code": ws.close_code, "reason": ws.close_reason})

    async def start_misbehaviour(self):
        s = self.script
        if s.get("huge_message_bytes"):
            n = int(s["huge_message_bytes"])
            blob = base64.b64encode(os.urandom(n * 3 // 4)).decode()
            await self.send({"type": "conversation.item.retrieved", "item": {
                "id": "item_mockhuge", "object": "realtime.item", "type": "message",
                "status": "completed", "role": "assistant",
                "content": [{"type": "output_audio", "transcript": "huge", "audio": blob}]}})
        hostile = list(s.get("hostile") or [])
        if s.get("partial_message"):
            hostile.insert(0, "partial_json")
        for h in hostile:
            kind = h if isinstance(h, str) else h["kind"]
            when = "response" if kind in ("invalid_base64_delta", "stale_response_done") else "start"
            if isinstance(h, dict):
                when = h.get("when", when)
            if when == "response":
                self.hostile_in_response.append(kind)
            else:
                await self.inject(kind, None)
        if s.get("disconnect_after_ms") is not None:
            self.spawn(self.timer_disconnect(s["disconnect_after_ms"] / 1000.0))
        if s.get("close_session_after_ms") is not None:
            self.spawn(self.timer_expire(s["close_session_after_ms"] / 1000.0))

    async def timer_disconnect(self, secs):
        await asyncio.sleep(secs)
        self.mock.log.write({"_t": time.time(), "_conn": self.n, "_dir": "mock",
                             "action": "disconnect (TCP abort, no close frame)"})
        self.closed = True
        tr = self.ws.transport
        tr.abort()

    async def timer_expire(self, secs):
        await asyncio.sleep(secs)
        msg = f"Your session hit the maximum duration of {SESSION_MAX_MINUTES} minutes."
        await self.send({"type": "error", "error": {
            "type": "invalid_request_error", "code": "session_expired", "message": msg,
            "param": None, "event_id": None}})
        self.mock.log.write({"_t": time.time(), "_conn": self.n, "_dir": "mock",
                             "action": "close 1001 (session duration)"})
        await self.ws.close(1001, msg)

    async def check_scripted_errors(self):
        for e in self.script.get("errors_after_events") or []:
            if e.get("after") == self.n_events:
                await self.send({"type": "error", "error": {
                    "type": e.get("type", "server_error"), "code": e.get("code"),
                    "message": e.get("message", "The server had an error while processing "
                                                "your request (mock)."),
                    "param": e.get("param"), "event_id": None}})
                if e.get("close_code"):
                    reason = e.get("type", "server_error") + ("." + e["code"] if e.get("code") else "")
                    await self.ws.close(int(e["close_code"]), reason)

    async def inject(self, kind, resp):
        rid = resp.id if resp else self.mock.new_id("resp_")
        iid = resp.output[0]["id"] if resp and resp.output else self.mock.new_id("item_")
        if kind == "invalid_json":
            await self.send_raw("this is not JSON {")
        elif kind == "partial_json":
            full = json.dumps({"type": "session.updated", "event_id": self.mock.new_id("event_"),
                               "session": self.public_session()})
            await self.send_raw(full[: len(full) // 2])
        elif kind == "wrong_types":
            await self.send_raw(json.dumps({
                "type": "response.output_audio.delta", "event_id": self.mock.new_id("event_"),
                "response_id": 12345, "item_id": None, "output_index": "0",
                "content_index": [], "delta": {"b64": "AAAA"}}))
        elif kind == "unknown_event":
            await self.send({"type": "mock.future_event", "detail": {"note": "clients must ignore unknown types"}})
        elif kind == "missing_type":
            await self.send_raw(json.dumps({"event_id": self.mock.new_id("event_"), "delta": "AAAA"}))
        elif kind == "binary_frame":
            await self.send_raw(os.urandom(64))
        elif kind == "invalid_base64_delta":
            await self.send({"type": "response.output_audio.delta", "response_id": rid,
                             "item_id": iid, "output_index": 0, "content_index": 0,
                             "delta": "@@not*base64!!"})
        elif kind == "stale_response_done":
            await self.send({"type": "response.done", "response": {
                "object": "realtime.response", "id": self.mock.new_id("resp_"),
                "status": "cancelled",
                "status_details": {"type": "cancelled", "reason": "client_cancelled"},
                "output": [], "conversation_id": self.conv_id, "usage": None, "metadata": None}})

    async def on_message(self, msg):
        t = time.time()
        log = self.mock.log
        if isinstance(msg, bytes):
            log.write({"_t": t, "_conn": self.n, "_dir": "in", "_binary": len(msg)})
            await self.error(ApiError("invalid_event", "Expected a text WebSocket message; "
                                      "binary frames are not supported."))
            return
        try:
            ev = json.loads(msg)
        except ValueError as e:
            log.write({"_t": t, "_conn": self.n, "_dir": "in", "_invalid_json": msg[:500]})
            await self.error(ApiError("invalid_json", f"Invalid event: failed to parse JSON value. ({e})"))
            return
        if not isinstance(ev, dict):
            log.write({"_t": t, "_conn": self.n, "_dir": "in", "_invalid_json": msg[:500]})
            await self.error(ApiError("invalid_type", "Invalid type for event: expected an object, "
                                      f"but got {type_name(ev)} instead."))
            return
        entry = {"_t": t, "_conn": self.n, "_dir": "in"}
        entry.update(ev)
        log.write(entry)
        eid = ev.get("event_id") if isinstance(ev.get("event_id"), str) else None
        try:
            await self.dispatch(ev)
        except ApiError as e:
            await self.error(e, eid)

    async def dispatch(self, ev):
        typ = ev.get("type")
        if "type" not in ev:
            raise ApiError("missing_required_parameter", "Missing required parameter: 'type'.", "type")
        expect(typ, (str,), "type", "a string")
        if "event_id" in ev:
            expect(ev["event_id"], (str,), "event_id", "a string")
            if len(ev["event_id"]) > 512:
                raise ApiError("string_above_max_length", "Invalid 'event_id': string too long. "
                               "Expected a string with maximum length 512, but got a string with "
                               f"length {len(ev['event_id'])} instead.", "event_id")
        allowed = CLIENT_TYPES_TRANSLATION if self.mode == "translation" else CLIENT_TYPES_REALTIME
        if typ not in allowed:
            vals = ", ".join(f"'{a}'" for a in allowed[:-1]) + f", and '{allowed[-1]}'"
            raise ApiError("invalid_value", f"Invalid value: '{typ}'. Supported values are: {vals}.", "type")
        if typ == "session.update":
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self.on_session_update(ev)
        if self.mode == "translation":
            if typ == "session.input_audio_buffer.append":
                return await self.tr_append(ev)
            return await self.tr_close(ev)
        if typ in ("session.close", "session.input_audio_buffer.append"):
            raise ApiError("invalid_value", f"'{typ}' is only supported in translation sessions.", "type")
        if typ == "input_audio_buffer.append":
            return await self.on_append(ev)
        if self.latency:
            await asyncio.sleep(self.latency)
        handler = {
            "input_audio_buffer.commit": self.on_commit,
            "input_audio_buffer.clear": self.on_clear,
            "conversation.item.create": self.on_item_create,
            "conversation.item.truncate": self.on_truncate,
            "conversation.item.delete": self.on_item_delete,
            "conversation.item.retrieve": self.on_item_retrieve,
            "response.create": self.on_response_create,
            "response.cancel": self.on_response_cancel,
        }[typ]
        if self.mode == "transcription" and typ in ("response.create", "response.cancel",
                                                     "conversation.item.create",
                                                     "conversation.item.truncate"):
            raise ApiError("invalid_value", f"'{typ}' is not supported in transcription sessions.", "type")
        await handler(ev)

    # -- session.update -------------------------------------------------------

    async def on_session_update(self, ev):
        check_keys(ev, ("type", "event_id", "session"), "")
        if "session" not in ev:
            raise ApiError("missing_required_parameter", "Missing required parameter: 'session'.", "session")
        upd = ev["session"]
        expect(upd, (dict,), "session", "an object")
        if "type" not in upd:
            raise ApiError("missing_required_parameter", "Missing required parameter: 'session.type'.",
                           "session.type")
        check_enum(upd["type"], ["realtime", "transcription", "translation"], "session.type")
        if upd["type"] != self.mode:
            raise ApiError("invalid_value", f"Passing a {upd['type']} session update event to a "
                           f"{self.mode} session is not allowed.", "session.type")
        new = copy.deepcopy(self.session)
        if self.mode == "realtime":
            self.validate_realtime(upd, new)
        elif self.mode == "transcription":
            self.validate_transcription(upd, new)
        else:
            self.validate_translation(upd, new)
        self.session = new
        # A VAD switch resets the VAD state.
        self.vad_speech, self.vad_run, self.vad_sil, self.vad_item = False, 0, 0.0, None
        await self.send({"type": "session.updated", "session": self.public_session()})

    def validate_format(self, fmt, path, translation=False):
        expect(fmt, (dict,), path, "an object")
        check_keys(fmt, ("type", "rate"), path)
        if "type" not in fmt:
            raise ApiError("missing_required_parameter", f"Missing required parameter: '{path}.type'.",
                           f"{path}.type")
        check_enum(fmt["type"], ["audio/pcm"] if translation else FORMAT_TYPES, f"{path}.type")
        out = {"type": fmt["type"]}
        if fmt["type"] == "audio/pcm":
            rate = fmt.get("rate", 24000)
            expect(rate, (int,), f"{path}.rate", "an integer")
            if rate < 24000:
                raise ApiError("integer_below_min_value", f"Invalid '{path}.rate': integer below "
                               f"minimum value. Expected a value >= 24000, but got {rate} instead.",
                               f"{path}.rate")
            if rate > 24000:
                raise ApiError("integer_above_max_value", f"Invalid '{path}.rate': integer above "
                               f"maximum value. Expected a value <= 24000, but got {rate} instead.",
                               f"{path}.rate")
            out["rate"] = 24000
        elif "rate" in fmt:
            raise ApiError("unknown_parameter", f"Unknown parameter: '{path}.rate'.", f"{path}.rate")
        return out

    def validate_turn_detection(self, td, path):
        if td is None:
            return None
        expect(td, (dict,), path, "an object")
        if "type" not in td:
            raise ApiError("missing_required_parameter", f"Missing required parameter: '{path}.type'.",
                           f"{path}.type")
        check_enum(td["type"], ["server_vad", "semantic_vad"], f"{path}.type")
        if td["type"] == "server_vad":
            check_keys(td, ("type", "threshold", "prefix_padding_ms", "silence_duration_ms",
                            "idle_timeout_ms", "create_response", "interrupt_response"), path)
        else:
            check_keys(td, ("type", "eagerness", "create_response", "interrupt_response"), path)
            if "eagerness" in td:
                check_enum(td["eagerness"], ["low", "medium", "high", "auto"], f"{path}.eagerness")
        for k in ("prefix_padding_ms", "silence_duration_ms"):
            if k in td:
                expect(td[k], (int,), f"{path}.{k}", "an integer")
        if td.get("idle_timeout_ms") is not None:
            expect(td["idle_timeout_ms"], (int,), f"{path}.idle_timeout_ms", "an integer")
        if "threshold" in td:
            expect(td["threshold"], (int, float), f"{path}.threshold", "a number")
            if not 0.0 <= td["threshold"] <= 1.0:
                raise ApiError("invalid_value", f"Invalid '{path}.threshold': expected a value "
                               "between 0 and 1.", f"{path}.threshold")
        for k in ("create_response", "interrupt_response"):
            if k in td:
                expect(td[k], (bool,), f"{path}.{k}", "a boolean")
        out = self.vad_defaults(td["type"])
        out.update(td)
        return out

    def validate_nullable_obj(self, v, path, keys):
        if v is None:
            return None
        expect(v, (dict,), path, "an object")
        if keys is not None:
            check_keys(v, keys, path)
        return copy.deepcopy(v)

    def validate_input_audio(self, inp, cur, path, with_td=True, translation=False):
        expect(inp, (dict,), path, "an object")
        keys = ["format", "noise_reduction", "transcription"] + (["turn_detection"] if with_td else [])
        check_keys(inp, keys, path)
        if "format" in inp:
            cur["format"] = self.validate_format(inp["format"], f"{path}.format", translation)
        if "noise_reduction" in inp:
            nr = self.validate_nullable_obj(inp["noise_reduction"], f"{path}.noise_reduction", ("type",))
            if nr is not None:
                check_enum(nr.get("type"), ["near_field", "far_field"], f"{path}.noise_reduction.type")
            cur["noise_reduction"] = nr
        if "transcription" in inp:
            cur["transcription"] = self.validate_nullable_obj(
                inp["transcription"], f"{path}.transcription",
                ("model", "language", "prompt", "delay", "keywords", "languages"))
        if with_td and "turn_detection" in inp:
            cur["turn_detection"] = self.validate_turn_detection(inp["turn_detection"],
                                                                 f"{path}.turn_detection")

    def validate_realtime(self, upd, new):
        check_keys(upd, ("type", "model", "instructions", "output_modalities", "audio", "tools",
                         "tool_choice", "max_output_tokens", "include", "prompt", "tracing",
                         "truncation", "reasoning", "parallel_tool_calls"), "session")
        if "model" in upd:
            expect(upd["model"], (str,), "session.model", "a string")
            if upd["model"] != self.model:
                raise ApiError("invalid_value", "Cannot change the model of an active session "
                               f"(session model is '{self.model}').", "session.model")
        if "instructions" in upd:
            expect(upd["instructions"], (str,), "session.instructions", "a string")
            new["instructions"] = upd["instructions"]
        if "output_modalities" in upd:
            om = upd["output_modalities"]
            expect(om, (list,), "session.output_modalities", "an array")
            if om not in (["audio"], ["text"]):
                raise ApiError("invalid_value", "Invalid 'session.output_modalities': use "
                               "['audio'] or ['text'] (not both).", "session.output_modalities")
            new["output_modalities"] = list(om)
        if "audio" in upd:
            a = upd["audio"]
            expect(a, (dict,), "session.audio", "an object")
            check_keys(a, ("input", "output"), "session.audio")
            if "input" in a:
                self.validate_input_audio(a["input"], new["audio"]["input"], "session.audio.input")
            if "output" in a:
                o = a["output"]
                expect(o, (dict,), "session.audio.output", "an object")
                check_keys(o, ("format", "voice", "speed"), "session.audio.output")
                cur = new["audio"]["output"]
                if "format" in o:
                    cur["format"] = self.validate_format(o["format"], "session.audio.output.format")
                if "voice" in o:
                    v = o["voice"]
                    if isinstance(v, dict):
                        check_keys(v, ("id",), "session.audio.output.voice")
                    else:
                        expect(v, (str,), "session.audio.output.voice", "a string")
                        check_enum(v, VOICES, "session.audio.output.voice")
                    if v != cur["voice"] and self.assistant_audio_sent:
                        raise ApiError("cannot_update_voice", "Cannot update a conversation's "
                                       "voice if assistant audio is present.",
                                       "session.audio.output.voice")
                    cur["voice"] = v
                if "speed" in o:
                    sp = o["speed"]
                    expect(sp, (int, float), "session.audio.output.speed", "a number")
                    if sp < 0.25:
                        raise ApiError("decimal_below_min_value", "Invalid 'session.audio.output.speed': "
                                       f"Expected a value >= 0.25, but got {sp} instead.",
                                       "session.audio.output.speed")
                    if sp > 1.5:
                        raise ApiError("decimal_above_max_value", "Invalid 'session.audio.output.speed': "
                                       f"Expected a value <= 1.5, but got {sp} instead.",
                                       "session.audio.output.speed")
                    cur["speed"] = sp
        if "tools" in upd:
            new["tools"] = self.validate_tools(upd["tools"], "session.tools")
        if "tool_choice" in upd:
            tc = upd["tool_choice"]
            if isinstance(tc, str):
                check_enum(tc, ["none", "auto", "required"], "session.tool_choice")
            else:
                expect(tc, (dict,), "session.tool_choice", "a string or an object")
            new["tool_choice"] = tc
        if "max_output_tokens" in upd:
            new["max_output_tokens"] = self.validate_max_tokens(upd["max_output_tokens"],
                                                                "session.max_output_tokens")
        if "reasoning" in upd:
            r = upd["reasoning"]
            expect(r, (dict,), "session.reasoning", "an object")
            check_keys(r, ("effort",), "session.reasoning")
            if "effort" in r:
                check_enum(r["effort"], REASONING_EFFORTS, "session.reasoning.effort")
            new["reasoning"] = copy.deepcopy(r)
        for k in ("include", "prompt", "tracing", "truncation", "parallel_tool_calls"):
            if k in upd:
                new[k] = copy.deepcopy(upd[k])

    def validate_tools(self, tools, path):
        expect(tools, (list,), path, "an array")
        for i, t in enumerate(tools):
            p = f"{path}[{i}]"
            expect(t, (dict,), p, "an object")
            if t.get("type", "function") == "function":
                check_keys(t, ("type", "name", "description", "parameters"), p)
                if "name" not in t:
                    raise ApiError("missing_required_parameter",
                                   f"Missing required parameter: '{p}.name'.", f"{p}.name")
                expect(t["name"], (str,), f"{p}.name", "a string")
                if "description" in t:
                    expect(t["description"], (str,), f"{p}.description", "a string")
                    if len(t["description"]) > 1024:
                        raise ApiError("string_above_max_length",
                                       f"Invalid '{p}.description': string too long. Expected a "
                                       "string with maximum length 1024, but got a string with "
                                       f"length {len(t['description'])} instead.", f"{p}.description")
        return copy.deepcopy(tools)

    def validate_max_tokens(self, v, path):
        if v == "inf":
            return v
        expect(v, (int,), path, "an integer or 'inf'")
        if not 1 <= v <= 4096:
            raise ApiError("invalid_value", f"Invalid '{path}': expected 1..4096 or 'inf'.", path)
        return v

    def validate_transcription(self, upd, new):
        check_keys(upd, ("type", "audio", "include"), "session")
        if "audio" in upd:
            a = upd["audio"]
            expect(a, (dict,), "session.audio", "an object")
            check_keys(a, ("input",), "session.audio")
            if "input" in a:
                self.validate_input_audio(a["input"], new["audio"]["input"], "session.audio.input")
        if "include" in upd:
            new["include"] = copy.deepcopy(upd["include"])
        inp = new["audio"]["input"]
        tr = inp.get("transcription") or {}
        if tr.get("model") == "gpt-realtime-whisper" and inp.get("turn_detection") is not None:
            raise ApiError("invalid_value", "gpt-realtime-whisper requires "
                           "'session.audio.input.turn_detection' to be null.",
                           "session.audio.input.turn_detection")

    def validate_translation(self, upd, new):
        check_keys(upd, ("type", "model", "audio"), "session")
        if "model" in upd and upd["model"] != self.model:
            raise ApiError("invalid_value", "The model of a translation session cannot change.",
                           "session.model")
        if "audio" in upd:
            a = upd["audio"]
            expect(a, (dict,), "session.audio", "an object")
            check_keys(a, ("input", "output"), "session.audio")
            if "input" in a:
                self.validate_input_audio(a["input"], new["audio"]["input"], "session.audio.input",
                                          with_td=False, translation=True)
            if "output" in a:
                o = a["output"]
                expect(o, (dict,), "session.audio.output", "an object")
                check_keys(o, ("language", "format"), "session.audio.output")
                if "format" in o:
                    new["audio"]["output"]["format"] = self.validate_format(
                        o["format"], "session.audio.output.format", translation=True)
                if "language" in o:
                    expect(o["language"], (str,), "session.audio.output.language", "a string")
                    new["audio"]["output"]["language"] = o["language"]

    # -- input audio ----------------------------------------------------------

    def decode_audio(self, ev, key="audio"):
        if key not in ev:
            raise ApiError("missing_required_parameter", f"Missing required parameter: '{key}'.", key)
        b64 = ev[key]
        expect(b64, (str,), key, "a string")
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError("invalid_value", f"Invalid value for '{key}': expected base64-encoded "
                           "audio bytes.", key) from None
        if len(data) > MAX_APPEND_BYTES:
            raise ApiError("string_above_max_length", f"Invalid '{key}': audio chunk too large "
                           f"({len(data)} bytes, maximum {MAX_APPEND_BYTES}).", key)
        return data

    async def on_append(self, ev):
        check_keys(ev, ("type", "event_id", "audio"), "")
        data = self.decode_audio(ev)
        if self.in_fmt["type"] == "audio/pcm" and len(data) % 2:
            self.mock.log.write({"_t": time.time(), "_conn": self.n, "_dir": "mock",
                                 "warning": f"append of {len(data)} bytes: odd length for PCM16"})
        self.inbuf += data
        self.in_total_ms += len(data) / bytes_per_ms(self.in_fmt)
        if self.turn_detection is not None:
            await self.vad_feed(data)

    def buffer_ms(self):
        return len(self.inbuf) / bytes_per_ms(self.in_fmt)

    async def on_commit(self, ev):
        check_keys(ev, ("type", "event_id"), "")
        ms = self.buffer_ms()
        if ms < 100:
            raise ApiError("input_audio_buffer_commit_empty",
                           "Error committing input audio buffer: buffer too small. Expected at "
                           f"least 100ms of audio, but buffer only has {ms:.2f}ms of audio.")
        await self.commit(self.vad_item)

    async def commit(self, item_id=None):
        item_id = item_id or self.mock.new_id("item_")
        audio = bytes(self.inbuf)
        self.inbuf.clear()
        self.vad_speech, self.vad_run, self.vad_sil, self.vad_item = False, 0, 0.0, None
        prev = self.order[-1] if self.order else None
        await self.send({"type": "input_audio_buffer.committed", "previous_item_id": prev,
                         "item_id": item_id})
        item = {"id": item_id, "object": "realtime.item", "type": "message", "status": "completed",
                "role": "user", "content": [{"type": "input_audio", "transcript": None}],
                "_audio": audio}
        await self.add_item(item, prev)
        self.n_commits += 1
        if (self.session["audio"]["input"].get("transcription") or {}).get("model"):
            self.spawn(self.transcribe(item))
        return item

    async def add_item(self, item, prev):
        self.items[item["id"]] = item
        if prev is None and self.order and item.get("_root"):
            self.order.insert(0, item["id"])
        else:
            idx = self.order.index(prev) + 1 if prev in self.order else len(self.order)
            self.order.insert(idx, item["id"])
        item.pop("_root", None)
        await self.send({"type": "conversation.item.added", "previous_item_id": prev,
                         "item": self.public_item(item)})
        await self.send({"type": "conversation.item.done", "previous_item_id": prev,
                         "item": self.public_item(item)})

    def public_item(self, item, with_audio=False):
        out = {k: copy.deepcopy(v) for k, v in item.items() if not k.startswith("_")}
        if with_audio and "_audio" in item and out.get("content"):
            out["content"][0]["audio"] = base64.b64encode(item["_audio"]).decode()
        return out

    async def transcribe(self, item):
        texts = self.script.get("input_transcript", DEFAULT_INPUT_TRANSCRIPT)
        if isinstance(texts, list):
            text = texts[(self.n_commits - 1) % len(texts)] if texts else ""
        else:
            text = texts
        await asyncio.sleep(0.05)
        for w in split_words(text):
            await self.send({"type": "conversation.item.input_audio_transcription.delta",
                             "item_id": item["id"], "content_index": 0, "delta": w,
                             "obfuscation": "mock"})
            await asyncio.sleep(0.005)
        item["content"][0]["transcript"] = text
        secs = len(item.get("_audio", b"")) / bytes_per_ms(self.in_fmt) / 1000.0
        audio_tokens = max(1, int(secs * 10))
        out_tokens = len(split_words(text))
        await self.send({"type": "conversation.item.input_audio_transcription.completed",
                         "item_id": item["id"], "content_index": 0, "transcript": text,
                         "usage": {"type": "tokens", "total_tokens": audio_tokens + out_tokens,
                                   "input_tokens": audio_tokens,
                                   "input_token_details": {"text_tokens": 0,
                                                           "audio_tokens": audio_tokens},
                                   "output_tokens": out_tokens}})

    async def on_clear(self, ev):
        check_keys(ev, ("type", "event_id"), "")
        self.inbuf.clear()
        self.vad_speech, self.vad_run, self.vad_sil, self.vad_item = False, 0, 0.0, None
        await self.send({"type": "input_audio_buffer.cleared"})

    # -- VAD (simple energy detector) ----------------------------------------

    async def vad_feed(self, data):
        td = self.turn_detection
        fmt = self.in_fmt
        data = self.vad_rem + data
        bpms = bytes_per_ms(fmt)
        frame = 20 * bpms
        usable = len(data) // frame * frame
        self.vad_rem = data[usable:]
        # Position (ms since session start) of the first frame handled here.
        pos = self.in_total_ms - len(data) / bpms
        level_needed = 0.05 * float(td.get("threshold", 0.5)) * 32768
        silence_needed = td.get("silence_duration_ms", 200) if td["type"] == "server_vad" else 500
        for off in range(0, usable, frame):
            s = decode_to_pcm16(data[off:off + frame], fmt["type"])
            rms = math.sqrt(sum(x * x for x in s) / len(s)) if len(s) else 0.0
            pos += 20
            if rms >= level_needed:
                self.vad_run += 1
                self.vad_sil = 0.0
                if not self.vad_speech and self.vad_run >= 3:
                    self.vad_speech = True
                    self.vad_item = self.mock.new_id("item_")
                    start = max(0, int(pos - 60 - td.get("prefix_padding_ms", 300)))
                    await self.send({"type": "input_audio_buffer.speech_started",
                                     "audio_start_ms": start, "item_id": self.vad_item})
                    if td.get("interrupt_response", True) and self.active:
                        self.active.cancel("turn_detected")
            else:
                self.vad_run = 0
                if self.vad_speech:
                    self.vad_sil += 20
                    if self.vad_sil >= silence_needed:
                        end = int(pos - self.vad_sil)
                        item_id = self.vad_item
                        await self.send({"type": "input_audio_buffer.speech_stopped",
                                         "audio_end_ms": end, "item_id": item_id})
                        await self.commit(item_id)
                        if self.mode == "realtime" and td.get("create_response", True) \
                                and self.active is None:
                            await self.start_response({})

    # -- conversation items ---------------------------------------------------

    async def on_item_create(self, ev):
        check_keys(ev, ("type", "event_id", "previous_item_id", "item"), "")
        if "item" not in ev:
            raise ApiError("missing_required_parameter", "Missing required parameter: 'item'.", "item")
        it = ev["item"]
        expect(it, (dict,), "item", "an object")
        prev = ev.get("previous_item_id")
        root = False
        if prev is not None:
            expect(prev, (str,), "previous_item_id", "a string")
            if prev == "root":
                prev, root = None, True
            elif prev not in self.items:
                raise ApiError("invalid_value", f"Item '{prev}' does not exist.", "previous_item_id")
        else:
            prev = self.order[-1] if self.order else None
        if "type" not in it:
            raise ApiError("missing_required_parameter", "Missing required parameter: 'item.type'.",
                           "item.type")
        check_enum(it["type"], ["message", "function_call", "function_call_output"], "item.type")
        item = {"id": it.get("id") or self.mock.new_id("item_"), "object": "realtime.item",
                "type": it["type"], "status": "completed"}
        if it.get("id") is not None:
            expect(it["id"], (str,), "item.id", "a string")
            if it["id"] in self.items:
                raise ApiError("invalid_value", f"Invalid value for 'item.id': '{it['id']}' "
                               "already exists.", "item.id")
        if it["type"] == "function_call_output":
            check_keys(it, ("id", "type", "object", "status", "call_id", "output"), "item")
            for k in ("call_id", "output"):
                if k not in it:
                    raise ApiError("missing_required_parameter",
                                   f"Missing required parameter: 'item.{k}'.", f"item.{k}")
                expect(it[k], (str,), f"item.{k}", "a string")
            if it["call_id"] not in self.call_ids:
                raise ApiError("invalid_value", f"Tool call ID '{it['call_id']}' not found in "
                               "conversation.", "item.call_id")
            item.update(call_id=it["call_id"], output=it["output"])
        elif it["type"] == "function_call":
            check_keys(it, ("id", "type", "object", "status", "call_id", "name", "arguments"), "item")
            for k in ("call_id", "name", "arguments"):
                if k not in it:
                    raise ApiError("missing_required_parameter",
                                   f"Missing required parameter: 'item.{k}'.", f"item.{k}")
                expect(it[k], (str,), f"item.{k}", "a string")
            item.update(call_id=it["call_id"], name=it["name"], arguments=it["arguments"])
            self.call_ids.add(it["call_id"])
        else:
            check_keys(it, ("id", "type", "object", "status", "role", "content"), "item")
            if "role" not in it:
                raise ApiError("missing_required_parameter", "Missing required parameter: "
                               "'item.role'.", "item.role")
            check_enum(it["role"], ["user", "assistant", "system"], "item.role")
            content = it.get("content", [])
            expect(content, (list,), "item.content", "an array")
            want = {"user": ["input_text", "input_audio", "input_image"],
                    "system": ["input_text"], "assistant": ["output_text"]}[it["role"]]
            audio = b""
            for i, c in enumerate(content):
                expect(c, (dict,), f"item.content[{i}]", "an object")
                ctype = c.get("type")
                if ctype not in want:
                    raise ApiError("invalid_value", f"Invalid value: '{ctype}'. Supported values "
                                   f"are: {', '.join(repr(w) for w in want)}.",
                                   f"item.content[{i}].type")
                if ctype == "input_audio" and "audio" in c:
                    audio += self.decode_audio(c, "audio")
            item.update(role=it["role"],
                        content=[{k: v for k, v in c.items() if k != "audio"} for c in content])
            if audio:
                item["_audio"] = audio
        if root:
            item["_root"] = True
        await self.add_item(item, prev)

    async def on_item_delete(self, ev):
        check_keys(ev, ("type", "event_id", "item_id"), "")
        iid = self.need_item(ev)
        del self.items[iid]
        self.order.remove(iid)
        await self.send({"type": "conversation.item.deleted", "item_id": iid})

    async def on_item_retrieve(self, ev):
        check_keys(ev, ("type", "event_id", "item_id"), "")
        iid = self.need_item(ev)
        await self.send({"type": "conversation.item.retrieved",
                         "item": self.public_item(self.items[iid], with_audio=True)})

    def need_item(self, ev):
        if "item_id" not in ev:
            raise ApiError("missing_required_parameter", "Missing required parameter: 'item_id'.",
                           "item_id")
        expect(ev["item_id"], (str,), "item_id", "a string")
        if ev["item_id"] not in self.items:
            raise ApiError("invalid_value", f"Item with item_id '{ev['item_id']}' not found.",
                           "item_id")
        return ev["item_id"]

    async def on_truncate(self, ev):
        check_keys(ev, ("type", "event_id", "item_id", "content_index", "audio_end_ms"), "")
        for k in ("item_id", "content_index", "audio_end_ms"):
            if k not in ev:
                raise ApiError("missing_required_parameter", f"Missing required parameter: '{k}'.", k)
        expect(ev["content_index"], (int,), "content_index", "an integer")
        expect(ev["audio_end_ms"], (int,), "audio_end_ms", "an integer")
        if ev["audio_end_ms"] < 0:
            raise ApiError("integer_below_min_value", "Invalid 'audio_end_ms': integer below minimum "
                           f"value. Expected a value >= 0, but got {ev['audio_end_ms']} instead.",
                           "audio_end_ms")
        iid = self.need_item(ev)
        item = self.items[iid]
        fmt = item.get("_fmt")
        if (item.get("type") != "message" or item.get("role") != "assistant" or fmt is None
                or not item.get("_audio")):
            raise ApiError("unsupported_content_type",
                           "Only model output audio messages can be truncated", "item_id")
        if ev["content_index"] != 0:
            raise ApiError("invalid_value", f"Invalid 'content_index': item '{iid}' has no content "
                           f"part {ev['content_index']}.", "content_index")
        have_ms = len(item["_audio"]) / bytes_per_ms(fmt)
        end = ev["audio_end_ms"]
        if end > have_ms:
            raise ApiError("invalid_value", f"Audio content of {int(have_ms)}ms is already shorter "
                           f"than {end}ms", "audio_end_ms")
        item["_audio"] = item["_audio"][: int(end * bytes_per_ms(fmt))]
        item["_truncated_ms"] = end
        for c in item.get("content", []):
            if c.get("type") == "output_audio":
                c["transcript"] = ""
        await self.send({"type": "conversation.item.truncated", "item_id": iid,
                         "content_index": 0, "audio_end_ms": end})

    # -- responses ------------------------------------------------------------

    async def on_response_create(self, ev):
        check_keys(ev, ("type", "event_id", "response"), "")
        params = ev.get("response") or {}
        expect(params, (dict,), "response", "an object")
        check_keys(params, ("instructions", "tools", "tool_choice", "output_modalities", "audio",
                            "conversation", "input", "metadata", "max_output_tokens", "reasoning",
                            "prompt"), "response")
        if self.active is not None:
            raise ApiError("conversation_already_has_active_response",
                           f"Conversation already has an active response in progress: "
                           f"{self.active.id}. Wait until the response is finished before "
                           "creating a new one.")
        if "output_modalities" in params:
            om = params["output_modalities"]
            expect(om, (list,), "response.output_modalities", "an array")
            if om not in (["audio"], ["text"]):
                raise ApiError("invalid_value", "Invalid 'response.output_modalities': use "
                               "['audio'] or ['text'] (not both).", "response.output_modalities")
        if "conversation" in params:
            check_enum(params["conversation"], ["auto", "none"], "response.conversation")
        if "max_output_tokens" in params:
            self.validate_max_tokens(params["max_output_tokens"], "response.max_output_tokens")
        if "tools" in params:
            self.validate_tools(params["tools"], "response.tools")
        if "audio" in params:
            a = params["audio"]
            expect(a, (dict,), "response.audio", "an object")
            check_keys(a, ("output",), "response.audio")
            o = a.get("output", {})
            expect(o, (dict,), "response.audio.output", "an object")
            check_keys(o, ("format", "voice"), "response.audio.output")
            if "format" in o:
                self.validate_format(o["format"], "response.audio.output.format")
        await self.start_response(params)

    async def start_response(self, params):
        specs = self.script.get("responses") or []
        spec = specs[self.n_responses] if self.n_responses < len(specs) else {"type": "audio"}
        self.n_responses += 1
        out = self.session["audio"]["output"]
        a = (params.get("audio") or {}).get("output") or {}
        fmt = dict(a["format"]) if "format" in a else dict(out["format"])
        if fmt["type"] == "audio/pcm":
            fmt["rate"] = 24000
        r = Response(self.mock.new_id("resp_"), spec, fmt,
                     params.get("output_modalities") or self.session["output_modalities"],
                     params.get("conversation", "auto"), a.get("voice", out["voice"]),
                     params.get("metadata"),
                     params.get("max_output_tokens", self.session["max_output_tokens"]))
        self.active = r
        # response.created goes out before the next client event is handled.
        await self.send({"type": "response.created", "response": self.response_obj(r, "in_progress")})
        if self.script.get("rate_limits_when") == "start":
            await self.send_rate_limits()
        r.task = self.spawn(self.run_response(r))

    def response_obj(self, r, status, details=None, usage=None):
        return {"object": "realtime.response", "id": r.id, "status": status,
                "status_details": details,
                "output": [self.public_item(i) for i in r.output] if status != "in_progress" else [],
                "conversation_id": self.conv_id if r.conversation == "auto" else None,
                "output_modalities": list(r.modalities),
                "max_output_tokens": r.max_output_tokens,
                "audio": {"output": {"format": r.out_fmt, "voice": r.voice}},
                "usage": usage, "metadata": r.metadata}

    async def run_response(self, r):
        try:
            await self._run_response(r)
        except asyncio.CancelledError:
            raise
        except ConnectionClosed:
            pass
        finally:
            if self.active is r:
                self.active = None

    async def _run_response(self, r):
        s = self.script
        spec = r.spec
        kind = spec.get("type", "audio")
        if kind == "failed":
            err = spec.get("error") or {"type": "server_error", "code": "server_error",
                                        "message": "The server had an error (mock)."}
            await self.finish(r, "failed", {"type": "failed", "error": err}, 0)
            return
        delay = spec.get("first_audio_delay_ms", s.get("first_audio_delay_ms", 0)) / 1000.0
        prev = self.order[-1] if self.order else None
        if kind == "function_call":
            await self.run_function_call(r, spec, prev, delay)
        elif kind == "text" or r.modalities == ["text"]:
            await self.run_text(r, spec, prev, delay)
        else:
            await self.run_audio(r, spec, prev, delay)

    async def add_output_item(self, r, item, prev):
        r.output.append(item)
        if r.conversation == "auto":
            self.items[item["id"]] = item
            self.order.append(item["id"])
        await self.send({"type": "response.output_item.added", "response_id": r.id,
                         "output_index": 0, "item": self.public_item(item)})
        if r.conversation == "auto":
            await self.send({"type": "conversation.item.added", "previous_item_id": prev,
                             "item": self.public_item(item)})

    async def close_output_item(self, r, item, prev):
        if r.conversation == "auto":
            await self.send({"type": "conversation.item.done", "previous_item_id": prev,
                             "item": self.public_item(item)})
        await self.send({"type": "response.output_item.done", "response_id": r.id,
                         "output_index": 0, "item": self.public_item(item)})

    async def finish(self, r, status, details, out_tokens, audio_tokens=0):
        in_tokens = 100 + 10 * len(self.order)
        usage = None if status == "failed" else {
            "total_tokens": in_tokens + out_tokens, "input_tokens": in_tokens,
            "output_tokens": out_tokens,
            "input_token_details": {"text_tokens": 100, "audio_tokens": in_tokens - 100,
                                    "image_tokens": 0, "cached_tokens": 0,
                                    "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0,
                                                              "image_tokens": 0}},
            "output_token_details": {"text_tokens": out_tokens - audio_tokens,
                                     "audio_tokens": audio_tokens}}
        if self.active is r:
            self.active = None
        await self.send({"type": "response.done",
                         "response": self.response_obj(r, status, details, usage)})
        if self.script.get("rate_limits_when", "end") == "end":
            await self.send_rate_limits(in_tokens + out_tokens)

    async def send_rate_limits(self, used=0):
        rl = self.script.get("rate_limits")
        if rl is None:
            if self.rl_remaining is None:
                self.rl_remaining = 15000000
            self.rl_remaining -= used
            rl = [{"name": "tokens", "limit": 15000000, "remaining": self.rl_remaining,
                   "reset_seconds": 0.001}]
        await self.send({"type": "rate_limits.updated", "rate_limits": rl})

    def cancel_details(self, r):
        return {"type": "cancelled", "reason": r.cancel_reason}

    async def run_audio(self, r, spec, prev, delay):
        transcript = spec.get("transcript", self.script.get("transcript", DEFAULT_TRANSCRIPT))
        pcm = self.mock.answer
        if spec.get("wav"):
            pcm = load_wav(spec["wav"])
        fmt = r.out_fmt
        data = pcm if fmt["type"] == "audio/pcm" else pcm24k_to_g711(pcm, fmt["type"])
        bpms = bytes_per_ms(fmt)
        chunk_ms = int(spec.get("chunk_ms", self.chunk_ms))
        chunk = chunk_ms * bpms
        nchunks = max(1, math.ceil(len(data) / chunk))
        words = split_words(transcript) if transcript else []
        speed = float(spec.get("speed", self.speed))
        stall_at, stall_ms = spec.get("stall_at_ms"), spec.get("stall_ms", 0)
        item = {"id": self.mock.new_id("item_"), "object": "realtime.item", "type": "message",
                "status": "in_progress", "role": "assistant", "content": [],
                "_audio": b"", "_fmt": fmt}
        if await r.sleep(delay):
            return await self.finish(r, "cancelled", self.cancel_details(r), 0)
        await self.add_output_item(r, item, prev)
        ids = {"response_id": r.id, "item_id": item["id"], "output_index": 0, "content_index": 0}
        await self.send({"type": "response.content_part.added", **ids,
                         "part": {"type": "audio", "transcript": ""}})
        item["content"] = [{"type": "output_audio", "transcript": ""}]
        said = ""
        wi = 0
        t0 = asyncio.get_event_loop().time()
        stalled = False
        for i in range(nchunks):
            while wi < len(words) and wi * nchunks <= i * len(words):
                if r.cancel_reason:
                    break
                await self.send({"type": "response.output_audio_transcript.delta", **ids,
                                 "delta": words[wi], "obfuscation": "mock"})
                said += words[wi]
                wi += 1
            if stall_at is not None and not stalled and i * chunk_ms >= stall_at:
                stalled = True
                if await r.sleep(stall_ms / 1000.0):
                    break
                t0 += stall_ms / 1000.0
            if speed > 0:
                target = t0 + (i * chunk_ms / 1000.0) / speed
                if await r.sleep(target - asyncio.get_event_loop().time()):
                    break
            elif r.cancel_reason:
                break
            piece = data[i * chunk:(i + 1) * chunk]
            if not await self.send({"type": "response.output_audio.delta", **ids,
                                    "delta": base64.b64encode(piece).decode()}):
                return
            if "_truncated_ms" not in item:
                item["_audio"] += piece
            self.assistant_audio_sent = True
            if i == 0:
                for kind in self.hostile_in_response:
                    await self.inject(kind, r)
                self.hostile_in_response = []
        if not r.cancel_reason:
            while wi < len(words):
                await self.send({"type": "response.output_audio_transcript.delta", **ids,
                                 "delta": words[wi], "obfuscation": "mock"})
                said += words[wi]
                wi += 1
        cancelled = r.cancel_reason is not None
        await self.send({"type": "response.output_audio.done", **ids})
        await self.send({"type": "response.output_audio_transcript.done", **ids, "transcript": said})
        await self.send({"type": "response.content_part.done", **ids,
                         "part": {"type": "audio", "transcript": said}})
        item["status"] = "incomplete" if cancelled else "completed"
        item["content"] = [{"type": "output_audio", "transcript": said}]
        await self.close_output_item(r, item, prev)
        audio_tokens = int(len(item["_audio"]) / bpms / 50)
        out_tokens = audio_tokens + len(split_words(said)) if said else audio_tokens
        if cancelled:
            await self.finish(r, "cancelled", self.cancel_details(r), out_tokens, audio_tokens)
        else:
            await self.finish(r, "completed", None, out_tokens, audio_tokens)

    async def run_text(self, r, spec, prev, delay):
        text = spec.get("text", spec.get("transcript", self.script.get("transcript", DEFAULT_TRANSCRIPT)))
        item = {"id": self.mock.new_id("item_"), "object": "realtime.item", "type": "message",
                "status": "in_progress", "role": "assistant", "content": []}
        if await r.sleep(delay):
            return await self.finish(r, "cancelled", self.cancel_details(r), 0)
        await self.add_output_item(r, item, prev)
        ids = {"response_id": r.id, "item_id": item["id"], "output_index": 0, "content_index": 0}
        await self.send({"type": "response.content_part.added", **ids,
                         "part": {"type": "text", "text": ""}})
        said = ""
        for w in split_words(text):
            if await r.sleep(0.01 / max(self.speed, 0.01) if self.speed > 0 else 0):
                break
            await self.send({"type": "response.output_text.delta", **ids, "delta": w,
                             "obfuscation": "mock"})
            said += w
        cancelled = r.cancel_reason is not None
        await self.send({"type": "response.output_text.done", **ids, "text": said})
        await self.send({"type": "response.content_part.done", **ids,
                         "part": {"type": "text", "text": said}})
        item["status"] = "incomplete" if cancelled else "completed"
        item["content"] = [{"type": "output_text", "text": said}]
        await self.close_output_item(r, item, prev)
        n = len(split_words(said)) if said else 0
        if cancelled:
            await self.finish(r, "cancelled", self.cancel_details(r), n)
        else:
            await self.finish(r, "completed", None, n)

    async def run_function_call(self, r, spec, prev, delay):
        args = spec.get("arguments", "{}")
        if not isinstance(args, str):
            args = json.dumps(args, separators=(",", ":"))
        name = spec.get("name", "get_time")
        call_id = spec.get("call_id") or self.mock.new_id("call_")
        item = {"id": self.mock.new_id("item_"), "object": "realtime.item", "type": "function_call",
                "status": "in_progress", "name": name, "call_id": call_id, "arguments": ""}
        if await r.sleep(delay):
            return await self.finish(r, "cancelled", self.cancel_details(r), 0)
        self.call_ids.add(call_id)
        await self.add_output_item(r, item, prev)
        ids = {"response_id": r.id, "item_id": item["id"], "output_index": 0, "call_id": call_id}
        half = len(args) // 2
        for piece in ([args[:half], args[half:]] if half else [args]):
            if await r.sleep(0.01):
                break
            await self.send({"type": "response.function_call_arguments.delta", **ids, "delta": piece})
        # Sent on cancellation too (check response.done's status before acting).
        await self.send({"type": "response.function_call_arguments.done", **ids, "name": name,
                         "arguments": args})
        cancelled = r.cancel_reason is not None
        item["arguments"] = args
        item["status"] = "incomplete" if cancelled else "completed"
        await self.close_output_item(r, item, prev)
        n = max(1, len(args) // 4)
        if cancelled:
            await self.finish(r, "cancelled", self.cancel_details(r), n)
        else:
            await self.finish(r, "completed", None, n)

    async def on_response_cancel(self, ev):
        check_keys(ev, ("type", "event_id", "response_id"), "")
        rid = ev.get("response_id")
        if rid is not None:
            expect(rid, (str,), "response_id", "a string")
        if self.active is None or (rid is not None and rid != self.active.id):
            raise ApiError("response_cancel_not_active",
                           "Cancellation failed: no active response found")
        r = self.active
        r.cancel("client_cancelled")
        # response.done follows from the response task; wait for it so the
        # events after this cancel keep the real server's order.
        try:
            await asyncio.wait_for(asyncio.shield(r.task), 5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass

    # -- translation ----------------------------------------------------------

    async def tr_append(self, ev):
        check_keys(ev, ("type", "event_id", "audio"), "")
        data = self.decode_audio(ev)
        self.tr_in_ms += len(data) / 48.0
        lag = float(self.script.get("translation_lag_ms", 400))
        await self.tr_emit(self.tr_in_ms - lag)
        # Input transcript (only when input transcription is configured).
        if (self.session["audio"]["input"].get("transcription") or {}).get("model"):
            text = self.script.get("input_transcript", DEFAULT_INPUT_TRANSCRIPT)
            if isinstance(text, list):
                text = " ".join(text)
            words = split_words(text)
            while self.tr_in_word < len(words) and (self.tr_in_word + 1) * 400 <= self.tr_in_ms:
                await self.send({"type": "session.input_transcript.delta",
                                 "delta": words[self.tr_in_word]})
                self.tr_in_word += 1

    async def tr_emit(self, upto_ms):
        """Emit 200 ms output frames (answer WAV, looped) while out <= upto_ms."""
        pcm = self.mock.answer
        words = split_words(self.script.get("transcript", DEFAULT_TRANSCRIPT)) or [""]
        while self.tr_out_ms + 200 <= upto_ms + 1e-6:
            frame = bytearray()
            while len(frame) < 9600:
                take = pcm[self.tr_pos:self.tr_pos + 9600 - len(frame)]
                frame += take
                self.tr_pos = (self.tr_pos + len(take)) % len(pcm)
            self.tr_out_ms += 200
            w = words[self.tr_word % len(words)]
            if self.tr_word and self.tr_word % len(words) == 0:
                w = " " + w.lstrip()
            self.tr_word += 1
            await self.send({"type": "session.output_transcript.delta", "delta": w})
            await self.send({"type": "session.output_audio.delta",
                             "delta": base64.b64encode(bytes(frame)).decode(),
                             "sample_rate": 24000, "channels": 1, "format": "pcm16",
                             "elapsed_ms": int(self.tr_out_ms)})

    async def tr_close(self, ev):
        check_keys(ev, ("type", "event_id"), "")
        # Flush: emit output for all input received (rounded up to a frame).
        await self.tr_emit(math.ceil(self.tr_in_ms / 200.0) * 200)
        await self.send({"type": "session.closed"})
        await asyncio.sleep(0.05)
        await self.ws.close(1000, "session closed")


# ---------------------------------------------------------------------------

def load_script(path):
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
    except (OSError, ValueError) as e:
        raise ScriptError(f"{path}: {e}") from None
    if not isinstance(s, dict):
        raise ScriptError(f"{path}: the script must be a JSON object")

    def check(obj, where):
        for k in obj:
            if k not in SCRIPT_KEYS or (k == "connections" and where != "top level"):
                raise ScriptError(f"{path}: unknown script key '{k}' at {where}")
        for h in obj.get("hostile") or []:
            kind = h if isinstance(h, str) else (h.get("kind") if isinstance(h, dict) else None)
            if kind not in HOSTILE_KINDS:
                raise ScriptError(f"{path}: unknown hostile kind {h!r} at {where} "
                                  f"(known: {', '.join(sorted(HOSTILE_KINDS))})")
        for i, r in enumerate(obj.get("responses") or []):
            if not isinstance(r, dict) or r.get("type", "audio") not in (
                    "audio", "text", "function_call", "failed"):
                raise ScriptError(f"{path}: responses[{i}] at {where}: need an object with "
                                  "type audio|text|function_call|failed")
            if r.get("wav"):
                load_wav(r["wav"])
        if obj.get("auth_failure") not in (None, "http", "close"):
            raise ScriptError(f"{path}: auth_failure must be 'http' or 'close'")
        if obj.get("rate_limits_when") not in (None, "start", "end"):
            raise ScriptError(f"{path}: rate_limits_when must be 'start' or 'end'")

    check(s, "top level")
    conns = s.get("connections") or []
    if not isinstance(conns, list):
        raise ScriptError(f"{path}: 'connections' must be a list")
    for i, c in enumerate(conns):
        if not isinstance(c, dict):
            raise ScriptError(f"{path}: connections[{i}] must be an object")
        check(c, f"connections[{i}]")
    return s


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Mock of the OpenAI Realtime API (GA) over wss, for hark tests.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (printed)")
    p.add_argument("--cert", help="server certificate (PEM, may hold the chain)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--token", help="required bearer token (default: any non-empty token)")
    p.add_argument("--auth-failure", choices=("http", "close"), default="http",
                   help="bad/missing token: 'http' = HTTP 401 on the upgrade (default); "
                        "'close' = 101, error event, close 3000 (what the real service does)")
    p.add_argument("--log", help="JSONL log of connections and client events")
    p.add_argument("--log-out", action="store_true", help="also log server events (_dir: out)")
    p.add_argument("--answer-wav", help="assistant answer audio: 24 kHz mono PCM16 WAV "
                                        "(default: a built-in 1.5 s 300 Hz tone)")
    p.add_argument("--speed", type=float, default=4.0,
                   help="answer audio pacing as a multiple of real time (default 4; 0 = no pacing)")
    p.add_argument("--script", help="behaviour script (JSON, see README.md)")
    p.add_argument("--ready-file", help="write the listening port here once ready")
    p.add_argument("--no-deflate", action="store_true",
                   help="refuse permessage-deflate (the real service accepts it)")
    p.add_argument("--seed", type=int, help="seed for generated ids (reproducible runs)")
    return p.parse_args(argv)


async def amain(args):
    try:
        answer = load_wav(args.answer_wav) if args.answer_wav else builtin_answer()
        script = load_script(args.script)
    except (ValueError, ScriptError) as e:
        print(f"mock_cloud: {e}", file=sys.stderr)
        return 2
    ctx = None
    if args.cert or args.key:
        if not (args.cert and args.key):
            print("mock_cloud: --cert and --key go together", file=sys.stderr)
            return 2
        ctx = mock_tls.server_context(args.cert, args.key, "mock_cloud")
        if ctx is None:
            return 2
    mock = MockServer(args, script, answer)

    async def handler(ws):
        await Session(mock, ws).run()

    loop = asyncio.get_event_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    kw = {}
    if args.no_deflate:
        kw["compression"] = None
    try:
        server = await websockets.serve(
            handler, args.host, args.port, ssl=ctx, create_protocol=make_protocol(mock),
            max_size=MAX_MESSAGE, max_queue=64, ping_interval=20, ping_timeout=20,
            subprotocols=["realtime"], close_timeout=2, **kw)
    except OSError as e:
        print(f"mock_cloud: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    port = server.sockets[0].getsockname()[1]
    scheme = "wss" if ctx else "ws"
    print(port, flush=True)
    print(f"mock_cloud: listening on {scheme}://{args.host}:{port} "
          f"(connect to {scheme}://localhost:{port}/v1/realtime?model=gpt-realtime-2)",
          file=sys.stderr, flush=True)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.ready_file)
    await stop
    server.close()
    await server.wait_closed()
    mock.log.close()
    print("mock_cloud: stopped", file=sys.stderr, flush=True)
    return 0


def main():
    args = parse_args(sys.argv[1:])
    sys.exit(asyncio.run(amain(args)))


if __name__ == "__main__":
    main()
