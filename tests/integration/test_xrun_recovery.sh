# xruns are real on the paced clock: freezing harkd for 300 ms (SIGSTOP /
# SIGCONT) puts the device a buffer (80 ms) ahead. harkd must recover, count
# and log the xruns, and keep capturing at real-time pace.
source "$(dirname "$0")/lib.sh"

make_scene 6
write_conf
start_harkd
sleep 1
kill -STOP "$HARKD_PID"; sleep 0.3; kill -CONT "$HARKD_PID"
sleep 1.5
"$BIN/harkctl" status > "$T/status.json" || fail "harkctl status failed"
cx=$(json "$T/status.json" 'j["capture"]["xruns"]')
px=$(json "$T/status.json" 'j["playback"]["xruns"]')
note "after a 300 ms freeze: capture xruns $cx, playback xruns $px"
[ "$cx" -ge 1 ] || fail "no capture xrun counted"
[ "$px" -ge 1 ] || fail "no playback xrun counted"
[ "$(json "$T/status.json" 'j["audio"]')" = running ] || fail "audio not running after the xrun"
f1=$(json "$T/status.json" 'j["capture"]["frames"]')
u1=$(json "$T/status.json" 'j["uptime_s"]')
sleep 1
"$BIN/harkctl" status > "$T/status2.json"
f2=$(json "$T/status2.json" 'j["capture"]["frames"]')
u2=$(json "$T/status2.json" 'j["uptime_s"]')
rate=$(python3 -c "import sys; f1,f2,u1,u2=map(float,sys.argv[1:]); print(round((f2-f1)/(u2-u1)))" "$f1" "$f2" "$u1" "$u2")
note "after recovery: $((f2 - f1)) frames in $(echo "$u2 - $u1" | bc) s = $rate frames/s"
close_to "$rate" 16000 800 || fail "capture did not resume at real-time pace ($rate frames/s)"
stop_harkd
grep -q "capture overrun (xrun) recovered" "$T/harkd.log" || fail "capture xrun not logged"
grep -q "playback underrun (xrun) recovered" "$T/harkd.log" || fail "playback xrun not logged"
echo "ok: $cx capture and $px playback xruns recovered; then $rate frames/s"
