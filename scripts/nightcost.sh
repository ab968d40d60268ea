#!/usr/bin/env bash
# The cost of one night: the dev stack's state machine run once locally
# (aws-local-stepfunctions, each Lambda task `restartctl invoke` against
# dynalite and fleetsim, as scripts/statemachine.sh does), counting state
# transitions, invocations and their durations, DynamoDB request units and
# SNS publishes, priced at cost/prices/us-east-1.json. Prints a table and
# one key=value line (keys prefixed with KEY_PREFIX).
#
#   SERVICES=10000 ACCOUNTS=50 CLUSTERS=1000 KEY_PREFIX=night10k_ JSON=.night/cost10k.json scripts/nightcost.sh
#   SERVICES=100000 ACCOUNTS=500 CLUSTERS=10000 KEY_PREFIX=night100k_ scripts/nightcost.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl node go; do
  command -v "$tool" >/dev/null || { echo "nightcost.sh needs $tool on PATH" >&2; exit 1; }
done
[ -d node_modules/aws-local-stepfunctions ] && [ -x node_modules/.bin/dynalite ] || npm ci --no-audit --no-fund

stack=${STACK:-dev}
scale=${SCALE:-10}
services=${SERVICES:-10000}
accounts=${ACCOUNTS:-50}
clusters=${CLUSTERS:-1000}
# CLUSTERS here is how many the fleet has; to restartctl it would be the
# ARNs of the only clusters to restart (a stack's own, --clusters).
unset CLUSTERS
prefix=${KEY_PREFIX:-night_}
out=${OUT:-.night/cost-$services}
dynalite_port=${DYNALITE_PORT:-48569}
# A deployment's time and the shortened Settle and re-check waits: their
# ratio (1 s to 1 s and 500 ms) is a 2.5-minute rollout's to the deployed
# 2-minute and 1-minute waits, which decides how often a batch is checked.
deploy_time=${DEPLOY_TIME:-1s}
settle=${SETTLE:-1s}
recheck=${RECHECK:-500ms}
mkdir -p "$out" bin
go build -o bin/ ./cmd/fleetsim ./cmd/restartctl ./cmd/restart-sfn

. scripts/local-aws.sh
# Deployments take a second here and none fail, so that every batch is
# verified as a healthy night's is; the throttling buckets are AWS's, SCALE
# times faster.
start_local_aws "$out" "$dynalite_port" --seed 1 --accounts "$accounts" --clusters "$clusters" --services "$services" \
  --throttle-scale "$scale" --deploy-time "$deploy_time"
echo "local fleet ($services services, $accounts accounts, $clusters clusters) at $fleet, DynamoDB at $dynamodb (logs in $out/)"

json=()
[ -n "${JSON:-}" ] && json=(--json "$JSON")
bin/restart-sfn cost --stack "$stack" --endpoint "$fleet" --dynamodb-endpoint "$dynamodb" \
  --restartctl bin/restartctl --rate-scale "$scale" --settle "$settle" --recheck "$recheck" --work "$out" \
  --key-prefix "$prefix" "${json[@]}" "$@"
