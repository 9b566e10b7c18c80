"""Headless rendering: EGL context, camera framing, the per-frame renderer."""

from .camera import Camera, frame_face
from .renderer import Renderer

__all__ = ["Camera", "Renderer", "frame_face"]
