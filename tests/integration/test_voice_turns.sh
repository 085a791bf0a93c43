# Local VAD in harkd: after a wake (harkctl wake here), the on-device VAD
# ends the user's turn when they stop talking, the answer plays, and when
# the user talks over the answer (a voice barge-in) playback stops, the
# response is truncated at what was played, and a new turn starts with the
# VAD's pre-roll. The scene: 2.5 s of quiet, a question, 3.5 s of quiet,
# then the user talks again while the answer (4 s) is still playing.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
start_mock 4
espeak-ng -w "$T/q1.wav" "what time is it in Lisbon"
espeak-ng -w "$T/q2.wav" "stop, tell me about the weather instead"
sox "$T/q1.wav" "$T/q1p.wav" pad 0 3.5
sox "$T/q1p.wav" "$T/q2.wav" "$T/speech.wav"
"$TOOLS/hark-scene" --board "$top/board/sim4/board.conf" --speech "$T/speech.wav" --azimuth 90 \
    --snr-db 30 --seed 3 --lead-s 2.5 --tail-s 6 --out-mics "$T/mics.wav" --out-capture "$T/capture.wav" >/dev/null ||
    fail "hark-scene failed"
"$TOOLS/hark-wav" to-raw "$T/capture.wav" "$T/capture.raw" >/dev/null
write_conf "[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/port")/v1/realtime?model=gpt-realtime-2" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token" "[vad]" "model = $top/models/vad.hkm"
start_harkd
for _ in $(seq 100); do "$BIN/harkctl" status 2>/dev/null | grep -q '"state":"idle"' && break; sleep 0.05; done
"$BIN/harkctl" wake > /dev/null
sleep 9
"$BIN/harkctl" status > "$T/st.json"
stop_harkd
grep -o 'state: .*' "$T/harkd.log" | sed 's/^/  /'
note "appliance: $(json "$T/st.json" 'j["appliance"]')"
note "cloud: $(json "$T/st.json" '(j["cloud"]["responses"], j["cloud"]["truncates"], j["cloud"]["audio_sent_ms"])')"
grep -q "listening -> thinking (end of speech)" "$T/harkd.log" || fail "the VAD did not end the turn"
grep -q "speaking -> listening (voice barge-in)" "$T/harkd.log" || fail "no voice barge-in"
[ "$(json "$T/st.json" 'j["appliance"]["barge_ins_voice"]')" = 1 ] || fail "voice barge-in not counted"
[ "$(json "$T/st.json" 'j["cloud"]["truncates"]')" = 1 ] || fail "the answer was not truncated"
[ "$(json "$T/st.json" 'j["vad"]["prob"] >= 0')" = True ] || fail "no VAD in status"
# Voice barge-in latency. harkd's own figure runs from the start of the
# speech run the VAD decided on (back-dated by the front end's latency) to
# the flushed playback; the end-to-end estimate runs from the talker's real
# onset in the scene (capture time 0 = "audio running" in the log) to the
# log line of the silent playback, so it includes the model's reaction.
[ "$(json "$T/st.json" 'j["metrics"]["voice_onset_to_silence_ms"]["count"]')" = 1 ] || fail "no voice barge-in latency"
vms=$(json "$T/st.json" 'j["metrics"]["voice_onset_to_silence_ms"]["max"]')
e2e=$($PY - "$T/q1p.wav" "$T/q2.wav" "$T/harkd.log" <<'PY'
import re, sys, wave, struct
def samples(p):
    w = wave.open(p); n = w.getnframes(); r = w.getframerate()
    return struct.unpack("<%dh" % n, w.readframes(n)), r
q1, r = samples(sys.argv[1]); q2, _ = samples(sys.argv[2])
peak = max(abs(v) for v in q2)
first = next(i for i, v in enumerate(q2) if abs(v) > 0.1 * peak)
onset_s = 2.5 + (len(q1) + first) / r
log = open(sys.argv[3]).read()
t0 = float(re.search(r"harkd\[\s*([0-9.]+)\] info  audio running", log).group(1))
t1 = float(re.search(r"harkd\[\s*([0-9.]+)\] info  voice barge-in: playback silent", log).group(1))
print("%.0f" % ((t1 - t0 - onset_s) * 1000))
PY
)
note "voice barge-in: playback silent $vms ms after the VAD's speech run began; about $e2e ms after the talker's onset in the scene (log clock, +-10 ms)"
[ "$(echo "$vms <= 300" | bc)" = 1 ] || fail "voice barge-in took $vms ms (bound 300)"
[ "$(echo "$e2e <= 300" | bc)" = 1 ] || fail "voice barge-in $e2e ms after the onset (bound 300)"
echo "ok"
