#!/usr/bin/env bash
# Redis's side of a change to the applier's script calls: revision REV_A against REV_B (default: the working tree),
# alternating (A, B, A, B, …) on one fresh redis-server with the 10,000 seeded visitors, with no HTTP in front — the
# Micro program's `store-load` of each revision (its own QuotaApplyCall: quota and two-attribute update-only writes,
# 16 updates per call, 4 calls in flight). Without the service, wrk and the thread pool sharing the two cores, Redis's
# CPU per update moves by a few percent between runs instead of tens, so a change of a microsecond per update shows.
# Runs last DURATION seconds (default 30): longer than the reply markers' 11 s lifetime, so their expiry is part of it.
# Per run: Redis CPU µs per update (/proc/<pid>/stat), of which the script's own time (INFO commandstats), the sender's
# CPU µs per update (/usr/bin/time, start-up included), Redis's key count at the end, and hypervisor steal.
#   usage: tests/ProfileUpdate.Benchmarks/run-store-compare.sh REV_A [REV_B]     env: ROUNDS (4), DURATION (30), BATCH (16)
# Needs: dotnet, git, redis-server, redis-cli (apt-get install -y redis-server). Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
REV_A=${1:?usage: run-store-compare.sh REV_A [REV_B]}
REV_B=${2:-}
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-30}
BATCH=${BATCH:-16}
VISITORS=10000
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
begin_work
require "apt-get install -y redis-server" dotnet git redis-server redis-cli
trap 'end_work; git worktree remove --force "$work/src-a" 2>/dev/null || true; git worktree remove --force "$work/src-b" 2>/dev/null || true' EXIT

build() { # $1 = revision ('' = working tree), $2 = side → the side's Micro program
  local src=.
  if [ -n "$1" ]; then src="$work/src-$2"; git worktree add -q --detach "$src" "$1"; fi
  dotnet build -c Release --nologo -v q "$src/tests/ProfileUpdate.Benchmarks/Micro" >/dev/null
  echo "$src/tests/ProfileUpdate.Benchmarks/Micro/bin/Release/net10.0/ProfileUpdate.Benchmarks.Micro.dll"
}
echo "# building A = $REV_A and B = ${REV_B:-working tree} (Release)"
micro_a=$(build "$REV_A" a)
micro_b=$(build "$REV_B" b)
start_redis
seed_built=1 seed # the visitors in the working tree's layout (both sides must share it)

run() { # $1 = A|B, $2 = Micro program
  local c0 r0 c1 r1 n user sys
  dotnet "$2" store-load "127.0.0.1:$redis_port" 3 "$BATCH" >/dev/null # warm-up: JIT, connection, script cache
  redis-cli -p "$redis_port" config resetstat >/dev/null
  c0=$(cpu_ticks); r0=$(proc_ticks "$redis_pid")
  n=$(/usr/bin/time -f '%U %S' -o "$work/time" dotnet "$2" store-load "127.0.0.1:$redis_port" "$DURATION" "$BATCH")
  c1=$(cpu_ticks); r1=$(proc_ticks "$redis_pid")
  read -r user sys <"$work/time"
  awk -v side="$1" -v n="$n" -v r=$((r1 - r0)) -v hz="$hz" -v u="$user" -v s="$sys" -v st="$(steal_pct "$c0" "$c1")" \
      -v e="$(redis-cli -p "$redis_port" info commandstats | awk -F'[=,:]' '/^cmdstat_evalsha:/ { print $5 }')" \
      -v keys="$(redis-cli -p "$redis_port" dbsize)" 'BEGIN {
    printf "%s  %9d updates   Redis %5.2f µs/update (script %5.2f)   sender %5.2f µs/update   keys %d   steal %s%%\n",
      side, n, 1e6 * r / hz / n, e / n, 1e6 * (u + s) / n, keys, st }' | tee -a "$work/results"
}

echo "# $(date -u +%FT%TZ)  $(nproc) cores, $BATCH updates per call, 4 calls in flight, ${DURATION} s per run, $ROUNDS rounds"
for _ in $(seq 1 "$ROUNDS"); do run A "$micro_a"; run B "$micro_b"; done
# Pair by pair (A then B): Redis's CPU per update B/A; below 1 = B costs Redis less.
awk '{ for (i = 1; i <= NF; i++) if ($i == "Redis") v = $(i + 1) } $1 == "A" { a = v } $1 == "B" { printf "%.2f\n", v / a }' "$work/results" |
  sort -g | awk '{ x[NR] = $1 } END { printf "\nRedis CPU per update B/A by pair, sorted: "; for (i = 1; i <= NR; i++) printf "%s ", x[i]
    printf "(median %.2f)\n", NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
