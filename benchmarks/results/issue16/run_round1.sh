#!/usr/bin/env bash
# P1/P2 and P3 before (c27b266, before issue 16's restructuring) and after (the final code),
# back to back on quiet cores.
set -u
source /work/venv/bin/activate
export PERSONAE_MODELS_DIR=/root/.local/share/personae/models
for round in 1; do
  for side in before after; do
    wt=/work/wt-$side
    echo "== P3 $side $(date +%T)"
    (cd $wt && PYTHONPATH=$wt/src:$wt timeout 1200 python -m benchmarks.bench_memory_latency --sizes 10000,100000 --turns 150) 2>&1 | tail -8
  done
  for side in before after; do
    wt=/work/wt-$side
    echo "== P1/P2 $side $(date +%T)"
    (cd $wt && PYTHONPATH=$wt/src:$wt timeout 1200 python -m benchmarks.bench_chat_latency --model smollm2-135m --runs 3) 2>&1 | tail -12
  done
done
echo "== done $(date +%T)"
