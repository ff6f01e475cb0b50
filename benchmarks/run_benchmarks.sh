#!/usr/bin/env bash
# make bench: the micro-benchmarks, then whole `dosemap run`s of the benchmark scene with
# wall time and peak memory. Prints the machine so figures can go to RESULTS.md with it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
echo "== machine"
echo "date: $(date -u +%Y-%m-%d)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores available"
echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "compiler: $(c++ --version | head -1)"
echo
echo "== micro-benchmarks"
"$build/dosemap_bench" --benchmark_counters_tabular=true
echo
echo "== whole run: scenes/bench_pouch.toml (target: < 10 s with writing, < 3 GB)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %M kB peak RSS" "$build/dosemap" run scenes/bench_pouch.toml -o "$out/r$i" > /dev/null
  python3 -c "import json,sys; r=json.load(open('$out/r$i/summary.json'))['run']; print('  stages:', ', '.join(f'{k} {v:.2f} s' for k,v in r['stage_seconds'].items()))"
done
"$build/dosemap" check scenes/bench_pouch.toml | grep memory
