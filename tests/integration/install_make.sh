#!/bin/sh
# make install / uninstall / dist into temp directories: the files, their modes, the admin's config
# never overwritten, PREFIX and SYSCONFDIR honoured, and the installed binary loading the installed
# config. The release tarball holds what git tracks plus the rendered man pages and one spec.
set -u

top=${PCMON_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PCMON_BUILD:-$top/build}
fails=0
pass() { echo "PASS install_make: $*"; }
fail() { echo "FAIL install_make: $*"; fails=$((fails + 1)); }
check() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }

[ -x "$build/pcmon" ] || { fail "no built binary at $build/pcmon (run make first)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mk() { make -s -C "$top" BUILDDIR="$build" "$@" >"$T/make.out" 2>&1 || { cat "$T/make.out"; false; }; }
mode() { stat -c %a "$1" 2>/dev/null; }

# --- default layout ------------------------------------------------------------------------------
D="$T/d"
if ! mk install DESTDIR="$D"; then fail "make install DESTDIR"; exit 1; fi
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
check "binary 0755 in /usr/bin" '[ "$(mode "$D/usr/bin/pcmon")" = 755 ]'
check "unit in $unitdir runs /usr/bin/pcmon run" \
    'grep -qx "ExecStart=/usr/bin/pcmon run" "$D$unitdir/pcmon.service" && [ "$(mode "$D$unitdir/pcmon.service")" = 644 ]'
check "sysusers.d and tmpfiles.d entries" \
    '[ -f "$D/usr/lib/sysusers.d/pcmon.conf" ] && [ -f "$D/usr/lib/tmpfiles.d/pcmon.conf" ]'
check "man pages pcmon(8) and pcmon.yaml(5)" \
    'head -n 30 "$D/usr/share/man/man8/pcmon.8" | grep -q "^\.TH \"pcmon\" \"8\"" &&
     head -n 30 "$D/usr/share/man/man5/pcmon.yaml.5" | grep -q "^\.TH \"pcmon.yaml\" \"5\""'
check "default config installed 0640, the shipped copy in /usr/share/pcmon" \
    '[ "$(mode "$D/etc/pcmon.yaml")" = 640 ] && cmp -s "$top/conf/pcmon.yaml" "$D/etc/pcmon.yaml" &&
     cmp -s "$top/conf/pcmon.yaml" "$D/usr/share/pcmon/pcmon.yaml"'
check "state, log and secrets directories 0750" \
    '[ "$(mode "$D/var/lib/pcmon")$(mode "$D/var/log/pcmon")$(mode "$D/etc/pcmon")" = 750750750 ]'
# The audit log's logrotate entry, run by the real logrotate on a copy pointed at a temp directory:
# the file notifier opens the file per alert, so the alert after a rotation lands in the new file.
check "logrotate.d/pcmon installed 0644 for /var/log/pcmon/*.jsonl" \
    '[ "$(mode "$D/etc/logrotate.d/pcmon")" = 644 ] && grep -q "^/var/log/pcmon/\*\.jsonl {" "$D/etc/logrotate.d/pcmon"'
LR="$T/lr"
mkdir -p "$LR/log" "$LR/state"
sed -e "s|/var/log/pcmon|$LR/log|" -e "s|su pcmon pcmon|su root root|" -e "s|create 0640 pcmon pcmon|create 0640 root root|" \
    "$D/etc/logrotate.d/pcmon" >"$LR/logrotate.conf"
printf 'state_dir: %s/state\nnotifiers:\n  - name: audit\n    type: file\n    path: %s/log/alerts.jsonl\n' "$LR" "$LR" >"$LR/pcmon.yaml"
check "logrotate entry: the real logrotate rotates the audit log, the next alert lands in a new file" \
    '"$build/pcmon" test-notify -c "$LR/pcmon.yaml" >/dev/null 2>&1 &&
     logrotate -f -s "$LR/lr.state" "$LR/logrotate.conf" 2>"$LR/lr.err" &&
     "$build/pcmon" test-notify -c "$LR/pcmon.yaml" >/dev/null 2>&1 &&
     [ "$(wc -l <"$LR/log/alerts.jsonl.1")" = 1 ] && [ "$(wc -l <"$LR/log/alerts.jsonl")" = 1 ] &&
     [ "$(mode "$LR/log/alerts.jsonl")" = 640 ] || { cat "$LR/lr.err"; false; }'
check "installed binary: version" '"$D/usr/bin/pcmon" version | grep -q "^pcmon "'
check "installed binary: check-config on the installed config" \
    '"$D/usr/bin/pcmon" check-config -c "$D/etc/pcmon.yaml" >"$T/cc.out" 2>&1 || { cat "$T/cc.out"; false; }'

# --- an admin's edit survives a reinstall ----------------------------------------------------------
echo "# admin edit" >>"$D/etc/pcmon.yaml"
cp "$D/etc/pcmon.yaml" "$T/edited"
mk install DESTDIR="$D"
check "reinstall keeps the edited /etc/pcmon.yaml" \
    'cmp -s "$T/edited" "$D/etc/pcmon.yaml" && grep -q "keeping the existing /etc/pcmon.yaml" "$T/make.out"'

# --- uninstall leaves config and state -------------------------------------------------------------
mk uninstall DESTDIR="$D"
check "uninstall removes the program, unit and man pages, keeps config and state" \
    '[ ! -e "$D/usr/bin/pcmon" ] && [ ! -e "$D$unitdir/pcmon.service" ] && [ ! -e "$D/usr/share/man/man8/pcmon.8" ] &&
     [ ! -e "$D/etc/logrotate.d/pcmon" ] &&
     [ -f "$D/etc/pcmon.yaml" ] && [ -d "$D/var/lib/pcmon" ]'

# --- PREFIX and SYSCONFDIR -------------------------------------------------------------------------
L="$T/local"
mk install DESTDIR="$L" PREFIX=/usr/local SYSCONFDIR=/usr/local/etc
check "PREFIX=/usr/local SYSCONFDIR=/usr/local/etc: paths, and the unit names the config" \
    '[ -x "$L/usr/local/bin/pcmon" ] && [ -f "$L/usr/local/etc/pcmon.yaml" ] &&
     [ -f "$L/usr/local/share/man/man8/pcmon.8" ] &&
     grep -qx "ExecStart=/usr/local/bin/pcmon run -c /usr/local/etc/pcmon.yaml" "$L$unitdir/pcmon.service" &&
     "$L/usr/local/bin/pcmon" check-config -c "$L/usr/local/etc/pcmon.yaml" >/dev/null 2>&1'

# --- make dist -------------------------------------------------------------------------------------
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
    mk dist BUILDDIR="$T/b"
    tgz="$T/b/pcmon-$version.tar.gz"
    tar -tzf "$tgz" | sed "s|^pcmon-$version/||" | grep -v '/$' | grep -v '^$' | sort >"$T/tar.list"
    (cd "$top" && git ls-files | while read -r f; do [ -e "$f" ] && echo "$f"; done | sort) >"$T/git.list"
    check "dist: pcmon-$version.tar.gz holds every tracked file" '[ -z "$(comm -13 "$T/tar.list" "$T/git.list")" ]'
    check "dist: plus only the rendered man pages" \
        '[ "$(comm -23 "$T/tar.list" "$T/git.list" | tr "\n" " ")" = "docs/pcmon.8 docs/pcmon.yaml.5 " ]'
    check "dist: one spec, at Version $version; the custom action at $version; no top-level debian/" \
        '[ "$(grep -c "\.spec$" "$T/tar.list")" = 1 ] &&
         tar -xOzf "$tgz" "pcmon-$version/packaging/rpm/pcmon.spec" | grep -qE "^Version: +$version$" &&
         tar -xOzf "$tgz" "pcmon-$version/packaging/parallelcluster/install-pcmon.sh" | grep -qx "PCMON_VERSION=\"$version\"" &&
         ! grep -q "^debian/" "$T/tar.list"'
    cp "$tgz" "$T/first.tgz"
    mk dist BUILDDIR="$T/b"
    check "dist: reproducible" 'cmp -s "$tgz" "$T/first.tgz"'
else
    echo "SKIP install_make: make dist: $top is not a git checkout"
fi

echo "install_make: $fails failed"
[ "$fails" = 0 ]
