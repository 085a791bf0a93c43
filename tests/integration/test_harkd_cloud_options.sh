# harkd's session options from [cloud]: G.711 µ-law uplink for narrow links
# (input_format = pcmu: 8 kHz, 1 byte per sample in the appends), the
# service's semantic VAD instead of local turn ends, and the reasoning
# effort of gpt-realtime-2 - all checked in the mock's log of what harkd sent.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$top/tools/make-test-ca" "$T/ca"
printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
$PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --token test-token --log "$T/mock.jsonl" --ready-file "$T/port" > "$T/mock.out" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
make_scene 6
write_conf "[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/port")/v1/realtime?model=gpt-realtime-2" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token" "input_format = pcmu" "turn_detection = semantic_vad" \
    "reasoning_effort = low" "chunk_ms = 20"
start_harkd
sleep 1.2
"$BIN/harkctl" wake >/dev/null || fail "wake failed"
sleep 1.5
"$BIN/harkctl" sleep >/dev/null
sleep 0.4
"$BIN/harkctl" status > "$T/st.json"
stop_harkd
note "sent: $(json "$T/st.json" 'j["cloud"]["audio_sent_ms"]') ms; errors: $(json "$T/st.json" 'j["cloud"]["errors"]')"
$PY - "$T/mock.jsonl" "$T/st.json" <<'PY' || fail "session options not as configured"
import base64, json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
s = [e for e in ev if e.get("type") == "session.update"][0]["session"]
assert s["audio"]["input"]["format"] == {"type": "audio/pcmu"}, s["audio"]["input"]["format"]
assert s["audio"]["input"]["turn_detection"]["type"] == "semantic_vad", s["audio"]["input"]["turn_detection"]
assert s["reasoning"] == {"effort": "low"}, s.get("reasoning")
app = [e for e in ev if e.get("type") == "input_audio_buffer.append"]
sizes = {len(base64.b64decode(e["audio"])) for e in app[:-1]}
assert sizes == {160}, f"20 ms of G.711 at 8 kHz is 160 bytes; got {sizes}"
total_ms = sum(len(base64.b64decode(e["audio"])) for e in app) / 8
assert 1200 <= total_ms <= 1800, total_ms
assert abs(st["cloud"]["audio_sent_ms"] - total_ms) <= 20, (st["cloud"]["audio_sent_ms"], total_ms)
assert st["cloud"]["errors"] == 0
PY
echo "ok"
