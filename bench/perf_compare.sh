#!/usr/bin/env bash
# Regenerates Agora's side of docs/performance.md: synthesizes the benchmark models (once) and
# runs `agora bench` on each; with a reference llama-bench binary it runs that too, alternating
# the two engines per model so that machine noise hits both.
#
#   bench/perf_compare.sh [BUILD_DIR] [LLAMA_BENCH] [OUT_DIR]
#     BUILD_DIR    Agora build folder holding `agora` (default build/perf)
#     LLAMA_BENCH  path to the reference's llama-bench (optional; skipped when absent)
#     OUT_DIR      where models and results go (default /tmp/agora-perf)
# Environment: THREADS (2), REPS (3), TYPES ("Q4_0 Q8_0 Q4_K_M"), VOCAB (a GGUF tokenizer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/perf}
llama_bench=${2:-}
out=${3:-/tmp/agora-perf}
threads=${THREADS:-2}
reps=${REPS:-3}
types=${TYPES:-"Q4_0 Q8_0 Q4_K_M"}
vocab=${VOCAB:-$root/../shared/testdata/models/llama-2-tiny-random.gguf}
agora=$build/agora
mkdir -p "$out"
[ -x "$agora" ] || { echo "no agora binary at $agora (build the agora target)" >&2; exit 2; }

for type in $types; do
  model=$out/synth-llama-0.7b-$type.gguf
  if [ ! -f "$model" ]; then
    # The issue's shape: n_embd 2048, 16 layers, 32 heads (8 KV heads), n_ff 5632.
    "$agora" synth --arch llama --n-embd 2048 --n-layer 16 --n-head 32 --n-head-kv 8 --n-ff 5632 \
      --vocab-from "$vocab" --type "$type" --seed 1 "$model"
  fi
  echo "== $type" | tee -a "$out/results.md"
  "$agora" bench -m "$model" -t "$threads" -p 512 -n 128 -r "$reps" -b 1,4,8 --roofline | tee -a "$out/results.md"
  if [ -n "$llama_bench" ] && [ -x "$llama_bench" ]; then
    "$llama_bench" -m "$model" -t "$threads" -p 512 -n 128 -r "$reps" | tee -a "$out/results.md"
  fi
done
echo "results appended to $out/results.md"
