"""The glTF 2.0 format itself, both ways, on plain JSON dicts: GLB framing, component and element types,
reading bufferViews and accessors (bounds checked, sparse and normalised ones included) and writing them.

Reading resolves buffers and images from data URIs, the GLB binary chunk or files beside the document, and
never reads outside the document's folder: a broken or hostile file becomes one `GltfError` line. The
avatar loader, the exporter, the head builder and the tests' file factory all use this module.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from .errors import UserError
from .files import check_input_file, parse_json

BYTE, UNSIGNED_BYTE, SHORT, UNSIGNED_SHORT, UNSIGNED_INT, FLOAT = 5120, 5121, 5122, 5123, 5125, 5126
COMPONENT_DTYPES = {BYTE: np.int8, UNSIGNED_BYTE: np.uint8, SHORT: np.int16, UNSIGNED_SHORT: np.uint16,
                    UNSIGNED_INT: np.uint32, FLOAT: np.float32}
TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
KINDS = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 16: "MAT4"}  # element type by component count
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963  # bufferView targets: vertex attributes, indices
TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN = 4, 5, 6
GLB_MAGIC, GLB_VERSION, JSON_CHUNK, BIN_CHUNK = b"glTF", 2, b"JSON", b"BIN\0"
MAX_FILE_BYTES = 1 << 31
MAX_ITEMS = 100_000  # nodes, meshes, accessors, ... of one kind: real avatars have thousands at most
MAX_ELEMENTS = 1 << 24  # elements of an accessor that has no bufferView (all zeros, or sparse)
# The fields of glTF 2.0's objects that meshsync reads, with the kind of value the specification allows: checked
# when a document is read, so a wrong type is one line naming the field instead of a failure deep inside.
FIELDS = {
    "scenes": {"nodes": "indices"},
    "nodes": {"children": "indices", "mesh": "index", "skin": "index", "matrix": "numbers16",
              "translation": "numbers3", "rotation": "numbers4", "scale": "numbers3", "name": "string"},
    "meshes": {"primitives": "objects", "name": "string"},
    "primitives": {"attributes": "index map", "indices": "index", "material": "index", "mode": "index",
                   "targets": "index maps"},
    "accessors": {"bufferView": "index", "byteOffset": "index", "componentType": "index", "count": "index",
                  "type": "string", "normalized": "bool", "sparse": "object"},
    "bufferViews": {"buffer": "index", "byteOffset": "index", "byteLength": "index", "byteStride": "index"},
    "buffers": {"uri": "string", "byteLength": "index"},
    "materials": {"name": "string", "pbrMetallicRoughness": "object", "doubleSided": "bool",
                  "emissiveFactor": "numbers3", "emissiveTexture": "object", "alphaMode": "string",
                  "alphaCutoff": "number", "normalTexture": "object", "occlusionTexture": "object"},
    "pbrMetallicRoughness": {"baseColorFactor": "numbers4", "baseColorTexture": "object",
                             "metallicFactor": "number", "roughnessFactor": "number",
                             "metallicRoughnessTexture": "object"},
    "textures": {"source": "index"},
    "images": {"uri": "string", "bufferView": "index", "mimeType": "string"},
    "skins": {"joints": "indices", "inverseBindMatrices": "index"},
}
MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


class GltfError(UserError):
    """A glTF file that cannot be used; the message names the file and the problem."""


@contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Around reading a document: malformed structure that slipped past the explicit checks is still the
    file's fault, not meshsync's, and becomes one GltfError line too."""
    try:
        yield
    except GltfError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, struct.error, OverflowError) as exc:
        raise GltfError(f"{path}: malformed glTF ({type(exc).__name__}: {exc})") from exc


# -- framing --------------------------------------------------------------------------------------


def to_json(doc: dict) -> bytes:
    """The document as compact UTF-8 JSON, the same bytes for the same document."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def glb_bytes(doc: dict, blob: bytes) -> bytes:
    """A GLB file: header, the JSON chunk (padded with spaces) and the binary chunk (padded with zeros)."""
    text = to_json(doc)
    text += b" " * (-len(text) % 4)
    binary = blob + b"\0" * (-len(blob) % 4)
    return (struct.pack("<4sII", GLB_MAGIC, GLB_VERSION, 12 + 8 + len(text) + 8 + len(binary))
            + struct.pack("<I4s", len(text), JSON_CHUNK) + text + struct.pack("<I4s", len(binary), BIN_CHUNK) + binary)


def parse_glb(data: bytes, path: Path) -> tuple[dict, bytes | None]:
    """The JSON document and the binary chunk (None when absent) of a GLB file's bytes."""
    if len(data) < 20:
        raise GltfError(f"{path}: truncated GLB header")
    _, version, length = struct.unpack_from("<III", data, 0)
    if version != GLB_VERSION:
        raise GltfError(f"{path}: GLB version {version}; only glTF 2.0 is supported")
    if length > len(data):
        raise GltfError(f"{path}: truncated GLB ({len(data)} of {length} bytes)")
    chunks: dict[bytes, bytes] = {}
    offset = 12
    while offset + 8 <= length:
        size, kind = struct.unpack_from("<I4s", data, offset)
        if offset + 8 + size > length:
            raise GltfError(f"{path}: GLB chunk runs past the end of the file")
        chunks.setdefault(kind, data[offset + 8: offset + 8 + size])
        offset += 8 + size + (-size % 4)
    if JSON_CHUNK not in chunks:
        raise GltfError(f"{path}: GLB without a JSON chunk")
    try:
        doc = parse_json(chunks[JSON_CHUNK].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise GltfError(f"{path}: GLB JSON chunk is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise GltfError(f"{path}: GLB JSON chunk is not a glTF object")
    return doc, chunks.get(BIN_CHUNK)


def check_fields(doc: dict, path: Path) -> None:
    """Every object meshsync reads holds the kinds of values FIELDS names, and no list is absurdly long."""
    for kind in FIELDS:
        if kind in ("primitives", "pbrMetallicRoughness"):
            continue
        items = doc.get(kind)
        if items is None:
            continue
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise GltfError(f"{path}: '{kind}' must be a list of at most {MAX_ITEMS} objects")
        for i, item in enumerate(items):
            _check_object(item, kind, f"{kind}[{i}]", path)
            for j, primitive in enumerate((item.get("primitives") or []) if kind == "meshes" else []):
                _check_object(primitive, "primitives", f"{kind}[{i}].primitives[{j}]", path)
            if kind == "materials" and item.get("pbrMetallicRoughness") is not None:
                _check_object(item["pbrMetallicRoughness"], "pbrMetallicRoughness",
                              f"{kind}[{i}].pbrMetallicRoughness", path)


def _check_object(item, kind: str, where: str, path: Path) -> None:
    if not isinstance(item, dict):
        raise GltfError(f"{path}: {where} must be a JSON object")
    for name, expected in FIELDS[kind].items():
        value = item.get(name)
        if value is not None and not is_kind(value, expected):
            raise GltfError(f"{path}: {where}.{name} must be {_words(expected)}, not {json.dumps(value)[:40]}")


def _words(expected: str) -> str:
    """A kind of value of FIELDS in words."""
    if expected.startswith("numbers"):
        return f"a list of {expected[7:]} finite numbers"
    return {"index": "a whole number from 0", "indices": "a list of whole numbers from 0",
            "objects": "a list of objects", "index map": "an object of names and whole numbers",
            "index maps": "a list of objects of names and whole numbers", "number": "a finite number",
            "string": "text", "bool": "true or false", "object": "an object"}[expected]


def is_kind(value, expected: str) -> bool:
    """Whether a JSON value is of the kind FIELDS names ("index", "number", "numbers3", ...)."""
    if expected == "index":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if expected.startswith("numbers"):
        size = int(expected[7:])
        return isinstance(value, list) and len(value) == size and all(is_kind(v, "number") for v in value)
    if expected == "indices":
        return isinstance(value, list) and all(is_kind(v, "index") for v in value)
    if expected == "index map":
        return isinstance(value, dict) and all(is_kind(v, "index") for v in value.values())
    if expected == "index maps":
        return isinstance(value, list) and all(is_kind(v, "index map") for v in value)
    if expected == "objects":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    return isinstance(value, {"string": str, "bool": bool, "object": dict}[expected])


# -- reading --------------------------------------------------------------------------------------


class Document:
    """A .glb or .gltf file's JSON (`json`), with its buffers, bufferViews and accessors read on demand and
    cached, so shared accessors give shared arrays."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.json, self._blob = self._parse()
        check_fields(self.json, self.path)
        self.folder = self.path.resolve().parent
        self._buffers: dict[int, bytes] = {}
        self._accessors: dict[int, np.ndarray] = {}

    def fail(self, detail: str) -> GltfError:
        return GltfError(f"{self.path}: {detail}")

    def _parse(self) -> tuple[dict, bytes | None]:
        path = self.path
        check_input_file(path, "avatar file", GltfError)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise GltfError(f"{path}: larger than 2 GiB; not a usable avatar")
        data = path.read_bytes()
        if data[:4] == GLB_MAGIC:
            return parse_glb(data, path)
        try:
            doc = parse_json(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise GltfError(f"{path}: not a glTF or GLB file (neither GLB header nor JSON: {exc})") from None
        if not isinstance(doc, dict) or "asset" not in doc:
            raise GltfError(f"{path}: JSON but not glTF (no 'asset' object)")
        return doc, None

    def items(self, kind: str) -> list:
        """The document's list of `kind` (nodes, meshes, ...), empty when it has none."""
        return self.json.get(kind) or []

    def item(self, kind: str, index, what: str) -> dict:
        """Entry `index` of the document's `kind` list, checked."""
        items = self.items(kind)
        if not isinstance(index, int) or not 0 <= index < len(items):
            raise self.fail(f"{what} index {index!r} out of range (file has {len(items)})")
        return items[index]

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            buf = self.item("buffers", index, "buffer")
            uri, length = buf.get("uri"), buf.get("byteLength")
            if uri is None:
                if index != 0 or self._blob is None:
                    raise self.fail(f"buffer {index} has no uri and there is no GLB binary chunk")
                data = self._blob
            else:
                data = self.read_uri(uri, f"buffer {index}")
            if not isinstance(length, int) or len(data) < length:
                raise self.fail(f"buffer {index} is shorter ({len(data)} bytes) than its byteLength {length}")
            self._buffers[index] = data
        return self._buffers[index]

    def buffers(self) -> list[bytes]:
        return [self.buffer(i) for i in range(len(self.items("buffers")))]

    def uri_images(self) -> dict[int, bytes]:
        """The bytes of every image stored by URI, by image index."""
        return {i: self.read_uri(image["uri"], f"image {i}")
                for i, image in enumerate(self.items("images")) if image.get("uri") is not None}

    def read_uri(self, uri: str, what: str) -> bytes:
        """Bytes of a data: URI or of a file inside the document's folder (nothing outside it is read)."""
        if uri.startswith("data:"):
            header, _, payload = uri.partition(",")
            if not header.endswith(";base64"):
                raise self.fail(f"{what}: only base64 data URIs are supported")
            try:
                return base64.b64decode(payload, validate=True)
            except ValueError:
                raise self.fail(f"{what}: invalid base64 data URI") from None
        relative = unquote(uri)
        if "://" in relative or relative.startswith(("/", "\\")) or (len(relative) > 1 and relative[1] == ":"):
            raise self.fail(f"{what}: uri {uri!r} is not a relative path; external files must sit beside the avatar")
        target = (self.folder / relative).resolve()
        if not target.is_relative_to(self.folder):
            raise self.fail(f"{what}: uri {uri!r} points outside the avatar's folder; refusing to read it")
        if not target.is_file():
            raise self.fail(f"{what}: file {relative!r} is missing next to the avatar")
        return target.read_bytes()

    def view(self, index: int) -> tuple[bytes, int, int, int | None]:
        """(buffer, start, length, stride) of a bufferView, bounds-checked."""
        view = self.item("bufferViews", index, "bufferView")
        data = self.buffer(view.get("buffer"))
        start, length = view.get("byteOffset") or 0, view.get("byteLength")
        if not isinstance(length, int) or start < 0 or length < 0 or start + length > len(data):
            raise self.fail(f"bufferView {index} lies outside its buffer")
        return data, start, length, view.get("byteStride")

    def view_bytes(self, index: int) -> bytes:
        data, start, length, _ = self.view(index)
        return data[start:start + length]

    def accessor(self, index: int) -> np.ndarray:
        """An accessor as a read-only (count, components) array: float32 when normalised or float, else
        integers."""
        if index not in self._accessors:
            acc = self.item("accessors", index, "accessor")
            dtype = COMPONENT_DTYPES.get(acc.get("componentType"))
            ncomp, count = TYPE_SIZES.get(acc.get("type")), acc.get("count")
            if dtype is None or ncomp is None or not isinstance(count, int) or count < 0:
                raise self.fail(f"accessor {index} has an invalid type, componentType or count")
            array = self._dense(index, acc, np.dtype(dtype), ncomp)
            if acc.get("sparse") is not None:
                array = self._apply_sparse(index, acc, array, np.dtype(dtype), ncomp)
            if acc.get("normalized") and array.dtype != np.float32:
                array = array.astype(np.float32) / np.iinfo(array.dtype).max
                array = np.maximum(array, -1.0)
            array.setflags(write=False)
            self._accessors[index] = array
        return self._accessors[index]

    def _dense(self, index: int, acc: dict, dtype: np.dtype, ncomp: int) -> np.ndarray:
        count = acc["count"]
        if acc.get("bufferView") is None:
            if count * ncomp > MAX_ELEMENTS:
                raise self.fail(f"accessor {index}: {count} elements without a bufferView; at most "
                                f"{MAX_ELEMENTS // ncomp}")
            return np.zeros((count, ncomp), dtype=dtype)
        data, start, length, stride = self.view(acc["bufferView"])
        element = dtype.itemsize * ncomp
        stride = stride or element
        offset = acc.get("byteOffset") or 0
        if count and (offset < 0 or offset + stride * (count - 1) + element > length):
            raise self.fail(f"accessor {index} reads past the end of bufferView {acc['bufferView']}")
        if count == 0:
            return np.zeros((0, ncomp), dtype=dtype)
        view = np.ndarray((count, ncomp), dtype=dtype.newbyteorder("<"), buffer=data, offset=start + offset,
                          strides=(stride, dtype.itemsize))
        return view.astype(dtype)

    def _apply_sparse(self, index: int, acc: dict, array: np.ndarray, dtype: np.dtype, ncomp: int) -> np.ndarray:
        sparse = acc["sparse"]
        n, indices, values = sparse.get("count"), sparse.get("indices") or {}, sparse.get("values") or {}
        index_dtype = COMPONENT_DTYPES.get(indices.get("componentType"))
        if not isinstance(n, int) or n < 1 or index_dtype not in (np.uint8, np.uint16, np.uint32):
            raise self.fail(f"accessor {index} has an invalid sparse block")
        rows = self._packed(indices.get("bufferView"), indices.get("byteOffset") or 0, np.dtype(index_dtype), n, 1)
        replaced = self._packed(values.get("bufferView"), values.get("byteOffset") or 0, dtype, n, ncomp)
        if rows.size and rows.max() >= acc["count"]:
            raise self.fail(f"accessor {index}: sparse index out of range")
        array = array.copy()
        array[rows[:, 0]] = replaced
        return array

    def _packed(self, view_index: int, offset: int, dtype: np.dtype, count: int, ncomp: int) -> np.ndarray:
        data, start, length, _ = self.view(view_index)
        nbytes = dtype.itemsize * ncomp * count
        if offset < 0 or offset + nbytes > length:
            raise self.fail(f"sparse data reads past the end of bufferView {view_index}")
        flat = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=count * ncomp, offset=start + offset)
        return flat.astype(dtype).reshape(count, ncomp)


# -- writing --------------------------------------------------------------------------------------


class Writer:
    """A glTF document being written: bufferViews (4-byte aligned) and accessors appended to its one buffer.
    Start from an empty document, or from a parsed one and its merged buffer to add to it."""

    def __init__(self, doc: dict | None = None, blob: bytes = b""):
        self.doc = doc if doc is not None else {"asset": {"version": "2.0"}}
        self.blob = bytearray(blob)

    def view(self, data: bytes, target: int | None = None) -> int:
        """Append `data` and a bufferView over it (with a target for vertex or index data); its index."""
        self.blob += b"\0" * (-len(self.blob) % 4)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.doc.setdefault("bufferViews", []).append(view)
        self.blob += data
        return len(self.doc["bufferViews"]) - 1

    def accessor(self, values: np.ndarray, component: int = FLOAT, *, target: int | None = None,
                 bounds: bool = False, normalized: bool = False) -> int:
        """An accessor over `values` (count,) or (count, components), stored as they are; `bounds` adds min and
        max (which glTF requires on positions and animation inputs)."""
        values = np.ascontiguousarray(values)
        view = self.view(values.tobytes(), target)
        accessor = {"bufferView": view, "componentType": component, "count": len(values),
                    "type": KINDS[values[0].size if len(values) else 1]}
        if normalized:
            accessor["normalized"] = True
        if bounds:
            accessor["min"], accessor["max"] = _bounds(values)
        return self._add(accessor)

    def sparse_accessor(self, values: np.ndarray, rows: np.ndarray | None = None, *, bounds: bool = False) -> int:
        """A float accessor over `values` (count, components) storing only `rows` (default: the rows that are
        not zero), as morph target deltas are best stored. An all-zero accessor still stores its first row:
        legal glTF may leave out the data, but Assimp and UnityGLTF refuse an accessor without any."""
        rows = np.flatnonzero(np.abs(values).max(axis=1) > 0) if rows is None else rows
        if not len(rows) and len(values):
            rows = np.array([0])
        accessor = {"componentType": FLOAT, "count": len(values), "type": KINDS[values.shape[1]]}
        if len(rows):
            small = len(values) < 65536
            indices = rows.astype("<u2" if small else "<u4")
            accessor["sparse"] = {
                "count": len(rows),
                "indices": {"bufferView": self.view(indices.tobytes()),
                            "componentType": UNSIGNED_SHORT if small else UNSIGNED_INT},
                "values": {"bufferView": self.view(values[rows].astype("<f4").tobytes())}}
        if bounds:
            accessor["min"], accessor["max"] = _bounds(values)
        return self._add(accessor)

    def _add(self, accessor: dict) -> int:
        self.doc.setdefault("accessors", []).append(accessor)
        return len(self.doc["accessors"]) - 1

    def embed_images(self, images: dict[int, bytes]) -> None:
        """Images stored by URI become bufferViews, so the file stands alone."""
        for index, data in sorted(images.items()):
            image = self.doc["images"][index]
            image["bufferView"] = self.view(data)
            image.setdefault("mimeType", next((m for magic, m in MIME.items() if data.startswith(magic)),
                                              "image/png"))
            del image["uri"]

    def file_bytes(self, suffix: str) -> bytes:
        """The document with its buffer: a GLB, or for ".gltf" JSON with the buffer as a data URI."""
        if suffix.lower() == ".gltf":
            uri = "data:application/octet-stream;base64," + base64.b64encode(bytes(self.blob)).decode("ascii")
            self.doc["buffers"] = [{"byteLength": len(self.blob), "uri": uri}]
            return to_json(self.doc)
        self.doc["buffers"] = [{"byteLength": len(self.blob)}]
        return glb_bytes(self.doc, bytes(self.blob))


def merged(document: Document) -> Writer:
    """A writer over a copy of `document`: all its buffers merged into one (bufferViews moved into it) and
    images stored by URI embedded, so what is added and written stands alone."""
    doc = json.loads(json.dumps(document.json))
    writer = Writer(doc)
    offsets = []
    for data in document.buffers():
        writer.blob += b"\0" * (-len(writer.blob) % 4)
        offsets.append(len(writer.blob))
        writer.blob += data
    for view in doc.get("bufferViews", []):
        view["byteOffset"] = view.get("byteOffset", 0) + offsets[view["buffer"]]
        view["buffer"] = 0
    writer.embed_images(document.uri_images())
    return writer


def _bounds(values: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-component minimum and maximum, as glTF writes them."""
    columns = values.reshape(len(values), -1)
    return columns.min(axis=0).astype(float).tolist(), columns.max(axis=0).astype(float).tolist()
