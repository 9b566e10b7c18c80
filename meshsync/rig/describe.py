"""What `meshsync inspect` reports about an avatar, as plain data and as text."""

from __future__ import annotations

from ..avatar import LANDMARK_NAMES, Avatar
from .profiles import detect


def describe(avatar: Avatar) -> dict:
    """Meshes, morph targets, detected conventions, materials, joints and landmarks, JSON-ready."""
    landmarks = avatar.landmark_mesh.landmarks if avatar.landmark_mesh else {}
    return {
        "file": str(avatar.path),
        "meshes": [{
            "name": mesh.name,
            "node": mesh.node,
            "vertices": sum(len(g.positions) for g in {id(p.geometry): p.geometry for p in mesh.primitives}.values()),
            "triangles": sum(len(p.indices) for p in mesh.primitives),
            "primitives": len(mesh.primitives),
            "morph_targets": len(mesh.target_names),
        } for mesh in avatar.meshes],
        "morph_targets": avatar.target_names,
        "conventions": [{"name": m.profile.name, "title": m.profile.title, "found": m.found, "total": m.total}
                        for m in detect(avatar)],
        "materials": [m.name for m in avatar.materials],
        "joints": [j.name for j in avatar.joints],
        "landmarks": {name: name in landmarks for name in LANDMARK_NAMES}
                     | {name: True for name in landmarks if name not in LANDMARK_NAMES},
    }


def format_description(d: dict) -> str:
    lines = [d["file"]]
    for mesh in d["meshes"]:
        lines.append(f"  mesh {mesh['name']!r} (node {mesh['node']!r}): {mesh['vertices']} vertices, "
                     f"{mesh['triangles']} triangles, {mesh['primitives']} primitives, "
                     f"{mesh['morph_targets']} morph targets")
    conventions = ", ".join(f"{c['title']} ({c['found']}/{c['total']})" for c in d["conventions"]) or "unknown"
    lines.append(f"  convention: {conventions}")
    lines.append(f"  morph targets ({len(d['morph_targets'])}): {', '.join(d['morph_targets']) or 'none'}")
    lines.append(f"  materials ({len(d['materials'])}): {', '.join(d['materials']) or 'none'}")
    lines.append(f"  joints ({len(d['joints'])}): {', '.join(d['joints']) or 'none'}")
    present = [name for name, ok in d["landmarks"].items() if ok]
    missing = [name for name, ok in d["landmarks"].items() if not ok]
    lines.append(f"  landmarks present ({len(present)}): {', '.join(present) or 'none'}")
    if missing:
        lines.append(f"  landmarks missing ({len(missing)}): {', '.join(missing)}")
    return "\n".join(lines)
