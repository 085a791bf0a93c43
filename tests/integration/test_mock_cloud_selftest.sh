# Self-test of the Realtime API mock (tools/mock-cloud) and the test PKI
# (tools/make-test-ca): TLS against our own CA, session.update, 1 s of
# appended audio, commit, a faster-than-real-time audio response, cancel +
# truncate (valid and invalid), a scripted function call, error events that
# echo our event_id, auth and TLS failures, the misbehaviour script keys,
# transcription and translation sessions, the JSONL log (every client event,
# connection numbers, no token), and a clean SIGTERM shutdown.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
MOCK=$top/tools/mock-cloud/mock_cloud.py
TOKEN="sk-selftest-$$-$(date +%s%N)"
MOCK_PIDS=""
stop_mocks() {
    local p
    for p in $MOCK_PIDS; do kill -9 "$p" 2>/dev/null || true; done
}
trap 'stop_mocks; cleanup' EXIT

t0=$(date +%s.%N)
"$top/tools/make-test-ca" "$T/pki" || fail "make-test-ca failed"
for f in ca.pem ca.key server.pem server.key wronghost.pem wronghost.key expired.pem expired.key \
         other-ca.pem untrusted.pem untrusted.key; do
    [ -s "$T/pki/$f" ] || fail "make-test-ca did not write $f"
done
note "make-test-ca: $(echo "$(date +%s.%N) - $t0" | bc) s"
openssl verify -CAfile "$T/pki/ca.pem" -verify_hostname localhost "$T/pki/server.pem" >/dev/null ||
    fail "server.pem does not verify for localhost"
sox -n -r 24000 -c 1 -b 16 "$T/answer.wav" synth 1.5 sine 300 vol 0.5
sox -n -r 16000 -c 1 -b 16 "$T/answer16k.wav" synth 0.5 sine 300

# A non-24 kHz answer is refused with a clear message.
if "$PY" "$MOCK" --answer-wav "$T/answer16k.wav" > "$T/bad.out" 2>&1; then
    fail "mock accepted a 16 kHz answer WAV"
fi
grep -q "need 24000 Hz mono 16-bit PCM WAV, got 16000 Hz" "$T/bad.out" || fail "unclear WAV error: $(cat "$T/bad.out")"

# Per-connection script; the connection numbers match the client below.
cat > "$T/script.json" <<'EOF'
{
  "transcript": "Hello from the mock.",
  "input_transcript": "what time is it",
  "connections": [
    {"responses": [{"type": "audio"}, {"type": "audio", "speed": 1},
                   {"type": "function_call", "name": "get_time", "arguments": {"tz": "UTC"}},
                   {"type": "audio"}]},
    {}, {}, {"auth_failure": "close"}, {}, {},
    {"huge_message_bytes": 4000000, "partial_message": true,
     "hostile": ["invalid_json", "unknown_event", "binary_frame"]},
    {"slow_bytes_per_s": 20000},
    {"close_session_after_ms": 300},
    {"disconnect_after_ms": 200},
    {}, {}
  ]
}
EOF

# start_mock NAME CERT [ARGS...]: a mock on a free port, port in $T/NAME.port,
# pid in $last_pid.
start_mock() {
    local name=$1 cert=$2
    shift 2
    "$PY" "$MOCK" --cert "$T/pki/$cert.pem" --key "$T/pki/$cert.key" --token "$TOKEN" \
        --answer-wav "$T/answer.wav" --ready-file "$T/$name.port" "$@" \
        > "$T/$name.out" 2> "$T/$name.err" &
    last_pid=$!
    MOCK_PIDS="$MOCK_PIDS $last_pid"
}
start_mock main server --log "$T/mock.jsonl" --script "$T/script.json" --speed 4
main_pid=$last_pid
start_mock untrusted untrusted
untrusted_pid=$last_pid
start_mock expired expired
expired_pid=$last_pid
start_mock wronghost wronghost
wronghost_pid=$last_pid
for name in main untrusted expired wronghost; do
    for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
    [ -s "$T/$name.port" ] || { cat "$T/$name.err" >&2; fail "mock '$name' did not start"; }
done
port=$(cat "$T/main.port")
[ "$(head -1 "$T/main.out")" = "$port" ] || fail "mock did not print its port"
note "mock listening on port $port"

"$PY" - "$T" "$TOKEN" <<'EOF' || fail "client checks failed"
import asyncio, base64, json, math, ssl, struct, sys, time
import websockets

T, TOKEN = sys.argv[1], sys.argv[2]
PORT = int(open(f"{T}/main.port").read())
CA = f"{T}/pki/ca.pem"
sent = []          # events sent on connection 1, in order

def ctx():
    c = ssl.create_default_context(cafile=CA)
    return c

def url(port, path="/v1/realtime?model=gpt-realtime-2"):
    return f"wss://localhost:{port}{path}"

def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")

class Client:
    def __init__(self, ws):
        self.ws = ws
    async def send(self, ev, log=True):
        if log:
            sent.append(ev)
        await self.ws.send(json.dumps(ev))
    async def recv(self, timeout=3.0):
        m = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(m)
    async def until(self, pred, timeout=3.0):
        evs = []
        end = time.monotonic() + timeout
        while True:
            ev = await self.recv(max(0.01, end - time.monotonic()))
            evs.append(ev)
            if pred(ev):
                return evs
    async def expect_error(self, code, event_id):
        ev = await self.recv()
        check(ev["type"] == "error", f"expected error {code}, got {ev['type']}")
        check(ev["error"]["code"] == code, f"expected code {code}, got {ev['error']}")
        check(ev["error"]["event_id"] == event_id, f"error.event_id {ev['error']['event_id']} != {event_id}")
        return ev

def sine_chunks(secs=1.0, chunk_ms=40):
    n = int(24000 * secs)
    pcm = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 440 * i / 24000))) for i in range(n))
    step = 24 * chunk_ms * 2
    return [pcm[i:i + step] for i in range(0, len(pcm), step)]

def kinds(evs):
    out = []
    for e in evs:
        t = e["type"]
        if out and out[-1] == t and t.endswith(".delta"):
            continue
        out.append(t)
    return out

async def main_flow():
    hdr = {"Authorization": f"Bearer {TOKEN}"}
    async with websockets.connect(url(PORT), ssl=ctx(), extra_headers=hdr, max_size=None) as ws:
        c = Client(ws)
        ev = await c.recv()
        check(ev["type"] == "session.created", "first event is session.created")
        s = ev["session"]
        check(s["type"] == "realtime" and s["id"].startswith("sess_") and s["expires_at"] > time.time(),
              "session.created GA shape")
        # session.update -> session.updated (merged config)
        await c.send({"type": "session.update", "event_id": "evt_update", "session": {
            "type": "realtime", "instructions": "be brief", "output_modalities": ["audio"],
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None,
                                "transcription": {"model": "gpt-realtime-whisper"}},
                      "output": {"voice": "marin"}},
            "tools": [{"type": "function", "name": "get_time", "description": "time",
                       "parameters": {"type": "object", "properties": {}}}]}})
        ev = await c.recv()
        check(ev["type"] == "session.updated", f"session.updated, got {ev}")
        s = ev["session"]
        check(s["audio"]["input"]["turn_detection"] is None and s["audio"]["output"]["voice"] == "marin"
              and s["instructions"] == "be brief" and s["audio"]["output"]["format"]["rate"] == 24000,
              "session.updated echoes the merged config")
        # beta-style field -> unknown_parameter; 16 kHz -> integer_below_min_value
        await c.send({"type": "session.update", "event_id": "evt_beta",
                      "session": {"type": "realtime", "input_audio_format": "pcm16"}})
        await c.expect_error("unknown_parameter", "evt_beta")
        await c.send({"type": "session.update", "event_id": "evt_16k", "session": {"type": "realtime",
                      "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}})
        await c.expect_error("integer_below_min_value", "evt_16k")
        # empty commit, invalid base64
        await c.send({"type": "input_audio_buffer.commit", "event_id": "evt_commit0"})
        await c.expect_error("input_audio_buffer_commit_empty", "evt_commit0")
        await c.send({"type": "input_audio_buffer.append", "event_id": "evt_b64", "audio": "@@@not base64"})
        await c.expect_error("invalid_value", "evt_b64")
        # 1 s of sine in 40 ms chunks, commit
        for i, ch in enumerate(sine_chunks()):
            await c.send({"type": "input_audio_buffer.append", "event_id": f"evt_app{i}",
                          "audio": base64.b64encode(ch).decode()})
        await c.send({"type": "input_audio_buffer.commit", "event_id": "evt_commit"})
        evs = await c.until(lambda e: e["type"] == "conversation.item.done")
        check(kinds(evs) == ["input_audio_buffer.committed", "conversation.item.added",
                             "conversation.item.done"], f"commit sequence {kinds(evs)}")
        user_item = evs[0]["item_id"]
        check(evs[1]["item"]["role"] == "user" and evs[1]["item"]["id"] == user_item, "user item")
        # input transcription (configured above) arrives asynchronously
        evs = await c.until(lambda e: e["type"] == "conversation.item.input_audio_transcription.completed")
        check(evs[-1]["transcript"] == "what time is it" and evs[-1]["item_id"] == user_item,
              "input transcription")

        # response 1: complete audio, faster than real time
        t_start = time.monotonic()
        await c.send({"type": "response.create", "event_id": "evt_resp1"})
        evs = await c.until(lambda e: e["type"] == "response.done")
        wall = time.monotonic() - t_start
        evs += await c.until(lambda e: e["type"] == "rate_limits.updated")
        seq = kinds(evs)
        want = ["response.created", "response.output_item.added", "conversation.item.added",
                "response.content_part.added", "response.output_audio_transcript.delta",
                "response.output_audio.delta"]
        check(seq[:6] == want, f"response start sequence {seq[:6]}")
        want_end = ["response.output_audio.done", "response.output_audio_transcript.done",
                    "response.content_part.done", "conversation.item.done",
                    "response.output_item.done", "response.done", "rate_limits.updated"]
        check(seq[-7:] == want_end, f"response end sequence {seq[-7:]}")
        audio = b"".join(base64.b64decode(e["delta"]) for e in evs if e["type"] == "response.output_audio.delta")
        dur = len(audio) / 48000.0
        check(dur >= 1.5, f"answer audio {dur:.3f} s < 1.5 s")
        check(wall < dur / 2, f"audio not faster than real time: {wall:.3f} s wall for {dur:.3f} s")
        tr = "".join(e["delta"] for e in evs if e["type"] == "response.output_audio_transcript.delta")
        check(tr == "Hello from the mock.", f"transcript {tr!r}")
        done = [e for e in evs if e["type"] == "response.done"][0]["response"]
        check(done["status"] == "completed" and done["usage"]["total_tokens"] > 0, "response.done completed")
        item1 = evs[1]["item"]["id"]
        print(f"  response 1: {dur:.2f} s of audio in {wall:.3f} s, {len(evs)} events")

        # response 2: second create while active, cancel, truncate round trip
        await c.send({"type": "response.create", "event_id": "evt_resp2"})
        await c.send({"type": "response.create", "event_id": "evt_resp2b"})
        got_ms = 0.0
        evs = []
        err_seen = False
        while got_ms < 300:
            ev = await c.recv()
            evs.append(ev)
            if ev["type"] == "response.output_audio.delta":
                got_ms += len(base64.b64decode(ev["delta"])) / 48.0
            if ev["type"] == "error":
                check(ev["error"]["code"] == "conversation_already_has_active_response"
                      and ev["error"]["event_id"] == "evt_resp2b", f"second create: {ev}")
                err_seen = True
        check(err_seen, "no conversation_already_has_active_response error")
        item2 = [e for e in evs if e["type"] == "response.output_item.added"][0]["item"]["id"]
        rid2 = [e for e in evs if e["type"] == "response.created"][0]["response"]["id"]
        await c.send({"type": "response.cancel", "event_id": "evt_cancel"})
        more = await c.until(lambda e: e["type"] == "response.done")
        for ev in more:
            if ev["type"] == "response.output_audio.delta":
                got_ms += len(base64.b64decode(ev["delta"])) / 48.0
        done = more[-1]["response"]
        check(done["id"] == rid2 and done["status"] == "cancelled"
              and done["status_details"]["reason"] == "client_cancelled", f"cancelled response.done {done}")
        check(got_ms < 1500, "cancel did not stop the audio")
        await c.until(lambda e: e["type"] == "rate_limits.updated")
        await c.send({"type": "response.cancel", "event_id": "evt_cancel2"})
        await c.expect_error("response_cancel_not_active", "evt_cancel2")
        too_big = int(got_ms) + 500
        await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc_big",
                      "item_id": item2, "content_index": 0, "audio_end_ms": too_big})
        ev = await c.expect_error("invalid_value", "evt_trunc_big")
        check("already shorter than" in ev["error"]["message"], "truncate message")
        await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc_float",
                      "item_id": item2, "content_index": 0, "audio_end_ms": 120.5})
        await c.expect_error("invalid_type", "evt_trunc_float")
        await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc_user",
                      "item_id": user_item, "content_index": 0, "audio_end_ms": 10})
        await c.expect_error("unsupported_content_type", "evt_trunc_user")
        await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc_none",
                      "item_id": "item_nope", "content_index": 0, "audio_end_ms": 10})
        await c.expect_error("invalid_value", "evt_trunc_none")
        await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc",
                      "item_id": item2, "content_index": 0, "audio_end_ms": 200})
        ev = await c.recv()
        check(ev["type"] == "conversation.item.truncated" and ev["item_id"] == item2
              and ev["audio_end_ms"] == 200, f"truncated: {ev}")
        await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc1",
                      "item_id": item1, "content_index": 0, "audio_end_ms": 1500})
        ev = await c.recv()
        check(ev["type"] == "conversation.item.truncated", f"truncate at exactly the end: {ev}")
        print(f"  response 2: cancelled after {got_ms:.0f} ms received; truncate checks ok")

        # unknown event type -> error echoing our event_id
        await c.send({"type": "bogus.event", "event_id": "evt_bogus"})
        ev = await c.expect_error("invalid_value", "evt_bogus")
        check(ev["error"]["param"] == "type", "unknown event param")
        await ws.send("not json at all")
        sent.append("not json at all")
        ev = await c.recv()
        check(ev["type"] == "error" and ev["error"]["code"] == "invalid_json", f"invalid json: {ev}")

        # response 3: scripted function call, then output + response 4 (audio)
        await c.send({"type": "response.create", "event_id": "evt_resp3"})
        evs = await c.until(lambda e: e["type"] == "response.done")
        check(kinds(evs) == ["response.created", "response.output_item.added", "conversation.item.added",
                             "response.function_call_arguments.delta",
                             "response.function_call_arguments.done", "conversation.item.done",
                             "response.output_item.done", "response.done"], f"function call {kinds(evs)}")
        fdone = [e for e in evs if e["type"] == "response.function_call_arguments.done"][0]
        check(fdone["name"] == "get_time" and json.loads(fdone["arguments"]) == {"tz": "UTC"}, "fc args")
        await c.until(lambda e: e["type"] == "rate_limits.updated")
        await c.send({"type": "conversation.item.create", "event_id": "evt_fco", "item": {
            "type": "function_call_output", "call_id": fdone["call_id"], "output": "{\"time\":\"12:00\"}"}})
        evs = await c.until(lambda e: e["type"] == "conversation.item.done")
        check(kinds(evs) == ["conversation.item.added", "conversation.item.done"], "fco item")
        await c.send({"type": "response.create", "event_id": "evt_resp4"})
        evs = await c.until(lambda e: e["type"] == "response.done")
        check(any(e["type"] == "response.output_audio.delta" for e in evs)
              and evs[-1]["response"]["status"] == "completed", "response after tool output is audio")
        await c.until(lambda e: e["type"] == "rate_limits.updated")
        await c.send({"type": "input_audio_buffer.clear", "event_id": "evt_clear"})
        ev = await c.recv()
        check(ev["type"] == "input_audio_buffer.cleared", "cleared")
        print("  function call round trip ok")
    json.dump(sent, open(f"{T}/sent.json", "w"))

async def expect_http(path, headers, status, conn_what):
    try:
        async with websockets.connect(url(PORT, path), ssl=ctx(), extra_headers=headers):
            pass
    except websockets.exceptions.InvalidStatusCode as e:
        check(e.status_code == status, f"{conn_what}: HTTP {e.status_code}, wanted {status}")
        return
    raise SystemExit(f"FAILED: {conn_what} was accepted")

async def expect_fatal(path, headers, code, close_code, what):
    async with websockets.connect(url(PORT, path), ssl=ctx(), extra_headers=headers) as ws:
        ev = json.loads(await asyncio.wait_for(ws.recv(), 3))
        check(ev["type"] == "error" and ev["error"]["code"] == code, f"{what}: {ev}")
        try:
            await asyncio.wait_for(ws.recv(), 3)
            raise SystemExit(f"FAILED: {what}: socket not closed")
        except websockets.exceptions.ConnectionClosed as e:
            check(e.code == close_code, f"{what}: close {e.code}, wanted {close_code}")

async def tls_fails(name, want):
    port = int(open(f"{T}/{name}.port").read())
    try:
        async with websockets.connect(url(port), ssl=ctx(),
                                      extra_headers={"Authorization": f"Bearer {TOKEN}"}):
            pass
    except ssl.SSLCertVerificationError as e:
        check(want in e.verify_message, f"{name}: {e.verify_message!r}, wanted {want!r}")
        return e.verify_message
    raise SystemExit(f"FAILED: TLS to the {name} certificate succeeded")

async def misbehaviour():
    hdr = {"Authorization": f"Bearer {TOKEN}"}
    # conn 7: huge message, partial + invalid JSON, unknown event, binary frame
    async with websockets.connect(url(PORT), ssl=ctx(), extra_headers=hdr, max_size=16 << 20) as ws:
        frames = [await asyncio.wait_for(ws.recv(), 5) for _ in range(6)]
        check(json.loads(frames[0])["type"] == "session.created", "huge conn: session.created first")
        check(len(frames[1]) > 4000000 and json.loads(frames[1])["type"] == "conversation.item.retrieved",
              "huge message")
        for f in frames[2:4]:
            try:
                json.loads(f)
                raise SystemExit("FAILED: partial/invalid JSON frame parsed")
            except ValueError:
                pass
        check(json.loads(frames[4])["type"] == "mock.future_event", "unknown event injected")
        check(isinstance(frames[5], bytes), "binary frame injected")
    # conn 8: slow trickle
    t = time.monotonic()
    async with websockets.connect(url(PORT), ssl=ctx(), extra_headers=hdr) as ws:
        m = await asyncio.wait_for(ws.recv(), 5)
        dt = time.monotonic() - t
        check(dt >= len(m) / 20000 * 0.5, f"slow conn: {len(m)} B in {dt:.3f} s")
    # conn 9: session duration close
    async with websockets.connect(url(PORT), ssl=ctx(), extra_headers=hdr) as ws:
        await ws.recv()
        ev = json.loads(await asyncio.wait_for(ws.recv(), 3))
        check(ev["type"] == "error" and "maximum duration" in ev["error"]["message"], f"expiry error {ev}")
        try:
            await asyncio.wait_for(ws.recv(), 3)
        except websockets.exceptions.ConnectionClosed as e:
            check(e.code == 1001 and "maximum duration of 60 minutes" in e.reason, f"close {e.code} {e.reason}")
    # conn 10: abrupt disconnect
    async with websockets.connect(url(PORT), ssl=ctx(), extra_headers=hdr) as ws:
        await ws.recv()
        try:
            await asyncio.wait_for(ws.recv(), 3)
            raise SystemExit("FAILED: no disconnect")
        except websockets.exceptions.ConnectionClosed as e:
            check(e.code == 1006, f"abrupt disconnect gave close {e.code}")
    print("  huge/hostile/slow/expiry/disconnect ok")

async def transcription_and_translation():
    hdr = {"Authorization": f"Bearer {TOKEN}"}
    # conn 11: transcription session
    async with websockets.connect(url(PORT, "/v1/realtime?intent=transcription"), ssl=ctx(),
                                  extra_headers=hdr) as ws:
        c = Client(ws)
        ev = await c.recv()
        check(ev["session"]["type"] == "transcription", "transcription session.created")
        await c.send({"type": "session.update", "event_id": "evt_tw", "session": {"type": "transcription",
            "audio": {"input": {"transcription": {"model": "gpt-realtime-whisper"}}}}}, log=False)
        await c.expect_error("invalid_value", "evt_tw")   # whisper needs turn_detection null
        await c.send({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {
            "transcription": {"model": "gpt-realtime-whisper"}, "turn_detection": None}}}}, log=False)
        ev = await c.recv()
        check(ev["type"] == "session.updated", f"transcription update {ev}")
        for ch in sine_chunks(0.5, 100):
            await c.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(ch).decode()}, log=False)
        await c.send({"type": "input_audio_buffer.commit"}, log=False)
        evs = await c.until(lambda e: e["type"] == "conversation.item.input_audio_transcription.completed")
        text = "".join(e["delta"] for e in evs if e["type"] == "conversation.item.input_audio_transcription.delta")
        check(text == "what time is it" == evs[-1]["transcript"], f"transcription {text!r}")
    # conn 12: translation session
    async with websockets.connect(url(PORT, "/v1/realtime/translations?model=gpt-realtime-translate"),
                                  ssl=ctx(), extra_headers=hdr) as ws:
        c = Client(ws)
        ev = await c.recv()
        check(ev["session"]["type"] == "translation", "translation session.created")
        await c.send({"type": "input_audio_buffer.append", "event_id": "evt_wrong",
                      "audio": "AAAA"}, log=False)
        await c.expect_error("invalid_value", "evt_wrong")
        for ch in sine_chunks(1.0, 200):
            await c.send({"type": "session.input_audio_buffer.append", "audio": base64.b64encode(ch).decode()},
                         log=False)
        await c.send({"type": "session.close"}, log=False)
        evs = await c.until(lambda e: e["type"] == "session.closed")
        out = [e for e in evs if e["type"] == "session.output_audio.delta"]
        ms = sum(len(base64.b64decode(e["delta"])) for e in out) / 48.0
        check(ms == 1000 and all(e["sample_rate"] == 24000 and e["format"] == "pcm16" for e in out),
              f"translation output {ms} ms")
        check(any(e["type"] == "session.output_transcript.delta" for e in evs), "translation transcript")
    print("  transcription and translation sessions ok")

async def main():
    await main_flow()                                                        # conn 1
    await expect_http("/v1/realtime?model=gpt-realtime-2",
                      {"Authorization": "Bearer wrong-token"}, 401, "wrong token")   # conn 2
    await expect_http("/v1/realtime?model=gpt-realtime-2", {}, 401, "missing token") # conn 3
    await expect_fatal("/v1/realtime?model=gpt-realtime-2", {"Authorization": "Bearer wrong-token"},
                       "invalid_api_key", 3000, "wrong token, close mode")           # conn 4
    await expect_http("/v1/other", {"Authorization": f"Bearer {TOKEN}"}, 404, "bad path")  # conn 5
    await expect_fatal("/v1/realtime", {"Authorization": f"Bearer {TOKEN}"},
                       "missing_model", 4000, "missing model")                       # conn 6
    print("  auth/path/model failures ok")
    await misbehaviour()                                                     # conns 7-10
    await transcription_and_translation()                                    # conns 11-12
    msgs = [await tls_fails("untrusted", "unable to get local issuer certificate"),
            await tls_fails("expired", "certificate has expired"),
            await tls_fails("wronghost", "Hostname mismatch")]
    print("  TLS rejects: " + "; ".join(msgs))

asyncio.run(main())
EOF

# The log: every client event of connection 1 in order, with _t and _conn;
# connection records with the redacted Authorization header; no token.
! grep -qF "$TOKEN" "$T/mock.jsonl" || fail "the token appears in the log"
"$PY" - "$T" <<'EOF' || fail "log checks failed"
import json, sys
T = sys.argv[1]
sent = json.load(open(f"{T}/sent.json"))
lines = [json.loads(l) for l in open(f"{T}/mock.jsonl")]
for l in lines:
    assert isinstance(l.get("_t"), float) and isinstance(l.get("_conn"), int), l
got = [l for l in lines if l["_conn"] == 1 and l["_dir"] == "in"]
assert len(got) == len(sent), f"log has {len(got)} client events of conn 1, client sent {len(sent)}"
for g, s in zip(got, sent):
    if isinstance(s, str):
        assert g.get("_invalid_json") == s, g
    else:
        assert all(g.get(k) == v for k, v in s.items()), (g, s)
conn = [l for l in lines if l["_dir"] == "connect"]
assert [c["_conn"] for c in conn] == list(range(1, 13)), [c["_conn"] for c in conn]
assert conn[0]["headers"]["Authorization"] == "Bearer <REDACTED>", conn[0]["headers"]
assert conn[0]["path"] == "/v1/realtime" and conn[0]["query"] == {"model": "gpt-realtime-2"}
assert [c["status"] for c in conn[1:5]] == [401, 401, 101, 404], [c["status"] for c in conn]
ts = [l["_t"] for l in got]
assert ts == sorted(ts), "timestamps not monotonic"
print(f"  log: {len(lines)} lines, {len(got)} client events of connection 1 match")
EOF

# SIGTERM: clean exit 0.
kill -TERM "$main_pid" "$untrusted_pid" "$expired_pid" "$wronghost_pid"
for _ in $(seq 60); do kill -0 "$main_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$main_pid" 2>/dev/null && fail "mock still running 3 s after SIGTERM"
rc=0; wait "$main_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$T/main.err" >&2; fail "mock exited with $rc after SIGTERM"; }
grep -q "mock_cloud: stopped" "$T/main.err" || fail "no 'stopped' message"
wait "$untrusted_pid" "$expired_pid" "$wronghost_pid" || fail "a TLS-failure mock did not exit cleanly"
MOCK_PIDS=""
if grep -q "Traceback\|ERROR\|Error in" "$T/main.err"; then cat "$T/main.err" >&2; fail "mock logged an error"; fi
echo "ok"
