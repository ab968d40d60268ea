#!/usr/bin/env bash
# WordPress as its users use it, without an AWS account: the stack's
# WordPress tier run on this machine with Debian's packages (WordPress 6.1,
# PHP 8.2 with Apache, MariaDB 10.11), three tasks behind a local load
# balancer, each task's environment taken from the offline plan's task
# definition. It installs WordPress by the README's first run, logs in,
# uses the dashboard across the tasks and through a restart, and probes the
# database's TLS. The last line is the result:
#
#   wordpress: tasks=3 authenticated=24/24 restart=kept tls=required install=protected
#
#   STACK=prod scripts/wordpress.sh          # another stack
#   PLAN=plan.json scripts/wordpress.sh      # a saved `cmd/plan --format json`
#   KEYS=0 scripts/wordpress.sh              # without the run per removed key
#
# Before the stack's run it runs the Go test that removes each of the
# eight keys and salts from prod's task definition in turn (prod: over
# HTTPS WordPress uses all eight; over dev's HTTP the SECURE_AUTH pair is
# never read) and shows that logins then bounce between the tasks.
#
# It installs the Debian packages it needs with apt-get (as root, or
# through sudo) and stops no service of the machine: its MariaDB and Apache
# run from a directory of their own, on the stack's database port and on
# free local ports.
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${STACK:-dev}
packages=(wordpress wordpress-theme-twentytwentythree mariadb-server mariadb-client php-cli php-mysql apache2 libapache2-mod-php)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "wordpress.sh: installing ${missing[*]} needs root; run as root or install them with apt-get" >&2; exit 2; }
    as_root=(sudo)
  fi
  # Install without starting the packages' own services (a machine-wide
  # MariaDB on 3306 and Apache on 80): Debian's maintainer scripts ask
  # policy-rc.d first, and 101 means "not now".
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${as_root[@]}" chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap '[ -z "$made_policy" ] || "${as_root[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
  started=$(date +%s)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || "${as_root[@]}" rm -f /usr/sbin/policy-rc.d
  trap - EXIT
  echo "wordpress: installed ${missing[*]} in $(( $(date +%s) - started ))s"
fi

mkdir -p .wordpress
plan=${PLAN:-}
if [ -z "$plan" ]; then
  plan=.wordpress/plan-$stack.json
  # The README's first run: an admin range first (the address the
  # administrator's browser stands for here), then the plan.
  status=0
  go run ./cmd/plan --stack "$stack" --format json --set 'compute.adminCidrs=["203.0.113.7/32"]' >"$plan" || status=$?
  # 1 is a failed policy check; the plan is complete, and the local run
  # judges what WordPress does with it.
  [ "$status" -le 1 ] || exit "$status"
fi

if [ "${KEYS:-1}" != 0 ]; then
  go test -tags wordpress -count=1 -run 'TestEveryKeyAndSaltMustBeShared' -v ./internal/wplocal/
fi
exec go run ./internal/wplocal/cmd/wplocal --plan "$plan" ${WORK:+--work "$WORK" --keep}
