# Helpers the benchmark scripts share; sourced, not run. Expects $pids (an array the caller's cleanup kills; begin_work
# sets one up) and, for seed, $VISITORS.

# require HINT TOOL... → exits with "missing: TOOL (HINT)" unless every tool is on PATH.
require() { local hint=$1 tool; shift; for tool in "$@"; do command -v "$tool" >/dev/null || { echo "missing: $tool ($hint)"; exit 1; }; done; }

# Release build of the service into DIR/service.
publish_service() {
  echo "# building (Release)"
  dotnet publish src/ProfileUpdate.Api -c Release -o "$1/service" --nologo -v q >/dev/null
}

# Release builds of the service and of bare Kestrel (Baseline/) into DIR/service and DIR/baseline.
publish_service_and_baseline() {
  publish_service "$1"
  dotnet publish tests/ProfileUpdate.Benchmarks/Baseline -c Release -o "$1/baseline" --nologo -v q >/dev/null
}

# Below the kernel's ephemeral range: a port in that range can be the local end of one of wrk's or Redis's
# connections (nothing listening, so the probe below finds it free), and binding it then fails with "address already
# in use" — what aborted a service start in an earlier run.
free_port() {
  local p low
  read -r low _ < /proc/sys/net/ipv4/ip_local_port_range
  while :; do p=$((10000 + RANDOM % (low - 10000))); (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done
}
wait_http() { for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1"; exit 1; }

# A throw-away redis-server without persistence; sets redis_port and redis_pid.
start_redis() {
  redis_port=$(free_port)
  # Also on a Unix socket ($redis_sock): a co-located deployment can connect the service through it
  # (ConnectionStrings__Redis="!$redis_sock"), which costs both sides less per round trip than TCP over loopback.
  redis_sock="$work/redis-$redis_port.sock"
  redis-server --port "$redis_port" --bind 127.0.0.1 --unixsocket "$redis_sock" --unixsocketperm 700 --save "" \
    --appendonly no --daemonize no >/dev/null &
  redis_pid=$!; pids+=($redis_pid)
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

# $VISITORS (default 10000) visitors bench-0 … written in the service's own layout (docs/architecture.md, key layout;
# the keys come from the service's code: a profile's key holds a hash of its tntId) with redis-cli --pipe.
seed() {
  redis-cli -p "$redis_port" flushall >/dev/null
  if [[ ! -f tests/ProfileUpdate.Benchmarks/Micro/bin/Release/net10.0/ProfileUpdate.Benchmarks.Micro.dll || -z ${seed_built:-} ]]; then
    dotnet build -c Release --nologo -v q tests/ProfileUpdate.Benchmarks/Micro >/dev/null; seed_built=1
  fi
  dotnet tests/ProfileUpdate.Benchmarks/Micro/bin/Release/net10.0/ProfileUpdate.Benchmarks.Micro.dll seed "${VISITORS:-10000}" \
    | redis-cli -p "$redis_port" --pipe >/dev/null
}

# Hypervisor steal: the share of this machine's CPU time the host took for other guests. Read from /proc/stat around
# each run and printed with it, because on shared cores it moves the tail latency more than any code change does.
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9 }' /proc/stat; }
# steal_pct BEFORE AFTER (two cpu_ticks readings) → the whole percent of CPU time stolen in between.
steal_pct() { awk -v b="$1" -v a="$2" 'BEGIN { split(b, x, " "); split(a, y, " "); d = y[1] - x[1]; printf "%.0f", (d > 0 ? 100 * (y[2] - x[2]) / d : 0) }'; }

# The runtime settings the service ships with: the Docker image's `ENV DOTNET_…` lines (dotnet run's launch profile
# repeats them). The runtime reads these from the environment only, so a published binary started here needs them
# given, or it would be measured as no deployment runs it. Read from this checkout's Dockerfile (the scripts run from
# the repository root); a NAME=value given to launch_service after them overrides one (DOTNET_GCgen0size=0: the
# runtime's own default).
runtime_env() { sed -n 's/^ENV \(DOTNET_[A-Za-z0-9_]*=[^ ]*\)$/\1/p' Dockerfile; }

# launch_service BINARY LOG [NAME=value ...] → the service (Release build at BINARY) on a free port against $redis_port,
# in Production with the shipped runtime settings (runtime_env), output to LOG; sets app_pid and app_url and returns
# once it is ready. The bench client keeps its quota on (counted in Redis per update) with room for any run: at ~20k
# req/s the default 1,000,000 runs out during warm-up plus measurement, and a measured window spent answering 429 is not
# the number wanted. NAME=value settings come last, so they override these.
launch_service() {
  local binary=$1 log=$2 port
  shift 2
  port=$(free_port); app_url="http://127.0.0.1:$port"
  # shellcheck disable=SC2046 # one NAME=value per line, none with spaces
  env $(runtime_env) ConnectionStrings__Redis="127.0.0.1:$redis_port" ProfileUpdate__Clients__bench__QuotaLimit=1000000000 \
    ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$app_url" "$@" "$binary" >"$log" 2>&1 &
  app_pid=$!; pids+=($app_pid)
  # On failure the log goes with the scratch folder, so its end is printed here (a start-up crash must leave a trace).
  if ! (wait_http "$app_url/health/ready"); then echo "the service did not start; the end of its log:"; tail -40 "$log"; exit 1; fi
}

# launch_baseline BINARY [LOG] [NAME=value ...] → bare Kestrel (Baseline/, Release build at BINARY) on a free port; sets
# app_pid and app_url and returns once it answers the update route.
launch_baseline() {
  local binary=$1 log=${2:-/dev/null} port
  shift; [ $# -gt 0 ] && shift
  port=$(free_port); app_url="http://127.0.0.1:$port"
  env ASPNETCORE_URLS="$app_url" "$@" "$binary" >"$log" 2>&1 &
  app_pid=$!; pids+=($app_pid)
  wait_http "$app_url/m2/bench/profile/update"
}

# utime + stime of a process, in clock ticks; CPU per request compares designs where req/s moves with the weather.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Per thread of PID: "tid name ticks context-switches" (the name's spaces as '_'; stat fields counted after the ')' that
# ends the name, which may itself hold spaces).
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(tr ' ' '_' <"$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }') $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$t/status")"
  done 2>/dev/null # a thread may end while it is read
}
# thread_split BEFORE_FILE AFTER_FILE REQUESTS → CPU µs and context switches per request by thread name, largest first
thread_split() {
  awk -v n="$3" -v hz="$hz" 'NR == FNR { t0[$1] = $3; c0[$1] = $4; next }
    { t[$2] += $3 - t0[$1]; c[$2] += $4 - c0[$1]; k[$2]++ }
    END { for (x in t) if (t[x] > 0) printf "     %-16s x%-3d %6.2f µs/request  %5.2f context switches/request\n", x, k[x], 1e6 * t[x] / hz / n, c[x] / n }' \
    "$1" "$2" | sort -k3 -rn
}
hz=$(getconf CLK_TCK)

# The CLI's own CSV → batch-format conversion (`profile-update bulk convert`, Release build) of the CSV $1 into the
# folder $2, as `bulk upload` does it before sending; its output lines go to stdout. Sets convert_s (elapsed seconds,
# the process start included) and convert_rss_kb (peak RSS: flat, the file is streamed).
cli_convert() {
  dotnet build -c Release --nologo -v q src/ProfileUpdate.Cli >/dev/null
  /usr/bin/time -f '%e %M' -o "$2.time" dotnet src/ProfileUpdate.Cli/bin/Release/net10.0/ProfileUpdate.Cli.dll bulk convert "$1" --out "$2"
  read -r convert_s convert_rss_kb < "$2.time"
}

# A scratch folder ($work) and a list of background processes ($pids) that are gone when the script exits, however it exits.
begin_work() { work=$(mktemp -d); pids=(); trap end_work EXIT; }
end_work() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
