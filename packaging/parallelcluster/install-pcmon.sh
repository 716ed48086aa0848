#!/bin/bash
# install-pcmon.sh: AWS ParallelCluster custom action that installs pcmon on the head node and says
# where its alerts go. Use it as HeadNode OnNodeConfigured, and with the same arguments as
# OnNodeUpdated (a cluster update flushes the IMDS rules and may change the notifiers); docs/install.md
# has the cluster-config snippet. It runs as root on any node type and acts on the head node only.
#
# Safe to run again: the same arguments give the same files; an unchanged release is not rebuilt.
# Progress goes to standard output, every command's output to /var/log/pcmon-install.log, and a
# failure ends with ONE line on standard error (ParallelCluster reports that line). Secrets are
# never printed: they go to 0640 root:pcmon files that the config names with url_file/password_file.
#
# PCMON_ROOT (tests only) makes every path relative to a directory standing in for /.
set -euo pipefail
shopt -s inherit_errexit
umask 022

PCMON_VERSION="@VERSION@"

usage() {
    cat <<'EOF'
usage: install-pcmon.sh [options]
  --source URL                 release tarball: s3://..., https://... or a local path
                               (default: pcmon-VERSION.tar.gz next to this script in S3)
  --config URL                 a whole pcmon.yaml to start from instead of the shipped default
  --slack-webhook URL          Slack incoming-webhook URL (prefer the next two: arguments are
                               visible in the cluster configuration)
  --slack-webhook-ssm NAME     ... read from an SSM SecureString parameter
  --slack-webhook-secret NAME  ... read from a Secrets Manager secret (its SecretString)
  --email ADDR[,ADDR...]       email recipients; needs --smtp-url and --smtp-from
  --smtp-url URL               smtp://host:587 (STARTTLS) or smtps://host:465
  --smtp-from ADDR             sender address
  --smtp-user USER             SMTP AUTH user; the password from one of:
  --smtp-password-ssm NAME     an SSM SecureString parameter
  --smtp-password-secret NAME  a Secrets Manager secret
  --alertmanager URL[,URL...]  Alertmanager base URL(s) (the peers of one HA cluster); a single
                               URL is kept in /etc/pcmon/alertmanager.url
  --sns-topic ARN              Amazon SNS topic (uses the head node's instance role)
  --audit-log                  also append every alert to /var/log/pcmon/alerts.jsonl
  --test-notify MODE           require (default): a failed test alert fails the action;
                               warn: report it and go on; skip: send none
  --replace-config             rewrite /etc/pcmon.yaml even when it was edited by hand (the
                               edited file is kept as /etc/pcmon.yaml.edited)
EOF
}

ROOT=${PCMON_ROOT:-}
LOG="$ROOT/var/log/pcmon-install.log"
CACHE="$ROOT/var/cache/pcmon-install"
CONF="$ROOT/etc/pcmon.yaml"
SECRETS="$ROOT/etc/pcmon"
PCMON="$ROOT/usr/bin/pcmon"

mkdir -p "$(dirname "$LOG")"
exec 3>&2 4>&1 >>"$LOG" 2>&1
echo "=== $(date -u '+%Y-%m-%dT%H:%M:%SZ') install-pcmon.sh $PCMON_VERSION"

# The first failure's message, also from a $(...) subshell, is the one line on standard error.
MSG=$(mktemp)
WORK=""
say() {
    printf 'install-pcmon: %s\n' "$*" >&4
    printf '%s\n' "$*"
}
die() {
    printf 'ERROR: %s\n' "$*"
    [ -s "$MSG" ] || printf '%s' "$*" >"$MSG"
    exit 1
}
on_exit() {
    local st=$?
    [ -z "$WORK" ] || rm -rf "$WORK"
    if [ "$st" != 0 ]; then
        [ -s "$MSG" ] || printf 'failed (exit status %s)' "$st" >"$MSG"
        printf 'install-pcmon: %s (details: %s)\n' "$(cat "$MSG")" "${LOG#"$ROOT"}" >&3
    fi
    rm -f "$MSG"
}
trap on_exit EXIT
trap '[ -s "$MSG" ] || printf "unexpected failure at line %s: %s" "$LINENO" "$BASH_COMMAND" >"$MSG"' ERR

# --- arguments ----------------------------------------------------------------------------------
SOURCE="" BASE_CONFIG="" SLACK_URL="" SLACK_SSM="" SLACK_SECRET="" EMAIL="" SMTP_URL="" SMTP_FROM=""
SMTP_USER="" SMTP_PW_SSM="" SMTP_PW_SECRET="" ALERTMANAGER="" SNS_TOPIC="" AUDIT=0 TEST_NOTIFY=require
REPLACE_CONFIG=0

need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value"; fi; }
while [ $# -gt 0 ]; do
    case "$1" in
    --help | -h) usage >&4; exit 0 ;;
    --audit-log) AUDIT=1; shift; continue ;;
    --replace-config) REPLACE_CONFIG=1; shift; continue ;;
    --source | --config | --slack-webhook | --slack-webhook-ssm | --slack-webhook-secret | --email | \
        --smtp-url | --smtp-from | --smtp-user | --smtp-password-ssm | --smtp-password-secret | \
        --alertmanager | --sns-topic | --test-notify) need_value "$@" ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
    esac
    case "$1" in
    --source) SOURCE=$2 ;;
    --config) BASE_CONFIG=$2 ;;
    --slack-webhook) SLACK_URL=$2 ;;
    --slack-webhook-ssm) SLACK_SSM=$2 ;;
    --slack-webhook-secret) SLACK_SECRET=$2 ;;
    --email) EMAIL=$2 ;;
    --smtp-url) SMTP_URL=$2 ;;
    --smtp-from) SMTP_FROM=$2 ;;
    --smtp-user) SMTP_USER=$2 ;;
    --smtp-password-ssm) SMTP_PW_SSM=$2 ;;
    --smtp-password-secret) SMTP_PW_SECRET=$2 ;;
    --alertmanager) ALERTMANAGER=$2 ;;
    --sns-topic) SNS_TOPIC=$2 ;;
    --test-notify) TEST_NOTIFY=$2 ;;
    esac
    shift 2
done

count() { local n=0 v; for v in "$@"; do [ -n "$v" ] && n=$((n + 1)); done; echo "$n"; }
[ "$(count "$SLACK_URL" "$SLACK_SSM" "$SLACK_SECRET")" -le 1 ] ||
    die "give at most one of --slack-webhook, --slack-webhook-ssm, --slack-webhook-secret"
[ "$(count "$SMTP_PW_SSM" "$SMTP_PW_SECRET")" -le 1 ] ||
    die "give at most one of --smtp-password-ssm, --smtp-password-secret"
if [ -n "$EMAIL" ]; then
    if [ -z "$SMTP_URL" ] || [ -z "$SMTP_FROM" ]; then die "--email needs --smtp-url and --smtp-from"; fi
elif [ -n "$SMTP_URL$SMTP_FROM$SMTP_USER$SMTP_PW_SSM$SMTP_PW_SECRET" ]; then
    die "--smtp-* options need --email"
fi
[ -z "$SMTP_PW_SSM$SMTP_PW_SECRET" ] || [ -n "$SMTP_USER" ] || die "an SMTP password needs --smtp-user"
case "$TEST_NOTIFY" in require | warn | skip) ;; *) die "--test-notify takes require, warn or skip" ;; esac
case "$SNS_TOPIC" in "" | arn:aws*:sns:*:*:*) ;; *) die "--sns-topic needs an arn:aws:sns:REGION:ACCOUNT:NAME" ;; esac
# Values end up in YAML and in one-line files: no control characters.
for v in "$SOURCE" "$BASE_CONFIG" "$SLACK_URL" "$EMAIL" "$SMTP_URL" "$SMTP_FROM" "$SMTP_USER" \
    "$ALERTMANAGER" "$SNS_TOPIC"; do
    case "$v" in *[[:cntrl:]]*) die "an argument contains a control character" ;; esac
done

# --- which node, which cluster ------------------------------------------------------------------
# /etc/parallelcluster/cfnconfig is shell (cookbook templates/init/cfnconfig.erb); read the three
# keys rather than sourcing it.
cfn_value() {
    sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$ROOT/etc/parallelcluster/cfnconfig" 2>/dev/null | tail -n 1
}
dna_value() {
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$ROOT/etc/chef/dna.json" 2>/dev/null | head -n 1
}
NODE_TYPE=$(cfn_value cfn_node_type)
[ -n "$NODE_TYPE" ] || NODE_TYPE=$(dna_value node_type)
[ -n "$NODE_TYPE" ] || die "not a ParallelCluster node: no cfn_node_type in /etc/parallelcluster/cfnconfig or /etc/chef/dna.json"
if [ "$NODE_TYPE" != HeadNode ]; then
    say "this is a $NODE_TYPE node; pcmon runs on the head node only: nothing to do"
    exit 0
fi
CLUSTER=$(cfn_value stack_name)
[ -n "$CLUSTER" ] || CLUSTER=$(dna_value cluster_name)
[ -n "$CLUSTER" ] || CLUSTER=$(dna_value stack_name)
REGION=$(cfn_value cfn_region)
[ -n "$REGION" ] || REGION=$(dna_value region)
if [ -z "$CLUSTER" ] || [ -z "$REGION" ]; then
    die "cannot tell the cluster name and region from /etc/parallelcluster/cfnconfig"
fi
say "head node of cluster $CLUSTER in $REGION"

# shellcheck disable=SC1091
OS_ID=$(. "$ROOT/etc/os-release" && echo "${ID:-}")
# shellcheck disable=SC1091
OS_VERSION=$(. "$ROOT/etc/os-release" && echo "${VERSION_ID:-}")
case "$OS_ID" in
amzn | rhel | rocky | almalinux | centos | fedora) if command -v dnf >/dev/null; then PM=dnf; else PM=yum; fi ;;
ubuntu | debian) PM=apt ;;
*) die "unsupported OS \"$OS_ID $OS_VERSION\" (see docs/install.md for the supported head-node OSes)" ;;
esac

# --- AWS ----------------------------------------------------------------------------------------
AWS=$(command -v aws || true)
[ -n "$AWS" ] || [ ! -x /usr/local/bin/aws ] || AWS=/usr/local/bin/aws
aws_cli() {
    [ -n "$AWS" ] || die "the AWS CLI (aws) is not installed"
    "$AWS" --region "$REGION" "$@"
}
# fetch URL DEST: s3:// with the instance role, https:// with curl, else a local path.
fetch() {
    case "$1" in
    s3://*) aws_cli s3 cp --only-show-errors "$1" "$2" || die "cannot download $1 (does the head node role have S3Access to it?)" ;;
    https://* | http://*) curl -fsSL --retry 3 -o "$2" "$1" || die "cannot download $1" ;;
    *) cp "$1" "$2" || die "cannot read $1" ;;
    esac
}
# secret KIND NAME: prints the value of an SSM parameter or a Secrets Manager secret.
secret() {
    local v
    case "$1" in
    ssm) v=$(aws_cli ssm get-parameter --name "$2" --with-decryption --query Parameter.Value --output text) ||
        die "cannot read SSM parameter $2 (does it exist in $REGION, may the head node role ssm:GetParameter it?)" ;;
    secret) v=$(aws_cli secretsmanager get-secret-value --secret-id "$2" --query SecretString --output text) ||
        die "cannot read secret $2 (does it exist in $REGION, may the head node role secretsmanager:GetSecretValue it?)" ;;
    esac
    case "$v" in "" | None | *$'\n'*) die "$1 $2 must hold one non-empty line" ;; esac
    printf '%s' "$v"
}

# Secrets first: a wrong name fails before anything is installed.
SLACK=$SLACK_URL
[ -z "$SLACK_SSM" ] || SLACK=$(secret ssm "$SLACK_SSM")
[ -z "$SLACK_SECRET" ] || SLACK=$(secret secret "$SLACK_SECRET")
SMTP_PW=""
[ -z "$SMTP_PW_SSM" ] || SMTP_PW=$(secret ssm "$SMTP_PW_SSM")
[ -z "$SMTP_PW_SECRET" ] || SMTP_PW=$(secret secret "$SMTP_PW_SECRET")

# --- packages -----------------------------------------------------------------------------------
pm_install() {
    case "$PM" in
    apt)
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q install --no-install-recommends "$@" ;;
    dnf | yum)
        "$PM" -y -q install "$@" && return 0
        # EL8/EL9 keep libyaml-devel in PowerTools/CRB, disabled by default.
        local repo
        repo=$("$PM" -q repolist --all 2>/dev/null | awk 'NR > 1 { print $1 }' |
            grep -iE '^(crb|powertools|.*codeready-builder.*)$' | grep -viE 'debug|source' | head -n 1 || true)
        [ -n "$repo" ] && "$PM" -y -q --enablerepo="$repo" install "$@" ;;
    esac
}

# EL9 and AL2023 images may carry libcurl-minimal, which has no SMTP.
if [ -n "$EMAIL" ] && [ "$PM" != apt ] && rpm -q libcurl-minimal >/dev/null 2>&1; then
    say "email needs SMTP: replacing libcurl-minimal with the full libcurl"
    if [ "$OS_ID" = amzn ]; then full="curl-full libcurl-full"; else full="curl libcurl"; fi
    # shellcheck disable=SC2086
    "$PM" -y -q install --allowerasing $full || die "cannot replace libcurl-minimal by $full"
fi

say "installing build dependencies with $PM"
case "$PM" in
apt)
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q update ||
        die "apt-get update failed"
    pm_install build-essential pkg-config libsystemd-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev \
        libpcre2-dev ;;
dnf) pm_install gcc make pkgconf-pkg-config systemd-devel libcurl-devel json-c-devel libyaml-devel pcre2-devel tar gzip ;;
yum) pm_install gcc make pkgconfig systemd-devel libcurl-devel json-c-devel libyaml-devel pcre2-devel tar gzip ;;
esac || die "cannot install the build dependencies with $PM"

# --- the release ----------------------------------------------------------------------------------
if [ -z "$SOURCE" ]; then
    case "$PCMON_VERSION" in @*) die "no --source given, and this copy of the script has no version (use the one make dist writes)" ;; esac
    # ParallelCluster passes this script's own URL in cfn_postinstall / cfn_postupdate, quoted
    # (custom_action_executor.py, CfnConfigEnvEnricher).
    # shellcheck disable=SC2154
    self=${cfn_postupdate:-}
    case "${cfn_postinstall:-}" in *install-pcmon*) self=$cfn_postinstall ;; esac
    self=${self//\"/}
    case "$self" in
    s3://*/* | https://*/*) SOURCE="${self%/*}/pcmon-$PCMON_VERSION.tar.gz" ;;
    *) die "no --source given and this script's own URL is unknown" ;;
    esac
fi
mkdir -p "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/pcmon-install.XXXXXX")
say "fetching $SOURCE"
fetch "$SOURCE" "$WORK/pcmon.tar.gz"
tar -xzf "$WORK/pcmon.tar.gz" -C "$WORK" || die "$SOURCE is not a pcmon release tarball"
SRC=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'pcmon-*' | head -n 1)
if [ -z "$SRC" ] || [ ! -f "$SRC/Makefile" ]; then die "$SOURCE is not a pcmon release tarball"; fi
SUM=$(sha256sum "$WORK/pcmon.tar.gz" | cut -d' ' -f1)

if [ -x "$PCMON" ] && [ "$(cat "$CACHE/release.sha256" 2>/dev/null)" = "$SUM" ]; then
    say "${SRC##*/} is already installed"
else
    say "building ${SRC##*/}"
    make -C "$SRC" -j"$(nproc)" BUILDDIR=build || die "building ${SRC##*/} failed"
    make -C "$SRC" install BUILDDIR=build DESTDIR="$ROOT" PREFIX=/usr SYSCONFDIR=/etc ||
        die "installing ${SRC##*/} failed"
    echo "$SUM" >"$CACHE/release.sha256"
fi

# --- user, directories --------------------------------------------------------------------------
sysusers_root=()
[ -z "$ROOT" ] || sysusers_root=(--root="$ROOT")
if ! grep -q '^pcmon:' "$ROOT/etc/passwd" 2>/dev/null; then
    systemd-sysusers "${sysusers_root[@]}" - <"$SRC/systemd/pcmon.sysusers" ||
        useradd ${ROOT:+--root "$ROOT"} --system --user-group --home-dir /var/lib/pcmon --no-create-home \
            --shell /sbin/nologin --comment "pcmon ParallelCluster alert daemon" pcmon ||
        die "cannot create the pcmon user"
fi
PCMON_UID=$(awk -F: '$1 == "pcmon" { print $3 }' "$ROOT/etc/passwd")
PCMON_GID=$(awk -F: '$1 == "pcmon" { print $3 }' "$ROOT/etc/group")
if [ -z "$PCMON_UID" ] || [ -z "$PCMON_GID" ]; then die "the pcmon user has no entry in /etc/passwd and /etc/group"; fi
install -d -m 0750 -o 0 -g "$PCMON_GID" "$SECRETS"
install -d -m 0750 -o "$PCMON_UID" -g "$PCMON_GID" "$ROOT/var/lib/pcmon" "$ROOT/var/log/pcmon"

# put FILE MODE < content: atomic replace, root:pcmon.
put() {
    local tmp
    tmp=$(mktemp "$1.XXXXXX")
    cat >"$tmp"
    chmod "$2" "$tmp"
    chown "0:$PCMON_GID" "$tmp"
    mv -f "$tmp" "$1"
}

# --- the configuration --------------------------------------------------------------------------
q() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }   # a YAML single-quoted scalar
qlist() {                                           # "a,b" -> ['a', 'b']
    local out="" item
    local IFS=,
    for item in $1; do
        item=${item// /}
        [ -n "$item" ] && out="$out${out:+, }$(q "$item")"
    done
    printf '[%s]' "$out"
}

notifiers() {
    if [ -n "$SLACK" ]; then
        printf '  - name: slack\n    type: slack\n    url_file: %s\n' "$(q "$SECRETS/slack-webhook.url")"
    fi
    if [ -n "$EMAIL" ]; then
        printf '  - name: email\n    type: smtp\n    url: %s\n    from: %s\n    to: %s\n' \
            "$(q "$SMTP_URL")" "$(q "$SMTP_FROM")" "$(qlist "$EMAIL")"
        [ -z "$SMTP_USER" ] || printf '    username: %s\n' "$(q "$SMTP_USER")"
        [ -z "$SMTP_PW" ] || printf '    password_file: %s\n' "$(q "$SECRETS/smtp.password")"
    fi
    # One Alertmanager URL may carry basic-auth credentials: it goes to a file like the other secrets.
    case "$ALERTMANAGER" in
    "") ;;
    *,*) printf '  - name: alertmanager\n    type: alertmanager\n    urls: %s\n' "$(qlist "$ALERTMANAGER")" ;;
    *) printf '  - name: alertmanager\n    type: alertmanager\n    url_file: %s\n' "$(q "$SECRETS/alertmanager.url")" ;;
    esac
    if [ -n "$SNS_TOPIC" ]; then
        printf '  - name: sns\n    type: sns\n    topic_arn: %s\n    region: %s\n' \
            "$(q "$SNS_TOPIC")" "$(q "$(echo "$SNS_TOPIC" | cut -d: -f4)")"
    fi
    if [ "$AUDIT" = 1 ]; then
        printf '  - name: audit\n    type: file\n    path: %s\n' "$(q "$ROOT/var/log/pcmon/alerts.jsonl")"
    fi
}

# Rewrites the top-level keys cluster, region (and state_dir under PCMON_ROOT) and, when any notifier
# option was given, replaces the top-level notifiers block; everything else is kept as it is.
render_config() {
    local block=$1
    awk -v cluster="cluster: $(q "$CLUSTER")" -v region="region: $(q "$REGION")" \
        -v state="${ROOT:+state_dir: $(q "$ROOT/var/lib/pcmon")}" -v block="$block" '
        function flush_missing() {
            if (!seen_cluster) print cluster
            if (!seen_region) print region
        }
        skipping && /^[^ \t#-]/ { skipping = 0 }
        skipping { next }
        /^cluster:/ { print cluster; seen_cluster = 1; next }
        /^region:/ { print region; seen_region = 1; next }
        state != "" && /^state_dir:/ { print state; next }
        block != "" && /^notifiers:/ { skipping = 1; next }
        { print }
        END {
            flush_missing()
            if (block != "") printf "notifiers:\n%s", block
        }' "$2"
}

say "configuring /etc/pcmon.yaml"
if [ -n "$BASE_CONFIG" ]; then
    fetch "$BASE_CONFIG" "$WORK/base.yaml"
else
    cp "$SRC/conf/pcmon.yaml" "$WORK/base.yaml"
fi
BLOCK=$(notifiers)
[ -z "$BLOCK" ] || BLOCK="$BLOCK"$'\n'
{
    echo "# Written by install-pcmon.sh (ParallelCluster custom action) from its arguments. Once edited by"
    echo "# hand it is no longer rewritten (the next run leaves pcmon.yaml.generated). See pcmon.yaml(5)."
    render_config "$BLOCK" "$WORK/base.yaml"
} >"$WORK/pcmon.yaml"

# Secrets: one line each, 0640 root:pcmon, referenced by url_file / password_file.
if [ -n "$SLACK" ]; then printf '%s\n' "$SLACK" | put "$SECRETS/slack-webhook.url" 0640; fi
if [ -n "$SMTP_PW" ]; then printf '%s\n' "$SMTP_PW" | put "$SECRETS/smtp.password" 0640; fi
case "$ALERTMANAGER" in "" | *,*) ;; *) printf '%s\n' "${ALERTMANAGER// /}" | put "$SECRETS/alertmanager.url" 0640 ;; esac

# The config is ours to rewrite when it is absent, the shipped default, or what the last run wrote;
# otherwise an admin edited it, and it stays (--replace-config takes ours, keeping theirs aside).
ours=0
if [ ! -f "$CONF" ] || cmp -s "$CONF" "$SRC/conf/pcmon.yaml" ||
    [ "$(sha256sum <"$CONF" | cut -d' ' -f1)" = "$(cat "$CACHE/pcmon.yaml.sha256" 2>/dev/null)" ]; then
    ours=1
fi
if [ "$ours" = 0 ] && ! cmp -s "$CONF" "$WORK/pcmon.yaml" && [ "$REPLACE_CONFIG" = 0 ]; then
    put "$CONF.generated" 0640 <"$WORK/pcmon.yaml"
    say "kept the hand-edited /etc/pcmon.yaml; what these arguments give is /etc/pcmon.yaml.generated"
else
    if [ "$ours" = 0 ] && ! cmp -s "$CONF" "$WORK/pcmon.yaml"; then
        cp -p "$CONF" "$CONF.edited"
        say "replaced the hand-edited /etc/pcmon.yaml (kept as /etc/pcmon.yaml.edited)"
    fi
    put "$CONF" 0640 <"$WORK/pcmon.yaml"
    rm -f "$CONF.generated"
    sha256sum <"$CONF" | cut -d' ' -f1 >"$CACHE/pcmon.yaml.sha256"
fi

# --- IMDS for SNS -------------------------------------------------------------------------------
# With HeadNode Imds Secured (the default) only root, pcluster-admin and the default user may reach
# IMDS; SNS signs with the role's credentials from IMDS, so pcmon is allowed too, and the rules are
# saved the way the cookbook saves them (they survive a reboot; an update flushes them, hence
# OnNodeUpdated).
if [ -n "$SNS_TOPIC" ]; then
    imds="$ROOT/opt/parallelcluster/scripts/imds/imds-access.sh"
    if [ -x "$imds" ]; then
        say "allowing the pcmon user to reach IMDS (SNS)"
        bash "$imds" --allow pcmon || die "imds-access.sh --allow pcmon failed"
        if [ -x "$ROOT/usr/local/sbin/save_tables.sh" ]; then "$ROOT/usr/local/sbin/save_tables.sh" || true; fi
    else
        say "no IMDS lockdown script on this node: IMDS access left as it is"
    fi
fi

# --- check, test, start -------------------------------------------------------------------------
# As the service runs: user pcmon, groups pcmon and root (SupplementaryGroups=root in the unit).
as_pcmon() { setpriv --reuid="$PCMON_UID" --regid="$PCMON_GID" --groups="$PCMON_GID,0" -- "$@"; }

as_pcmon "$PCMON" check-config -c "$CONF" ||
    die "pcmon check-config rejected /etc/pcmon.yaml: $(as_pcmon "$PCMON" check-config -c "$CONF" 2>&1 | head -n 1)"

if [ "$TEST_NOTIFY" = skip ]; then
    say "no test alert sent (--test-notify skip)"
elif as_pcmon "$PCMON" test-notify -c "$CONF"; then
    say "test alert accepted by every notifier"
elif [ "$TEST_NOTIFY" = warn ]; then
    say "WARNING: the test alert failed for at least one notifier (see $LOG)"
else
    die "pcmon test-notify failed: a notifier did not accept the test alert (--test-notify warn to go on)"
fi

systemctl daemon-reload || die "systemctl daemon-reload failed"
systemctl enable pcmon.service || die "systemctl enable pcmon failed"
systemctl restart pcmon.service || die "pcmon.service did not start: see journalctl -u pcmon"
systemctl is-active --quiet pcmon.service || die "pcmon.service is not running: see journalctl -u pcmon"
say "$("$PCMON" version 2>/dev/null | head -n 1 || true) is running"
