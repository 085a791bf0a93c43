# hark-cloud-probe (harkd's cloud code: ws_client + rt_session + rt_events)
# against the mock cloud over real TLS: the three modes, a function-call
# round trip, TLS and auth failures with no audio sent, hostile server
# messages, and a dropped connection.
source "$(dirname "$0")/lib.sh"
PROBE=$BIN/hark-cloud-probe
[ -x "$PROBE" ] || PROBE=$top/build/host/bin/hark-cloud-probe
PY=/usr/bin/python3
MOCK_PIDS=()
stop_mocks() { for p in "${MOCK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_mocks; cleanup' EXIT

"$top/tools/make-test-ca" "$T/ca"
sox -n -r 24000 -c 1 -b 16 "$T/answer.wav" synth 1.5 sine 300
espeak-ng -w "$T/q.wav" "what time is it"
printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
printf 'wrong-token\n' > "$T/badtoken"; chmod 600 "$T/badtoken"

# start_mock NAME CERT [SCRIPT]: a mock on a free port; sets PORT_<NAME>.
start_mock() {
    local name=$1 cert=$2 script=${3:-}
    $PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/$cert.pem" --key "$T/ca/$cert.key" \
        --token test-token --answer-wav "$T/answer.wav" --log "$T/$name.jsonl" --log-out \
        --ready-file "$T/$name.port" ${script:+--script "$script"} > "$T/$name.out" 2>&1 &
    MOCK_PIDS+=($!)
}
wait_port() { for _ in $(seq 100); do [ -s "$T/$1.port" ] && { cat "$T/$1.port"; return; }; sleep 0.05; done; fail "mock $1 did not start"; }

echo '{"connections":[{},{"responses":[{"type":"function_call","name":"get_time","arguments":"{}"},{"type":"audio","transcript":"It is noon."}]}]}' > "$T/main.json"
echo '{"hostile":["invalid_json","partial_json","wrong_types","unknown_event","missing_type","binary_frame","invalid_base64_delta","stale_response_done"],"huge_message_bytes":3000000}' > "$T/hostile.json"
echo '{"responses":[{"type":"audio","stall_at_ms":300,"stall_ms":5000}],"disconnect_after_ms":800}' > "$T/drop.json"
start_mock main server "$T/main.json"
start_mock wrong wronghost
start_mock expired expired
start_mock untrusted untrusted
start_mock hostile server "$T/hostile.json"
start_mock drop server "$T/drop.json"
start_mock pinned server
start_mock pinbad server
PM=$(wait_port main)
url="wss://localhost:$PM/v1/realtime?model=gpt-realtime-2"
probe() { "$PROBE" --ca "$T/ca/ca.pem" --token-file "$T/token" --in "$T/q.wav" --timeout 15 "$@"; }

# 1. conversation
probe --url "$url" --mode conversation --out "$T/conv.wav" > "$T/conv.txt" 2> "$T/conv.err" || { cat "$T/conv.err"; fail "conversation failed"; }
note "conversation: $(tr '\n' ' ' < "$T/conv.txt")| $(cat "$T/conv.err")"
frames=$("$TOOLS/hark-wav" info "$T/conv.wav" | sed -n 's/^frames *//p')
[ "$frames" = 36000 ] || fail "answer audio: $frames frames, want 36000 (1.5 s at 24 kHz)"
grep -q "mock assistant" "$T/conv.txt" || fail "no transcript"
$PY - "$T/main.jsonl" "$T/q.wav" <<'PY' || fail "client events in the mock log are wrong"
import base64, json, sys, wave
ev = [json.loads(l) for l in open(sys.argv[1])]
c1 = [e for e in ev if e.get("_conn") == 1 and e.get("_dir") != "out" and "type" in e]
types = [e["type"] for e in c1]
assert types[0] == "session.update", types[:3]
s = c1[0]["session"]
assert s["type"] == "realtime" and s["model"] == "gpt-realtime-2"
assert s["audio"]["input"]["turn_detection"] is None, "local VAD mode: turn_detection must be null"
assert s["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
appends = [e for e in c1 if e["type"] == "input_audio_buffer.append"]
pcm = b"".join(base64.b64decode(e["audio"]) for e in appends)
w = wave.open(sys.argv[2]); src_s = w.getnframes() / w.getframerate()
got_s = len(pcm) / 2 / 24000
assert abs(got_s - src_s) < 0.02, (got_s, src_s)
assert all(len(base64.b64decode(e["audio"])) == 1920 for e in appends[:-1]), "40 ms chunks"
i_commit, i_create = types.index("input_audio_buffer.commit"), types.index("response.create")
assert types.index("input_audio_buffer.append") < i_commit < i_create
print(f"  mock log: session.update, {len(appends)} appends = {got_s:.3f} s, commit, response.create")
PY

# 2. function call round trip (second connection of the same mock)
probe --url "$url" --mode conversation --out "$T/fc.wav" > "$T/fc.txt" 2> "$T/fc.err" || { cat "$T/fc.err"; fail "function call flow failed"; }
grep -q "It is noon" "$T/fc.txt" || fail "no answer after the tool call"
$PY - "$T/main.jsonl" <<'PY' || fail "function call events wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
c2 = [e["type"] + ":" + (e.get("item") or {}).get("type", "") for e in ev if e.get("_conn") == 2 and e.get("_dir") != "out" and "type" in e]
c2 = [t for t in c2 if not t.startswith("input_audio_buffer.append")]
assert c2 == ["session.update:", "input_audio_buffer.commit:", "response.create:",
              "conversation.item.create:function_call_output", "response.create:"], c2
out = [e for e in ev if e.get("_conn") == 2 and e.get("type") == "conversation.item.create"][0]["item"]
assert out["call_id"] and json.loads(out["output"])["utc"]
print("  tool call: function_call_output + response.create after the call")
PY

# 3. captions and translation
"$PROBE" --ca "$T/ca/ca.pem" --token-file "$T/token" --in "$T/q.wav" --timeout 15 \
    --url "wss://localhost:$PM/v1/realtime?intent=transcription" --mode captions > "$T/cap.txt" 2>&1 || { cat "$T/cap.txt"; fail "captions failed"; }
grep -q "^caption: " "$T/cap.txt" || fail "no caption"
probe --url "wss://localhost:$PM/v1/realtime/translations?model=gpt-realtime-translate" --mode translation \
    --target-language de --out "$T/tr.wav" > "$T/tr.txt" 2>&1 || { cat "$T/tr.txt"; fail "translation failed"; }
note "captions: $(grep '^caption' "$T/cap.txt"); translation: $(grep 'received' "$T/tr.txt" | sed 's/.*received/received/')"

# 4. TLS and auth failures: exit 1, a message that says why, and no event reached the server
check_refused() {   # NAME EXPECTED-TEXT [probe args...]
    local name=$1 want=$2; shift 2
    local port; port=$(wait_port "$name")
    if probe --url "wss://localhost:$port/v1/realtime?model=gpt-realtime-2" --mode conversation "$@" > "$T/$name.res" 2>&1; then
        fail "$name: the probe succeeded"
    fi
    grep -q "$want" "$T/$name.res" || { cat "$T/$name.res"; fail "$name: message does not say '$want'"; }
    if grep -q '"type": *"input_audio_buffer.append"\|"type": *"session.update"' "$T/$name.jsonl" 2>/dev/null; then
        fail "$name: client events reached the server"
    fi
    note "$name: $(grep 'failed:' "$T/$name.res" | head -1)"
}
check_refused wrong "does not match the host name"
check_refused expired "expired"
check_refused untrusted "not trusted"
# SPKI pin on top of the CA check: the server's own key passes, any other
# key is refused before the upgrade request (and its token) is sent.
pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
good_pin=$(pin "$T/ca/server.pem"); other_pin=$(pin "$T/ca/wronghost.pem")
PP=$(wait_port pinned)
probe --url "wss://localhost:$PP/v1/realtime?model=gpt-realtime-2" --mode conversation \
    --spki-pin "sha256//$other_pin;sha256//$good_pin" --out "$T/pin.wav" > "$T/pin.txt" 2>&1 ||
    { cat "$T/pin.txt"; fail "the matching pin (second of two) was refused"; }
check_refused pinbad "matches no configured spki_pin" --spki-pin "sha256//$other_pin"
[ -s "$T/pinbad.jsonl" ] && fail "pinbad: the server logged events: $(head -c 300 "$T/pinbad.jsonl")"
"$PROBE" --url "$url" --ca "$T/ca/ca.pem" --token-file "$T/badtoken" --in "$T/q.wav" --mode conversation --timeout 10 > "$T/auth.res" 2>&1 &&
    fail "wrong token accepted"
grep -q "unauthorized" "$T/auth.res" || { cat "$T/auth.res"; fail "auth failure not reported"; }
grep -q "wrong-token\|test-token" "$T"/*.jsonl && fail "a token was logged"

# 5. hostile server: every bad message dropped, the session still completes
PH=$(wait_port hostile)
probe --url "wss://localhost:$PH/v1/realtime?model=gpt-realtime-2" --mode conversation --out "$T/h.wav" > "$T/h.txt" 2> "$T/h.err" ||
    { cat "$T/h.err"; fail "hostile session did not complete"; }
note "hostile: $(grep -c 'dropped a malformed' "$T/h.err") malformed events dropped, session completed"
[ "$(grep -c 'dropped a malformed' "$T/h.err")" -ge 3 ] || fail "malformed events were not reported"

# 6. connection dropped mid-response: exit 1 with a clear reason
PD=$(wait_port drop)
if probe --url "wss://localhost:$PD/v1/realtime?model=gpt-realtime-2" --mode conversation > "$T/d.txt" 2>&1; then
    fail "dropped connection reported as success"
fi
grep -q "connection lost" "$T/d.txt" || { cat "$T/d.txt"; fail "drop not reported as a lost connection"; }
note "drop: $(grep "failed:" "$T/d.txt")"
echo "ok"
