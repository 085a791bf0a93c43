# tests/integration/lib.sh - shared set-up for the integration tests:
# a temp folder, the sim4 ALSA environment, scene generation, and helpers
# to start harkd and read its status. Sourced by tests/integration/test_*.sh.
set -eu
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BUILD:=$top/build/host}"
BIN=$BUILD/bin
T=$(mktemp -d /tmp/hark-it-XXXXXX)
HARKD_PID=
cleanup() {
    [ -n "$HARKD_PID" ] && kill -9 "$HARKD_PID" 2>/dev/null || true
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"   # KEEP_T=1 keeps the files for a post-mortem
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$T/harkd.log" ] && sed 's/^/  harkd| /' "$T/harkd.log" >&2; exit 1; }
note() { echo "  $*"; }

export ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$top/board/sim4/asound.conf
export HARK_PACED_PLUGIN=$BUILD/lib/libasound_module_pcm_paced.so
[ -f "$HARK_PACED_PLUGIN" ] || HARK_PACED_PLUGIN=$top/build/host/lib/libasound_module_pcm_paced.so
export HARK_SIM_CAPTURE_FILE=$T/capture.raw
export HARK_SIM_PLAYBACK_FILE=$T/played.raw
export HARK_CTRL_SOCKET=$T/ctrl.sock
# Host tools always come from the host build (the asan build has them too).
TOOLS=$BUILD/bin
[ -x "$TOOLS/hark-scene" ] || TOOLS=$top/build/host/bin

# make_scene SECONDS: a sim4 capture file with speech from 90 degrees and a
# 440 Hz tone as the loopback reference, plus its WAV for level checks.
make_scene() {
    local secs=$1
    espeak-ng -w "$T/speech.wav" "hey nova, what time is it? I would like to know the weather for tomorrow morning in Lisbon, please." \
        || fail "espeak-ng failed"
    sox -n -r 16000 -c 1 -b 16 "$T/ref.wav" synth "$secs" sine 440 vol 0.25
    "$TOOLS/hark-scene" --board "$top/board/sim4/board.conf" --speech "$T/speech.wav" --azimuth 90 \
        --snr-db 30 --seed 7 --ref "$T/ref.wav" --echo-gain-db -12 --lead-s 0.3 --tail-s "$secs" \
        --out-mics "$T/mics.wav" --out-capture "$T/capture_full.wav" >/dev/null || fail "hark-scene failed"
    sox "$T/capture_full.wav" "$T/capture.wav" trim 0 "$secs"
    "$TOOLS/hark-wav" to-raw "$T/capture.wav" "$T/capture.raw" >/dev/null || fail "hark-wav to-raw failed"
}

# write_conf [extra harkd keys...]: hark.conf pointing at board sim4.
write_conf() {
    {
        echo "[harkd]"
        echo "board = $top/board/sim4/board.conf"
        echo "log_level = info"
        echo "log_target = stderr"
        echo "ctrl_socket = $HARK_CTRL_SOCKET"
        echo "status_interval_s = 1"
        echo "sounds_dir = $top/rootfs/usr/share/hark/sounds"
        for kv in "$@"; do echo "$kv"; done
    } > "$T/hark.conf"
}

start_harkd() {
    "$BIN/harkd" --config "$T/hark.conf" "$@" > "$T/harkd.log" 2>&1 &
    HARKD_PID=$!
    for _ in $(seq 100); do
        [ -S "$HARK_CTRL_SOCKET" ] && return 0
        kill -0 "$HARKD_PID" 2>/dev/null || fail "harkd exited during start-up"
        sleep 0.05
    done
    fail "harkd did not open its control socket"
}

# stop_harkd: SIGTERM, wait up to 5 s, require exit status 0.
stop_harkd() {
    local rc=0
    kill -TERM "$HARKD_PID"
    for _ in $(seq 100); do kill -0 "$HARKD_PID" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$HARKD_PID" 2>/dev/null && fail "harkd still running 5 s after SIGTERM"
    wait "$HARKD_PID" || rc=$?
    HARKD_PID=
    [ "$rc" = 0 ] || fail "harkd exited with status $rc after SIGTERM"
}

# json FILE EXPR: evaluate a Python expression over the JSON object `j`.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# close_to A B TOL: |A-B| <= TOL
close_to() { python3 -c "import sys; a,b,t=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=t else 1)" "$1" "$2" "$3"; }

# start_mock ANSWER_SECONDS: the mock cloud on loopback with a test CA
# ($T/ca), token "test-token" ($T/token) and a 300 Hz answer of that length;
# it logs every client event to $T/mock.jsonl and listens on port $(cat
# "$T/port"). MOCK is its pid; it is killed at exit.
start_mock() {
    "$top/tools/make-test-ca" "$T/ca"
    sox -n -r 24000 -c 1 -b 16 "$T/answer.wav" synth "$1" sine 300 vol 0.5
    printf 'test-token\n' > "$T/token"; chmod 600 "$T/token"
    /usr/bin/python3 "$top/tools/mock-cloud/mock_cloud.py" --port 0 --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
        --token test-token --answer-wav "$T/answer.wav" --log "$T/mock.jsonl" --ready-file "$T/port" > "$T/mock.out" 2>&1 &
    MOCK=$!
    trap 'kill $MOCK 2>/dev/null || true; cleanup' EXIT
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
}
