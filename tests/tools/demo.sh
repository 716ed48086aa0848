#!/bin/sh
# make demo: pcmon follows a temporary log directory into which a recorded incident (capacity
# shortage escalating to protected mode) is written line by line at speed; alerts appear as they
# happen. Nothing is sent anywhere. Usage: demo.sh PCMON
set -eu
pcmon=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
scenario=${DEMO_SCENARIO:-$top/tests/fixtures/scenarios/01_ice_escalates_to_protected_mode}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
# The demo squeezes hours of log into seconds: wait only 2s to group a burst.
sed -e "s|^state_dir: .*|state_dir: $tmp/state|" -e "s|^  group_wait: 10s|  group_wait: 2s|" \
    "$top/conf/pcmon.yaml" > "$tmp/pcmon.yaml"
echo "pcmon demo: following $tmp/var/log, replaying $(basename "$scenario") into it"
"$pcmon" run -c "$tmp/pcmon.yaml" --root "$tmp" &
pid=$!
/usr/bin/python3 "$top/tests/tools/feed.py" "$scenario" "$tmp" --rate "${DEMO_RATE:-4000}"
# let the last group_wait expire, then stop cleanly
sleep 3
kill -TERM "$pid"
wait "$pid" || true
