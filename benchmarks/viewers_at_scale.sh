#!/bin/bash
# The scale case of the viewers (issue 11): the CR2032 coin-cell map (scenes/
# coin_cell_xrd_map.toml: 440 x 240 x 330 = 34.8 M voxels of 5 um, 300 000 exposures) run,
# plotted, drawn by ParaView (full grid and preview) and rendered by Blender (full grids and
# preview), each with wall time and peak resident memory (/usr/bin/time). Usage:
#   benchmarks/viewers_at_scale.sh BUILD_DIR [OUT_DIR]
# Needs pvpython, xvfb-run and blender for those rows (tools/setup --viz); skips them otherwise.
set -euo pipefail
build=${1:?usage: benchmarks/viewers_at_scale.sh BUILD_DIR [OUT_DIR]}
out=${2:-$(mktemp -d /tmp/dosemap_scale.XXXXXX)}
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
run="$out/coin"
rows=()
measure() {  # measure LABEL COMMAND...: one row "LABEL | seconds | peak MB"
  local label=$1; shift
  local t; t=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$t" "$@" > "$out/last.log" 2>&1 || { cat "$out/last.log"; echo "FAILED: $label"; exit 1; }
  read -r secs kb < "$t"
  rows+=("| $label | $secs s | $((kb / 1024)) MB |")
  rm -f "$t"
}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "dosemap run (vdb + vti, preview)" "$build/dosemap" run "$here/scenes/coin_cell_xrd_map.toml" -o "$run" --overwrite
measure "dosemap plot (every figure)" "$build/dosemap" plot "$run"
if command -v pvpython > /dev/null && command -v xvfb-run > /dev/null; then
  fig="$here/tools/paraview/dose_figure.py"
  measure "ParaView figure, full grid (--lod full)" xvfb-run -a -s "-screen 0 1280x1024x24" pvpython "$fig" "$run" --lod full --out "$run/paraview_full.png"
  measure "ParaView figure, preview (--lod preview)" xvfb-run -a -s "-screen 0 1280x1024x24" pvpython "$fig" "$run" --lod preview --out "$run/paraview_preview.png"
fi
if command -v blender > /dev/null; then
  imp="$here/tools/blender/import_dose.py"
  measure "Blender render 960 x 540, 16 samples, full grids" blender -b --factory-startup --python "$imp" -- "$run" --lod full --render "$run/blender_full.png" --samples 16
  measure "Blender render 960 x 540, 16 samples, preview" blender -b --factory-startup --python "$imp" -- "$run" --lod preview --render "$run/blender_preview.png" --samples 16
fi
echo
echo "| step | wall | peak memory |"
echo "|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
ls -l "$run" | awk 'NR > 1 {printf "%s %.1f MB\n", $9, $5 / 1e6}'
echo "results in $run"
