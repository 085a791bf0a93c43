# hark-cloud-probe minting its client secret from a vendor-style token
# endpoint (tools/mock-cloud/token_server.py) with a device credential,
# then talking to the mock cloud with that secret, all over real TLS:
# success; a wrong credential (HTTP 401, nothing reaches the realtime
# server); an untrusted token server; a group-readable credential file; no
# credential or secret in any log or stderr. Then G.711 uplinks (--format
# pcmu / pcma) checked in the mock's log.
source "$(dirname "$0")/lib.sh"
PROBE=$BIN/hark-cloud-probe
[ -x "$PROBE" ] || PROBE=$top/build/host/bin/hark-cloud-probe
PY=/usr/bin/python3
MC=$top/tools/mock-cloud
PIDS=()
stop_servers() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_servers; cleanup' EXIT

"$top/tools/make-test-ca" "$T/ca"
sox -n -r 24000 -c 1 -b 16 "$T/answer.wav" synth 1.5 sine 300
espeak-ng -w "$T/q.wav" "what time is it"
CRED="devcred-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
SECRET="ek_test_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077
 printf '%s\n' "$CRED" > "$T/cred"
 printf 'devcred-not-this-one\n' > "$T/wrongcred"
 printf '%s\n' "$CRED" > "$T/opencred")
chmod 644 "$T/opencred"

wait_port() { for _ in $(seq 100); do [ -s "$T/$1.port" ] && { cat "$T/$1.port"; return; }; sleep 0.05; done; fail "$1 did not start"; }
# start_tokens NAME CERT [extra args]: a token server on a free port.
start_tokens() {
    local name=$1 cert=$2; shift 2
    $PY "$MC/token_server.py" --port 0 --cert "$T/ca/$cert.pem" --key "$T/ca/$cert.key" \
        --device-cred "$T/cred" --log "$T/$name.jsonl" --ready-file "$T/$name.port" "$@" \
        > "$T/$name.out" 2> "$T/$name.err" &
    PIDS+=($!)
}
start_tokens tokens server --secret "$SECRET" --ttl 300
start_tokens untrusted_tokens untrusted --secret "$SECRET"
start_tokens random_tokens server --issued "$T/issued"
$PY "$MC/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" --token "$SECRET" \
    --answer-wav "$T/answer.wav" --log "$T/mock.jsonl" --ready-file "$T/mock.port" > "$T/mock.out" 2>&1 &
PIDS+=($!)
PT=$(wait_port tokens); PU=$(wait_port untrusted_tokens); PR=$(wait_port random_tokens); PM=$(wait_port mock)
url="wss://localhost:$PM/v1/realtime?model=gpt-realtime-2"
token_url="https://localhost:$PT/v1/hark/client_secret"
probe() { "$PROBE" --url "$url" --ca "$T/ca/ca.pem" --in "$T/q.wav" --mode conversation --timeout 15 "$@"; }
connects() { grep -c '"_dir": *"connect"' "$T/mock.jsonl" 2>/dev/null || true; }
requests() { grep -c '"_dir": *"request"' "$T/$1.jsonl" 2>/dev/null || true; }

# 1. mint with the device credential, then a whole conversation with the secret
probe --token-url "$token_url" --device-cred "$T/cred" --out "$T/conv.wav" > "$T/conv.txt" 2> "$T/conv.err" ||
    { cat "$T/conv.err"; fail "conversation with a minted secret failed"; }
grep -q "mock assistant" "$T/conv.txt" || fail "no answer transcript"
$PY - "$T/tokens.jsonl" "$T/mock.jsonl" <<'PY' || fail "token server / mock logs wrong after minting"
import json, sys, time
req = [json.loads(l) for l in open(sys.argv[1])]
assert len(req) == 1 and req[0]["_dir"] == "request", req
r = req[0]
assert r["method"] == "POST" and r["path"] == "/v1/hark/client_secret" and r["status"] == 200, r
h = {k.lower(): v for k, v in r["headers"].items()}
assert h["authorization"] == "Bearer <REDACTED>", h
assert abs(r["expires_at"] - (r["_t"] + 300)) < 5, "expires_at = now + --ttl"
con = [json.loads(l) for l in open(sys.argv[2])]
con = [e for e in con if e.get("_dir") == "connect"]
assert len(con) == 1 and con[0]["status"] == 101, con   # the mock accepted the minted secret
print(f"  minted: POST {r['path']} -> 200 (Authorization redacted in the log), mock upgrade 101")
PY
note "conversation with minted secret: $(grep -o 'sent.*' "$T/conv.err")"

# 2. wrong device credential: exit 1, says so, the realtime server never sees a connection
before=$(connects)
if probe --token-url "$token_url" --device-cred "$T/wrongcred" > "$T/wrong.txt" 2> "$T/wrong.err"; then
    fail "a wrong device credential was accepted"
fi
grep -q "refused the device credential (HTTP 401)" "$T/wrong.err" || { cat "$T/wrong.err"; fail "401 not reported"; }
[ "$(connects)" = "$before" ] || fail "the probe connected to the realtime server without a secret"
grep -q '"status": 401' "$T/tokens.jsonl" || fail "token server did not log the 401"
note "wrong credential: $(cat "$T/wrong.err")"

# 3. token server with a certificate our CA did not sign: TLS failure, no request served
if probe --token-url "https://localhost:$PU/v1/hark/client_secret" --device-cred "$T/cred" > "$T/untr.txt" 2> "$T/untr.err"; then
    fail "untrusted token server accepted"
fi
grep -qi "not trusted\|cert" "$T/untr.err" || { cat "$T/untr.err"; fail "untrusted token server: no TLS message"; }
[ "$(requests untrusted_tokens)" = 0 ] || fail "the credential was sent to an untrusted server"
[ "$(connects)" = "$before" ] || fail "connected to the realtime server after a TLS failure"
note "untrusted token server: $(cat "$T/untr.err")"

# 4. group/world-readable credential file: refused before any network use
if probe --token-url "$token_url" --device-cred "$T/opencred" > "$T/open.txt" 2> "$T/open.err"; then
    fail "a mode 0644 credential file was used"
fi
grep -q "chmod 600" "$T/open.err" || { cat "$T/open.err"; fail "no chmod hint"; }
[ "$(requests tokens)" = 2 ] || fail "the 0644 credential was sent to the token server"
note "mode 0644: $(cat "$T/open.err")"

# 5. random secrets: ek_test_<hex>, written to --issued, never to the log
$PY - "$PR" "$T/ca/ca.pem" "$T/cred" "$T/issued" "$T/random_tokens.jsonl" <<'PY' || fail "random-secret token server wrong"
import http.client, json, ssl, sys
port, ca, cred_file, issued, log_file = sys.argv[1:6]
cred = open(cred_file).read().strip()
ctx = ssl.create_default_context(cafile=ca)
def post(auth, body=b"{}"):
    c = http.client.HTTPSConnection("localhost", int(port), context=ctx, timeout=10)
    c.request("POST", "/v1/hark/client_secret", body, {"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data
st, data = post("Bearer " + cred, b'{"expires_after":{"anchor":"created_at","seconds":60},"session":{"type":"realtime","instructions":"x"}}')
j = json.loads(data)
assert st == 200 and j["value"].startswith("ek_test_") and len(j["value"]) > 20, (st, j)
assert j["session"]["instructions"] == "x" and j["session"]["model"] == "gpt-realtime-2"
assert open(issued).read().strip() == j["value"], "--issued holds the secret"
st2, data2 = post("Bearer " + cred)
assert st2 == 200 and json.loads(data2)["value"] != j["value"], "a new secret per request"
assert post("Bearer nope")[0] == 401 and post("Basic " + cred)[0] == 401 and post("")[0] == 401
assert post("Bearer " + cred, b"[1]")[0] == 400
assert post("Bearer " + cred, b'{"expires_after":{"seconds":5}}')[0] == 400
log = open(log_file).read()
assert j["value"] not in log and cred not in log
print("  random secrets: 200 with ek_test_..., --issued written; 401 for wrong/Basic/missing; 400 for bad bodies")
PY

# 6. G.711 uplinks through the minted secret: session.update input format
#    and the appended bytes, decoded with the mock's own G.711 tables
for fmt in pcmu pcma; do
    probe --token-url "$token_url" --device-cred "$T/cred" --format "$fmt" --out "$T/$fmt.wav" \
        > "$T/$fmt.txt" 2> "$T/$fmt.err" || { cat "$T/$fmt.err"; fail "$fmt conversation failed"; }
    grep -q "server error" "$T/$fmt.err" && { cat "$T/$fmt.err"; fail "$fmt: the mock reported an error"; }
    frames=$("$TOOLS/hark-wav" info "$T/$fmt.wav" | sed -n 's/^frames *//p')
    [ "$frames" = 36000 ] || fail "$fmt: answer audio $frames frames, want 36000 (still PCM 24 kHz)"
    sox "$T/q.wav" -r 8000 "$T/q8.wav"
    $PY - "$T/mock.jsonl" "$T/q8.wav" "$fmt" "$MC" <<'PY' || fail "$fmt: mock log wrong"
import array, base64, json, math, sys, wave
log, ref, fmt, mc = sys.argv[1:5]
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, mc)
import mock_cloud
ev = [json.loads(l) for l in open(log)]
conn = max(e["_conn"] for e in ev)
c = [e for e in ev if e.get("_conn") == conn and e.get("_dir") == "in" and "type" in e]
assert c[0]["type"] == "session.update", [e["type"] for e in c[:3]]
a = c[0]["session"]["audio"]
assert a["input"]["format"] == {"type": "audio/" + fmt}, a["input"]["format"]
assert a["output"]["format"] == {"type": "audio/pcm", "rate": 24000}, a["output"]["format"]
apps = [base64.b64decode(e["audio"]) for e in c if e["type"] == "input_audio_buffer.append"]
assert all(len(x) == 320 for x in apps[:-1]), "40 ms = 320 bytes per append at 8 kHz"
data = b"".join(apps)
table = mock_cloud.ULAW_DECODE if fmt == "pcmu" else mock_cloud.ALAW_DECODE
got = [table[b] for b in data]
w = wave.open(ref); n = w.getnframes(); r = array.array("h"); r.frombytes(w.readframes(n))
src_s = n / w.getframerate()
assert abs(len(got) / 8000 - src_s) < 0.005, (len(got) / 8000, src_s)
# the decoded uplink matches the input resampled to 8 kHz (sox): correlation
# at the best lag, and the same level (the wrong law would decode garbage)
m = min(len(got), len(r)) - 40
def corr(lag):
    xs = got[20:20 + m - 20]; ys = r[20 + lag:20 + lag + m - 20]
    sxy = sum(x * y for x, y in zip(xs, ys)); sxx = sum(x * x for x in xs); syy = sum(y * y for y in ys)
    return sxy / math.sqrt(sxx * syy)
best = max((corr(l), l) for l in range(-8, 9))
rms = lambda v: math.sqrt(sum(x * x for x in v) / len(v))
db = 20 * math.log10(rms(got) / rms(r))
assert best[0] > 0.95, best
assert abs(db) < 1.0, db
print(f"  {fmt}: session.update input audio/{fmt}, {len(apps)} appends = {len(got) / 8000:.3f} s "
      f"(input {src_s:.3f} s); decoded vs input at 8 kHz: r = {best[0]:.4f} at lag {best[1]}, level {db:+.2f} dB")
PY
    note "$fmt: $(grep -o 'sent.*' "$T/$fmt.err")"
done

# 7. translation is PCM only
rc=0
"$PROBE" --url "wss://localhost:$PM/v1/realtime/translations?model=gpt-realtime-translate" --ca "$T/ca/ca.pem" \
    --token-url "$token_url" --device-cred "$T/cred" --in "$T/q.wav" --mode translation --format pcmu > "$T/tr.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "pcm only" "$T/tr.txt" || { cat "$T/tr.txt"; fail "translation with G.711 not refused (exit $rc)"; }

# 8. neither the device credential nor the minted secret in any log, output or stderr
stop_servers; sleep 0.3
outputs=("$T"/*.jsonl "$T"/*.err "$T"/*.out "$T"/*.txt)
for f in "${outputs[@]}"; do
    grep -qF -- "$CRED" "$f" && fail "the device credential appears in $(basename "$f")"
    grep -qF -- "$SECRET" "$f" && fail "the minted secret appears in $(basename "$f")"
done
grep -q "token_server: stopped" "$T/tokens.err" || fail "token server did not stop cleanly on SIGTERM"
note "no credential or secret in ${#outputs[@]} logs/outputs"
echo "ok"
