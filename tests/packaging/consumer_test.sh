#!/usr/bin/env bash
# Install + consumer test: `cmake --install` the already-built tree into a temporary prefix, then
# build tests/packaging/consumer against it two ways and run what was built:
#   1. CMake: find_package(ollm CONFIG REQUIRED) + target_link_libraries(... ollm::ollm)
#   2. pkg-config: the compiler with `pkg-config --cflags --libs ollm` (--static for a libollm.a)
# Nothing is rebuilt: the install copies files, the consumer is two small sources.
# Usage: consumer_test.sh BUILD_DIR WORK_DIR VERSION CMAKE GENERATOR MAKE_PROGRAM CC CXX PKG_CONFIG
set -euo pipefail
build=$1 work=$2 version=$3 cmake=$4 generator=$5 make_program=$6 cc=$7 cxx=$8 pkg_config=$9
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix

fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

# The installed layout.
pc=$(find "$prefix" -name ollm.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no lib*/pkgconfig/ollm.pc under $prefix"
libdir=$(dirname "$(dirname "$pc")")
for f in include/ollm.h include/ollm/export.h include/ollm/version.hpp include/ollm/engine.hpp; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
for f in cmake/ollm/ollmConfig.cmake cmake/ollm/ollmConfigVersion.cmake cmake/ollm/ollmTargets.cmake; do
  [ -f "$libdir/$f" ] || fail "${libdir#$prefix/}/$f not installed"
done
if [ -e "$libdir/libollm.so" ]; then
  static=0
  [ -L "$libdir/libollm.so" ] && [ -L "$libdir/libollm.so.${version%%.*}" ] && [ -f "$libdir/libollm.so.$version" ] \
    || fail "expected libollm.so -> libollm.so.${version%%.*} -> libollm.so.$version"
elif [ -f "$libdir/libollm.a" ]; then
  static=1
else
  fail "neither libollm.so nor libollm.a in $libdir"
fi
if find "$prefix" -name 'libollm_internal*' | grep -q .; then fail "ollm_internal (tests only) was installed"; fi
echo "installed: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"

# The package's version rules: same major version only.
for request in "$version:1" "0.0.1:1" "${version%%.*}.99:0" "1.0:0"; do
  rv=${request%%:*} want=${request##*:}
  got=$("$cmake" -DPACKAGE_FIND_VERSION="$rv" -DPACKAGE_FIND_VERSION_MAJOR="${rv%%.*}" \
         -DCMAKE_SIZEOF_VOID_P=8 -DVERSION_FILE="$libdir/cmake/ollm/ollmConfigVersion.cmake" \
         -P "$here/check_version_file.cmake" 2>&1)
  case "$got" in
    *"compatible=TRUE"*) [ "$want" = 1 ] || fail "ollm $version accepted find_package(ollm $rv)";;
    *"compatible=FALSE"*) [ "$want" = 0 ] || fail "ollm $version refused find_package(ollm $rv)";;
    *) fail "version file: $got";;
  esac
done

check_output() {  # name expected-substring command...
  local name=$1 expect=$2; shift 2
  local out
  out=$("$@" 2>&1) || { echo "$out"; fail "$name exited non-zero"; }
  echo "$name: $out"
  case "$out" in *"$expect"*) ;; *) fail "$name printed no '$expect'";; esac
}

# 1. CMake package.
"$cmake" -S "$here/consumer" -B "$work/cmake-build" -G "$generator" -DCMAKE_MAKE_PROGRAM="$make_program" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" > "$work/cmake-configure.log" 2>&1 \
  || { cat "$work/cmake-configure.log"; fail "consumer configure (find_package)"; }
grep -q "ollm $version from $libdir/cmake/ollm" "$work/cmake-configure.log" \
  || { cat "$work/cmake-configure.log"; fail "find_package did not pick the installed ollm $version"; }
"$cmake" --build "$work/cmake-build" > "$work/cmake-build.log" 2>&1 \
  || { cat "$work/cmake-build.log"; fail "consumer build (find_package)"; }
check_output "cmake consumer_cpp" "cpp: ollm $version (header $version)" "$work/cmake-build/consumer_cpp"
check_output "cmake consumer_c" "c: ollm $version" "$work/cmake-build/consumer_c"

# 2. pkg-config.
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
[ "$("$pkg_config" --modversion ollm)" = "$version" ] || fail "pkg-config --modversion ollm"
[ "$("$pkg_config" --variable=prefix ollm)" = "$prefix" ] || fail "ollm.pc prefix is not the install prefix"
static_flag=()
[ "$static" = 1 ] && static_flag=(--static)
read -r -a flags <<< "$("$pkg_config" "${static_flag[@]}" --cflags --libs ollm)"
echo "pkg-config ${static_flag[*]} --cflags --libs ollm: ${flags[*]}"
rpath=()
[ "$static" = 0 ] && rpath=("-Wl,-rpath,$libdir")
mkdir -p "$work/pc-build"
"$cxx" -std=c++20 -O1 "$here/consumer/main.cpp" -o "$work/pc-build/consumer_cpp" "${flags[@]}" "${rpath[@]}" \
  || fail "consumer_cpp build (pkg-config)"
"$cc" -std=c99 -O1 -c "$here/consumer/main.c" -o "$work/pc-build/main.o" "${flags[@]}" \
  || fail "consumer_c compile (pkg-config)"
# A static libollm is C++ inside: its Libs.private name libstdc++, so the C compiler links it too.
"$cc" "$work/pc-build/main.o" -o "$work/pc-build/consumer_c" "${flags[@]}" "${rpath[@]}" \
  || fail "consumer_c link (pkg-config)"
check_output "pkg-config consumer_cpp" "cpp: ollm $version (header $version)" "$work/pc-build/consumer_cpp"
check_output "pkg-config consumer_c" "c: ollm $version" "$work/pc-build/consumer_c"

rm -rf "$work"
echo "PASS: installed ollm $version ($([ "$static" = 1 ] && echo static || echo shared)) consumed through find_package and pkg-config"
