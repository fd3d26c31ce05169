#!/usr/bin/env bash
# The GPU check in one script (issue 19), in two halves:
#   gpu/device-check.sh --publish   here, with the .NET SDK: publishes gpu/FunctionalAD.GpuBench (which carries the
#                                   test suite's GPU checks) as one self-contained, compressed linux-x64 file,
#                                   gpu/out/FunctionalAD.GpuBench (git-ignored; under 60 MiB so the device tool can
#                                   carry it), then starts it once (without a GPU it must say "no CUDA device").
#   gpu/device-check.sh             on the device machine (PyTorch, no .NET): the GPU test suite on gpu:0 (the
#                                   primitive property table and every backend method against the CPU), then the
#                                   benchmark cases on both sides (gpu/torch_bench.py has PyTorch's) with their
#                                   ratios: torch ms / FunctionalAD ms, above 1 means FunctionalAD is faster.
#                                   About 5 minutes at most (each step has a timeout).
# With the device tool:  run(command="bash gpu/device-check.sh", carry=["gpu/out"], timeout_s=420)
set -uo pipefail
cd "$(dirname "$0")/.."
app=gpu/out/FunctionalAD.GpuBench

if [ "${1:-}" = "--publish" ]; then
  rm -rf gpu/out
  dotnet publish gpu/FunctionalAD.GpuBench -c Release -p:PublishForDevice=true -o gpu/out -nologo -v q || exit 1
  rm -f gpu/out/*.pdb gpu/out/*.xml gpu/out/*.json
  size=$(du -sm gpu/out | cut -f1)
  echo "published $app: ${size} MiB in gpu/out"
  [ "$size" -lt 60 ] || { echo "gpu/out is ${size} MiB: over the 60 MiB the device tool carries"; exit 1; }
  "$app" --tsv; code=$?
  # 2: no GPU here, which is what this machine should say; 0: there is one, and it ran
  [ "$code" = 2 ] || [ "$code" = 0 ] || { echo "the published app failed to start (exit code $code)"; exit 1; }
  exit 0
fi

[ -x "$app" ] || { echo "$app is missing: run gpu/device-check.sh --publish on a machine with the .NET SDK, then carry gpu/out"; exit 2; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ)  $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi: none')"
echo "# torch $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)' 2>&1)"
status=0

echo "## the GPU test suite on gpu:0"
timeout 240 "$app" --check --summary --no-spinner 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | tail -n 40
[ "${PIPESTATUS[0]}" = 0 ] || status=1

echo "## benchmark (ms per call, mean of 10 after a warm-up)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
timeout 150 "$app" --tsv > "$work/fad.tsv" || status=1
timeout 90 python3 gpu/torch_bench.py > "$work/torch.tsv" || status=1
awk -F'\t' '
  FNR == NR { torch[$1] = $2; next }
  BEGIN { printf "%-36s %12s %12s %8s\n", "case", "torch_ms", "fad_ms", "ratio" }
  { t = ($1 in torch) ? torch[$1] : ""; printf "%-36s %12s %12.4f %8s\n", $1, t, $2, (t != "" && $2 > 0) ? sprintf("%.2f", t / $2) : "-" }
' "$work/torch.tsv" "$work/fad.tsv"
exit $status
