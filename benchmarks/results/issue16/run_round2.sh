#!/usr/bin/env bash
set -u
source /work/venv/bin/activate
export PERSONAE_MODELS_DIR=/root/.local/share/personae/models
for side in after before; do
  wt=/work/wt-$side
  echo "== P1/P2 $side $(date +%T)"
  (cd $wt && PYTHONPATH=$wt/src:$wt timeout 1200 python -m benchmarks.bench_chat_latency --model smollm2-135m --runs 3) 2>&1 | tail -12
done
for side in after before after before; do
  wt=/work/wt-$side
  echo "== P3 $side $(date +%T)"
  (cd $wt && PYTHONPATH=$wt/src:$wt timeout 1200 python -m benchmarks.bench_memory_latency --sizes 10000,100000 --turns 150) 2>&1 | tail -4
done
echo "== done $(date +%T)"
