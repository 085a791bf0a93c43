# Cloud sessions in harkd: captions mode, and surviving session ends: harkd rolls an idle session over when
# [cloud] session_max_s is reached (the service's 60-minute limit, scaled
# down), and reconnects with backoff when the server ends the session
# (close 1001, as the real service does at 60 minutes). Every new
# connection starts with a fresh session.update.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$top/tools/make-test-ca" "$T/ca"
printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
start_mock() {   # NAME [SCRIPT-JSON]
    $PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
        --token test-token --log "$T/$1.jsonl" --ready-file "$T/$1.port" ${2:+--script <(echo "$2")} > "$T/$1.out" 2>&1 &
    echo $!
}
M1=$(start_mock idle)
M2=$(start_mock ended '{"connections":[{"close_session_after_ms":1500}]}')
trap 'kill $M1 $M2 2>/dev/null || true; cleanup' EXIT
for n in idle ended; do for _ in $(seq 100); do [ -s "$T/$n.port" ] && break; sleep 0.05; done; done
make_scene 12
cloud() { echo "[cloud]"; echo "mode = conversation"; echo "url = wss://localhost:$(cat "$T/$1.port")/v1/realtime?model=gpt-realtime-2"
          echo "ca_file = $T/ca/ca.pem"; echo "api_key_file = $T/token"; }
sessions() { $PY -c "import json,sys; print(sorted({json.loads(l).get('_conn') for l in open(sys.argv[1]) if json.loads(l).get('type') == 'session.update'}))" "$1"; }

# 1. rollover of an idle session
mapfile -t extra < <(cloud idle; echo "session_max_s = 2")
write_conf "${extra[@]}"
start_harkd
sleep 4.5
"$BIN/harkctl" status > "$T/s1.json"
stop_harkd
note "rollover: $(json "$T/s1.json" 'j["cloud"]') sessions $(sessions "$T/idle.jsonl")"
[ "$(json "$T/s1.json" 'j["cloud"]["rollovers"] >= 1')" = True ] || fail "no rollover after session_max_s"
[ "$(json "$T/s1.json" 'j["cloud"]["connects"] >= 2')" = True ] || fail "no new connection after the rollover"
[ "$(sessions "$T/idle.jsonl")" != "[1]" ] || fail "the second connection sent no session.update"

# 2. the server ends the session: reconnect with backoff
mapfile -t extra < <(cloud ended)
write_conf "${extra[@]}"
start_harkd
sleep 4.5
"$BIN/harkctl" status > "$T/s2.json"
stop_harkd
note "server-ended: $(json "$T/s2.json" 'j["cloud"]') sessions $(sessions "$T/ended.jsonl")"
[ "$(json "$T/s2.json" 'j["cloud"]["disconnects"] >= 1')" = True ] || fail "the server close was not seen"
[ "$(json "$T/s2.json" 'j["cloud"]["connected"]')" = True ] || fail "not reconnected after the server ended the session"
[ "$(json "$T/s2.json" 'j["cloud"]["session"]')" = configured ] || fail "new session not configured"
# 3. production credentials: a minted secret about to expire is re-minted
# before the next connection (rollover forces one).
printf 'device-cred-123\n' > "$T/cred"; chmod 600 "$T/cred"
$PY "$top/tools/mock-cloud/token_server.py" --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --device-cred "$T/cred" --secret ek_fixed_test --ttl 30 --log "$T/tokens.jsonl" --ready-file "$T/tok.port" > "$T/tok.out" 2>&1 &
TOK=$!
M3=$($PY -c 'print()' >/dev/null; $PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --token ek_fixed_test --log "$T/minted.jsonl" --ready-file "$T/minted.port" > "$T/minted.out" 2>&1 & echo $!)
trap 'kill $M1 $M2 $M3 $TOK 2>/dev/null || true; cleanup' EXIT
for n in tok minted; do for _ in $(seq 100); do [ -s "$T/$n.port" ] && break; sleep 0.05; done; done
write_conf "[cloud]" "mode = conversation" "url = wss://localhost:$(cat "$T/minted.port")/v1/realtime?model=gpt-realtime-2" \
    "ca_file = $T/ca/ca.pem" "token_url = https://localhost:$(cat "$T/tok.port")/v1/hark/client_secret" \
    "device_credential_file = $T/cred" "session_max_s = 2"
start_harkd
sleep 4.5
"$BIN/harkctl" status > "$T/s3.json"
stop_harkd
mints=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('status') == 200))" "$T/tokens.jsonl")
note "minted: $mints secrets; $(json "$T/s3.json" 'j["cloud"]["connects"]') connections; sessions $(sessions "$T/minted.jsonl")"
[ "$mints" -ge 2 ] || fail "the expiring secret was not re-minted ($mints mints)"
[ "$(json "$T/s3.json" 'j["cloud"]["connects"] >= 2')" = True ] || fail "no reconnection with the new secret"
grep -q "device-cred-123\|ek_fixed_test" "$T/harkd.log" "$T"/*.jsonl && fail "a credential or secret was logged"
# 4. captions mode: each completed transcript goes to captions_file and the log
M4=$($PY "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --token test-token --log "$T/cap.jsonl" --ready-file "$T/cap.port" \
    --script <(echo '{"input_transcript":["hey nova what time is it","turn two"]}') > "$T/cap.out" 2>&1 & echo $!)
trap 'kill $M1 $M2 $M3 $M4 $TOK 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/cap.port" ] && break; sleep 0.05; done
write_conf "[cloud]" "mode = captions" "url = wss://localhost:$(cat "$T/cap.port")/v1/realtime?intent=transcription" \
    "ca_file = $T/ca/ca.pem" "api_key_file = $T/token" "captions_file = $T/captions.txt"
start_harkd
sleep 1.2
for turn in 1 2; do "$BIN/harkctl" wake >/dev/null; sleep 0.6; "$BIN/harkctl" end-turn >/dev/null; sleep 0.6; done
"$BIN/harkctl" transcript > "$T/tr_all.json" || fail "harkctl transcript failed"
"$BIN/harkctl" transcript 2 > "$T/tr_2.json" || fail "harkctl transcript 2 failed"
"$BIN/harkctl" transcript 3 > "$T/tr_3.json" || fail "harkctl transcript 3 failed"
timeout 1 "$BIN/harkctl" transcript -f > "$T/tr_follow.txt" || true
stop_harkd
note "captions: $(tr '\n' '|' < "$T/captions.txt")"
[ "$(cat "$T/captions.txt")" = "$(printf 'hey nova what time is it\nturn two')" ] || fail "captions file wrong"
grep -q "caption: turn two" "$T/harkd.log" || fail "caption not logged"
# ... and over the control socket
note "transcript: $(cat "$T/tr_all.json")"
[ "$(json "$T/tr_all.json" '[(l["seq"], l["role"], l["text"]) for l in j["lines"]]')" = \
  "[(1, 'caption', 'hey nova what time is it'), (2, 'caption', 'turn two')]" ] || fail "transcript over the control socket wrong"
[ "$(json "$T/tr_all.json" 'j["next"]')" = 3 ] || fail "transcript next wrong"
[ "$(json "$T/tr_2.json" '[l["text"] for l in j["lines"]]')" = "['turn two']" ] || fail "transcript 2 should give line 2 only"
[ "$(json "$T/tr_3.json" '(len(j["lines"]), j["next"], j["lost"])')" = "(0, 3, 0)" ] || fail "transcript 3 should be empty"
[ "$(cat "$T/tr_follow.txt")" = "$(printf 'caption: hey nova what time is it\ncaption: turn two')" ] || fail "harkctl transcript -f printed: $(cat "$T/tr_follow.txt")"
$PY - "$T/cap.jsonl" <<'PY' || fail "captions session events wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
up = [e for e in ev if e.get("type") == "session.update"][0]["session"]
assert up["type"] == "transcription" and up["audio"]["input"]["turn_detection"] is None, up
assert sum(1 for e in ev if e.get("type") == "input_audio_buffer.commit") == 2
assert not any(e.get("type") == "response.create" for e in ev), "captions must not ask for responses"
PY
echo "ok"
