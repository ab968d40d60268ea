#!/usr/bin/env bash
# A whole restart night against the local fleet: dynalite (a real DynamoDB)
# and fleetsim (50 accounts, 1000 clusters, 10,000 services, AWS's own
# per-account throttling, some deployments failing, hanging or vanishing),
# then restartctl run twice: the second run of the same day restarts nothing.
#
#   SCALE=10 scripts/night.sh     # ten times AWS's request rates, for a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl node; do
  command -v "$tool" >/dev/null || { echo "night.sh needs $tool on PATH (apt-get install $tool)" >&2; exit 1; }
done
[ -x node_modules/.bin/dynalite ] || npm ci --no-audit --no-fund

scale=${SCALE:-1}
out=${OUT:-.night}
dynalite_port=${DYNALITE_PORT:-48567}
mkdir -p "$out" bin
go build -o bin/ ./cmd/fleetsim ./cmd/restartctl

. scripts/local-aws.sh
start_local_aws "$out" "$dynalite_port" --seed 1 --accounts 50 --clusters 1000 --services 10000 \
  --throttle-scale "$scale" --fail-rate 0.01 --hang-rate 0.005 --gone-rate 0.005 --5xx-rate 0.01
echo "local fleet at $fleet, DynamoDB at $dynamodb (logs in $out/)"

run() {
  bin/restartctl run --endpoint "$fleet" --dynamodb-endpoint "$dynamodb" \
    --accounts-from-endpoint --no-wait --outside-window --progress --rate-scale "$scale" \
    --messages "$out/messages-$1.txt" --metrics "$out/metrics-$1.jsonl"
}

echo
echo "== the night's plan for the fleet's inventory (restartctl plan), first batches"
curl -s "$fleet/_fleetsim/inventory" >"$out/inventory.json"
bin/restartctl plan --inventory "$out/inventory.json" >"$out/plan.json"
python3 - "$out/plan.json" <<'PY' 2>/dev/null || head -c 600 "$out/plan.json"
import json, sys
p = json.load(open(sys.argv[1]))
sizes = [len(b["services"]) for b in p["batches"]]
print(f'{len(p["batches"])} batches from {p["batches"][0]["start"]} to {p["batches"][-1]["start"]}, '
      f'{min(sizes)}-{max(sizes)} services each; {len(p["skipped"])} skipped')
PY

echo
echo "== first run"
time run 1
echo
echo "== second run, same day: restarts nothing"
run 2
echo
echo "owner notifications: $out/messages-1.txt; metrics (CloudWatch EMF): $out/metrics-1.jsonl"
