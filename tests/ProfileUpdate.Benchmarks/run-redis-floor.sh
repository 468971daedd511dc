#!/usr/bin/env bash
# The Redis side of a single update: how much of it is the work itself and how much is the company Redis keeps.
# On one fresh redis-server with 10,000 seeded visitors, alternating (ROUNDS times, default 2):
#   alone/N  — the applier's own Redis calls with no HTTP in front (the Micro program's `store-load`: quota and
#              two-attribute update-only writes, N updates per script call for each N in BATCHES (default 16, about
#              what the applier's batches hold under this load), 4 calls in flight, built by the service's classes),
#              DURATION seconds each; BATCHES="1 16 64" splits the cost into a part per call and a part per update;
#   service  — the service itself under the run-load.sh load (wrk -t1 -c64, two attributes per update, quota on),
#              after a 20 s warm-up, DURATION seconds;
# and once, as the floor of any design that stores a profile as one hash: plain HSETs of the same size, 16 pipelined
# per round trip, 4 connections (redis-benchmark), with no script at all.
# Prints per run: Redis CPU µs per update (from /proc/<pid>/stat), of which the script's own execution (INFO
# commandstats: evalsha usec), the sender's CPU µs per update, and hypervisor steal.
# Needs: dotnet, redis-server, redis-cli, redis-benchmark, wrk (apt-get install -y redis-server wrk). Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
BATCHES=${BATCHES:-16}
VISITORS=${VISITORS:-10000}
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
begin_work
require "apt-get install -y redis-server wrk" dotnet redis-server redis-cli redis-benchmark wrk
publish_service "$work"
start_redis
seed # also builds the Micro program (Release), whose store-load run_alone uses
micro=tests/ProfileUpdate.Benchmarks/Micro/bin/Release/net10.0/ProfileUpdate.Benchmarks.Micro.dll

evalsha_usec() { redis-cli -p "$redis_port" info commandstats | awk -F'[=,:]' '/^cmdstat_evalsha:/ { print $5 }'; }

# report NAME UPDATES SENDER_TICKS REDIS_TICKS EVALSHA_USEC STEAL
report() {
  awk -v name="$1" -v n="$2" -v s="$3" -v r="$4" -v e="${5:-0}" -v st="$6" -v hz="$hz" 'BEGIN {
    printf "%-9s %9d updates   Redis %5.2f µs/update (script %5.2f)   sender %5.1f µs/update   steal %s%%\n",
      name, n, 1e6 * r / hz / n, e / n, 1e6 * s / hz / n, st }'
}

run_alone() { # BATCH
  dotnet "$micro" store-load "127.0.0.1:$redis_port" 3 "$1" >/dev/null # warm-up: JIT, connection, script cache
  redis-cli -p "$redis_port" config resetstat >/dev/null
  local c0 r0 c1 r1 sender n user sys
  c0=$(cpu_ticks); r0=$(proc_ticks "$redis_pid")
  # The sender's CPU from /usr/bin/time: the process ends with the run, so /proc cannot be read after it.
  n=$(/usr/bin/time -f '%U %S' -o "$work/time" dotnet "$micro" store-load "127.0.0.1:$redis_port" "$DURATION" "$1")
  c1=$(cpu_ticks); r1=$(proc_ticks "$redis_pid")
  read -r user sys < "$work/time"
  sender=$(awk -v u="$user" -v s="$sys" -v hz="$hz" 'BEGIN { printf "%d", (u + s) * hz }')
  report "alone/$1" "$n" "$sender" $((r1 - r0)) "$(evalsha_usec)" "$(steal_pct "$c0" "$c1")"
}

run_service() {
  local app_pid app_url c0 r0 a0 c1 r1 a1 out n
  launch_service "$work/service/ProfileUpdate.Api" /dev/null
  VISITORS=$VISITORS wrk -t1 -c64 -d20s -s tests/ProfileUpdate.Benchmarks/load/update.lua "$app_url" >/dev/null
  redis-cli -p "$redis_port" config resetstat >/dev/null
  c0=$(cpu_ticks); r0=$(proc_ticks "$redis_pid"); a0=$(proc_ticks "$app_pid")
  out=$(VISITORS=$VISITORS wrk -t1 -c64 -d"${DURATION}s" -s tests/ProfileUpdate.Benchmarks/load/update.lua "$app_url")
  c1=$(cpu_ticks); r1=$(proc_ticks "$redis_pid"); a1=$(proc_ticks "$app_pid")
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  report service "$n" $((a1 - a0)) $((r1 - r0)) "$(evalsha_usec)" "$(steal_pct "$c0" "$c1")"
  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true
}

run_hset() {
  local c0 r0 c1 r1 requests=$((40000 * DURATION))
  redis-benchmark -p "$redis_port" -c 4 -P 16 -n 100000 -r "$VISITORS" \
    HSET "floor:__rand_int__" _:m 1733300000000 a:counter 1733300000000:123 a:color 1733300000000:c12 >/dev/null
  c0=$(cpu_ticks); r0=$(proc_ticks "$redis_pid")
  redis-benchmark -p "$redis_port" -c 4 -P 16 -n "$requests" -r "$VISITORS" \
    HSET "floor:__rand_int__" _:m 1733300000000 a:counter 1733300000000:123 a:color 1733300000000:c12 >/dev/null
  c1=$(cpu_ticks); r1=$(proc_ticks "$redis_pid")
  report "HSET" "$requests" 0 $((r1 - r0)) 0 "$(steal_pct "$c0" "$c1")"
}

echo "# $(date -u +%FT%TZ)  $(nproc) cores, $VISITORS visitors, updates per call alone: $BATCHES, ${DURATION} s per run"
for _ in $(seq 1 "$ROUNDS"); do
  for batch in $BATCHES; do run_alone "$batch"; done
  run_service
done
run_hset
