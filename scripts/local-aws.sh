# Sourced by the scripts that run the restart locally: starts dynalite (a
# real DynamoDB, from npm) and fleetsim (the local fleet) in the background,
# stops both when the script exits, and waits until both answer.
#
#   start_local_aws OUT_DIR DYNALITE_PORT [fleetsim flags...]
#
# Sets $fleet (fleetsim's URL) and $dynamodb (dynalite's URL). Needs
# bin/fleetsim built and node_modules installed.
#
#   start_fleet OUT_PREFIX [fleetsim flags...]
#
# starts one more fleetsim (logs in OUT_PREFIX.out and .log) and sets $fleet.

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_local_aws() {
  local out=$1 port=$2
  shift 2
  node_modules/.bin/dynalite --host 127.0.0.1 --port "$port" --createTableMs 50 >"$out/dynalite.log" 2>&1 &
  pids+=($!)
  start_fleet "$out/fleetsim" "$@"
  dynamodb="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -s -o /dev/null "$dynamodb" && break
    sleep 0.1
  done
}

start_fleet() {
  local prefix=$1
  shift
  bin/fleetsim --addr 127.0.0.1:0 "$@" >"$prefix.out" 2>"$prefix.log" &
  pids+=($!)
  fleet=
  for _ in $(seq 100); do
    fleet=$(head -n 1 "$prefix.out" 2>/dev/null || true)
    [ -n "$fleet" ] && break
    sleep 0.1
  done
  [ -n "$fleet" ] || { echo "fleetsim did not start; see $prefix.log" >&2; exit 1; }
}
