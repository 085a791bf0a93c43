# A missing ALSA device is a clear error and a safe state: harkd keeps
# running (retrying), answers on its control socket, and stops cleanly.
source "$(dirname "$0")/lib.sh"

sed 's/^device = hark_capture/device = hark_no_such_capture/' "$top/board/sim4/board.conf" > "$T/board.conf"
printf '[harkd]\nboard = %s\nlog_target = stderr\nctrl_socket = %s\nstatus_interval_s = 0\n' \
    "$T/board.conf" "$HARK_CTRL_SOCKET" > "$T/hark.conf"
start_harkd
sleep 2.5
"$BIN/harkctl" status > "$T/status.json" || fail "no status while the device is missing"
[ "$(json "$T/status.json" 'j["audio"]')" = down ] || fail "audio should be down"
[ "$(json "$T/status.json" 'j["state"]')" = error ] || fail "state should be error while the device is missing"
stop_harkd
grep -q "ALSA hark_no_such_capture: cannot open capture device" "$T/harkd.log" || fail "no clear error naming the device"
grep -q "retrying every 2 s" "$T/harkd.log" || fail "no retry notice"
note "$(grep -m1 'hark_no_such_capture' "$T/harkd.log")"
echo "ok"
