# SIGHUP reloads hark.conf: a broken file is refused with file:line errors
# and harkd keeps running as it was; the volume and log level apply at once;
# a changed [cloud] section restarts the session (a new connection and a new
# session.update with the new settings) and the audio threads.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$top/tools/make-test-ca" "$T/ca"
printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
$PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --token test-token --log "$T/mock.jsonl" --ready-file "$T/port" > "$T/mock.out" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
make_scene 14
cloud=("[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/port")/v1/realtime?model=gpt-realtime-2"
       "ca_file = $T/ca/ca.pem" "api_key_file = $T/token")
write_conf "${cloud[@]}"
start_harkd
sleep 1.5
# 1. a broken file: refused, nothing changes
cp "$T/hark.conf" "$T/good.conf"
sed -i 's/^\[cloud\]/volume = loud\n[cloud]/' "$T/hark.conf"
kill -HUP "$HARKD_PID"; sleep 0.5
grep -q "SIGHUP: .*hark.conf:[0-9]*: \[harkd\] volume: expected an integer" "$T/harkd.log" || fail "no file:line error for the broken reload"
grep -q "keeping the running configuration" "$T/harkd.log" || fail "broken reload not refused"
[ "$("$BIN/harkctl" ping)" = pong ] || fail "harkd not answering after a refused reload"
# 2. volume and log level: applied, no restart
sed 's/^log_level = info/log_level = debug/' "$T/good.conf" > "$T/hark.conf"
sed -i 's/^\[cloud\]/volume = 30\n[cloud]/' "$T/hark.conf"
kill -HUP "$HARKD_PID"; sleep 0.5
grep -q "SIGHUP: configuration reloaded" "$T/harkd.log" || fail "reload not confirmed"
grep -q "restarting the session" "$T/harkd.log" && fail "a volume change restarted the session"
"$BIN/harkctl" status > "$T/s1.json"
[ "$(json "$T/s1.json" 'j["cloud"]["connects"]')" = 1 ] || fail "reconnected for a volume change"
# 3. a cloud change: new session with the new settings
sed -i 's/^\[cloud\]/[cloud]\nvoice = cedar\nchunk_ms = 20/' "$T/hark.conf"
kill -HUP "$HARKD_PID"; sleep 2.5
"$BIN/harkctl" status > "$T/s2.json"
"$BIN/harkctl" wake > /dev/null; sleep 1; "$BIN/harkctl" sleep > /dev/null; sleep 0.3
stop_harkd
note "after the cloud change: $(json "$T/s2.json" 'j["state"], j["audio"], j["cloud"]["connected"]')"
grep -q "restarting the session and the audio threads" "$T/harkd.log" || fail "cloud change did not restart the session"
[ "$(json "$T/s2.json" 'j["audio"]')" = running ] || fail "audio not running after the reload"
[ "$(json "$T/s2.json" 'j["cloud"]["connected"]')" = True ] || fail "cloud not connected after the reload"
$PY - "$T/mock.jsonl" <<'PY' || fail "the new session does not carry the new settings"
import base64, json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ups = [e for e in ev if e.get("type") == "session.update"]
assert len(ups) == 2, len(ups)
assert ups[0]["session"]["audio"]["output"].get("voice") != "cedar"
assert ups[1]["session"]["audio"]["output"]["voice"] == "cedar", ups[1]["session"]["audio"]["output"]
app = [e for e in ev if e.get("type") == "input_audio_buffer.append" and e.get("_conn") == ups[1].get("_conn")]
sizes = {len(base64.b64decode(e["audio"])) for e in app[:-1]}
assert sizes == {960}, sizes      # 20 ms of PCM16 at 24 kHz
PY
echo "ok"
