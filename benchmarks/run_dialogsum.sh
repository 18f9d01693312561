#!/usr/bin/env bash
# Reproduces benchmarks/results/dialogsum/: DialogSum dev (500) for smollm2-135m and
# qwen2.5-coder-0.5b, the first 100 for qwen2.5-coder-1.5b, three strategies each.
# Resumable: predictions are cached in $OUT/dialogsum.cache.jsonl, so rerunning continues.
# Early steps cover 100 dialogues so results exist for every model before the long runs.
#   DATA=../shared/data/dialogsum/dialogsum.dev.jsonl bash benchmarks/run_dialogsum.sh
set -euo pipefail
DATA=${DATA:-../shared/data/dialogsum/dialogsum.dev.jsonl}
OUT=${OUT:-benchmarks/results/dialogsum}
run() { ${LOCK:-} personae eval dialogsum --data "$DATA" --out "$OUT" --ctx 4096 "$@"; }

# Order = priority: the cheap, required rows first, so an interrupted run still leaves
# the table that matters most. Rerunning skips everything already in the cache.
run --model smollm2-135m --strategy zero-shot --strategy few-shot --strategy consensus --limit 100
run --model qwen2.5-coder-0.5b --strategy few-shot --limit 100
run --model qwen2.5-coder-1.5b --strategy few-shot --limit 100
run --model qwen2.5-coder-0.5b --strategy zero-shot --limit 100
run --model qwen2.5-coder-0.5b --strategy few-shot --limit 500
run --model smollm2-135m --strategy zero-shot --strategy few-shot --limit 500
run --model qwen2.5-coder-0.5b --strategy zero-shot --limit 500
run --model smollm2-135m --strategy zero-shot --strategy few-shot --strategy consensus --limit 500
run --model qwen2.5-coder-0.5b --strategy consensus --limit 100
run --model qwen2.5-coder-1.5b --strategy zero-shot --limit 100
run --model qwen2.5-coder-0.5b --strategy zero-shot --strategy few-shot --strategy consensus --limit 500
run --model qwen2.5-coder-1.5b --strategy consensus --limit 100
run --baselines-only
