#!/usr/bin/env bash
# Memory with one huge line: a freshly started Release service, two 52,428,700-byte batches POSTed at once and polled
# until complete; peak RSS (VmHWM) and RSS afterwards. MODE=hugecell (the default): each file is a few ordinary rows
# around one ~50 MB id cell, which the applier must skip as an over-long row without holding it; MODE=normal: ordinary
# ~100-byte rows (up to 499,000 of them) filling the same size, for comparison.
# SERVICE=DIR measures a service already published there instead of building one. Needs: dotnet, redis-server,
# redis-cli, curl, python3. Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
require "install it" redis-server redis-cli curl python3
begin_work
mode=${MODE:-hugecell}
if [ -n "${SERVICE:-}" ]; then service=$SERVICE; else publish_service "$work"; service=$work/service; fi

python3 - "$work" "$mode" <<'PY'
import sys
work, mode = sys.argv[1], sys.argv[2]
size = 52_428_700  # just under Limits:MaxBatchBytes (52,428,800)
for n in (1, 2):
    with open(f"{work}/f{n}.txt", "wb") as f:
        head = b"batch=thirdPartyId,a\nok-%d,x\n" % n
        f.write(head)
        if mode == "hugecell":
            tail = b",v\nafter-%d,y\n" % n
            f.write(b"i" * (size - len(head) - len(tail))); f.write(tail)
        else:
            i, written = 0, len(head)
            while written + 120 < size and i < 499_000:
                row = b"id-%d-%07d,%s\n" % (n, i, b"v" * 90); f.write(row); written += len(row); i += 1
PY

start_redis
launch_service "$service/ProfileUpdate.Api" "$work/service.log" \
  ProfileUpdate__Bulk__SpoolDirectory="$work/spool" ProfileUpdate__Bulk__SubmissionsPerMinute=1000
kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$app_pid/status"; }
start=$(kb VmRSS)
# Client bench: launch_service configures it (and so no other client is known).
posts=()
for n in 1 2; do curl -fsS -X POST --data-binary @"$work/f$n.txt" "$app_url/m2/bench/v2/profile/batchUpdate" >"$work/answer$n" & posts+=($!); done
wait "${posts[@]}"
for n in 1 2; do
  url=$(sed -n 's:.*<batchStatus>\(.*\)</batchStatus>.*:\1:p' "$work/answer$n" | sed 's/&amp;/\&/g')
  until curl -fs "$url" | grep -q '<status>complete</status>'; do sleep 0.2; done
  curl -fs "$url&showDetails=true" | sed -e 's:<id>[^<]*</id>:<id>…</id>:g' -e 's/^/status: /'; echo
done
sleep 2
echo "MODE=$mode, two files of $(stat -c %s "$work/f1.txt") bytes at once: RSS at start $((start / 1024)) MB, peak (VmHWM) $(($(kb VmHWM) / 1024)) MB, after $(($(kb VmRSS) / 1024)) MB"
