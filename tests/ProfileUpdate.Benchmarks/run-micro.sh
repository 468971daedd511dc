#!/usr/bin/env bash
# BenchmarkDotNet micro-benchmarks of the hot paths (Micro/): parsing, bulk rows, and the applier's Redis round trips.
# Builds Release (BenchmarkDotNet refuses Debug), then runs every benchmark unless a --filter is given; other arguments go
# to BenchmarkDotNet as they are, e.g.:
#   bash tests/ProfileUpdate.Benchmarks/run-micro.sh --job short
#   bash tests/ProfileUpdate.Benchmarks/run-micro.sh --job dry --filter '*Parsing*'
# StoreBenchmarks start their own redis-server (must be on PATH). Results: BenchmarkDotNet.Artifacts/ in the repo root.
# Exits non-zero when the build or any benchmark fails. Run by hand, not in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
project=tests/ProfileUpdate.Benchmarks/Micro/ProfileUpdate.Benchmarks.Micro.csproj

dotnet build "$project" -c Release --nologo -v q

filter=(--filter '*')
for arg in "$@"; do
  case "$arg" in --filter|--filter=*|-f) filter=() ;; esac
done
dotnet run -c Release --no-build --project "$project" -- "${filter[@]}" "$@"
