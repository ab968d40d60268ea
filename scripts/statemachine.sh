#!/usr/bin/env bash
# The nightly restart as Step Functions runs it, without an AWS account: the
# dev stack's generated state machine, executed by aws-local-stepfunctions
# (npm, on Node 22), each Lambda task running `restartctl invoke <handler>`
# against dynalite (a real DynamoDB) and fleetsim (the local fleet). Two
# executions on the same day: the second restarts nothing. Then the night's
# brakes: an execution while `restartctl pause` is on (it discovers and
# restarts nothing, and says who paused and why), and a night on a fleet
# where every deployment fails (the circuit breaker halts it after its
# first batches; the execution ends failed after its report). BRAKES=0
# leaves them out.
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

[ "${BRAKES:-1}" = 1 ] || exit 0
sfn=(bin/restart-sfn local --stack "$stack" --dynamodb-endpoint "$dynamodb" --restartctl bin/restartctl
  --rate-scale "$scale" --settle 1s --recheck 500ms --runs 1 --quiet)
echo
echo "the pause: an execution while it is on"
bin/restartctl pause --dynamodb-endpoint "$dynamodb" --by "${USER:-demo}@statemachine.sh" --reason "demo: an outage upstream, no restarts tonight"
"${sfn[@]}" --endpoint "$fleet" --work "$out/paused"
grep -m1 -h "PAUSED" "$out/paused/messages.txt"
bin/restartctl resume --dynamodb-endpoint "$dynamodb" --by "${USER:-demo}@statemachine.sh"

echo
echo "a halted night: every deployment of another fleet fails (a bad image behind a mutable tag)"
start_fleet "$out/fleetsim-failing" --seed 2 --accounts 4 --clusters 40 --services 400 \
  --throttle-scale "$scale" --deploy-time 1s --fail-rate 1
"${sfn[@]}" --endpoint "$fleet" --work "$out/halted" --inventory-table halted-inventory --runs-table halted-runs
grep -h -A4 "HALTED" "$out/halted/messages.txt" | head -n 5
echo "(restartctl resume --runs-table halted-runs resets the breaker for the day; the reports: $out/paused/messages.txt, $out/halted/messages.txt)"
