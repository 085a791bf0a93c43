# Front-end regression: hark-fe (the daemon's front end over files) on
# three short generated echo scenes. Checks, per scene, the echo reduction
# on far-end-only frames after 2 s (hark-fe --score) and the near-end
# attenuation in double talk, first for the echo canceller alone (mean of
# the mics, no beamformer, no NS/AGC: the AEC's own effect), then the echo
# reduction of the default chain without its AGC (AEC per mic + DOA + MVDR
# + NS), then of the default chain with its AGC: the AGC is held while the
# far end plays alone, or it would lift the residual echo (13.6 dB instead
# of 42 dB on "aligned" before the hold).
#
# Scenes (hark-scene, board sim4, room 5x4x2.7 m, espeak-ng voices only):
#   aligned   RT60 0.3 s, echo 10 dB above the talker (SER -10 dB)
#   late      RT60 0.3 s, SER -10 dB, reference 60 ms late + 100 ppm drift
#   rt05      RT60 0.5 s, SER -5 dB
# Far end alone for 5 s, then the talker over it (double talk, ~2 s), then
# the talker alone.
#
# Bounds sit a few dB under the figures measured when this test was written
# (docs/frontend.md, "Echo cancellation") and far above what a missing AEC
# gives (0 dB echo reduction). HARK_FE_ARGS adds hark-fe options to every
# run (HARK_FE_ARGS=--no-aec must make this test fail).
source "$(dirname "$0")/lib.sh"

FE=$BIN/hark-fe
[ -x "$FE" ] || FE=$top/build/host/bin/hark-fe
[ -x "$FE" ] || fail "hark-fe not built"
board=$top/board/sim4/board.conf

espeak-ng -v en+m3 -s 160 -w "$T/far.wav" \
    "The committee will meet again on Thursday to discuss the budget for the new library, and the repairs to the old bridge near the station." \
    || fail "espeak-ng failed"
espeak-ng -v en-us -s 150 -w "$T/talk.wav" "Stop. What is the weather like tomorrow morning?" || fail "espeak-ng failed"

# scene NAME RT60 SER_DB [hark-scene options...]
scene() {
    local name=$1 rt=$2 ser=$3
    shift 3
    "$TOOLS/hark-scene" --board "$board" --speech "$T/talk.wav" --azimuth 60 --distance-m 1.5 \
        --room 5x4x2.7 --rt60 "$rt" --level-dbfs -30 --snr-db 45 --noise white --seed 1 --quiet \
        --ref "$T/far.wav" --ser-db "$ser" --lead-s 5 "$@" \
        --out-mics "$T/$name.wav" --out-ref "$T/$name.ref.wav" --out-clean-dir "$T/$name" \
        --out-meta "$T/$name.json" > /dev/null || fail "hark-scene $name failed"
}

# run NAME [hark-fe options...]: sets erle and att from hark-fe --score
run() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    "$FE" --board "$board" --mic "$T/$name.wav" --ref "$T/$name.ref.wav" --out "$T/$name.out.wav" \
        --score "$T/$name" --quiet "$@" ${HARK_FE_ARGS:-} > "$T/$name.score" || fail "hark-fe $name failed"
    erle=$(awk '/^echo_only_frames/ {print $4}' "$T/$name.score")
    att=$(awk '/^double_talk_frames/ {print $4}' "$T/$name.score")
    [ -n "$erle" ] && [ -n "$att" ] || fail "hark-fe $name printed no score"
}

# check NAME WHAT VALUE OP BOUND
check() {
    awk -v v="$3" -v b="$5" -v op="$4" 'BEGIN { exit !((op == ">=" && v >= b) || (op == "<=" && v <= b)) }' ||
        fail "$1: $2 $3 dB, want $4 $5 dB"
}

scene aligned 0.3 -10
scene late 0.3 -10 --ref-delay-ms 60 --drift-ppm 100
scene rt05 0.5 -5

# name: min ERLE of the AEC alone, max near-end attenuation, min ERLE of the full chain
for spec in "aligned 27 2.5 35" "late 14 3.5 33" "rt05 25 3.5 33"; do
    read -r name erle_min att_max full_min <<< "$spec"
    run "$name" --no-beam --no-ns --no-agc
    note "$name: AEC alone: erle_db $erle near_attenuation_db $att"
    check "$name (AEC alone)" "echo reduction" "$erle" ">=" "$erle_min"
    check "$name (AEC alone)" "near-end attenuation" "$att" "<=" "$att_max"
    run "$name" --no-agc
    note "$name: chain without AGC: erle_db $erle near_attenuation_db $att"
    check "$name (chain without AGC)" "echo reduction" "$erle" ">=" "$full_min"
    run "$name"
    note "$name: default chain with AGC: erle_db $erle"
    check "$name (default chain with AGC)" "echo reduction" "$erle" ">=" "$full_min"
done
echo "ok"
