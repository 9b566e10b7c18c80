"""Headless OpenGL: an EGL context (Mesa llvmpipe on CPUs, NVIDIA EGL on GPU machines), no display needed."""

from __future__ import annotations

import moderngl

from ..errors import UserError


def create_context() -> moderngl.Context:
    """A standalone OpenGL 3.3 core context through EGL; one clear error line when there is none."""
    try:
        return moderngl.create_context(standalone=True, backend="egl", require=330)
    except Exception as exc:  # moderngl raises bare Exception subclasses from several layers
        raise UserError(
            f"cannot open a headless OpenGL context through EGL ({exc}); "
            "on Debian/Ubuntu install libegl1 libegl-mesa0 libgl1-mesa-dri libgl1"
        ) from exc
