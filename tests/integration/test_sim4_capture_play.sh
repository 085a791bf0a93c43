# harkd on board sim4 with a generated speech scene: it must capture and play
# at real-time pace, report per-channel levels that match the scene (which
# proves the channel map and the data path), and shut down cleanly on SIGTERM.
source "$(dirname "$0")/lib.sh"

make_scene 12   # room for a slow, loaded machine: the run must end before the scene does
write_conf
t0=$(date +%s.%N)
start_harkd
sleep 1.6
"$BIN/harkctl" status > "$T/status1.json" || fail "harkctl status failed"
note "status after 1.6 s: $(head -c 300 "$T/status1.json")..."
[ "$(json "$T/status1.json" 'j["audio"]')" = running ] || fail "audio not running"
[ "$(json "$T/status1.json" 'len(j["levels"])')" = 5 ] || fail "expected 5 level channels"
[ "$("$BIN/harkctl" ping)" = pong ] || fail "ping"
# The scene's talker is at 90 degrees: the DSP thread's SRP-PHAT must say so.
az=$(json "$T/status1.json" 'j["doa"]["azimuth_deg"]')
note "direction of the talker: $(json "$T/status1.json" 'j["doa"]')"
close_to "$az" 90 10 || fail "talker found at $az degrees, scene has 90"
sleep 1.9
stop_harkd
wall=$(echo "$(date +%s.%N) - $t0" | bc)
note "ran $wall s wall"

grep -q "SIGTERM\|Terminated" "$T/harkd.log" || fail "no shutdown message"
grep -q "harkd stopped" "$T/harkd.log" || fail "no 'harkd stopped'"
[ ! -e "$HARK_CTRL_SOCKET" ] || fail "control socket left behind"
summary=$(grep 'summary:' "$T/harkd.log")
note "$summary"
cap_s=$(echo "$summary" | sed -n 's/.*captured [0-9]* frames (\([0-9.]*\) s).*/\1/p')
play_s=$(echo "$summary" | sed -n 's/.*played [0-9]* frames (\([0-9.]*\) s).*/\1/p')
xr=$(echo "$summary" | sed -n 's/.*xruns capture \([0-9]*\) playback \([0-9]*\).*/\1 \2/p')
# Real-time pace: the paced clock must neither run ahead (an unpaced null
# device would deliver hundreds of seconds) nor lag the wall clock.
ran_s=$(echo "$summary" | sed -n 's/.*ran \([0-9.]*\) s;.*/\1/p')
close_to "$ran_s" "$wall" 0.5 || fail "harkd says it ran $ran_s s, the test measured $wall s"
close_to "$cap_s" "$ran_s" 0.25 || fail "captured $cap_s s of audio in a $ran_s s run: not real-time pace"
close_to "$play_s" "$cap_s" 0.2 || fail "played $play_s s vs captured $cap_s s"
[ "$xr" = "0 0" ] || fail "xruns: $xr"
bytes=$(stat -c %s "$HARK_SIM_PLAYBACK_FILE")
close_to "$bytes" "$(echo "$play_s * 32000" | bc)" 3200 || fail "played file has $bytes bytes for $play_s s"

# Levels over the run (whole seconds) against the scene's own levels.
secs=$(python3 -c "import math,sys; print(int(float(sys.argv[1])))" "$cap_s")
sox "$T/capture.wav" "$T/first.wav" trim 0 "$secs"
"$TOOLS/hark-wav" levels "$T/first.wav" > "$T/levels.txt"
levels=$(grep 'levels over the run' "$T/harkd.log")
note "$levels"
note "scene: $(tr '\n' ' ' < "$T/levels.txt")"
for ch in 0 1 2 3 4; do
    name=mic$ch; [ $ch = 4 ] && name=ref
    got=$(echo "$levels" | sed -n "s/.*$name \(-\?[0-9.]*\)\/.*/\1/p")
    want=$(sed -n "$((ch + 1))p" "$T/levels.txt" | grep -o -- '-\?[0-9]\+\.[0-9]\+' | head -1)
    [ -n "$got" ] && [ -n "$want" ] || fail "could not read level of $name (got '$got', scene '$want')"
    close_to "$got" "$want" 0.5 || fail "$name: harkd measured $got dBFS, scene has $want dBFS"
done
echo "ok: captured $cap_s s and played $play_s s in $wall s, levels match the scene"
