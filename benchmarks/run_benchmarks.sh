#!/usr/bin/env bash
# make bench: the micro-benchmarks, then whole `dosemap run`s of the benchmark scene with
# wall time and peak memory (bench_pouch, bench_xrdct). Prints the machine so figures can go
# to RESULTS.md with it.
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
echo
echo "== whole run: scenes/bench_xrdct.toml (target: < 5 s with writing, < 2 GB; RADDOSE-3D: ~1-2e6 voxel-angle updates/s)"
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %M kB peak RSS" "$build/dosemap" run scenes/bench_xrdct.toml -o "$out/x$i" > /dev/null
  python3 -c "
import json
s = json.load(open('$out/x$i/summary.json')); r = s['run']
print('  stages:', ', '.join(f'{k} {v:.2f} s' for k, v in r['stage_seconds'].items()))
print(f\"  {r['voxel_updates']:.3g} voxel-pose updates over {s['stage']['poses']} poses: \"
      f\"{r['voxel_updates'] / r['stage_seconds']['march']:.3g} per second of march, \"
      f\"{r['voxel_updates'] / r['seconds']:.3g} per second of the whole run\")"
done
"$build/dosemap" check scenes/bench_xrdct.toml | grep memory
