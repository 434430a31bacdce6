#!/usr/bin/env bash
# The main job at this stage: build a project from the bundled sample, search it, then apply
# the v2 update and show that the answers follow the documents.
set -euo pipefail
cd "$(dirname "$0")/.."
RAGTUNE=".venv/bin/ragtune"
DEMO="demo"

rm -rf "$DEMO"
$RAGTUNE init "$DEMO"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Ingest the sample knowledge base (v1): .md, .txt, .html and .pdf"
$RAGTUNE -C "$DEMO" ingest examples/docs

step "Hybrid search (BM25 + packaged MiniLM, fused with RRF)"
$RAGTUNE -C "$DEMO" search "How many days of paid annual leave does a full-time employee get?" -k 2

step "Metadata filter, applied inside the query"
$RAGTUNE -C "$DEMO" search "approval limit" -k 3 --filter "department = finance"

step "Access control: a restricted document is invisible to other groups"
$RAGTUNE -C "$DEMO" search "salary band ranges" -k 2 --as-group hr
$RAGTUNE -C "$DEMO" search "salary band ranges" -k 2 --as-group engineering

step "Apply the v2 update: changed files replaced, new ones added, removed ones synced away"
$RAGTUNE -C "$DEMO" ingest examples/v2 --sync

step "The same question now finds the new fact"
$RAGTUNE -C "$DEMO" search "How many days of paid annual leave does a full-time employee get?" -k 1
$RAGTUNE -C "$DEMO" docs show hr/annual-leave.md

step "A grounded answer from the packaged SmolLM2-135M (converted once, ~30 s), with sources"
$RAGTUNE -C "$DEMO" ask "How many days of paid annual leave does a full-time employee get?" \
  --no-stream -k 3

step "Training data from the documents (offline QA pairs + house-style examples)"
$RAGTUNE -C "$DEMO" data build --style examples/style.jsonl

step "Retrieval quality on the sample's evaluation set"
.venv/bin/python bench/retrieval_sample.py
