# harkd --check-config: accepts the shipped configurations, rejects a
# malformed one naming file:line and the key, exits non-zero.
source "$(dirname "$0")/lib.sh"

for b in "$top"/board/*/board.conf; do
    printf '[harkd]\nboard = %s\n' "$b" > "$T/ok.conf"
    "$BIN/harkd" --check-config "$T/ok.conf" > "$T/out" 2>&1 || { cat "$T/out"; fail "rejected $b"; }
    note "$(cat "$T/out")"
done
"$BIN/harkd" --check-config "$top/rootfs/etc/hark/hark.conf" --board "$top/board/sim4/board.conf" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "rejected rootfs/etc/hark/hark.conf"; }

sed '/^\[capture\]/,/^\[playback\]/s/^rate = 16000/rate = sixteen/; s/^ref_channel = 4/ref_channel = 3/' "$top/board/sim4/board.conf" > "$T/bad.conf"
printf '[harkd]\nboard = bad.conf\nlog_level = chatty\n' > "$T/hark.conf"
if "$BIN/harkd" --check-config "$T/hark.conf" > "$T/out" 2>&1; then fail "accepted a malformed config"; fi
cat "$T/out" | sed 's/^/  | /'
rate_line=$(grep -n '^rate = 16000' "$top/board/sim4/board.conf" | head -1 | cut -d: -f1)
grep -q "hark.conf:3: \[harkd\] log_level: expected one of" "$T/out" || fail "no file:line for log_level"
grep -q "bad.conf:$rate_line: \[capture\] rate: expected an integer" "$T/out" || fail "no file:line for rate"
grep -q "ref_channel: channel 3 is also mic 3" "$T/out" || fail "no cross-check of ref_channel"
grep -q "configuration rejected (3 errors)" "$T/out" || fail "no error count"
"$BIN/harkd" --version | grep -q '^harkd ' || fail "--version"
echo "ok"
