#!/usr/bin/env python3
# Runs `ollm inspect MODEL --json --full-arrays` and compares it with a digest the reference gguf package
# produced (scripts/reference/gguf_inspect_reference.py). Standard library only; exit 77 skips (no model).
"""Usage: compare_inspect.py OLLM_BINARY MODEL.gguf REFERENCE.json

Prints every difference and exits 1 on any, 0 when ollm reads the model exactly as gguf-py does.
Array values are hashed as the reference hashes them, after converting each element by its declared
type: ollm prints float32 metadata as the shortest text of the exact double ("1e+06", "1"), which
json.loads would otherwise turn into an int or a differently printed float; "-0" is read as -0.0.
"""
import hashlib
import json
import os
import subprocess
import sys

SKIP = 77
INT_TYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"}


def convert(value, vtype):
    if vtype in ("float32", "float64"):
        return float(value)
    if vtype in INT_TYPES:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if vtype == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not a bool")
        return value
    if vtype == "string":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        return value
    # Nested arrays: ollm prints them as nested JSON arrays without their element types.
    return value


def array_sha256(values):
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ollm_digest(doc):
    metadata = []
    for m in doc.get("metadata", []):
        entry = {"key": m["key"], "type": m["type"]}
        if m["type"] == "array":
            values = [convert(v, m["element_type"]) for v in m["value"]]
            entry.update(element_type=m["element_type"], length=m["length"], sha256=array_sha256(values))
            if m.get("truncated") or len(values) != m["length"]:
                entry["problem"] = f"printed {len(values)} of {m['length']} elements (truncated: {m.get('truncated')})"
        else:
            entry["value"] = convert(m["value"], m["type"])
        metadata.append(entry)
    tensors = [{"name": t["name"], "type": t["type"], "dims": t["dims"], "offset": t.get("offset"), "n_bytes": t["n_bytes"]}
               for t in doc.get("tensors", [])]
    return {
        "file_bytes": doc.get("file_bytes"),
        "version": doc.get("version"),
        "alignment": doc.get("alignment"),
        "kv_count": len(metadata),
        "tensor_count": len(tensors),
        "metadata": metadata,
        "tensors": tensors,
    }


def compare(ref, got):
    diffs = []
    for field in ("file_bytes", "version", "alignment", "kv_count", "tensor_count"):
        if ref[field] != got[field]:
            diffs.append(f"{field}: gguf-py {ref[field]!r}, ollm {got[field]!r}")
    ref_md = {m["key"]: m for m in ref["metadata"]}
    got_md = {m["key"]: m for m in got["metadata"]}
    for key in ref_md.keys() - got_md.keys():
        diffs.append(f"metadata key {key!r}: missing from ollm's output")
    for key in got_md.keys() - ref_md.keys():
        diffs.append(f"metadata key {key!r}: in ollm's output but not in the reference")
    ref_order = [m["key"] for m in ref["metadata"]]
    got_order = [m["key"] for m in got["metadata"]]
    if ref_order != got_order and set(ref_order) == set(got_order):
        diffs.append("metadata keys are in a different order than in the file")
    for key in ref_order:
        if key in got_md and ref_md[key] != got_md[key]:
            r, g = ref_md[key], got_md[key]
            for f in sorted(set(r) | set(g)):
                if r.get(f) != g.get(f):
                    diffs.append(f"metadata {key!r} {f}: gguf-py {r.get(f)!r}, ollm {g.get(f)!r}")
    ref_t = {t["name"]: t for t in ref["tensors"]}
    got_t = {t["name"]: t for t in got["tensors"]}
    for name in ref_t.keys() - got_t.keys():
        diffs.append(f"tensor {name!r}: missing from ollm's output")
    for name in got_t.keys() - ref_t.keys():
        diffs.append(f"tensor {name!r}: in ollm's output but not in the reference")
    if [t["name"] for t in ref["tensors"]] != [t["name"] for t in got["tensors"]] and ref_t.keys() == got_t.keys():
        diffs.append("tensors are in a different order than in the file")
    for t in ref["tensors"]:
        g = got_t.get(t["name"])
        if g is None:
            continue
        for f in ("type", "dims", "offset", "n_bytes"):
            if t[f] != g[f]:
                diffs.append(f"tensor {t['name']!r} {f}: gguf-py {t[f]!r}, ollm {g[f]!r}")
    return diffs


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, model, reference = sys.argv[1:]
    if not os.path.isfile(model):
        print(f"skipped: model {model} does not exist (download it to run this check)")
        return SKIP
    with open(reference, encoding="utf-8") as f:
        ref = json.load(f)
    run = subprocess.run([binary, "inspect", model, "--json", "--full-arrays"], capture_output=True)
    if run.returncode != 0:
        print(f"{binary} inspect exited {run.returncode}:\n{run.stderr.decode('utf-8', 'replace')}")
        return 1
    try:
        # "-0" is how ollm prints a float -0.0 (tokenizer scores have one); json.loads would make it int 0
        # and lose the sign. Integer-typed values never print as "-0".
        doc = json.loads(run.stdout.decode("utf-8"), parse_int=lambda t: -0.0 if t == "-0" else int(t))
        got = ollm_digest(doc)
    except (ValueError, KeyError, TypeError) as e:
        print(f"cannot read ollm's JSON output: {e}")
        return 1
    diffs = compare(ref, got)
    diffs += [f"metadata {m['key']!r}: {m['problem']}" for m in got["metadata"] if "problem" in m]
    for d in diffs:
        print(d)
    if diffs:
        print(f"{len(diffs)} difference(s) between ollm inspect and gguf-py for {model}")
        return 1
    print(f"ollm inspect matches gguf-py: {got['kv_count']} keys, {got['tensor_count']} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
