# harkd on sim4 with the cloud client against the mock over TLS:
#  - nothing is sent while the gate is closed (privacy), only session.update;
#  - wake -> audio streams; end-turn -> commit + response.create; the answer
#    is resampled 24 -> 16 kHz and played through ALSA;
#  - interrupt during the answer flushes playback at once and truncates the
#    assistant item at what was actually played (integer audio_end_ms).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$top/tools/make-test-ca" "$T/ca"
sox -n -r 24000 -c 1 -b 16 "$T/answer.wav" synth 3 sine 300 vol 0.5
printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
$PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --token test-token --answer-wav "$T/answer.wav" --log "$T/mock.jsonl" --log-out --ready-file "$T/port" > "$T/mock.out" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "mock did not start"
make_scene 14
write_conf "[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/port")/v1/realtime?model=gpt-realtime-2" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token"
start_harkd
appends() { $PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('type') == 'input_audio_buffer.append'))" "$T/mock.jsonl"; }
st() { "$BIN/harkctl" status > "$T/st.json" && json "$T/st.json" "$1"; }

# 1. privacy: 2 s of speech with the gate closed
sleep 2
[ "$(st 'j["cloud"]["session"]')" = configured ] || fail "cloud session not configured"
[ "$(appends)" = 0 ] || fail "audio was sent before wake"
note "gate closed for 2 s: session configured, 0 appends"

# 2. a turn
"$BIN/harkctl" wake >/dev/null
sleep 1.5
"$BIN/harkctl" end-turn >/dev/null
sleep 0.3
n=$(appends); sent=$(st 'j["cloud"]["audio_sent_ms"]')
note "turn 1: $n appends, $sent ms sent"
close_to "$sent" 1500 250 || fail "sent $sent ms for a 1.5 s open gate"
lat=$(json "$T/st.json" 'j["cloud"]["uplink_latency_ms"]')
note "capture->socket latency: $lat"
# A 40 ms append carries 4 hops: its first hop waits ~40 ms for the others.
[ "$(json "$T/st.json" 'j["cloud"]["uplink_latency_ms"]["mean"] <= 60')" = True ] || fail "uplink latency too high: $lat"
sleep 3.5
played=$(st 'j["played_audio_frames"]')
[ "$(st 'j["cloud"]["responses"]')" = 1 ] || fail "no response"
close_to "$played" 48000 320 || fail "played $played frames of a 3 s answer (want 48000 at 16 kHz)"
note "turn 1: answer 3 s played ($played frames)"

# 3. barge-in during the second answer
"$BIN/harkctl" wake >/dev/null; sleep 1; "$BIN/harkctl" end-turn >/dev/null
sleep 1.2
"$BIN/harkctl" interrupt >/dev/null
sleep 0.5
p0=$(sed -n 's/.*interrupt: playback flushed after \([0-9]*\) frames.*/\1/p' "$T/harkd.log")
[ -n "$p0" ] || fail "no interrupt log line"
p1=$(st 'j["played_audio_frames"]')
note "interrupt at $p0 frames played; 0.5 s later: $p1"
[ $((p1 - p0)) -le 320 ] || fail "playback went on after interrupt: $((p1 - p0)) frames"
[ "$(st 'j["cloud"]["truncates"]')" = 1 ] || fail "no truncate sent"
stop_harkd
$PY - "$T/mock.jsonl" "$p0" <<'PY' || fail "truncate event wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
tr = [e for e in ev if e.get("type") == "conversation.item.truncate"]
assert len(tr) == 1, tr
t = tr[0]
assert isinstance(t["audio_end_ms"], int) and t["content_index"] == 0 and t["item_id"], t
played_ms_item2 = (int(sys.argv[2]) - 48000) / 16
assert abs(t["audio_end_ms"] - played_ms_item2) <= 60, (t["audio_end_ms"], played_ms_item2)
done = [e for e in ev if e.get("type") == "conversation.item.truncated"]
assert done, "the mock did not accept the truncate"
print(f"  truncate: audio_end_ms {t['audio_end_ms']} (played {played_ms_item2:.0f} ms of item 2); server confirmed: {bool(done)}")
PY
echo "ok"
