#!/usr/bin/env bash
# Runs the TorchSharp anchor and FunctionalAD.Bench in one session and joins their rows by case name
# (torch_X and fad_X are the same case X). See bench/RESULTS.md.
#
# Usage: bench/run-side-by-side.sh [--threads 1,2] [--filter a,b] [--reps N] [--warm-seconds S] [--quick]
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
filters="" ; pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filters="$2"; shift 2 ;;
    --quick) pass+=("$1"); shift ;;
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
# extra torch rows kept in this repository (bench/anchor-linalg: cholesky, svd), added to the copy of the anchor
# (a partial class Program) and called after its TorchSolve(t)
cp "$root/bench/anchor-linalg/"*.cs "$work/Anchor/"
sed -i 's/^\( *\)TorchSolve(t);$/&\n\1TorchLinalgExtra(t);/' "$work/Anchor/Program.cs"
grep -q 'TorchLinalgExtra(t);' "$work/Anchor/Program.cs" || { echo "cannot hook bench/anchor-linalg into the anchor's Program.cs" >&2; exit 1; }
echo "# building the anchor in $work and FunctionalAD.Bench (Release)" >&2
dotnet build -c Release "$work/Anchor/Anchor.csproj" -nologo -v q >&2
dotnet build -c Release "$root/bench/FunctionalAD.Bench/FunctionalAD.Bench.csproj" -nologo -v q >&2

echo "# running the anchor" >&2
dotnet "$work/Anchor/bin/Release/net10.0/linux-x64/Anchor.dll" --filter "$(prefixed torch_ "$filters")" "${pass[@]}" \
  > "$out/torch-$stamp.tsv" 2> "$out/torch-$stamp.log"
echo "# running FunctionalAD.Bench" >&2
dotnet "$root/bench/FunctionalAD.Bench/bin/Release/net10.0/FunctionalAD.Bench.dll" --filter "$(prefixed fad_ "$filters")" "${pass[@]}" \
  > "$out/fad-$stamp.tsv" 2> "$out/fad-$stamp.log"

# ratio = torch_median_s / fad_median_s: above 1 means FunctionalAD is faster (for GFLOP/s rows, fad/torch GFLOP/s).
# ratio_min compares the fastest repetitions instead: on a shared machine (foreign_cpu well above 0) it is the
# better estimate of what each side does when it has the cores to itself.
awk -F'\t' -v OFS='\t' '
  FNR == 1 { next }
  FILENAME ~ /torch-/ && $1 ~ /^torch_/ { k = substr($1, 7) SUBSEP $2; t[k] = $3; tm[k] = $4; tf[k] = $11; u[k] = $5; tn[k] = $9; next }
  FILENAME ~ /fad-/ && $1 ~ /^fad_/ { k = substr($1, 5) SUBSEP $2; if (k in t) { order[++n] = k; f[k] = $3; fm[k] = $4; ff[k] = $11; fn[k] = $9 } }
  END {
    print "case", "threads", "torch_median_s", "fad_median_s", "torch_metric", "fad_metric", "unit", "ratio", "ratio_min", "torch_foreign_cpu", "fad_foreign_cpu"
    for (i = 1; i <= n; i++) { k = order[i]; split(k, p, SUBSEP)
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\n", p[1], p[2], t[k], f[k], tm[k], fm[k], u[k], t[k] / f[k], tn[k] / fn[k], tf[k], ff[k] }
  }' "$out/torch-$stamp.tsv" "$out/fad-$stamp.tsv" | tee "$out/side-by-side-$stamp.tsv"
