#!/usr/bin/env bash
# Where a single update's CPU goes, from a profiler (docs/performance.md quotes its output):
#   1. the service (Release) on a fresh redis-server with 10,000 pre-created visitors, warmed up with the run-load.sh load;
#   2. a CPU profile under that load with perf_events (dotnet-trace collect-linux --profile cpu-sampling: real on-CPU
#      samples, kernel included), reported as the top methods by exclusive and by inclusive time;
#   3. the allocation rate under the same load, as bytes allocated per request (the runtime's own total-allocated counter
#      from /metrics, read around a timed wrk run), and CPU µs per request of the service and of its Redis;
#   4. an allocation profile (dotnet-trace collect --profile gc-verbose), reported as the top allocating methods.
# Needs: dotnet, redis-server, redis-cli, wrk, root (perf_events), and the diagnostics tools:
#   dotnet tool install -g dotnet-trace
# Optional: EXTRA_ENV="NAME=value ..." is passed to the service (to profile a runtime setting), TOP (default 25).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
VISITORS=${VISITORS:-10000}
TOP=${TOP:-25}
TRACE=${DOTNET_TRACE:-$HOME/.dotnet/tools/dotnet-trace}
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
begin_work
require "apt-get install -y redis-server wrk; dotnet tool install -g dotnet-trace" dotnet redis-server redis-cli wrk "$TRACE"

echo "# building (Release)"
dotnet publish src/ProfileUpdate.Api -c Release -o "$work/service" --nologo -v q >/dev/null
start_redis
seed
# shellcheck disable=SC2086 # EXTRA_ENV is a list of NAME=value words
launch_service "$work/service/ProfileUpdate.Api" "$work/service.log" ${EXTRA_ENV:-}
url=$app_url
load() { VISITORS=$VISITORS wrk -t1 -c"$CONNECTIONS" -d"$1" --latency -s tests/ProfileUpdate.Benchmarks/load/update.lua "$url"; }
echo "# $(date -u +%FT%TZ) warm-up 30 s (JIT tiering, thread pool), then profiles under wrk -t1 -c$CONNECTIONS"
load 30s >/dev/null

allocated() { curl -fs "$url/metrics" | awk '/^dotnet_gc_heap_total_allocated_bytes_total/ { print $2 }'; }
before=$(cpu_ticks); a0=$(proc_ticks "$app_pid"); r0=$(proc_ticks "$redis_pid"); m0=$(allocated)
out=$(load "${DURATION}s")
after=$(cpu_ticks); a1=$(proc_ticks "$app_pid"); r1=$(proc_ticks "$redis_pid"); m1=$(allocated)
requests=$(awk '/requests in/ {print $1}' <<<"$out")
awk -v n="$requests" -v a=$((a1 - a0)) -v r=$((r1 - r0)) -v hz="$hz" -v m0="$m0" -v m1="$m1" -v b="$before" -v e="$after" \
    -v rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" 'BEGIN {
  split(b, x, " "); split(e, y, " "); d = y[1] - x[1]
  printf "%s req/s, steal %.0f%%; CPU per request: service %.1f µs + redis %.1f µs = %.1f µs; allocated per request: %.0f bytes\n",
    rps, (d > 0 ? 100 * (y[2] - x[2]) / d : 0), 1e6 * a / hz / n, 1e6 * r / hz / n, 1e6 * (a + r) / hz / n, (m1 - m0) / n }'

echo "# CPU profile (perf_events, ${DURATION} s under load)"
load "$((DURATION + 4))s" >/dev/null &
loader=$!
sleep 2
"$TRACE" collect-linux -p "$app_pid" --profile cpu-sampling --duration "00:00:00:$(printf '%02d' "$DURATION")" -o "$work/cpu.nettrace" >/dev/null
wait "$loader"
# Every perf sample's leaf is the sampling event itself, so the exclusive view says nothing: methods are ranked by
# inclusive time, with kernel and libc frames left out (they show in the .NET frames that call them).
echo "## top $TOP .NET methods by inclusive CPU time"
"$TRACE" report "$work/cpu.nettrace" topN -n 600 --inclusive | grep -vE 'vmlinux!|libc\.so|ld-linux|EventName:|EventData:|\(Non-Activities\)|Threads  ' \
  | head -n "$((TOP + 1))" || true # head closes the pipe early: under pipefail that would end the script here

echo "# allocation profile (AllocationTick events, one per ~100 KB allocated, with stacks; ${DURATION} s under load)"
load "$((DURATION + 4))s" >/dev/null &
loader=$!
sleep 2
"$TRACE" collect -p "$app_pid" --profile gc-verbose --duration "00:00:00:$(printf '%02d' "$DURATION")" -o "$work/alloc.nettrace" >/dev/null
wait "$loader"
# The session's own start-up (EventSource manifests built as strings) shows as String.Concat under
# EventSource.CreateManifestAndDescriptors: not the service's.
echo "## top $TOP allocating methods (exclusive share of sampled bytes)"
"$TRACE" report "$work/alloc.nettrace" topN -n "$TOP"
