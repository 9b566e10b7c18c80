"""USD: a UsdSkelAnimation with the rig's blendShapes and time-sampled blendShapeWeights (usd-core, an
optional extra: pip install 'meshsync[usd]')."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..files import atomic_output
from ..provenance import STATEMENT_KEY, statement
from ..rig import RigCurves, solve
from .base import Export, Format


def write_usd(rig: RigCurves, path: Path) -> None:
    """/Root (SkelRoot) with /Root/Animation: one time sample per frame, time codes at the curves' fps; the
    stage says its units and up axis (metres, +Y, as glTF), which USD's validators require."""
    try:
        from pxr import Sdf, Usd, UsdGeom, UsdSkel, Vt
    except ImportError:
        raise UserError("USD export needs the optional usd-core package: pip install 'meshsync[usd]'") from None
    with atomic_output(path) as tmp:
        layer = Sdf.Layer.CreateNew(str(tmp), args={"format": "usda" if path.suffix.lower() == ".usda" else "usdc"})
        stage = Usd.Stage.Open(layer)
        stage.SetTimeCodesPerSecond(rig.fps)
        stage.SetStartTimeCode(0)
        stage.SetEndTimeCode(max(len(rig.values) - 1, 0))
        UsdGeom.SetStageMetersPerUnit(stage, UsdGeom.LinearUnits.meters)
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
        root = UsdSkel.Root.Define(stage, "/Root")
        stage.SetDefaultPrim(root.GetPrim())
        layer.customLayerData = {STATEMENT_KEY: statement()}  # what made it, in the layer's own metadata
        animation = UsdSkel.Animation.Define(stage, "/Root/Animation")
        animation.CreateBlendShapesAttr(Vt.TokenArray(list(rig.names)))
        weights = animation.CreateBlendShapeWeightsAttr()
        for frame, row in enumerate(rig.values):
            weights.Set(Vt.FloatArray.FromNumpy(row), Usd.TimeCode(frame))
        layer.Save()


def _write(export: Export, path: Path) -> str:
    write_usd(solve(export.curves, export.rig.profile), path)
    return f", rig {export.rig.profile.name}"


FORMAT = Format("USD, pip install 'meshsync[usd]'", (".usda", ".usdc", ".usd"), _write, avatar=True)
