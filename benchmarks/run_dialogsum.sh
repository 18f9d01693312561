#!/usr/bin/env bash
# Reproduces benchmarks/results/dialogsum/: DialogSum dev (500) for smollm2-135m and
# qwen2.5-coder-0.5b, the first 100 for qwen2.5-coder-1.5b, three strategies each.
# Resumable: predictions are cached in $OUT/dialogsum.cache.jsonl, so rerunning continues.
# Runs grow in steps of 100 dialogues so early results exist for every model.
#   DATA=../shared/data/dialogsum/dialogsum.dev.jsonl bash benchmarks/run_dialogsum.sh
set -euo pipefail
DATA=${DATA:-../shared/data/dialogsum/dialogsum.dev.jsonl}
OUT=${OUT:-benchmarks/results/dialogsum}
run() { ${LOCK:-} personae eval dialogsum --data "$DATA" --out "$OUT" --ctx 4096 "$@"; }

run --model smollm2-135m --strategy zero-shot --strategy few-shot --strategy consensus --limit 100
run --model qwen2.5-coder-0.5b --strategy few-shot --limit 100
run --model qwen2.5-coder-1.5b --strategy few-shot --limit 100
run --model qwen2.5-coder-0.5b --strategy zero-shot --strategy consensus --limit 100
run --model qwen2.5-coder-1.5b --strategy zero-shot --limit 100
for limit in 200 300 400 500; do
  for model in smollm2-135m qwen2.5-coder-0.5b; do
    run --model "$model" --strategy zero-shot --strategy few-shot --strategy consensus \
      --limit "$limit"
  done
done
run --model qwen2.5-coder-1.5b --strategy consensus --limit 100
run --baselines-only
