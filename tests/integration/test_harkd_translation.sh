# Live translation in harkd: with the gate open the microphone goes out as
# session.input_audio_buffer.append in 200 ms chunks on
# /v1/realtime/translations, the translated audio (session.output_audio.delta)
# plays through the device, and the output transcript comes back over the
# control socket cut into sentences. Nothing is sent before the gate opens.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$top/tools/make-test-ca" "$T/ca"
printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
$PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --token test-token --log "$T/tr.jsonl" --ready-file "$T/tr.port" \
    --script <(echo '{"transcript":"Hallo zusammen. Wie spät ist es? Danke.","translation_lag_ms":400}') > "$T/tr.out" 2>&1 &
M=$!
trap 'kill $M 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/tr.port" ] && break; sleep 0.05; done
make_scene 8
write_conf "[cloud]" "mode = translation" "target_language = de" \
    "url = wss://localhost:$(cat "$T/tr.port")/v1/realtime/translations?model=gpt-realtime-translate" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token"
start_harkd
sleep 1.5
"$BIN/harkctl" status > "$T/s0.json"
"$BIN/harkctl" wake >/dev/null || fail "wake failed"
sleep 3
"$BIN/harkctl" sleep >/dev/null || fail "sleep failed"
sleep 1
"$BIN/harkctl" status > "$T/s1.json"
"$BIN/harkctl" transcript > "$T/tx.json"
stop_harkd
note "before wake: $(json "$T/s0.json" 'j["cloud"]["audio_sent_ms"]') ms sent; after: $(json "$T/s1.json" 'j["cloud"]["audio_sent_ms"], j["cloud"]["audio_received_ms"], j["played_audio_frames"]')"
note "transcript: $(json "$T/tx.json" '[l["text"] for l in j["lines"]]')"
[ "$(json "$T/s0.json" 'j["cloud"]["audio_sent_ms"]')" = 0 ] || fail "audio sent before the gate opened"
$PY - "$T/tr.jsonl" "$T/s1.json" <<'PY' || fail "translation session wrong"
import base64, json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
up = [e for e in ev if e.get("type") == "session.update"]
assert up and up[0]["session"]["audio"]["output"]["language"] == "de", up[:1]
app = [e for e in ev if e.get("type") == "session.input_audio_buffer.append"]
assert not any(e.get("type") == "input_audio_buffer.append" for e in ev), "conversation append in a translation session"
sizes = {len(base64.b64decode(e["audio"])) for e in app[:-1]}
assert sizes == {9600}, f"appends must be 200 ms of PCM16 24 kHz (9600 bytes), got {sizes}"
sent = len(app) * 200
assert 2400 <= sent <= 3600, f"{sent} ms sent for about 3 s of open gate"
# The answer audio lags the input by 400 ms: what came back was played.
rx = st["cloud"]["audio_received_ms"]
assert rx >= sent - 800, (rx, sent)
assert abs(st["played_audio_frames"] - rx * 16) <= 16 * 20, (st["played_audio_frames"], rx)
PY
[ "$(json "$T/tx.json" '[l["role"] for l in j["lines"]][:2]')" = "['translation', 'translation']" ] || fail "no translation transcript lines"
[ "$(json "$T/tx.json" 'j["lines"][0]["text"]')" = "Hallo zusammen." ] || fail "first translated sentence wrong"
grep -q "test-token" "$T/harkd.log" && fail "the token was logged"
echo "ok"
