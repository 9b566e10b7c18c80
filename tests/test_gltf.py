"""meshsync.gltf: what the Writer writes, the Document reads back (dense, normalised and sparse accessors, GLB
and .gltf files), and the Khronos validator accepts; merging a document's buffers keeps every view's bytes."""

from __future__ import annotations

import numpy as np
import pytest
from consumers import validate

from meshsync.gltf import (
    ARRAY_BUFFER,
    FLOAT,
    UNSIGNED_BYTE,
    UNSIGNED_SHORT,
    Document,
    GltfError,
    Writer,
    merged,
    parse_glb,
)

POSITIONS = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
DELTAS = np.array([[0, 0, 0], [0, 0.5, 0], [0, 0, 0]], np.float32)


def triangle(writer: Writer) -> None:
    """A one-triangle mesh with a sparse morph target, written through `writer`."""
    position = writer.accessor(POSITIONS, target=ARRAY_BUFFER, bounds=True)
    indices = writer.accessor(np.array([0, 1, 2], "<u2"), UNSIGNED_SHORT)
    target = writer.sparse_accessor(DELTAS, bounds=True)
    writer.doc.update(meshes=[{"primitives": [{"attributes": {"POSITION": position}, "indices": indices,
                                                "targets": [{"POSITION": target}]}], "weights": [0.0]}],
                      nodes=[{"mesh": 0}], scenes=[{"nodes": [0]}], scene=0)


@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_what_the_writer_writes_reads_back_and_validates(tmp_path, suffix):
    writer = Writer()
    triangle(writer)
    weights = writer.accessor(np.array([0, 128, 255], "u1"), UNSIGNED_BYTE, normalized=True)
    path = tmp_path / f"triangle{suffix}"
    path.write_bytes(writer.file_bytes(suffix))
    issues = validate(path)
    assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), issues["messages"][:3]
    doc = Document(path)
    np.testing.assert_array_equal(doc.accessor(0), POSITIONS)
    assert doc.json["accessors"][0]["min"] == [0.0, 0.0, 0.0] and doc.json["accessors"][0]["max"] == [1.0, 1.0, 0.0]
    np.testing.assert_array_equal(doc.accessor(1)[:, 0], [0, 1, 2])
    np.testing.assert_array_equal(doc.accessor(2), DELTAS)  # only row 1 is stored
    assert doc.json["accessors"][2]["sparse"]["count"] == 1 and "bufferView" not in doc.json["accessors"][2]
    np.testing.assert_allclose(doc.accessor(weights)[:, 0], [0, 128 / 255, 1])
    assert not doc.accessor(0).flags.writeable


def test_glb_framing_is_aligned_and_parses_back(tmp_path):
    writer = Writer()
    triangle(writer)
    data = writer.file_bytes(".glb")
    assert data[:4] == b"glTF" and len(data) % 4 == 0
    doc, blob = parse_glb(data, tmp_path / "x.glb")
    assert doc == writer.doc and blob == bytes(writer.blob) + b"\0" * (-len(writer.blob) % 4)
    with pytest.raises(GltfError, match="truncated GLB"):
        parse_glb(data[:len(data) // 2], tmp_path / "x.glb")


def test_merging_keeps_every_view_and_embeds_images(tmp_path):
    """A .gltf with two external buffers and an external image becomes one buffer that stands alone."""
    (tmp_path / "a.bin").write_bytes(POSITIONS.tobytes())
    (tmp_path / "b.bin").write_bytes(b"\x01\x02\x03")
    (tmp_path / "i.png").write_bytes(b"\x89PNG fake")
    source = tmp_path / "split.gltf"
    source.write_text('{"asset": {"version": "2.0"}, "buffers": [{"uri": "a.bin", "byteLength": 36}, '
                      '{"uri": "b.bin", "byteLength": 3}], "bufferViews": [{"buffer": 0, "byteLength": 36}, '
                      '{"buffer": 1, "byteLength": 3}], "images": [{"uri": "i.png"}]}')
    writer = merged(Document(source))
    out = tmp_path / "merged.glb"
    out.write_bytes(writer.file_bytes(".glb"))
    doc = Document(out)
    assert [doc.view_bytes(i) for i in range(2)] == [POSITIONS.tobytes(), b"\x01\x02\x03"]
    image = doc.json["images"][0]
    assert "uri" not in image and image["mimeType"] == "image/png"
    assert doc.view_bytes(image["bufferView"]) == b"\x89PNG fake"
    assert all(view["byteOffset"] % 4 == 0 for view in doc.json["bufferViews"])


def test_float_accessors_keep_their_type(tmp_path):
    writer = Writer()
    index = writer.accessor(np.eye(4, dtype="<f4").reshape(1, 16))
    assert writer.doc["accessors"][index] == {"bufferView": 0, "componentType": FLOAT, "count": 1, "type": "MAT4"}


def test_an_all_zero_morph_target_still_holds_data(tmp_path):
    """Assimp and UnityGLTF refuse an accessor with neither a bufferView nor sparse data (legal glTF): the
    writer stores the first row of an all-zero accessor, and it validates and reads back as zeros."""
    writer = Writer()
    triangle(writer)
    empty = writer.sparse_accessor(np.zeros_like(DELTAS), bounds=True)
    writer.doc["meshes"][0]["primitives"][0]["targets"].append({"POSITION": empty})
    writer.doc["meshes"][0]["weights"].append(0.0)
    path = tmp_path / "triangle.glb"
    path.write_bytes(writer.file_bytes(".glb"))
    issues = validate(path)
    assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), issues["messages"][:3]
    doc = Document(path)
    assert doc.json["accessors"][empty]["sparse"]["count"] == 1
    assert not doc.accessor(empty).any()


def test_the_test_avatars_have_no_accessor_without_data(avatars):
    for name, path in avatars.items():
        accessors = Document(path).json["accessors"]
        assert all(a.get("bufferView") is not None or a.get("sparse") for a in accessors), name
