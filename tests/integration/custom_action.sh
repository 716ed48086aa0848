#!/bin/sh
# The ParallelCluster custom action (packaging/parallelcluster/install-pcmon.sh), end to end against
# a fake root: /etc/parallelcluster/cfnconfig, /etc/os-release and ParallelCluster's IMDS script in
# a temp dir (PCMON_ROOT), with stand-ins on PATH only for the package managers, the AWS CLI and
# systemctl. The release is the real `make dist` tarball, really built and installed into the fake
# root; check-config and test-notify really run as the pcmon uid; the test alert really reaches a
# Slack and an Alertmanager stand-in on 127.0.0.1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top=${PCMON_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0
pass() { echo "PASS custom_action: $*"; }
fail() { echo "FAIL custom_action: $*"; fails=$((fails + 1)); }
check() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }

for tool in shellcheck systemd-sysusers setpriv git /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP custom_action: $tool is not installed"; exit 0; }
done
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "SKIP custom_action: $top is not a git checkout (make dist packs git ls-files)"; exit 0; }

T=$(mktemp -d)
server_pid=""
cleanup() {
    [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
chmod 0755 "$T"   # the pcmon uid must reach the fake root, as it reaches / on a head node

# --- shellcheck ----------------------------------------------------------------------------------
check "shellcheck install-pcmon.sh" \
    'shellcheck "$top/packaging/parallelcluster/install-pcmon.sh" >"$T/shellcheck.out" 2>&1 || { cat "$T/shellcheck.out"; false; }'

# --- the release in a fake S3 --------------------------------------------------------------------
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
mkdir -p "$T/s3/hpc-bucket/pcmon"
if ! make -s -C "$top" dist BUILDDIR="$T/build" >"$T/dist.log" 2>&1; then
    cat "$T/dist.log"
    fail "make dist"
    exit 1
fi
cp "$T/build/pcmon-$version.tar.gz" "$T/build/install-pcmon.sh" "$T/s3/hpc-bucket/pcmon/"
script="$T/s3/hpc-bucket/pcmon/install-pcmon.sh"
check "make dist fills in the script's version" "grep -qx 'PCMON_VERSION=\"$version\"' '$script'"

# --- stand-ins: package managers, AWS CLI, systemctl ---------------------------------------------
mkdir -p "$T/bin" "$T/ssm" "$T/secrets"
calls="$T/calls.log"
: >"$calls"
for pm in apt-get dnf yum; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$pm" "$calls" >"$T/bin/$pm"
done
cat >"$T/bin/rpm" <<EOF
#!/bin/sh
echo "rpm \$*" >>"$calls"
[ "\$1" = -q ] && grep -qx "\$2" "$T/rpm-installed" 2>/dev/null
EOF
cat >"$T/bin/systemctl" <<EOF
#!/bin/sh
echo "systemctl \$*" >>"$calls"
EOF
# aws --region R s3 cp s3://B/K DEST | ssm get-parameter --name N ... | secretsmanager get-secret-value --secret-id N ...
cat >"$T/bin/aws" <<EOF
#!/bin/sh
echo "aws \$*" >>"$calls"
[ "\$1" = --region ] && shift 2
case "\$1 \$2" in
"s3 cp") src=\$4; [ "\$3" = --only-show-errors ] || src=\$3
    dst=\$5; [ "\$3" = --only-show-errors ] || dst=\$4
    f="$T/s3/\${src#s3://}"
    [ -f "\$f" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key not found" >&2; exit 1; }
    cp "\$f" "\$dst" ;;
"ssm get-parameter") f="$T/ssm/\$(echo "\$4" | tr / _)"
    [ -f "\$f" ] || { echo "An error occurred (ParameterNotFound) when calling the GetParameter operation:" >&2; exit 254; }
    cat "\$f" ;;
"secretsmanager get-secret-value") f="$T/secrets/\$(echo "\$4" | tr / _)"
    [ -f "\$f" ] || { echo "An error occurred (ResourceNotFoundException)" >&2; exit 254; }
    cat "\$f" ;;
*) echo "aws stand-in: unexpected \$*" >&2; exit 2 ;;
esac
EOF
chmod 0755 "$T/bin/"*

# --- the fake root: a head node ------------------------------------------------------------------
R="$T/root"
mkdir -p "$R/etc/parallelcluster" "$R/etc/chef" "$R/opt/parallelcluster/scripts/imds" "$R/usr/local/sbin"
chmod -R 0755 "$R"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
cat >"$R/etc/parallelcluster/cfnconfig" <<'EOF'
stack_name=genomics-prod
cfn_preinstall="/opt/parallelcluster/scripts/fetch_and_run --execute-via-cfnconfig -preinstall"
cfn_preinstall_args=()
cfn_region=eu-west-1
cfn_scheduler=slurm
cfn_node_type=HeadNode
cfn_cluster_user=ec2-user
cfn_volume=vol-0123456789abcdef0
EOF
cat >"$R/etc/os-release" <<'EOF'
NAME="Ubuntu"
VERSION_ID="22.04"
ID=ubuntu
EOF
# ParallelCluster's own IMDS script is part of the head node being faked; it records its arguments.
printf '#!/bin/bash\necho "imds-access.sh $*" >>"%s"\n' "$calls" >"$R/opt/parallelcluster/scripts/imds/imds-access.sh"
printf '#!/bin/bash\necho "save_tables.sh" >>"%s"\n' "$calls" >"$R/usr/local/sbin/save_tables.sh"
chmod 0755 "$R/opt/parallelcluster/scripts/imds/imds-access.sh" "$R/usr/local/sbin/save_tables.sh"

# --- Slack and Alertmanager stand-ins on loopback -------------------------------------------------
cat >"$T/server.py" <<'EOF'
import http.server, sys, json
log = open(sys.argv[1], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        log.write(json.dumps({"path": self.path, "body": body.decode("utf-8", "replace")}) + "\n")
        log.flush()
        reply = b"ok" if self.path.startswith("/services/") else b""
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
EOF
/usr/bin/python3 "$T/server.py" "$T/requests.log" "$T/port.tmp" &
server_pid=$!
for _ in $(seq 100); do [ -s "$T/port.tmp" ] && break; /usr/bin/python3 -c 'import time; time.sleep(0.05)'; done
port=$(cat "$T/port.tmp" 2>/dev/null)
[ -n "$port" ] || { fail "Slack/Alertmanager stand-in did not start"; exit 1; }

webhook="http://127.0.0.1:$port/services/T000/B000/s3cr3tT0k3nXYZ"
printf '%s\n' "$webhook" >"$T/ssm/_hpc_pcmon_slack"

run() { # ENV... -- ARGS: runs the action as ParallelCluster would (its own URL in cfn_postinstall)
    env PATH="$T/bin:$PATH" PCMON_ROOT="$R" cfn_postinstall='"s3://hpc-bucket/pcmon/install-pcmon.sh"' \
        cfn_postinstall_args='()' "$@" >"$T/out" 2>"$T/err"
}

# --- a compute node: nothing to do ---------------------------------------------------------------
sed 's/^cfn_node_type=.*/cfn_node_type=ComputeFleet/' "$R/etc/parallelcluster/cfnconfig" >"$T/cfn.compute"
cp "$R/etc/parallelcluster/cfnconfig" "$T/cfn.head"
cp "$T/cfn.compute" "$R/etc/parallelcluster/cfnconfig"
run bash "$script" --slack-webhook-ssm /hpc/pcmon/slack
st=$?
check "compute node: exit 0, nothing installed" \
    '[ $st = 0 ] && [ ! -e "$R/usr/bin/pcmon" ] && ! grep -q "apt-get\|aws" "$calls" && grep -q "ComputeFleet node" "$T/out"'
cp "$T/cfn.head" "$R/etc/parallelcluster/cfnconfig"

# --- the head node: Ubuntu, Slack from SSM, Alertmanager, audit log ------------------------------
start=$(date +%s)
run bash "$script" --slack-webhook-ssm /hpc/pcmon/slack --alertmanager "http://127.0.0.1:$port" --audit-log
st=$?
[ $st = 0 ] || { echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"; echo "--- log"; tail -n 40 "$R/var/log/pcmon-install.log"; }
check "head node: exit 0 ($(( $(date +%s) - start ))s)" '[ $st = 0 ]'
check "read the webhook from SSM in the cluster's region" \
    'grep -q "^aws --region eu-west-1 ssm get-parameter --name /hpc/pcmon/slack --with-decryption" "$calls"'
check "fetched the tarball next to the script in S3" \
    'grep -q "^aws --region eu-west-1 s3 cp --only-show-errors s3://hpc-bucket/pcmon/pcmon-$version.tar.gz " "$calls"'
check "build dependencies with apt-get" \
    'grep -q "^apt-get .*install --no-install-recommends build-essential pkg-config libsystemd-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev libpcre2-dev" "$calls"'
check "built and installed the binary" '[ -x "$R/usr/bin/pcmon" ] && "$R/usr/bin/pcmon" version | grep -q "pcmon $version"'
uid=$(awk -F: '$1 == "pcmon" { print $3 }' "$R/etc/passwd")
gid=$(awk -F: '$1 == "pcmon" { print $3 }' "$R/etc/group")
check "created the pcmon system user (uid $uid)" '[ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$uid" != 0 ]'
check "config 0640 root:pcmon" '[ "$(stat -c %a:%u:%g "$R/etc/pcmon.yaml")" = "640:0:$gid" ]'
check "webhook in /etc/pcmon/slack-webhook.url, 0640 root:pcmon" \
    '[ "$(stat -c %a:%u:%g "$R/etc/pcmon/slack-webhook.url")" = "640:0:$gid" ] && [ "$(cat "$R/etc/pcmon/slack-webhook.url")" = "$webhook" ]'
check "state and log directories owned by pcmon" \
    '[ "$(stat -c %a:%u:%g "$R/var/lib/pcmon")" = "750:$uid:$gid" ] && [ "$(stat -c %a:%u:%g "$R/var/log/pcmon")" = "750:$uid:$gid" ]'
check "config names the cluster and region from cfnconfig" \
    'grep -qx "cluster: '"'"'genomics-prod'"'"'" "$R/etc/pcmon.yaml" && grep -qx "region: '"'"'eu-west-1'"'"'" "$R/etc/pcmon.yaml"'
check "config: slack via url_file, alertmanager, audit file; the rules of the shipped default kept" \
    'grep -q "url_file: '"'"'$R/etc/pcmon/slack-webhook.url'"'"'" "$R/etc/pcmon.yaml" &&
     grep -q "url_file: '"'"'$R/etc/pcmon/alertmanager.url'"'"'" "$R/etc/pcmon.yaml" &&
     [ "$(cat "$R/etc/pcmon/alertmanager.url")" = "http://127.0.0.1:$port" ] &&
     grep -q "^    type: file" "$R/etc/pcmon.yaml" && grep -q "id: protected_mode" "$R/etc/pcmon.yaml" &&
     ! grep -q "notifiers: \[\]" "$R/etc/pcmon.yaml"'
check "config loads (check-config on the installed binary)" \
    '"$R/usr/bin/pcmon" check-config -c "$R/etc/pcmon.yaml" >/dev/null 2>&1'
check "test alert reached Slack and Alertmanager" \
    'grep -q "\"path\": \"/services/T000/B000/s3cr3tT0k3nXYZ\"" "$T/requests.log" && grep -q "\"path\": \"/api/v2/alerts\"" "$T/requests.log"'
check "enabled and restarted pcmon.service" \
    'grep -qx "systemctl enable pcmon.service" "$calls" && grep -qx "systemctl restart pcmon.service" "$calls"'
check "no SNS, so no IMDS change" '! grep -q imds-access "$calls"'
check "the webhook token is in no output or log" \
    '! grep -rq s3cr3tT0k3n "$T/out" "$T/err" "$R/var/log/pcmon-install.log"'
check "progress on stdout, nothing on stderr" '[ ! -s "$T/err" ] && grep -q "is running" "$T/out"'

# --- again (OnNodeUpdated): same files, no rebuild ------------------------------------------------
cp "$R/etc/pcmon.yaml" "$T/conf.1"
: >"$calls"
run bash "$script" --slack-webhook-ssm /hpc/pcmon/slack --alertmanager "http://127.0.0.1:$port" --audit-log
st=$?
check "second run: exit 0" '[ $st = 0 ]'
check "second run: same config, one pcmon user, no rebuild" \
    'cmp -s "$T/conf.1" "$R/etc/pcmon.yaml" && [ "$(grep -c "^pcmon:" "$R/etc/passwd")" = 1 ] && grep -q "already installed" "$T/out"'

# --- a hand edit is kept; --replace-config takes the generated file ---------------------------------
echo "# local edit" >>"$R/etc/pcmon.yaml"
args="--slack-webhook-ssm /hpc/pcmon/slack --alertmanager http://127.0.0.1:$port --audit-log --test-notify skip"
run bash "$script" $args
check "hand-edited config kept; the generated one beside it as pcmon.yaml.generated" \
    'grep -q "local edit" "$R/etc/pcmon.yaml" && cmp -s "$T/conf.1" "$R/etc/pcmon.yaml.generated" && grep -q "kept the hand-edited" "$T/out"'
run bash "$script" $args --replace-config
check "--replace-config: generated config in place, the edited one kept as pcmon.yaml.edited" \
    'cmp -s "$T/conf.1" "$R/etc/pcmon.yaml" && grep -q "local edit" "$R/etc/pcmon.yaml.edited" && [ ! -e "$R/etc/pcmon.yaml.generated" ]'

# --- AL2023 with email and SNS: libcurl-minimal swapped, IMDS opened for pcmon ---------------------
cat >"$R/etc/os-release" <<'EOF'
NAME="Amazon Linux"
VERSION_ID="2023"
ID="amzn"
EOF
echo libcurl-minimal >"$T/rpm-installed"
printf 'p@ss w0rd\n' >"$T/secrets/pcmon_smtp"
: >"$calls"
run bash "$script" --email 'ops@example.com, oncall@example.com' --smtp-url smtp://smtp.example.com:587 \
    --smtp-from pcmon@example.com --smtp-user pcmon --smtp-password-secret pcmon/smtp \
    --sns-topic arn:aws:sns:eu-west-1:123456789012:hpc-alerts --test-notify skip
st=$?
[ $st = 0 ] || { cat "$T/err"; tail -n 20 "$R/var/log/pcmon-install.log"; }
check "AL2023: exit 0" '[ $st = 0 ]'
check "AL2023: libcurl-minimal replaced by libcurl-full for SMTP" \
    'grep -q "^dnf -y -q install --allowerasing curl-full libcurl-full" "$calls"'
check "AL2023: build dependencies with dnf" \
    'grep -q "^dnf -y -q install gcc make pkgconf-pkg-config systemd-devel libcurl-devel json-c-devel libyaml-devel pcre2-devel" "$calls"'
check "SNS: IMDS allowed for pcmon and the rules saved" \
    'grep -qx "imds-access.sh --allow pcmon" "$calls" && grep -qx "save_tables.sh" "$calls"'
check "SMTP password from Secrets Manager, in its own 0640 root:pcmon file" \
    '[ "$(cat "$R/etc/pcmon/smtp.password")" = "p@ss w0rd" ] && [ "$(stat -c %a:%u:%g "$R/etc/pcmon/smtp.password")" = "640:0:$gid" ]'
check "config: smtp with both recipients and password_file, sns with its region; slack gone" \
    'grep -q "to: \['"'"'ops@example.com'"'"', '"'"'oncall@example.com'"'"'\]" "$R/etc/pcmon.yaml" &&
     grep -q "password_file: '"'"'$R/etc/pcmon/smtp.password'"'"'" "$R/etc/pcmon.yaml" &&
     grep -q "topic_arn: '"'"'arn:aws:sns:eu-west-1:123456789012:hpc-alerts'"'"'" "$R/etc/pcmon.yaml" &&
     ! grep -q "^    type: slack" "$R/etc/pcmon.yaml" &&
     "$R/usr/bin/pcmon" check-config -c "$R/etc/pcmon.yaml" >/dev/null 2>&1'
check "the SMTP password is in no output or log" \
    '! grep -rq "p@ss w0rd" "$T/out" "$T/err" "$R/var/log/pcmon-install.log" "$R/etc/pcmon.yaml"'

# --- --config: the admin's own file, its notifiers kept when no notifier option is given -------------
cat >"$T/own.yaml" <<'EOF'
state_dir: /var/lib/pcmon
cluster: ""
sources:
  - name: clustermgtd
    path: /var/log/parallelcluster/clustermgtd
rules:
  - id: protected_mode
    kind: state
    severity: critical
    sources: [clustermgtd]
    match: 'WARNING - Setting cluster into protected mode'
notifiers:
  - name: mine
    type: file
    path: /var/log/pcmon/mine.jsonl
EOF
run bash "$script" --config "$T/own.yaml" --test-notify skip
st=$?
check "--config: exit 0; own rules and notifier kept; cluster and region filled in" \
    '[ $st = 0 ] && grep -q "^  - name: mine" "$R/etc/pcmon.yaml" && [ "$(grep -c "^  - id: " "$R/etc/pcmon.yaml")" = 1 ] &&
     grep -qx "cluster: '"'"'genomics-prod'"'"'" "$R/etc/pcmon.yaml" && grep -qx "region: '"'"'eu-west-1'"'"'" "$R/etc/pcmon.yaml" &&
     [ "$(grep -c "^cluster:" "$R/etc/pcmon.yaml")" = 1 ]'

# --- failures: one clear line on stderr ------------------------------------------------------------
run bash "$script" --slack-webhook-ssm /hpc/pcmon/missing
st=$?
check "missing SSM parameter: exit 1 with one line naming it" \
    '[ $st = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "cannot read SSM parameter /hpc/pcmon/missing" "$T/err"'
run bash "$script" --email ops@example.com
st=$?
check "bad arguments: exit 1 with one line" \
    '[ $st = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q -- "--email needs --smtp-url and --smtp-from" "$T/err"'
# A webhook answered 200 without "ok" is refused for good (Slack's contract).
printf '%s\n' "http://127.0.0.1:$port/refused/hook" >"$T/ssm/_hpc_pcmon_dead"
: >"$calls"
run bash "$script" --slack-webhook-ssm /hpc/pcmon/dead
st=$?
check "test alert refused: exit 1 with one line, service not restarted" \
    '[ $st = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "test-notify failed" "$T/err" && ! grep -q "systemctl restart" "$calls"'

echo "custom_action: $fails failed"
[ "$fails" = 0 ]
