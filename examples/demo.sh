#!/usr/bin/env bash
# The main job on the bundled sample: `ragtune pilot` on v1 of the documents, with the v2
# update (freshness), the house-style examples (style LoRA) and the sample's advice profile.
# Prints the report's path and the recommendation.
#
# The knobs aim at ~10 minutes on 2 idle CPU cores; measured 7.5 (450 s; README, "ragtune pilot"):
#   36 of the 85 evaluation questions, picked in turn from changed-fact, unanswerable and
#   other questions (so freshness and abstention are still measured: 12 changed, 10
#   unanswerable, 14 others); 32 new tokens per answer (the gold answers are short facts;
#   on the sample 32 scored higher than 64); k = 2 passages per prompt (prefill of the
#   prompt is most of a RAG answer's CPU time, and RAFT examples hold k passages; on the
#   sample k=2 scored -0.01 F1 [-0.07, +0.05] vs k=3, bench/RESULTS.md); 40 knowledge-LoRA
#   steps (160 QA examples seen), 18 style-LoRA steps (3 epochs of the 24 training style
#   lines), 16 RAFT steps (32 long RAFT prompts: the most expensive examples to train on).
# Re-running skips every stage whose inputs did not change. DEMO_ARGS adds or overrides flags.
set -euo pipefail
cd "$(dirname "$0")/.."
RAGTUNE=".venv/bin/ragtune"
DEMO="${DEMO_DIR:-demo}"

# DEMO_BACKEND=llamacpp answers with llama.cpp (after `make setup-llamacpp`); the default,
# transformers, is faster here: the pilot's answers are batched and prompt evaluation is
# compute-bound (bench/NOTES.md, "llama.cpp in the pilot").
BACKEND="${DEMO_BACKEND:-transformers}"

started=$(date +%s)
$RAGTUNE -C "$DEMO" pilot examples/docs --backend "$BACKEND" \
  --eval examples/eval.jsonl --update examples/v2 --style examples/style.jsonl \
  --profile examples/profile.toml \
  --questions "${DEMO_QUESTIONS:-36}" --max-new-tokens 32 -k 2 \
  --knowledge-steps 40 --style-steps 18 --raft-steps 16 ${DEMO_ARGS:-}
printf '\npilot wall time: %s s (load average: %s)\n' "$(( $(date +%s) - started ))" \
  "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
case "$DEMO" in /*) where="$DEMO" ;; *) where="$(pwd)/$DEMO" ;; esac
printf 'open the report: %s\n' "$where/.ragtune/reports/pilot.html"
