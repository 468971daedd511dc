#!/usr/bin/env bash
# Bulk at scale, in one run: throughput against redis-cli --pipe, memory from cold processes, fairness to single updates.
#   1. generate a 500,000-row batch file (thirdPartyId + 5 attributes, ~27 MB) and two redis-cli --pipe inputs:
#      a) "plain HSETs": one 5-field HSET per row, keyed by the thirdPartyId — the least any store must do;
#      b) "same state": the very commands that leave Redis in the state the service leaves it in — per row the
#         thirdPartyId link (SET NX) and the profile hash with its metadata and timestamped values (HSET, 9 fields);
#   2. load each into a fresh redis-server with redis-cli --pipe, timed; and the CLI's conversion (`bulk convert`, as
#      `bulk upload` and `bulk delete` do it before sending) of the same rows as an ordinary CSV into the batch format,
#      timed, to set beside the service's POST -> complete (conversion is a small part of a bulk upload's time);
#   3. memory, one batch: a cold service (Release), one 500,000-row batch POSTed and polled until complete; peak RSS
#      (VmHWM) against the RSS at start (target: at most +100 MB). The POST's answer time and POST -> complete are timed;
#      the same process, now warm, applies a second batch, timed POST -> complete (target: <= 1.5 x the same-state pipe);
#   4. memory, four at once: another cold service, four 500,000-row batches POSTed at once and polled until all are
#      complete: peak RSS (target < 300 MB) and RSS afterwards (target: within 100 MB of the start);
#   5. fairness: the service's maximum single-update rate (wrk -t1 -c64, as run-load.sh), then single updates at half of
#      it without and with a 500,000-row batch applying, alternating twice: p99 of each (target with the batch: < 10 ms).
# ONLY=fair runs just part 5. Needs: dotnet, redis-server, redis-cli, curl, wrk. Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
begin_work
ROWS=${ROWS:-500000}
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
# The same state as the service writes (docs/architecture.md, key layout): link key, then the profile hash of a new
# visitor with its link field and its created time followed by the batch row that created it (its partition tag stands
# in for the hash of its tntId the service computes: on standalone Redis the tag only names the key).
awk -F, -v ms="$(date +%s%3N)" 'function arg(s) { printf "$%d\r\n%s\r\n", length(s), s }
  NR > 1 { gsub(/%40/, "@", $2); base = sprintf("%032x", NR); tnt = base ".0_0"
    printf "*4\r\n"; arg("SET"); arg("pu:{bench:3p:" $1 "}"); arg(tnt); arg("NX")
    printf "*22\r\n"; arg("HSET"); arg("pu:{bench:p" NR % 64 "}:t:" base); arg("_:m"); arg(ms); arg("_:3"); arg($1); arg("_:l:" $1); arg("")
    arg("a:email"); arg(ms ":" $2); arg("a:tier"); arg(ms ":" $3); arg("a:city"); arg(ms ":" $4); arg("a:score"); arg(ms ":" $5)
    arg("a:lastPurchase"); arg(ms ":" $6); arg("_:c"); arg(ms ":bench-" ms "-00000000:" NR); arg("_:t"); arg(tnt) }' "$work/batch.csv" > "$work/state.txt"
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
if [ "${ONLY:-}" != fair ]; then
pipe=$(pipe_time "$work/hsets.txt")
echo "redis-cli --pipe, plain HSETs: ${pipe} s"
state=$(pipe_time "$work/state.txt")
echo "redis-cli --pipe, same state:  ${state} s"
redis-cli -p "$redis_port" flushall >/dev/null

# The same rows as the ordinary CSV a user has ('@' as is), converted by the CLI; the result must be the very file above.
sed -e '1s/^batch=//' -e 's/%40/@/g' "$work/batch.csv" > "$work/rows.csv"
cli_convert "$work/rows.csv" "$work/parts" >/dev/null
cat "$work"/parts/*.batch.txt | cmp -s - "$work/batch.csv" && same="the very batch file POSTed below" || same="DIFFERS from the batch file POSTed below"
echo "CLI bulk convert, same rows:   ${convert_s} s, peak RSS $((convert_rss_kb / 1024)) MB ($same)"

fi
svc_url=""
svc=""
start_service() { # a cold service on the redis-server; sets svc and svc_url
  local port; port=$(free_port)
  # shellcheck disable=SC2046 # the shipped runtime settings (lib.sh), one NAME=value per line
  env $(runtime_env) ConnectionStrings__Redis="127.0.0.1:$redis_port" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" \
    ProfileUpdate__Bulk__SpoolDirectory="$work/spool-$port" ProfileUpdate__Bulk__SubmissionsPerMinute=1000 \
    "$work/service/ProfileUpdate.Api" >"$work/service-$port.log" 2>&1 &
  svc=$!; pids+=($svc); svc_url="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do curl -fs -o /dev/null "$svc_url/health/ready" && break; sleep 0.1; done
}
stop_service() { kill "$svc"; wait "$svc" 2>/dev/null || true; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$svc/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$svc/status"; }
submit() { # $1 = client → status URL; the time until the answer goes to $work/answered-$1 (this runs in a subshell)
  local t0 t1 response; t0=$(now)
  response=$(curl -fsS -X POST --data-binary @"$work/batch.csv" "$svc_url/m2/$1/v2/profile/batchUpdate")
  t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }' > "$work/answered-$1"
  sed -n 's:.*<batchStatus>\(.*\)</batchStatus>.*:\1:p' <<<"$response" | sed 's/&amp;/\&/g'
}
wait_complete() { # $@ = status URLs
  for url in "$@"; do
    until curl -fs "$url" | grep -q '<status>complete</status>'; do sleep 0.05; done
  done
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ "${ONLY:-}" != fair ]; then
echo "# 3. one batch from a cold service"
redis-cli -p "$redis_port" flushall >/dev/null
start_service
rss_start=$(rss_kb)
t0=$(now); url=$(submit bench); answer1=$(cat "$work/answered-bench"); wait_complete "$url"; t1=$(now)
cold=$(secs "$t0" "$t1"); hwm1=$(hwm_kb)
echo "status: $(curl -fs "$url&showDetails=true" | head -c 400)"
redis-cli -p "$redis_port" flushall >/dev/null
t0=$(now); url=$(submit bench); answer2=$(cat "$work/answered-bench"); wait_complete "$url"; t1=$(now)
warm=$(secs "$t0" "$t1")
stop_service

echo "# 4. four batches at once from a cold service"
redis-cli -p "$redis_port" flushall >/dev/null
start_service
rss4_start=$(rss_kb)
urls=()
submitters=()
for c in b1 b2 b3 b4; do (submit "$c" > "$work/url-$c") & submitters+=($!); done
wait "${submitters[@]}"
for c in b1 b2 b3 b4; do urls+=("$(cat "$work/url-$c")"); done
t0=$(now); wait_complete "${urls[@]}"; t1=$(now)
four=$(secs "$t0" "$t1"); hwm4=$(hwm_kb)
sleep 5 # the GC gives memory back lazily after the work; measured a few seconds later, as an operator would see it
rss4_end=$(rss_kb)
stop_service

fi
echo "# 5. single updates at half the service's maximum, without and with a batch applying"
CONNECTIONS=${CONNECTIONS:-64}
VISITORS=10000 seed
start_service
wrk_run() { # $1 = duration → wrk's output (RATE_DELAY_MS from the environment)
  VISITORS=10000 wrk -t1 -c"$CONNECTIONS" -d"$1" --latency -s tests/ProfileUpdate.Benchmarks/load/update.lua "$svc_url"
}
wrk_run 20s >/dev/null # warm-up
# The maximum, as run-load.sh measures it (wrk -t1 -c64, no delay); half of it, spread over the connections by wrk's
# per-request delay (random, mean as computed), is the load the fairness target is about.
max=$(wrk_run 15s | awk '/^Requests\/sec/ {printf "%d", $2}')
half=$((max / 2))
# wrk's delay comes on top of each response's time (about 1 ms at this load), so it is that much shorter than c / rate.
delay=$(awk -v c="$CONNECTIONS" -v r="$half" 'BEGIN { d = c * 1000 / r - 1; printf "%.1f", (d < 0.5 ? 0.5 : d) }')
echo "single updates: max ${max} req/s; half load ~${half} req/s (wrk -c$CONNECTIONS, mean delay ${delay} ms per connection)"
p99s_alone=(); p99s_batch=(); rates=()
fair_run() { # $1 = label, $2 = status URL of a batch applying meanwhile (or empty)
  local before after out p99 rps state=""
  before=$(cpu_ticks); out=$(RATE_DELAY_MS=$delay wrk_run "${FAIR_DURATION:-10s}"); after=$(cpu_ticks)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out"); rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
  if [ -n "$2" ]; then
    curl -fs "$2" | grep -q '<status>complete</status>' && state=", batch already complete at the end (window partly without it)" || state=", batch still applying at the end"
  fi
  printf '%-22s %6s req/s   p99 %-9s steal %3s%%%s\n' "$1" "$rps" "$p99" "$(steal_pct "$before" "$after")" "$state"
  last_p99=$p99; rates+=("$rps")
}
for i in 1 2; do
  fair_run "alone ($i)" ""; p99s_alone+=("$last_p99")
  url=$(submit "loader$i") # a client of its own each time: the batch creates its 500,000 profiles anew
  fair_run "with a batch ($i)" "$url"; p99s_batch+=("$last_p99")
  t0=$(now); wait_complete "$url"; echo "  (batch complete $(secs "$t0" "$(now)") s after the window)"
done
stop_service

fair="single updates at half of max ($half req/s offered; ${rates[*]} req/s done, alone/with a batch alternating): p99 = ${p99s_alone[*]} alone, ${p99s_batch[*]} while a batch applies (target < 10 ms)"
if [ "${ONLY:-}" = fair ]; then echo; echo "$fair"; exit 0; fi
awk -v st="$state" -v p="$pipe" -v a1="$answer1" -v a2="$answer2" -v cold="$cold" -v warm="$warm" -v rs="$rss_start" -v h1="$hwm1" \
    -v r4s="$rss4_start" -v h4="$hwm4" -v r4e="$rss4_end" -v four="$four" \
    -v conv="$convert_s" 'BEGIN {
  printf "\nPOST answer (500,000 rows, 27 MB, loopback)   = %s s cold, %s s warm (the upload itself; status incomplete)\n", a1, a2
  printf "CLI CSV -> batch format / POST -> complete    = %.2f   (%s s converting the same rows vs %s s applying them, warm)\n", conv / warm, conv, warm
  printf "POST -> complete, warm / redis-cli same state = %.2f   (%s s vs %s s; target <= 1.5; cold process: %s s)\n", warm / st, warm, st, cold
  printf "POST -> complete / redis-cli plain HSETs      = %.2f   (same state / plain HSETs = %.2f: what the layout itself costs Redis)\n", warm / p, st / p
  printf "one batch from cold: peak RSS                 = %.0f MB, +%.0f MB over the %.0f MB at start (target <= +100 MB)\n", h1 / 1024, (h1 - rs) / 1024, rs / 1024
  printf "four batches at once: peak RSS                = %.0f MB (target < 300 MB); all four complete in %s s\n", h4 / 1024, four
  printf "four batches at once: RSS after               = %.0f MB, %+.0f MB against the %.0f MB at start (target within 100 MB)\n", r4e / 1024, (r4e - r4s) / 1024, r4s / 1024 }'
echo "$fair"
