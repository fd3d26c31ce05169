#!/usr/bin/env bash
# Runs the TorchSharp anchor and FunctionalAD.Bench in one session and joins their rows by case name
# (torch_X and fad_X are the same case X). See bench/RESULTS.md.
#
# Usage: bench/run-side-by-side.sh [--threads 1,2] [--filter a,b] [--reps N] [--warm-seconds S] [--quick]
#                                   [--isa avx2] [--default-gc] [--memory]
#   --isa avx2     both sides restricted to 256-bit AVX2 (on an AVX-512 machine): DOTNET_EnableAVX512=0 for .NET 10
#                  (its knob; DOTNET_EnableAVX512F=0, set too, is the one of .NET 8 and 9 and is ignored by .NET 10),
#                  ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 for libtorch.
#   --default-gc   FunctionalAD.Bench runs a second time under .NET's default GC (its runtimeconfig without the
#                  tuned GC settings the bench opts into); the table gains fad_default_gc_s and gc_cost
#                  (default-GC time / tuned time: 1.2 at most is the goal).
#   --memory       instead of timing: the peak resident memory of a process running only the MLP step row (200 timed
#                  steps after >= 20 warm-up) or only the CNN step row (60 after 10), on both sides: GNU time's %M, the
#                  kernel's high-water mark of VmRSS (VmHWM in /proc/<pid>/status). With --default-gc, a column for
#                  FunctionalAD under .NET's default GC too. (fad_memory_mlp_10000steps, a timing row, reports VmRSS
#                  from /proc/self/status at step 200 and 10,000: memory must stay flat.)
#   --filter takes case names without the prefix (matmul, matmul_f32_n1024, ew, sum, autograd, tape, mlp, linreg,
#   solve, cholesky, svd, conv2d, cnn, attention);
#   each filter f selects torch_f* rows in the anchor and fad_f* rows here. Without --filter every torch_ and fad_
#   row runs (the anchor's managed_* reference rows, minutes of naive matmul, are left out).
# Environment: ANCHOR_DIR  the anchor (default ../shared/anchors/torchsharp beside the checkout); it is only read: it is copied to
#                          a temporary directory, built and run there.
# Output: bench/results/side-by-side-<stamp>.tsv (also on stdout), plus the two raw tables and their logs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchor_src=${ANCHOR_DIR:-$root/../shared/anchors/torchsharp}
filters="" ; pass=() ; default_gc=0 ; memory=0
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filters="$2"; shift 2 ;;
    --quick) pass+=("$1"); shift ;;
    --isa)
      [ "$2" = avx2 ] || { echo "--isa: only avx2 is known (got $2)" >&2; exit 2; }
      export DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
      shift 2 ;;
    --default-gc) default_gc=1; shift ;;
    --memory) memory=1; shift ;;
    *) pass+=("$1" "$2"); shift 2 ;;
  esac
done
prefixed() { # prefixed torch_ "a,b" -> "torch_a,torch_b"
  local p=$1 out="" f; IFS=',' read -ra fs <<< "$2"
  for f in "${fs[@]}"; do out+="${out:+,}$p$f"; done
  echo "${out:-$p}"
}
out=$root/bench/results; mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp -r "$anchor_src/Anchor" "$work/"; chmod -R u+w "$work"
# extra torch rows kept in this repository (bench/anchor-linalg: cholesky, svd, causal attention), added to the copy of the anchor
# (a partial class Program) and called after its TorchSolve(t)
cp "$root/bench/anchor-linalg/"*.cs "$work/Anchor/"
sed -i 's/^\( *\)TorchSolve(t);$/&\n\1TorchLinalgExtra(t);/' "$work/Anchor/Program.cs"
grep -q 'TorchLinalgExtra(t);' "$work/Anchor/Program.cs" || { echo "cannot hook bench/anchor-linalg into the anchor's Program.cs" >&2; exit 1; }
echo "# building the anchor in $work and FunctionalAD.Bench (Release)" >&2
dotnet build -c Release "$work/Anchor/Anchor.csproj" -nologo -v q >&2
dotnet build -c Release "$root/bench/FunctionalAD.Bench/FunctionalAD.Bench.csproj" -nologo -v q >&2

anchor_dll="$work/Anchor/bin/Release/net10.0/linux-x64/Anchor.dll"
fad_dll="$root/bench/FunctionalAD.Bench/bin/Release/net10.0/FunctionalAD.Bench.dll"

# The bench's runtimeconfig without the System.GC.* settings: what an application that keeps .NET's defaults gets.
default_gc_config() {
  python3 - "${fad_dll%.dll}.runtimeconfig.json" "$work/default-gc.runtimeconfig.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
props = config.get("runtimeOptions", {}).get("configProperties", {})
for key in [k for k in props if k.startswith("System.GC.")]:
    del props[key]
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
}

if [ "$memory" = 1 ]; then
  # One process per side and case; GNU time reports the peak resident set in KiB.
  [ -x /usr/bin/time ] || { echo "--memory needs GNU time (apt-get install -y time)" >&2; exit 2; }
  [ "$default_gc" = 1 ] && default_gc_config
  printf "case\tthreads\ttorch_peak_rss_mib\tfad_peak_rss_mib\tratio%s\n" "$([ "$default_gc" = 1 ] && printf '\tfad_default_gc_peak_rss_mib\tratio_default_gc')" | tee "$out/memory-$stamp.tsv"
  for case in mlp_784_256_10_b64_sgd_step cnn_mnist_b64_sgd_step; do
    for threads in 1 2; do
      /usr/bin/time -f %M -o "$work/torch.rss" dotnet "$anchor_dll" --filter "torch_$case" --threads $threads --reps 1 --warm-seconds 0 > /dev/null 2>&1
      /usr/bin/time -f %M -o "$work/fad.rss" dotnet "$fad_dll" --filter "fad_$case" --threads $threads --reps 1 --warm-seconds 0 > /dev/null 2>&1
      t=$(tail -n 1 "$work/torch.rss"); f=$(tail -n 1 "$work/fad.rss"); d=""
      if [ "$default_gc" = 1 ]; then
        /usr/bin/time -f %M -o "$work/fad-default.rss" dotnet exec --runtimeconfig "$work/default-gc.runtimeconfig.json" "$fad_dll" --filter "fad_$case" --threads $threads --reps 1 --warm-seconds 0 > /dev/null 2>&1
        d=$(tail -n 1 "$work/fad-default.rss")
      fi
      awk -v c="$case" -v th=$threads -v t="$t" -v f="$f" -v d="$d" 'BEGIN { printf "%s\t%s\t%.0f\t%.0f\t%.2f", c, th, t / 1024, f / 1024, f / t; if (d != "") printf "\t%.0f\t%.2f", d / 1024, d / t; printf "\n" }' | tee -a "$out/memory-$stamp.tsv"
    done
  done
  exit 0
fi

echo "# running the anchor" >&2
dotnet "$anchor_dll" --filter "$(prefixed torch_ "$filters")" "${pass[@]}" \
  > "$out/torch-$stamp.tsv" 2> "$out/torch-$stamp.log"
echo "# running FunctionalAD.Bench" >&2
dotnet "$fad_dll" --filter "$(prefixed fad_ "$filters")" "${pass[@]}" \
  > "$out/fad-$stamp.tsv" 2> "$out/fad-$stamp.log"
if [ "$default_gc" = 1 ]; then
  default_gc_config
  echo "# running FunctionalAD.Bench under the default GC" >&2
  dotnet exec --runtimeconfig "$work/default-gc.runtimeconfig.json" "$fad_dll" --filter "$(prefixed fad_ "$filters")" "${pass[@]}" \
    > "$out/fad-default-gc-$stamp.tsv" 2> "$out/fad-default-gc-$stamp.log"
else
  : > "$out/fad-default-gc-$stamp.tsv"
fi

# ratio = torch_median_s / fad_median_s: above 1 means FunctionalAD is faster (for GFLOP/s rows, fad/torch GFLOP/s).
# ratio_min compares the fastest repetitions instead: on a shared machine (foreign_cpu well above 0) it is the
# better estimate of what each side does when it has the cores to itself.
awk -F'\t' -v OFS='\t' -v gc=$default_gc '
  FNR == 1 { next }
  FILENAME ~ /torch-/ && $1 ~ /^torch_/ { k = substr($1, 7) SUBSEP $2; t[k] = $3; tm[k] = $4; tf[k] = $11; u[k] = $5; tn[k] = $9; next }
  FILENAME ~ /fad-default-gc-/ && $1 ~ /^fad_/ { k = substr($1, 5) SUBSEP $2; d[k] = $3; next }
  FILENAME ~ /fad-/ && $1 ~ /^fad_/ { k = substr($1, 5) SUBSEP $2; if (k in t) { order[++n] = k; f[k] = $3; fm[k] = $4; ff[k] = $11; fn[k] = $9 } }
  END {
    printf "case\tthreads\ttorch_median_s\tfad_median_s\ttorch_metric\tfad_metric\tunit\tratio\tratio_min\ttorch_foreign_cpu\tfad_foreign_cpu%s\n", gc ? "\tfad_default_gc_s\tgc_cost" : ""
    for (i = 1; i <= n; i++) { k = order[i]; split(k, p, SUBSEP)
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s", p[1], p[2], t[k], f[k], tm[k], fm[k], u[k], t[k] / f[k], tn[k] / fn[k], tf[k], ff[k]
      if (gc) printf "\t%s\t%s", d[k], (k in d) ? sprintf("%.2f", d[k] / f[k]) : "-"
      printf "\n" }
  }' "$out/torch-$stamp.tsv" "$out/fad-$stamp.tsv" "$out/fad-default-gc-$stamp.tsv" | tee "$out/side-by-side-$stamp.tsv"
