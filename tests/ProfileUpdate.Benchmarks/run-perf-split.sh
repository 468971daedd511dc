#!/usr/bin/env bash
# Where the CPU per request goes, bare Kestrel beside the service, from perf_events samples (Linux `perf`, root):
#   bare Kestrel (Baseline/) and the service (quota on) on a fresh redis-server with 10,000 visitors, each warmed up
#   for 30 s with the run-load.sh load (wrk -t1 -c64, two attributes per update), then sampled with
#   `perf record -F 1999 -g` for the whole of a measured wrk run (DURATION, default 10 s) — the service's Redis too.
# Prints, per process, the CPU µs per request split by where the samples landed (the kernel; Kestrel; the service's
# own code; StackExchange.Redis; metrics; async/thread-pool machinery; native runtime code, mostly the GC), then the
# service's most expensive frames (self time, µs per request). JIT-compiled frames get names through the runtime's perf
# map (DOTNET_PerfMapEnabled=1, with DOTNET_EnableWriteXorExecute=0 so that perf can read the code's addresses).
# KEEP=DIR keeps the perf recordings there for a closer look (e.g. the callers of one frame).
# Needs: dotnet, redis-server, redis-cli, wrk, perf (apt-get install -y linux-perf), root. Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10}
TOP=${TOP:-20}
VISITORS=${VISITORS:-10000}
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
begin_work
require "apt-get install -y redis-server wrk linux-perf" dotnet redis-server redis-cli wrk perf
publish_service_and_baseline "$work"
start_redis
seed
perf_env=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
load() { VISITORS=$VISITORS wrk -t1 -c64 -d"$1" -s tests/ProfileUpdate.Benchmarks/load/update.lua "$2"; }

# split NAME DATA REQUESTS → µs per request by where the samples landed (self time; a sample is 1/1999 s of one CPU)
split() {
  perf report -i "$2" --no-children --sort sym -g none -n 2>/dev/null | grep -v '^#' | awk -v name="$1" -v n="$3" '
    $2 ~ /^[0-9]+$/ {
      s = $2; line = $0; a = "native code: the runtime (GC, stubs), libc"
      if (line ~ /\[k\]/) a = "kernel (sockets, scheduling)"
      else if (name ~ /Redis/) a = "redis-server and its libraries"
      else if (line ~ /ProfileUpdate\./) a = "the service'"'"'s own code"
      else if (line ~ /StackExchange|RESPite/) a = "StackExchange.Redis"
      else if (line ~ /OpenTelemetry|Diagnostics\.Metrics/) a = "metrics"
      else if (line ~ /Kestrel/) a = "Kestrel"
      else if (line ~ /Threading|ThreadPool|ExecutionContext|Tasks\.|Async/) a = "async and thread pool"
      else if (line ~ /Sockets/) a = "System.Net.Sockets"
      else if (line ~ /AspNetCore|Extensions/) a = "ASP.NET Core (routing, middleware, DI)"
      t[a] += s; total += s }
    END {
      printf "%-46s %5.1f µs per request\n", name, 1e6 * total / 1999 / n
      for (k in t) printf "    %-42s %5.2f µs\n", k, 1e6 * t[k] / 1999 / n | "sort -k1,1"
      close("sort -k1,1")
    }'
}

measure() { # NAME URL PID [REDIS] → prints the split; service frames are kept in $work/NAME.frames
  local name=$1 url=$2 pid=$3 out requests redis_perf=""
  load 30s "$url" >/dev/null
  if [[ -n ${4:-} ]]; then
    perf record -F 1999 -g -p "$redis_pid" -o "$work/$name-redis.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    redis_perf=$!
  fi
  out=$(perf record -F 1999 -g -p "$pid" -o "$work/$name.data" -- \
    env VISITORS="$VISITORS" wrk -t1 -c64 -d"${DURATION}s" -s tests/ProfileUpdate.Benchmarks/load/update.lua "$url" 2>/dev/null)
  [[ -n $redis_perf ]] && wait "$redis_perf"
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "## $name: $(awk '/^Requests\/sec/ {print $2}' <<<"$out") req/s"
  split "$name" "$work/$name.data" "$requests"
  [[ -n ${4:-} ]] && split "its Redis" "$work/$name-redis.data" "$requests"
  perf report -i "$work/$name.data" --no-children --sort sym -g none -n 2>/dev/null | grep -v '^#' \
    | awk -v n="$requests" '$2 ~ /^[0-9]+$/ { s = $2; $1 = ""; $2 = ""; $3 = ""; printf "%6.3f µs  %s\n", 1e6 * s / 1999 / n, substr($0, 4, 150) }' \
    > "$work/$name.frames"
}

echo "# $(date -u +%FT%TZ)  wrk -t1 -c64, $VISITORS visitors, $(nproc) cores, perf -F 1999 over ${DURATION} s each"
launch_baseline "$work/baseline/ProfileUpdate.Baseline" /dev/null "${perf_env[@]}"
base_pid=$app_pid
before=$(cpu_ticks)
measure "bare Kestrel" "$app_url" "$base_pid"
echo "   steal $(steal_pct "$before" "$(cpu_ticks)")%"
kill "$base_pid"

launch_service "$work/service/ProfileUpdate.Api" "$work/service.log" "${perf_env[@]}"
before=$(cpu_ticks)
measure "service" "$app_url" "$app_pid" redis
echo "   steal $(steal_pct "$before" "$(cpu_ticks)")%"
echo "## the service's top $TOP frames by self time"
head -n "$TOP" "$work/service.frames"
echo "## the service's own frames"
grep 'ProfileUpdate\.' "$work/service.frames" | head -n "$TOP" || true
if [[ -n ${KEEP:-} ]]; then
  # The recordings, for `perf report -i` by hand (callers of a frame: -G --no-children -S SYMBOL); the runtime's perf maps
  # that name the .NET frames stay in /tmp.
  mkdir -p "$KEEP" && cp "$work"/*.data "$KEEP"/ && echo "# perf data kept in $KEEP"
fi
