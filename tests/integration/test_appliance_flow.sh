# The appliance in harkd on sim4 against the mock cloud: tap-to-talk with
# the (harkctl-injected) button, the answer, a button barge-in during the
# answer, mute by long press, and the offline notice when the cloud is gone.
# Asserted from harkd's status and metrics, the mock's event log (nothing
# sent while idle or muted) and the played audio (chimes are audible).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
start_mock 4
make_scene 16
write_conf "[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/port")/v1/realtime?model=gpt-realtime-2" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token"
start_harkd
ctl() { "$BIN/harkctl" "$@" > /dev/null || fail "harkctl $* failed"; }
state() { "$BIN/harkctl" status > "$T/st.json" && json "$T/st.json" 'j["state"]'; }
appends() { $PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('type') == 'input_audio_buffer.append'))" "$T/mock.jsonl"; }
wait_state() { for _ in $(seq 100); do [ "$(state)" = "$1" ] && return 0; sleep 0.05; done; fail "state $(state), expected $1"; }

wait_state idle
sleep 1
[ "$(appends)" = 0 ] || fail "audio sent while idle"
[ "$("$BIN/harkctl" volume 35)" = '{"volume":35}' ] || fail "volume set"
[ "$("$BIN/harkctl" volume)" = '{"volume":35}' ] || fail "volume get"
"$BIN/harkctl" volume 101 > /dev/null && fail "volume 101 accepted"
# 1. tap: listening; tap again: thinking -> speaking
ctl press; ctl release
wait_state listening
sleep 1
ctl press; ctl release
wait_state speaking
note "turn: $(json "$T/st.json" 'j["appliance"]')"
# 2. button barge-in 1 s into the answer
sleep 1
ctl press
wait_state listening
ctl release
sleep 0.3
"$BIN/harkctl" metrics > "$T/m.json"
note "metrics: $(cat "$T/m.json")"
[ "$(json "$T/m.json" 'j["barge_ins_button"]')" = 1 ] || fail "barge-in not counted"
[ "$(json "$T/m.json" 'j["interrupt_to_silence_ms"]["count"]')" = 1 ] || fail "no interrupt-to-silence figure"
[ "$(json "$T/m.json" 'j["interrupt_to_silence_ms"]["max"] <= 20')" = True ] || fail "playback not silent within 20 ms"
[ "$(json "$T/m.json" 'j["wake_to_first_audio_sent_ms"]["count"] >= 1')" = True ] || fail "no wake-to-sent figure"
[ "$(json "$T/m.json" 'j["end_of_turn_to_answer_played_ms"]["count"]')" = 1 ] || fail "no end-of-turn-to-answer figure"
[ "$(state)" = listening ] || fail "the release after a barge-in ended the new turn"
# 3. back to idle, then mute by long press: nothing is sent while muted
ctl sleep
wait_state idle
n0=$(appends)
ctl press; sleep 1.0; ctl release
wait_state muted
ctl wake; ctl press; ctl release
sleep 1
[ "$(state)" = muted ] || fail "woke while muted"
[ "$(appends)" = "$n0" ] || fail "audio sent while muted"
"$BIN/harkctl" press > /dev/null; sleep 1.0; "$BIN/harkctl" release > /dev/null
wait_state idle
# 4. the cloud goes away: offline, and a wake gives the notice instead of streaming
kill $MOCK
wait_state offline
ctl wake
sleep 0.5
"$BIN/harkctl" status > "$T/st.json"
stop_harkd
note "after the cloud went: $(json "$T/st.json" 'j["state"], j["appliance"]["offline_notices"]')"
[ "$(json "$T/st.json" 'j["appliance"]["offline_notices"]')" = 1 ] || fail "no offline notice"
grep -q "earcon: offline" "$T/harkd.log" || fail "offline notice not played"
# The chimes reached the speaker (and so the echo reference): the played
# audio has energy outside the answer's 300 Hz tone.
$PY - "$T/played.raw" <<'PY' || fail "earcons not in the played audio"
import array, math, sys
a = array.array("h", open(sys.argv[1], "rb").read())
# Frames of sound that are not the 300 Hz answer: count zero crossings per 10 ms.
busy = 0
for i in range(0, len(a) - 160, 160):
    blk = a[i:i + 160]
    if max(abs(x) for x in blk) < 300:
        continue
    zc = sum(1 for k in range(1, 160) if (blk[k - 1] < 0) != (blk[k] < 0))
    if zc > 12:            # > 600 Hz
        busy += 1
print(f"{busy * 10} ms of non-answer sound")
assert busy >= 20, busy
PY
echo "ok"
