#!/bin/sh
# systemd/pcmon.service as `make install` installs it: systemd-analyze verify is silent, and
# systemd-analyze security --offline=yes --threshold=20 passes (the threshold is in tenths: 2.0).
# Both checks are also run on broken copies, to show they would catch a regression. The sysusers
# and tmpfiles entries are applied to a scratch root.
set -u

top=${PCMON_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PCMON_BUILD:-$top/build}
fails=0
pass() { echo "PASS unit_file: $*"; }
fail() { echo "FAIL unit_file: $*"; fails=$((fails + 1)); }

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles man; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP unit_file: $tool is not installed"; exit 0; }
done
[ -x "$build/pcmon" ] || { fail "no built binary at $build/pcmon (run make first)"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The installed unit, its ExecStart pointed at the installed binary (verify needs it to exist),
# and the man pages its Documentation= names, found through MANPATH.
if ! make -s -C "$top" install BUILDDIR="$build" DESTDIR="$T/root" >"$T/install.log" 2>&1; then
    cat "$T/install.log"
    fail "make install"
    exit 1
fi
unit=$(find "$T/root" -name pcmon.service -path '*systemd/system*')
[ -n "$unit" ] || { fail "make install put no pcmon.service under */systemd/system"; exit 1; }
mkdir -p "$T/units"
sed "s|^ExecStart=/usr/bin/pcmon |ExecStart=$T/root/usr/bin/pcmon |" "$unit" >"$T/units/pcmon.service"

verify() { # UNIT: prints systemd-analyze's complaints, succeeds only when there are none
    MANPATH="$T/root/usr/share/man" SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$1" >"$T/verify.out" 2>&1 &&
        [ ! -s "$T/verify.out" ]
}
if verify "$T/units/pcmon.service"; then pass "systemd-analyze verify: no complaint"; else
    cat "$T/verify.out"; fail "systemd-analyze verify"; fi

score=$(systemd-analyze security --offline=yes "$T/units/pcmon.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for pcmon.service: \([0-9.]*\).*/\1/p')
if systemd-analyze security --offline=yes --threshold=20 "$T/units/pcmon.service" >"$T/security.out" 2>&1; then
    pass "systemd-analyze security --threshold=20: exposure $score"
else
    grep -E '✗|Overall' "$T/security.out"
    fail "systemd-analyze security --threshold=20: exposure $score"
fi

# The checks are live: a misspelt directive fails verify; running as root with no sandbox fails
# the threshold.
sed 's/^ProtectHome=yes$/ProtectHom=yes/' "$T/units/pcmon.service" >"$T/units/typo.service"
mkdir -p "$T/weak"
grep -v -E '^(User|Group|SupplementaryGroups|CapabilityBoundingSet|ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|NoNewPrivileges|SystemCallFilter|RestrictAddressFamilies|RestrictNamespaces)=' \
    "$T/units/pcmon.service" >"$T/weak/pcmon.service"
if verify "$T/units/typo.service"; then fail "verify misses a misspelt directive"; else
    pass "verify catches a misspelt directive"; fi
if systemd-analyze security --offline=yes --threshold=20 "$T/weak/pcmon.service" >/dev/null 2>&1; then
    fail "the threshold misses an unsandboxed root service"
else
    pass "the threshold catches an unsandboxed root service"
fi

# What the issues ask of the unit, line by line (a verify/score pass alone would allow dropping them).
for line in 'Type=notify' 'NotifyAccess=main' 'ExecStart=/usr/bin/pcmon run' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'Restart=on-failure' 'RestartSec=5s' 'WatchdogSec=30s' 'StateDirectory=pcmon' 'StateDirectoryMode=0750' \
    'ConfigurationDirectory=pcmon' 'LogsDirectory=pcmon' 'User=pcmon' 'NoNewPrivileges=yes' \
    'ProtectSystem=strict' 'ReadOnlyPaths=/var/log' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'SystemCallFilter=@system-service' 'SystemCallArchitectures=native' 'MemoryMax=64M' 'UMask=0027'; do
    grep -qxF "$line" "$top/systemd/pcmon.service" || fail "pcmon.service lacks: $line"
done
if grep -q '^MemoryDenyWriteExecute=yes' "$top/systemd/pcmon.service"; then
    fail "MemoryDenyWriteExecute=yes would disable PCRE2's JIT"
else
    pass "required directives present, MemoryDenyWriteExecute not set"
fi

# sysusers.d and tmpfiles.d on a scratch root: a system user, and the directories with their owners.
mkdir -p "$T/sys/etc"
if systemd-sysusers --root="$T/sys" - <"$top/systemd/pcmon.sysusers" >/dev/null 2>&1 &&
    systemd-tmpfiles --root="$T/sys" --create - <"$top/systemd/pcmon.tmpfiles" >/dev/null 2>&1; then
    uid=$(awk -F: '$1 == "pcmon" { print $3 }' "$T/sys/etc/passwd")
    gid=$(awk -F: '$1 == "pcmon" { print $3 }' "$T/sys/etc/group")
    got="$(stat -c %a:%u:%g "$T/sys/var/lib/pcmon" "$T/sys/var/log/pcmon" "$T/sys/etc/pcmon" | tr '\n' ' ')"
    if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$got" = "750:$uid:$gid 750:$uid:$gid 750:0:$gid " ]; then
        pass "sysusers.d makes system user pcmon ($uid); tmpfiles.d makes the directories"
    else
        fail "sysusers/tmpfiles: uid=$uid, directories: $got"
    fi
else
    fail "systemd-sysusers or systemd-tmpfiles rejected the entries"
fi

# The daemon's system calls against the unit's SystemCallFilter=: nothing here runs systemd as PID 1,
# so the filter cannot be applied; instead every call pcmon makes (run: tail, match, deliver to a
# loopback Slack stand-in and a file, reload, rotate, stop; test-notify; status; check-config) is
# traced and must be in the set the unit allows. A call outside it would fail with EPERM on a head node.
syscalls_check() {
    command -v strace >/dev/null 2>&1 || { echo "SKIP unit_file: system calls: strace is not installed"; return; }
    command -v /usr/bin/python3 >/dev/null 2>&1 || { echo "SKIP unit_file: system calls: no /usr/bin/python3"; return; }
    strace -f -qq -o /dev/null true 2>/dev/null || { echo "SKIP unit_file: system calls: ptrace is not permitted here"; return; }
    S="$T/sc"
    mkdir -p "$S/root/var/log/parallelcluster" "$S/state"
    cat >"$S/srv.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
    /usr/bin/python3 "$S/srv.py" "$S/port" &
    srv=$!
    wait_for() { # FILE PATTERN: polls for up to 20 s
        i=0
        while [ $i -lt 400 ]; do
            grep -q "$2" "$1" 2>/dev/null && return 0
            i=$((i + 1)); /usr/bin/python3 -c 'import time; time.sleep(0.05)'
        done
        return 1
    }
    wait_for "$S/port" . || { kill "$srv"; fail "system calls: the Slack stand-in did not start"; return; }
    { sed -e "s|^state_dir:.*|state_dir: $S/state|" -e '/^notifiers: \[\]$/d' "$top/conf/pcmon.yaml"
      printf 'notifiers:\n  - name: slack\n    type: slack\n    url: http://127.0.0.1:%s/services/x\n' "$(cat "$S/port")"
      printf '  - name: audit\n    type: file\n    path: %s/alerts.jsonl\n' "$S"; } >"$S/pcmon.yaml"
    chmod 0640 "$S/pcmon.yaml"   # it holds a webhook URL: pcmon run refuses it world-readable
    log="$S/root/var/log/parallelcluster/clustermgtd"
    : >"$log"
    # The shell records its pid and becomes pcmon, so that signals reach pcmon and not strace.
    strace -f -qq -o "$S/trace.run" sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec "$2" run -c "$3" --root "$4"' \
        sh "$S/pid" "$build/pcmon" "$S/pcmon.yaml" "$S/root" 2>"$S/run.err" &
    tracer=$!
    wait_for "$S/pid" . && daemon=$(cat "$S/pid") && wait_for "$S/run.err" "following" &&
    printf '%s\n' "2024-10-14 06:26:02,577 - [slurm_plugin.clustermgtd:_handle_protected_mode_process] - WARNING - Setting cluster into protected mode due to failures detected in node provisioning. Please investigate the issue and then use 'pcluster update-compute-fleet --status START_REQUESTED' command to re-enable the fleet." >>"$log" &&
    wait_for "$S/alerts.jsonl" protected_mode && kill -HUP "$daemon" && wait_for "$S/run.err" "reloaded" &&
    mv "$log" "$log.1" && echo "2024-10-14 06:27:02,577 - [x] - INFO - after rotation" >"$log"
    ok=$?
    stop() { # PID: SIGTERM, then SIGKILL if it is still there after 20 s
        kill -TERM "$1" 2>/dev/null
        i=0
        while kill -0 "$1" 2>/dev/null && [ $i -lt 400 ]; do
            i=$((i + 1)); /usr/bin/python3 -c 'import time; time.sleep(0.05)'
        done
        kill -KILL "$1" 2>/dev/null
    }
    [ -z "${daemon:-}" ] || stop "$daemon"
    stop "$tracer"; wait "$tracer"; kill "$srv"
    [ "$ok" = 0 ] || { cat "$S/run.err"; fail "system calls: the traced daemon did not alert and reload"; return; }
    strace -f -qq -o "$S/trace.test" "$build/pcmon" test-notify -c "$S/pcmon.yaml" >/dev/null 2>&1
    strace -f -qq -o "$S/trace.status" "$build/pcmon" status -c "$S/pcmon.yaml" >/dev/null 2>&1
    strace -f -qq -o "$S/trace.check" "$build/pcmon" check-config -c "$S/pcmon.yaml" >/dev/null 2>&1
    # The daemon's trace from its execve on (the shell's own calls before it are not pcmon's).
    awk -v bin="$build/pcmon" 'index($0, "execve(\"" bin "\"") { on = 1 } on' "$S/trace.run" >"$S/trace.daemon"
    rm "$S/trace.run"
    cat "$S"/trace.* | sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' | sort -u >"$S/used"
    expand() { systemd-analyze syscall-filter "$1" | sed -n '2,$s/^ *//p' | grep -v -e '^#' -e '^$' |
        while read -r c; do case "$c" in @*) expand "$c" ;; *) echo "$c" ;; esac; done; }
    : >"$S/allow"; : >"$S/deny"
    for f in $(sed -n 's/^SystemCallFilter=//p' "$top/systemd/pcmon.service" | tr ' ' '\n'); do
        case "$f" in ~*) expand "${f#\~}" >>"$S/deny" ;; *) expand "$f" >>"$S/allow" ;; esac
    done
    sort -u "$S/allow" >"$S/allow.s"; sort -u "$S/deny" | comm -23 "$S/allow.s" - >"$S/effective"
    bad=$(comm -23 "$S/used" "$S/effective" | tr '\n' ' ')
    if [ -z "$bad" ]; then pass "SystemCallFilter allows all $(wc -l <"$S/used") system calls pcmon makes"; else
        fail "SystemCallFilter would refuse: $bad"; fi
}
syscalls_check

echo "unit_file: $fails failed"
[ "$fails" = 0 ]
