#!/bin/sh
# Installs what pcmon needs to build and test, when it is missing (Debian/Ubuntu, as root).
# Used by `make run`, `make check` and .ci/run; a no-op when everything is there.
set -eu
# Usage: deps.sh build|test
BUILD="build-essential pkg-config libsystemd-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev libpcre2-dev"
TEST="check logrotate python3 python3-yaml python3-aiosmtpd python3-botocore openssl prometheus-alertmanager
curl valgrind clang libclang-rt-dev llvm shellcheck rpm rpm2cpio cpio rpmlint dpkg-dev debhelper lintian pandoc systemd man-db git strace"
case "${1:-build}" in
build) PKGS=$BUILD ;;
test) PKGS="$BUILD $TEST" ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "pcmon: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "pcmon: missing packages:$missing and no apt-get here; install them with your package manager" >&2
    exit 1
fi
echo "pcmon: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
