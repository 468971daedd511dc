#!/usr/bin/env bash
# CSV → batch format, as `profile-update bulk upload` does it: Sep vs CsvHelper on the same job, then the CLI's own
# conversion (`bulk convert`) of a 500,000-row, ~27 MB CSV timed with its peak RSS (flat memory: the file is streamed).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source tests/ProfileUpdate.Benchmarks/lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv="$work/profiles.csv"
# 500,000 rows of an ordinary CRM export: quoted cells with commas and doubled quotes, non-ASCII text.
awk 'BEGIN { print "thirdPartyId,favoriteColor,city,tier,note";
  for (i = 1; i <= 500000; i++) printf "crm-%07d,blue green,\"Köln, DE\",gold,\"say \"\"hi\"\"\"\n", i }' > "$csv"
echo "CSV: $(wc -l < "$csv") lines, $(stat -c %s "$csv") bytes"

dotnet build -c Release --nologo -v q tests/ProfileUpdate.Benchmarks/Csv >/dev/null
dotnet tests/ProfileUpdate.Benchmarks/Csv/bin/Release/net10.0/ProfileUpdate.Benchmarks.Csv.dll "$csv" "${RUNS:-3}"

cli_convert "$csv" "$work/parts"
echo "$convert_s s elapsed, peak RSS $convert_rss_kb KB"
echo "batch bytes: $(cat "$work"/parts/* | wc -c)"
