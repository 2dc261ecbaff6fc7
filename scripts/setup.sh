#!/usr/bin/env bash
# README command 1: install dependencies, build the release binary, and run the main job on the
# shipped sample model and data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
echo
echo "== fluxscore inspect examples/models/fastflux_tree.pmml"
build/release/fluxscore inspect examples/models/fastflux_tree.pmml
echo
echo "== fluxscore score --model examples/models/fastflux_tree.pmml --input examples/data/domain_features.csv --keep domain"
build/release/fluxscore score --model examples/models/fastflux_tree.pmml \
  --input examples/data/domain_features.csv --keep domain
