#!/usr/bin/env bash
# Runs the README's first command ("Two commands" section) on a pristine, minimal Debian 12:
# a `debootstrap --variant=minbase bookworm` chroot holding only the committed tree (git archive
# HEAD), as root, with nothing preinstalled. Reports PASS or FAIL, the failing step and the log.
# Run it whenever scripts/setup-debian.sh, the build's dependencies or get-model.sh change.
#
#   scripts/check-fresh-debian.sh [--tests | --tests-only] [--rebuild-image]
#     --tests        afterwards (if the first passed) also run the README's second command, the
#                    test suite, again from a pristine chroot
#     --tests-only   run only the second command
#     --rebuild-image  rebuild the cached pristine chroot
#
# Needs root (debootstrap, chroot, mount; re-runs itself through sudo when available). The pristine
# chroot is cached as ${OLLM_CACHE:-$HOME/.cache/ollm}/debian12-minbase.tar; every run unpacks it
# into a fresh directory under ${TMPDIR:-/var/tmp}, which is removed afterwards (the built tree is
# never cached). The chroot's mounts live in their own mount namespace and are unmounted on exit,
# failure and interruption. Logs: $OLLM_CACHE/logs/check-fresh-debian-<time>-<command>.log.
# The Debian mirror is the one apt is configured with here (override: OLLM_DEBIAN_MIRROR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

run_first=1 run_tests=0 rebuild=0
for arg in "$@"; do
  case "$arg" in
    --tests) run_tests=1 ;;
    --tests-only) run_first=0 run_tests=1 ;;
    --rebuild-image) rebuild=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-fresh-debian: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo > /dev/null 2>&1; then
    exec sudo OLLM_CACHE="${OLLM_CACHE:-$HOME/.cache/ollm}" ${OLLM_DEBIAN_MIRROR:+OLLM_DEBIAN_MIRROR="$OLLM_DEBIAN_MIRROR"} \
      ${OLLM_JOBS:+OLLM_JOBS="$OLLM_JOBS"} "$0" "$@"
  fi
  echo "check-fresh-debian: needs root (debootstrap, chroot, mount) and sudo is not installed" >&2
  exit 1
fi

# --- the commands, read from the README so that the check and the documentation cannot drift ------
# The first two ```sh blocks of the "## Two commands" section, one line each.
readme_command() {   # $1: 1 = build and run, 2 = test suite
  awk -v want="$1" '
    /^## / { in_section = ($0 ~ /^## Two commands/) ; next }
    in_section && /^```sh$/ { block++; inside = 1; next }
    in_section && /^```$/ { inside = 0; next }
    in_section && inside && block == want { print }
  ' "$root/README.md"
}
check_command() {    # $1: the text, $2: what it is
  if [ -z "$1" ] || [ "$(printf '%s\n' "$1" | wc -l)" -ne 1 ] || [[ "$1" != ./scripts/setup-debian.sh* ]]; then
    echo "check-fresh-debian: README.md's \"Two commands\" section no longer shows the $2 as one" \
         "\`\`\`sh line starting with ./scripts/setup-debian.sh; got: '$1'" >&2
    exit 2
  fi
}
first_command=$(readme_command 1); check_command "$first_command" "first command"
test_command=$(readme_command 2); check_command "$test_command" "test command"

for tool in debootstrap unshare chroot tar git; do
  if ! command -v "$tool" > /dev/null 2>&1; then
    if [ "$tool" = debootstrap ]; then
      echo "check-fresh-debian: installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap > /dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap > /dev/null; }
    else
      echo "check-fresh-debian: '$tool' is required" >&2; exit 1
    fi
  fi
done

# --- the mirror apt uses on this machine --------------------------------------------------------
# First URI serving suite $1, from one-line (.list) and deb822 (.sources) apt sources.
host_uri() {
  local files=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v suite="$1" '
    function has_suite(list,   n, i, s) { n = split(list, s, /[ \t]+/); for (i = 1; i <= n; i++) if (s[i] == suite) return 1; return 0 }
    function flush(   u) { if (types && uris != "" && has_suite(suites)) { split(uris, u, /[ \t]+/); print u[1]; found = 1; exit } types = 0; uris = ""; suites = "" }
    FNR == 1 { flush() }
    FILENAME ~ /\.list$/ && $1 == "deb" {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; found = 1; exit }
      next
    }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($1 == "Types:" && $0 ~ /[ \t]deb([ \t]|$)/) types = 1
      if ($1 == "URIs:") { uris = $0; sub(/^URIs:[ \t]*/, "", uris) }
      if ($1 == "Suites:") { suites = $0; sub(/^Suites:[ \t]*/, "", suites) }
    }
    END { if (!found) flush() }
  ' "${files[@]}"
}
mirror=${OLLM_DEBIAN_MIRROR:-$(host_uri bookworm)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(host_uri bookworm-security)
security=${security:-http://deb.debian.org/debian-security}

cache=${OLLM_CACHE:-$HOME/.cache/ollm}
image="$cache/debian12-minbase.tar"
logs="$cache/logs"
mkdir -p "$cache" "$logs"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

work=""
cleanup() {
  # Mounts were made in a private mount namespace (gone with it); this also unmounts anything left
  # under $work here before removing it, and never removes through a mount point.
  if [ -n "$work" ] && [ -d "$work" ]; then
    local m tries=0
    while m=$(awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r) && [ -n "$m" ]; do
      [ $tries -lt 5 ] || { echo "check-fresh-debian: mounts remain under $work; not removing it" >&2; return; }
      printf '%s\n' "$m" | while read -r p; do umount "$p" 2> /dev/null || umount -l "$p" 2> /dev/null || true; done
      tries=$((tries + 1))
    done
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the pristine image (cached) ----------------------------------------------------------------
if [ "$rebuild" = 1 ] || [ ! -s "$image" ]; then
  echo "check-fresh-debian: building the pristine chroot (debootstrap --variant=minbase bookworm $mirror)"
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/ollm-debian12.XXXXXX")
  bootstrap_log="$logs/check-fresh-debian-$stamp-debootstrap.log"
  if ! unshare --mount --propagation private \
       debootstrap --variant=minbase bookworm "$work/root" "$mirror" > "$bootstrap_log" 2>&1; then
    echo "check-fresh-debian: FAIL: debootstrap (log: $bootstrap_log)"; tail -n 20 "$bootstrap_log"; exit 1
  fi
  # The sources a standard Debian 12 install has (debootstrap writes only "bookworm main").
  cat > "$work/root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/root" -cpf "$image.tmp" . && mv "$image.tmp" "$image"
  rm -rf --one-file-system "$work"; work=""
  echo "check-fresh-debian: cached $image ($(du -h "$image" | cut -f1))"
fi

# --- one command in a fresh copy of the image ---------------------------------------------------
run_in_chroot() {   # $1: name (first|tests), $2: the command
  local name=$1 command=$2 log="$logs/check-fresh-debian-$stamp-$1.log" start rc
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/ollm-debian12.XXXXXX")
  local r="$work/root"
  mkdir -p "$r"
  tar --numeric-owner -C "$r" -xpf "$image"
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  # Site CAs this host adds to its trust store (e.g. a TLS-intercepting proxy's) are needed to reach
  # PyPI from here. They are only placed where update-ca-certificates looks, so they take effect
  # only once setup-debian.sh has installed ca-certificates: a missing ca-certificates still fails.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
    mkdir -p "$r/usr/local/share/ca-certificates"
    cp -L /usr/local/share/ca-certificates/*.crt "$r/usr/local/share/ca-certificates/"
    echo "check-fresh-debian: [$name] copied this host's site CAs: $(cd /usr/local/share/ca-certificates && echo *.crt)"
  fi
  # Daemons must not start inside the chroot (none of ours are, but a dependency could be).
  printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"; chmod +x "$r/usr/sbin/policy-rc.d"
  mkdir -p "$r/root/ollm"
  git -C "$root" archive HEAD | tar -C "$r/root/ollm" -xf -
  if ! git -C "$root" diff --quiet HEAD -- 2> /dev/null; then
    echo "check-fresh-debian: note: the working tree has uncommitted changes; checking HEAD ($(git -C "$root" rev-parse --short HEAD))"
  fi
  echo "check-fresh-debian: [$name] $command"
  echo "check-fresh-debian: [$name] log: $log"
  start=$(date +%s)
  # Inside: a private mount namespace whose mounts the inner trap unmounts (and which the kernel
  # drops with its last process anyway); bash -x with a marked PS4 records each step of the command.
  set +e
  unshare --mount --propagation private bash -c '
    set -eu
    r=$1; shift
    undo() { umount -R "$r/dev" "$r/sys" "$r/proc" 2> /dev/null || umount -l "$r/dev" "$r/sys" "$r/proc" 2> /dev/null || true; }
    trap undo EXIT
    mount -t proc proc "$r/proc"
    mount -t sysfs sys "$r/sys"
    mount --rbind /dev "$r/dev"; mount --make-rslave "$r/dev"
    chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' inner "$r" ${OLLM_JOBS:+OLLM_JOBS="$OLLM_JOBS"} /bin/bash -c \
    "PS4='+[step \$(date -u +%T)] '; set -x; cd /root/ollm; $command" > "$log" 2>&1 < /dev/null
  rc=$?
  set -e
  local seconds=$(( $(date +%s) - start ))
  local duration="$((seconds / 60)) min $((seconds % 60)) s"
  cleanup; work=""
  if [ "$rc" -eq 0 ]; then
    echo "check-fresh-debian: [$name] PASS in $duration (log: $log)"
    tail -n 15 "$log"
    return 0
  fi
  local step
  step=$(grep -a '^+\[step ' "$log" | tail -n 1 | sed 's/^+\[step [0-9:]*\] //')
  # Command substitutions ($(...)) traced just before it: a failing one shows up as an empty argument.
  local inner
  inner=$(awk '/^\+\[step / { last = s; s = "" } /^\+\+\[step / { sub(/^\+\+\[step [0-9:]*\] /, ""); s = s (s == "" ? "" : "; ") $0 } END { print last }' "$log")
  echo "check-fresh-debian: [$name] FAIL (exit $rc) after $duration at step: ${step:-before the first step}"
  [ -z "$inner" ] || echo "check-fresh-debian: [$name] that step's command substitutions: $inner"
  echo "check-fresh-debian: [$name] log: $log; its end:"
  tail -n 30 "$log"
  return 1
}

# Not called in an || list, so that set -e holds inside; a FAIL ends the script with status 1.
if [ "$run_first" = 1 ]; then run_in_chroot first "$first_command"; fi
if [ "$run_tests" = 1 ]; then run_in_chroot tests "$test_command"; fi
