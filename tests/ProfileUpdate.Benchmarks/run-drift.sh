#!/usr/bin/env bash
# One warm service, many short measured runs of the run-load.sh load (wrk -t1 -c64, 10,000 visitors, two attributes per
# update, quota on) against one fresh redis-server: how far the CPU per update of the same process wanders from run to
# run, and whether a slow run is a mode of the service (smaller applier batches, more context switches, tiered
# compilation still running) or the machine (everything slower at the same batch size, Redis included).
# Per run it prints: requests, CPU µs per update of the service and of its Redis (/proc/<pid>/stat), the applier's
# updates per Redis call (/metrics), context switches per update of the service's threads and of Redis, JIT seconds
# spent in the window, the service's thread count, the share of 0.1 s samples in which Redis and wrk ran on the same
# CPU, and hypervisor steal.
#   env: RUNS (10), DURATION (8s), WARMUP (20s), EXTRA ("NAME=value …" settings for the service)
# Needs: dotnet, redis-server, redis-cli, wrk (apt-get install -y redis-server wrk). Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-10}
DURATION=${DURATION:-8s}
VISITORS=10000
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
begin_work
require "apt-get install -y redis-server wrk" dotnet redis-server redis-cli wrk
publish_service "$work"
start_redis
seed
# shellcheck disable=SC2086 # EXTRA is a list of NAME=value words
launch_service "$work/service/ProfileUpdate.Api" "$work/service.log" ${EXTRA:-}

metric_sum() { curl -fs "$app_url/metrics" | awk -v m="$1" 'index($1, m) == 1 { s += $2 } END { printf "%.6f\n", s + 0 }'; }
ctx_switches() { awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' /proc/"$1"/task/*/status 2>/dev/null; }
load() { VISITORS=$VISITORS wrk -t1 -c64 -d"$1" -s tests/ProfileUpdate.Benchmarks/load/update.lua "$app_url"; }

echo "# $(date -u +%FT%TZ)  $RUNS runs of wrk -t1 -c64 -d$DURATION after ${WARMUP:-20s} of warm-up, one service process, $(nproc) cores"
load "${WARMUP:-20s}" >/dev/null
for i in $(seq 1 "$RUNS"); do
  bs0=$(metric_sum profileupdate_applier_batch_size_sum); bc0=$(metric_sum profileupdate_applier_batch_size_count)
  jit0=$(metric_sum dotnet_jit_compilation_time_seconds_total)
  before=$(cpu_ticks); s0=$(proc_ticks "$app_pid"); r0=$(proc_ticks "$redis_pid")
  c0=$(ctx_switches "$app_pid"); rc0=$(ctx_switches "$redis_pid")
  load "$DURATION" >"$work/out" &
  wrk_job=$!
  sleep 0.3
  wrk_pid=$(pgrep -n -x wrk || true)
  : >"$work/placement"
  # Field 39 of /proc/<pid>/stat: the CPU the process last ran on.
  while kill -0 "$wrk_job" 2>/dev/null; do
    [ -n "$wrk_pid" ] && echo "$(awk '{ print $39 }' "/proc/$redis_pid/stat" 2>/dev/null) $(awk '{ print $39 }' "/proc/$wrk_pid/stat" 2>/dev/null)" >>"$work/placement"
    sleep 0.1
  done
  wait "$wrk_job"
  after=$(cpu_ticks); s1=$(proc_ticks "$app_pid"); r1=$(proc_ticks "$redis_pid")
  c1=$(ctx_switches "$app_pid"); rc1=$(ctx_switches "$redis_pid")
  bs1=$(metric_sum profileupdate_applier_batch_size_sum); bc1=$(metric_sum profileupdate_applier_batch_size_count)
  jit1=$(metric_sum dotnet_jit_compilation_time_seconds_total)
  n=$(awk '/requests in/ { print $1 }' "$work/out")
  same=$(awk 'NF == 2 { t++; if ($1 == $2) s++ } END { printf "%.2f", t ? s / t : 0 }' "$work/placement")
  awk -v i="$i" -v n="$n" -v hz="$hz" -v s=$((s1 - s0)) -v r=$((r1 - r0)) -v c=$((c1 - c0)) -v rc=$((rc1 - rc0)) \
      -v bs="$(awk -v a="$bs0" -v b="$bs1" 'BEGIN { print b - a }')" -v bc="$(awk -v a="$bc0" -v b="$bc1" 'BEGIN { print b - a }')" \
      -v jit="$(awk -v a="$jit0" -v b="$jit1" 'BEGIN { print b - a }')" -v same="$same" \
      -v threads="$(find /proc/"$app_pid"/task -mindepth 1 -maxdepth 1 | wc -l)" -v steal="$(steal_pct "$before" "$after")" 'BEGIN {
    printf "run %2d  %7d updates  service %5.1f + Redis %4.1f = %5.1f µs/update  batch %4.1f  context switches/update: service %.2f Redis %.2f  JIT %.2f s  threads %d  Redis and wrk on one CPU %s  steal %s%%\n",
      i, n, 1e6 * s / hz / n, 1e6 * r / hz / n, 1e6 * (s + r) / hz / n, (bc > 0 ? bs / bc : 0), c / n, rc / n, jit, threads, same, steal }'
done
