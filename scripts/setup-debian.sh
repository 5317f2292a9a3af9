#!/usr/bin/env bash
# Installs everything ollm needs to build, test and fetch its default model on Debian 12, down to a
# bare `debootstrap --variant=minbase bookworm` system (scripts/check-fresh-debian.sh checks that).
# Runs apt-get as root: directly when started as root (a minimal system has no sudo), through sudo
# when started by another user.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git xz-utils python3 python3-pip
  ca-certificates                   # pip fetches the default model from PyPI over HTTPS
  clang libclang-rt-14-dev          # libFuzzer and the sanitizer runtimes for the hardening jobs
  libeigen3-dev libdnnl-dev libfmt-dev doctest-dev libbenchmark-dev
  # Debian's oneDNN is built with its OpenCL GPU runtime: dnnl-config.cmake calls
  # find_package(OpenCL REQUIRED) even though ollm uses only the CPU engine, and libdnnl-dev
  # merely recommends these.
  opencl-headers ocl-icd-opencl-dev
  libsimdjson-dev libcli11-dev libpcre2-dev libutf8proc-dev libssl-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo > /dev/null 2>&1; then
      echo "setup-debian: ${#missing[@]} packages are missing (${missing[*]}) and installing them needs" \
           "root, but this is user $(id -un) and sudo is not installed; run this script as root" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  # env passes DEBIAN_FRONTEND through sudo, which resets the environment.
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup-debian: all ${#packages[@]} packages present"
