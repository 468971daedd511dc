#!/usr/bin/env bash
# Single-update cost of two revisions of the service, measured in one run: A, B, A, B, … against the same fresh
# redis-server with the same wrk command (the load of run-load.sh: 10,000 pre-created visitors, two attributes per
# update, quota on). Each run prints req/s, p99, hypervisor steal, and the CPU time per request of the service process
# and of its Redis (from /proc/<pid>/stat around the measured window) — on shared cores throughput moves by tens of
# percent from minute to minute, CPU per request much less.
#   usage: tests/ProfileUpdate.Benchmarks/run-compare.sh REV_A [REV_B (default: the working tree)]
#          REV_A = baseline: bare Kestrel (Baseline/) as side A, alternating with the service; then 1 / "B/A CPU per
#          request" is the ratio bare / (service + Redis) of run-load.sh, from as many alternating pairs as ROUNDS
#   env:   ROUNDS (2), DURATION (15s), WARMUP (30s), CONNECTIONS (64), VISITORS (10000), EXTRA_A / EXTRA_B (extra env
#          settings for that side, bare Kestrel's included, e.g. EXTRA_B="ProfileUpdate__Changes__Enabled=true" to compare
#          a setting on one code; {redis_sock} stands for the Redis's Unix socket:
#          EXTRA_B='ConnectionStrings__Redis=!{redis_sock}'. A service side starts with this checkout's shipped runtime
#          settings, lib.sh's runtime_env, which these override: EXTRA_A=DOTNET_GCgen0size=0 is the runtime's own GC budget),
#          THREADS=1 (also print the service's CPU per request split by thread name: which threads a change moves work
#          between — a change can cut one thread's CPU and add the same to another's)
# Needs: dotnet, git, redis-server, redis-cli, wrk (apt-get install -y redis-server wrk). Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
REV_A=${1:?usage: run-compare.sh REV_A [REV_B]}
export REV_A
REV_B=${2:-}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
VISITORS=${VISITORS:-10000}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  git worktree remove --force "$work/src-a" 2>/dev/null || true; git worktree remove --force "$work/src-b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh

require "apt-get install -y redis-server wrk" dotnet git redis-server redis-cli wrk

publish() { # $1 = revision ('' = working tree), $2 = output folder
  local src=.
  if [ "$1" = baseline ]; then
    dotnet publish tests/ProfileUpdate.Benchmarks/Baseline -c Release -o "$2" --nologo -v q >/dev/null
    echo baseline >"$2.src"; return
  fi
  if [ -n "$1" ]; then src="$work/src-$(basename "$2")"; git worktree add -q --detach "$src" "$1"; fi
  dotnet publish "$src/src/ProfileUpdate.Api" -c Release -o "$2" --nologo -v q >/dev/null
  echo "$src" >"$2.src"
}

# The visitors in the key layout of the side's own revision (its lib.sh's seed): the layout changes between revisions,
# and a service that finds no profile does no write, which would measure nothing.
seed_side() ( # $1 = output folder of the side
  [ "$(cat "$1.src")" = baseline ] && exit 0 # bare Kestrel reads no store
  cd "$(cat "$1.src")"
  # shellcheck source=lib.sh
  source tests/ProfileUpdate.Benchmarks/lib.sh
  seed
)
echo "# building A = ${REV_A} and B = ${REV_B:-working tree} (Release)"
publish "$REV_A" "$work/a"
publish "$REV_B" "$work/b"


start_redis



# "sum count" of the applier's batch-size histogram from /metrics (nothing for bare Kestrel): the updates per Redis
# call in the measured window. A run that costs more per update with the same batch size is the machine, not a mode of
# the service (smaller batches would mean more calls per update).
batch_totals() {
  curl -fs "$app_url/metrics" 2>/dev/null | awk '$1 ~ /^profileupdate_applier_batch_size_sum/ { s += $2 } $1 ~ /^profileupdate_applier_batch_size_count/ { c += $2 }
    END { print s + 0, c + 0 }' || true
}

run() { # $1 = A|B
  local side=$1 dir extra app_pid app_url out before after s0 s1 r0 r1 b0 b1 rps requests p99 steal svc_us redis_us
  dir="$work/$(tr 'AB' 'ab' <<<"$side")"; extra=$([ "$side" = A ] && echo "${EXTRA_A:-}" || echo "${EXTRA_B:-}")
  extra=${extra//\{redis_sock\}/$redis_sock}
  redis_port=$redis_port VISITORS=$VISITORS seed_side "$dir"
  # shellcheck disable=SC2086 # EXTRA_A / EXTRA_B are lists of NAME=value words
  if [ "$(cat "$dir.src")" = baseline ]; then
    launch_baseline "$dir/ProfileUpdate.Baseline" "$work/$side.log" $extra
  else
    launch_service "$dir/ProfileUpdate.Api" "$work/$side.log" $extra
  fi
  VISITORS=$VISITORS wrk -t1 -c"$CONNECTIONS" -d"${WARMUP:-30s}" -s tests/ProfileUpdate.Benchmarks/load/update.lua "$app_url" >/dev/null
  [ -n "${THREADS:-}" ] && thread_ticks "$app_pid" >"$work/threads0"
  b0=$(batch_totals); before=$(cpu_ticks); s0=$(proc_ticks "$app_pid"); r0=$(proc_ticks "$redis_pid")
  out=$(VISITORS=$VISITORS wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s tests/ProfileUpdate.Benchmarks/load/update.lua "$app_url")
  after=$(cpu_ticks); s1=$(proc_ticks "$app_pid"); r1=$(proc_ticks "$redis_pid"); b1=$(batch_totals)
  [ -n "${THREADS:-}" ] && thread_ticks "$app_pid" >"$work/threads1"
  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  steal=$(steal_pct "$before" "$after")
  svc_us=$(awk -v t=$((s1 - s0)) -v n="$requests" -v hz="$hz" 'BEGIN { printf "%.1f", 1e6 * t / hz / n }')
  redis_us=$(awk -v t=$((r1 - r0)) -v n="$requests" -v hz="$hz" 'BEGIN { printf "%.1f", 1e6 * t / hz / n }')
  printf '%s  %10s req/s   p99 %-9s steal %3s%%   CPU/request: service %6s µs + redis %5s µs = %6s µs%s\n' \
    "$side" "$rps" "$p99" "$steal" "$svc_us" "$redis_us" "$(awk -v a="$svc_us" -v b="$redis_us" 'BEGIN { printf "%.1f", a + b }')" \
    "$(awk -v b="$b0" -v a="$b1" 'BEGIN { split(b, x, " "); split(a, y, " "); if (y[2] > x[2]) printf "   batch %.1f", (y[1] - x[1]) / (y[2] - x[2]) }')"
  [ -n "${THREADS:-}" ] && thread_split "$work/threads0" "$work/threads1" "$requests"
  echo "$side $rps $svc_us $redis_us" >>"$work/results"
}

echo "# $(date -u +%FT%TZ)  wrk -t1 -c$CONNECTIONS -d$DURATION, $VISITORS visitors, $(nproc) cores, $ROUNDS rounds"
for _ in $(seq 1 "$ROUNDS"); do run A; run B; done
awk '{ n[$1]++; r[$1] += $2; c[$1] += $3 + $4 } END {
  printf "\nmeans: A %.0f req/s, %.1f µs CPU per request; B %.0f req/s, %.1f µs CPU per request\n", r["A"]/n["A"], c["A"]/n["A"], r["B"]/n["B"], c["B"]/n["B"]
  printf "B/A: throughput %.2f, CPU per request %.2f\n", (r["B"]/n["B"]) / (r["A"]/n["A"]), (c["B"]/n["B"]) / (c["A"]/n["A"]) }' "$work/results"
# Pair by pair (A then B, run next to each other): how far the machine moved between pairs shows here, not in the means.
awk '$1 == "A" { a = $3 + $4 } $1 == "B" { printf "%.2f\n", a / ($3 + $4) }' "$work/results" | sort -g | awk '
  { v[NR] = $1 } END { printf "A/B CPU per request by pair, sorted: "; for (i = 1; i <= NR; i++) printf "%s ", v[i]
    printf "(median %.2f)%s\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), (ENVIRON["REV_A"] == "baseline" ? ": with A = baseline, the ratio bare / (service + Redis)" : "") }'

