#!/usr/bin/env bash
# The nightly restart as Step Functions runs it, without an AWS account: the
# dev stack's generated state machine, executed by aws-local-stepfunctions
# (npm, on Node 22), each Lambda task running `restartctl invoke <handler>`
# against dynalite (a real DynamoDB) and fleetsim (the local fleet). Two
# executions on the same day: the second restarts nothing.
#
#   SERVICES=2000 SCALE=10 scripts/statemachine.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl node go; do
  command -v "$tool" >/dev/null || { echo "statemachine.sh needs $tool on PATH" >&2; exit 1; }
done
[ -d node_modules/aws-local-stepfunctions ] && [ -x node_modules/.bin/dynalite ] || npm ci --no-audit --no-fund

stack=${STACK:-dev}
scale=${SCALE:-10}
services=${SERVICES:-2000}
out=${OUT:-.night/sfn}
dynalite_port=${DYNALITE_PORT:-48568}
mkdir -p "$out" bin
go build -o bin/ ./cmd/fleetsim ./cmd/restartctl ./cmd/restart-sfn

. scripts/local-aws.sh
start_local_aws "$out" "$dynalite_port" --seed 1 --accounts 10 --clusters 100 --services "$services" \
  --throttle-scale "$scale" --deploy-time 1s --fail-rate 0.01 --hang-rate 0.005
echo "local fleet ($services services) at $fleet, DynamoDB at $dynamodb (logs in $out/)"
bin/restart-sfn definition --stack "$stack" >"$out/statemachine.json"
echo "the $stack stack's state machine: $out/statemachine.json"

time bin/restart-sfn local --stack "$stack" --endpoint "$fleet" --dynamodb-endpoint "$dynamodb" \
  --restartctl bin/restartctl --rate-scale "$scale" --settle 1s --recheck 500ms --work "$out" "$@"
