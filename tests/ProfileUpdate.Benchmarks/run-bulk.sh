#!/usr/bin/env bash
# Bulk throughput against redis-cli --pipe, in one run (target: ratio <= 2.0):
#   1. generate a 500,000-row batch file (thirdPartyId + 5 attributes, ~27 MB) and two redis-cli --pipe inputs:
#      a) "plain HSETs": one 5-field HSET per row, keyed by the thirdPartyId — the least any store must do;
#      b) "same state": the very commands that leave Redis in the state the service leaves it in — per row the
#         thirdPartyId link (SET NX) and the profile hash with its metadata and timestamped values (HSET, 9 fields);
#   2. load each into a fresh redis-server with redis-cli --pipe, timed;
#   3. flush, start the service (Release) on the same redis-server, POST the file to the v2 API with curl, timed until
#      the response (which the service sends only when every row is applied);
#   4. print the times, both ratios and the service's RSS growth.
# Needs: dotnet, redis-server, redis-cli, curl. Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${ROWS:-500000}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
now() { date +%s.%N; }

echo "# building (Release)"
dotnet publish src/ProfileUpdate.Api -c Release -o "$work/service" --nologo -v q >/dev/null

echo "# generating $ROWS rows"
awk -v n="$ROWS" 'BEGIN { print "batch=thirdPartyId,email,tier,city,score,lastPurchase";
  for (i = 0; i < n; i++) printf "customer-%07d,u%07d%%40ex.com,t%d,c%d,%d,2026-11-%02d\n", i, i, i % 4, i % 1000, i % 100000, i % 28 + 1 }' > "$work/batch.csv"
# The same writes as plain HSETs (attribute fields only), in the Redis protocol as redis-cli --pipe documents for mass
# insertion: what loading this data into Redis costs at the very least.
awk -F, 'function arg(s) { printf "$%d\r\n%s\r\n", length(s), s }
  NR > 1 { gsub(/%40/, "@", $2); printf "*12\r\n"; arg("HSET"); arg("pu:{bench:3p:" $1 "}");
    arg("email"); arg($2); arg("tier"); arg($3); arg("city"); arg($4); arg("score"); arg($5); arg("lastPurchase"); arg($6) }' \
  "$work/batch.csv" > "$work/hsets.txt"
# The same state as the service writes (README: Redis layout): link key, then the profile hash of a new visitor.
awk -F, -v ms="$(date +%s%3N)" 'function arg(s) { printf "$%d\r\n%s\r\n", length(s), s }
  NR > 1 { gsub(/%40/, "@", $2); base = sprintf("%032x", NR); tnt = base ".0_0"
    printf "*4\r\n"; arg("SET"); arg("pu:{bench:3p:" $1 "}"); arg(tnt); arg("NX")
    printf "*20\r\n"; arg("HSET"); arg("pu:{bench:t:" base "}"); arg("_:m"); arg(ms); arg("_:3"); arg($1)
    arg("a:email"); arg(ms ":" $2); arg("a:tier"); arg(ms ":" $3); arg("a:city"); arg(ms ":" $4); arg("a:score"); arg(ms ":" $5)
    arg("a:lastPurchase"); arg(ms ":" $6); arg("_:c"); arg(ms); arg("_:t"); arg(tnt) }' "$work/batch.csv" > "$work/state.txt"
echo "# file: $(du -m "$work/batch.csv" | cut -f1) MB, $(($(wc -l < "$work/batch.csv") - 1)) rows"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

pipe_time() { # $1 = input file → seconds
  redis-cli -p "$redis_port" flushall >/dev/null
  local t0 t1; t0=$(now); redis-cli -p "$redis_port" --pipe < "$1" >/dev/null; t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
pipe=$(pipe_time "$work/hsets.txt")
echo "redis-cli --pipe, plain HSETs: ${pipe} s"
state=$(pipe_time "$work/state.txt")
echo "redis-cli --pipe, same state:  ${state} s"
redis-cli -p "$redis_port" flushall >/dev/null

port=$(free_port)
ConnectionStrings__Redis="127.0.0.1:$redis_port" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" \
  "$work/service/ProfileUpdate.Api" >"$work/service.log" 2>&1 &
svc=$!; pids+=($svc)
for _ in $(seq 1 200); do curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" && break; sleep 0.1; done
# warm-up, not timed: two 50,000-row batches of another client, so the JIT has tiered the hot paths up (measured: a cold
# service spends ~15% of the timed run compiling) and connections are open — the state of a service that has been up.
head -n 50001 "$work/batch.csv" > "$work/warm.csv"
for w in warm-a warm-b; do
  curl -fs -o /dev/null -X POST --data-binary @"$work/warm.csv" "http://127.0.0.1:$port/m2/$w/v2/profile/batchUpdate"
done
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$svc/status")

t0=$(now)
response=$(curl -fsS -X POST --data-binary @"$work/batch.csv" "http://127.0.0.1:$port/m2/bench/v2/profile/batchUpdate")
t1=$(now)
service=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
peak=$(awk '/VmHWM/ {print $2}' "/proc/$svc/status")
echo "service v2 batchUpdate:        ${service} s"
status_url=$(sed -n 's:.*<batchStatus>\(.*\)</batchStatus>.*:\1:p' <<<"$response" | sed 's/&amp;/\&/g')
echo "status: $(curl -fs "$status_url&showDetails=true" | head -c 400)"
awk -v p="$pipe" -v st="$state" -v s="$service" -v b="$rss_before" -v h="$peak" 'BEGIN {
  printf "\nratio service/redis-cli same state  = %.2f   (target <= 2.0)\n", s / st
  printf "ratio service/redis-cli plain HSETs = %.2f   (same state/plain HSETs = %.2f: what the layout itself costs Redis)\n", s / p, st / p
  printf "service RSS growth                  = %.0f MB (peak %.0f MB; target growth < 200 MB)\n", (h - b) / 1024, h / 1024 }'
