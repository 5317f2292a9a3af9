#!/usr/bin/env python3
"""The shared libollm exports only its API: the C ABI (ollm_*) and the C++ API (namespace ollm).

Runs `nm -D --defined-only -C` on the library and fails, listing them, on any other exported
symbol (a std::, fmt or simdjson template instantiation leaking out would show here). Also checks
the SONAME (libollm.so.<major>). cmake/ollm.map is the version script that makes this hold.

Usage: check_exports.py --nm NM [--readelf READELF --soname libollm.so.0] LIBRARY
"""
import argparse
import re
import subprocess
import sys

# Demangled forms that belong to namespace ollm (the version script's extern "C++" patterns).
ALLOWED_PREFIXES = (
    "ollm::",
    "typeinfo for ollm::",
    "typeinfo name for ollm::",
    "vtable for ollm::",
    "VTT for ollm::",
    "construction vtable for ollm::",
    "non-virtual thunk to ollm::",
    "virtual thunk to ollm::",
    "covariant return thunk to ollm::",
    "guard variable for ollm::",
)
C_SYMBOL = re.compile(r"^ollm_[A-Za-z0-9_]*$")


def allowed(name: str) -> bool:
    if C_SYMBOL.match(name):
        return True
    return name.startswith(ALLOWED_PREFIXES)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nm", default="nm")
    parser.add_argument("--readelf", default="")
    parser.add_argument("--soname", default="")
    parser.add_argument("library")
    args = parser.parse_args()

    out = subprocess.run([args.nm, "-D", "--defined-only", "-C", args.library],
                         check=True, capture_output=True, text=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split(None, 2)  # address, type, name (a demangled name has spaces)
        if len(parts) == 3:
            symbols.append((parts[1], parts[2]))
    c_api = [name for _, name in symbols if C_SYMBOL.match(name)]
    cpp_api = [name for _, name in symbols if not C_SYMBOL.match(name) and allowed(name)]
    leaked = sorted(f"{kind} {name}" for kind, name in symbols if not allowed(name))

    failed = False
    print(f"{args.library}: {len(symbols)} exported symbols: {len(c_api)} C (ollm_*), "
          f"{len(cpp_api)} C++ (ollm::)")
    if "ollm_version" not in c_api or not any(n.startswith("ollm::version_string") for n in cpp_api):
        print("FAIL: ollm_version or ollm::version_string() is not exported")
        failed = True
    if leaked:
        print(f"FAIL: {len(leaked)} exported symbols are neither ollm_* nor in namespace ollm:")
        for entry in leaked:
            print("  " + entry)
        failed = True

    if args.soname:
        dynamic = subprocess.run([args.readelf or "readelf", "-d", args.library],
                                 check=True, capture_output=True, text=True).stdout
        match = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic)
        soname = match.group(1) if match else None
        print(f"SONAME: {soname}")
        if soname != args.soname:
            print(f"FAIL: SONAME is {soname}, expected {args.soname}")
            failed = True

    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
