# The wake-word flow in harkd on sim4 against the mock cloud, with the
# committed models (models/hey_nova.hkm, models/vad.hkm): the user first
# says something without the wake word (nothing may be sent, no wake),
# then "hey nova, what time is it?". Asserted from harkd's log and status
# and the mock's event log: exactly one wake, by the wake word; not one
# append before it; the first second sent is the pre-roll and holds the
# phrase itself (speech, not silence); the local VAD ends the turn and the
# answer plays.
#
# The voice is espeak-ng's default English voice, a voice family the model
# was trained on: this is a regression test of the flow, not a quality
# claim (docs/vad-wake.md has the evaluation).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
start_mock 2
espeak-ng -w "$T/s1.wav" "tell me about the weather in Lisbon" || fail "espeak-ng failed"
espeak-ng -w "$T/s2.wav" "hey nova, what time is it?" || fail "espeak-ng failed"
sox "$T/s1.wav" "$T/s1p.wav" pad 0 1.5
sox "$T/s1p.wav" "$T/s2.wav" "$T/speech.wav"
# The talker starts 2 s in: the wake detector needs 1.29 s of audio first.
"$TOOLS/hark-scene" --board "$top/board/sim4/board.conf" --speech "$T/speech.wav" --azimuth 60 \
    --snr-db 25 --noise pink --seed 1 --lead-s 2 --tail-s 5 --out-mics "$T/mics.wav" \
    --out-capture "$T/capture.wav" >/dev/null || fail "hark-scene failed"
"$TOOLS/hark-wav" to-raw "$T/capture.wav" "$T/capture.raw" >/dev/null
s1_end=$(echo "2 + $(soxi -D "$T/s1.wav")" | bc)
write_conf "[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/port")/v1/realtime?model=gpt-realtime-2" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token" "[vad]" "model = $top/models/vad.hkm" \
    "[wake]" "model = $top/models/hey_nova.hkm"
start_harkd
appends() { $PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('type') == 'input_audio_buffer.append'))" "$T/mock.jsonl"; }
# The first sentence is over at s1_end (+ the VAD's turn end had it been a turn).
sleep "$(echo "$s1_end + 0.8" | bc)"
"$BIN/harkctl" status > "$T/st0.json"
n0=$(appends)
note "after the first sentence (${s1_end} s + 0.8 s): state $(json "$T/st0.json" 'j["state"]'), wake $(json "$T/st0.json" 'j["wake"]'), appends $n0"
[ "$n0" = 0 ] || fail "audio sent before the wake word"
[ "$(json "$T/st0.json" 'j["state"]')" = idle ] || fail "not idle before the wake word"
sleep 6
"$BIN/harkctl" status > "$T/st.json"
stop_harkd
grep -o 'state: .*' "$T/harkd.log" | sed 's/^/  /'
note "wake: $(json "$T/st.json" 'j["wake"]')"
grep -q "idle -> listening (wake-word)" "$T/harkd.log" || fail "the wake word did not start the turn"
[ "$(json "$T/st.json" 'j["wake"]["detections"]')" = 1 ] || fail "expected exactly one wake detection"
[ "$(json "$T/st.json" 'j["wake"]["prerolls_sent"]')" = 1 ] || fail "no pre-roll sent"
grep -q "listening -> thinking (end of speech)" "$T/harkd.log" || fail "the VAD did not end the turn"
grep -q "thinking -> speaking (answer audio)" "$T/harkd.log" || fail "no answer played"
# What the cloud got: the pre-roll first (1 s before the detection: "hey
# nova" itself), then the request; every append after the wake.
$PY - "$T/mock.jsonl" "$T/harkd.log" <<'PY' || fail "cloud audio check failed"
import base64, json, math, re, struct, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
log = open(sys.argv[2]).read()
t_open = float(re.search(r"harkd\[\s*([0-9.]+)\] info  gate open", log).group(1))
t_close = float(re.search(r"harkd\[\s*([0-9.]+)\] info  gate closed", log).group(1))
pcm = b"".join(base64.b64decode(e["audio"]) for e in ev if e.get("type") == "input_audio_buffer.append")
x = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
rate = 24000
def dbfs(a, b):
    seg = x[a:b]
    return 10 * math.log10(sum(v * v for v in seg) / max(1, len(seg)) / 32768.0 ** 2 + 1e-12)
total = len(x) / rate
pre = dbfs(0, rate)
live = t_close - t_open
print(f"  cloud received {total:.2f} s for a gate open {live:.2f} s; first second (pre-roll) {pre:.1f} dBFS")
# 1 s of pre-roll on top of the live audio (hops and chunks: -0.1 s)
assert total >= live + 0.9, "no pre-roll ahead of the live audio"
assert pre > -45, "the pre-roll is silence, not the wake phrase"
commits = [e for e in ev if e.get("type") == "input_audio_buffer.commit"]
assert len(commits) == 1, f"{len(commits)} commits"
PY
echo "ok"
