#!/usr/bin/env python3
# Digest of a GGUF file as the reference `gguf` package (GGUFReader) reads it: the file that
# tests/scripts/compare_inspect.py compares `ollm inspect --json --full-arrays` against.
"""Usage: gguf_inspect_reference.py MODEL.gguf OUT.json

The digest holds: version, alignment, tensor count, key count, the data section's absolute start
("data_section"); every metadata key in file order with its type and, for scalars, its value; for
arrays the element type, length and sha256 of
    json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
where values are plain Python values (float32 elements as float(np.float32): the exact double; nested
arrays as nested lists); every tensor with name, type name, dims in ggml ne order (ReaderTensor.shape),
"offset" RELATIVE to the data section (ReaderTensor.data_offset minus GGUFReader.data_offset; add
"data_section" for the absolute file offset) and n_bytes.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

import gguf
from gguf import GGUFValueType as VT


def array_sha256(values: list) -> str:
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _walk(parts: list, i: int, vtype: VT) -> tuple[Any, int]:
    """One value of `vtype` from GGUFReader field parts at parts[i] -> (python value, next index).
    Field parts keep nested arrays' structure: string = [len, bytes], scalar = [value],
    array = [element type, count, elements' parts...]."""
    if vtype == VT.STRING:
        return bytes(parts[i + 1]).decode("utf-8"), i + 2
    if vtype == VT.ARRAY:
        etype = VT(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(count):
            item, i = _walk(parts, i, etype)
            items.append(item)
        return (etype, items), i
    v = parts[i].tolist()[0]
    if vtype == VT.BOOL:
        v = bool(v)
    elif vtype in (VT.FLOAT32, VT.FLOAT64):
        v = float(v)
    else:
        v = int(v)
    return v, i + 1


def _plain(value: Any) -> Any:
    """Drops the element types that _walk keeps for nested arrays."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value[1]]
    return value


def digest(path: Path) -> dict:
    r = gguf.GGUFReader(path)
    metadata = []
    for field in list(r.fields.values())[3:]:  # skip GGUF.version, GGUF.tensor_count, GGUF.kv_count
        vtype = field.types[0]
        value, end = _walk(field.parts, 3, vtype)  # parts: key length, key bytes, value type, value...
        assert end == len(field.parts), field.name
        entry: dict[str, Any] = {"key": field.name, "type": vtype.name.lower()}
        if vtype == VT.ARRAY:
            etype, items = value
            values = [_plain(v) for v in items]
            entry.update(element_type=etype.name.lower(), length=len(values), sha256=array_sha256(values))
        else:
            entry["value"] = value
        metadata.append(entry)
    tensors = [{
        "name": t.name,
        "type": t.tensor_type.name,
        "dims": [int(d) for d in t.shape],
        "offset": int(t.data_offset) - int(r.data_offset),
        "n_bytes": int(t.n_bytes),
    } for t in r.tensors]
    return {
        "generator": f"gguf {importlib.metadata.version('gguf')} GGUFReader (scripts/reference/gguf_inspect_reference.py)",
        "source": path.name,
        "file_bytes": path.stat().st_size,
        "version": int(r.fields["GGUF.version"].parts[0][0]),
        "alignment": int(r.alignment),
        "data_section": int(r.data_offset),
        "kv_count": len(metadata),
        "tensor_count": len(tensors),
        "metadata": metadata,
        "tensors": tensors,
    }


def dump(d: dict) -> str:
    """JSON with one metadata entry or tensor per line: small diffs when the reference changes."""
    lines = ["{"]
    keys = list(d)
    for n, k in enumerate(keys):
        comma = "," if n + 1 < len(keys) else ""
        v = d[k]
        if isinstance(v, list):
            body = ",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in v)
            lines.append(f" {json.dumps(k)}: [\n{body}\n ]{comma}")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model, out = Path(sys.argv[1]), Path(sys.argv[2])
    d = digest(model)
    out.write_text(dump(d), encoding="utf-8")
    print(f"{out}: {d['kv_count']} keys, {d['tensor_count']} tensors from {model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
