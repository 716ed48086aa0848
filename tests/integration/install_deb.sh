#!/bin/sh
# `make deb` (dpkg-buildpackage -us -uc -b on the release tarball with packaging/debian as debian/):
# lintian finds no error, /etc/pcmon.yaml is a 0640 conffile, the maintainer scripts create the
# user and enable the service, and the unpacked package's binary loads its own config.
set -u

top=${PCMON_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0
pass() { echo "PASS install_deb: $*"; }
fail() { echo "FAIL install_deb: $*"; fails=$((fails + 1)); }
check() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }

for tool in dpkg-buildpackage dh lintian pandoc git; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP install_deb: $tool is not installed"; exit 0; }
done
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "SKIP install_deb: $top is not a git checkout (make dist packs git ls-files)"; exit 0; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
start=$(date +%s)
if ! make -C "$top" deb BUILDDIR="$T/b" >"$T/build.log" 2>&1; then
    tail -n 40 "$T/build.log"
    fail "make deb"
    exit 1
fi
deb=$(ls "$T/b/deb/pcmon_${version}_"*.deb 2>/dev/null | head -n 1)
check "make deb built pcmon_${version} ($(( $(date +%s) - start ))s)" '[ -f "$deb" ]'
[ -f "$deb" ] || exit 1

lintian --no-tag-display-limit "$deb" >"$T/lintian.out" 2>&1
nerr=$(grep -c '^E:' "$T/lintian.out")
nwarn=$(grep -c '^W:' "$T/lintian.out")
if [ "$nerr" = 0 ]; then pass "lintian: no errors ($nwarn warnings)"; else
    grep '^E:' "$T/lintian.out"; fail "lintian: $nerr errors"; fi

dpkg-deb -e "$deb" "$T/ctl"
dpkg-deb -c "$deb" >"$T/contents"
check "conffile /etc/pcmon.yaml, mode 0640" \
    'grep -qx /etc/pcmon.yaml "$T/ctl/conffiles" && grep -q "^-rw-r----- root/root .* ./etc/pcmon.yaml$" "$T/contents"'
check "ships the binary, the unit, sysusers.d, tmpfiles.d, both man pages and logrotate.d" \
    'for f in ./usr/bin/pcmon "systemd/system/pcmon.service" ./usr/lib/sysusers.d/pcmon.conf \
        ./usr/lib/tmpfiles.d/pcmon.conf ./usr/share/man/man8/pcmon.8.gz ./usr/share/man/man5/pcmon.yaml.5.gz ./etc/logrotate.d/pcmon; do
        grep -q "$f\$" "$T/contents" || { echo "missing $f"; exit 1; }; done'
check "postinst creates the user before giving it the config, then enables and starts pcmon" \
    'awk "/systemd-sysusers/ && !u { u = NR } /chown root:pcmon \/etc\/pcmon.yaml/ { c = NR }
          /deb-systemd-helper enable .pcmon.service/ { e = NR } /deb-systemd-invoke/ { s = NR }
          END { exit !(u && c > u && e > c && s > e) }" "$T/ctl/postinst"'
check "postrm purges the state" 'grep -q "rm -rf /var/lib/pcmon /var/log/pcmon" "$T/ctl/postrm"'
check "Depends on a sysusers provider" 'grep -q "^Depends:.*systemd" "$T/ctl/control"'

R="$T/root"
dpkg -x "$deb" "$R"
check "unpacked binary: version $version" '"$R/usr/bin/pcmon" version | grep -q "^pcmon $version"'
check "unpacked binary: check-config on the packaged /etc/pcmon.yaml" \
    '"$R/usr/bin/pcmon" check-config -c "$R/etc/pcmon.yaml" >"$T/cc.out" 2>&1 || { cat "$T/cc.out"; false; }'

echo "install_deb: $fails failed"
[ "$fails" = 0 ]
