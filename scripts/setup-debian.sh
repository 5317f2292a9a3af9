#!/usr/bin/env bash
# Installs everything ollm needs to build, test and fetch its default model on Debian 12.
# Runs apt-get as root (directly, or through sudo when started by another user).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config git xz-utils python3 python3-pip
  clang libclang-rt-14-dev          # libFuzzer and the sanitizer runtimes for the hardening jobs
  libeigen3-dev libdnnl-dev libfmt-dev doctest-dev libbenchmark-dev
  opencl-headers ocl-icd-opencl-dev # dnnl-config.cmake calls find_package(OpenCL) even for a CPU-only oneDNN
  libsimdjson-dev libcli11-dev libpcre2-dev libutf8proc-dev libssl-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup-debian: all ${#packages[@]} packages present"
