"""A pinhole camera; the avatar's head frame (from its landmarks, or its bounds); presets that frame it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..avatar import Avatar
from ..errors import UserError

FACE_LANDMARKS = ("eyeLeft", "eyeRight", "chin", "noseTip")
PORTRAIT_FOV = 22.0  # degrees of vertical field of view: a portrait lens, little perspective distortion
DEFAULT_PRESET = "face"
# The head turns about the base of the neck: this far below the eyes and behind them, in face lengths.
PIVOT_DROP, PIVOT_BACK = 1.4, 0.35
# An avatar skinned to joints with these names turns its head on them, the shoulders staying put: the neck
# takes NECK_SHARE of each angle about its joint, the head the rest about its own.
NECK_JOINT, HEAD_JOINT = "neck", "head"
NECK_SHARE = 0.4


@dataclass(frozen=True)
class Camera:
    eye: np.ndarray  # (3,) world position
    target: np.ndarray  # (3,) point looked at
    up: np.ndarray  # (3,) world up hint
    fov_y: float = PORTRAIT_FOV  # degrees
    near: float = 0.05
    far: float = 5.0

    def view(self) -> np.ndarray:
        """World -> view matrix (camera looks down -Z)."""
        forward = _unit(self.target - self.eye)
        right = _unit(np.cross(forward, self.up))
        up = np.cross(right, forward)
        matrix = np.eye(4)
        matrix[0, :3], matrix[1, :3], matrix[2, :3] = right, up, -forward
        matrix[:3, 3] = -matrix[:3, :3] @ self.eye
        return matrix

    def projection(self, aspect: float) -> np.ndarray:
        """Perspective projection with Y flipped, so rows read back top-down (winding becomes clockwise)."""
        f = 1.0 / np.tan(np.radians(self.fov_y) / 2)
        n, far = self.near, self.far
        return np.array([
            [f / aspect, 0, 0, 0],
            [0, -f, 0, 0],
            [0, 0, (far + n) / (n - far), 2 * far * n / (n - far)],
            [0, 0, -1, 0],
        ])

    def project(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """(N, 2) pixel coordinates (column, row from the top) of world points in a width x height image."""
        clip = np.c_[points, np.ones(len(points))] @ (self.projection(width / height) @ self.view()).T
        ndc = clip[:, :2] / clip[:, 3:]
        return (ndc + 1) / 2 * [width, height]


@dataclass(frozen=True)
class HeadFrame:
    """Where the face is and which way it looks: the eyes' midpoint, unit axes, and the eye-to-chin length."""

    eyes: np.ndarray
    left: np.ndarray  # towards the avatar's left
    up: np.ndarray
    forward: np.ndarray
    size: float

    def turn(self, yaw: float, pitch: float, roll: float) -> np.ndarray:
        """3x3 world rotation by head angles in radians, right-handed about the head's up, left and forward
        axes (yaw > 0 turns to its left, pitch > 0 nods down)."""
        axes = np.column_stack([self.left, self.up, self.forward])
        return axes @ _rotate(1, yaw) @ _rotate(0, pitch) @ _rotate(2, roll) @ axes.T

    def rotation(self, yaw: float, pitch: float, roll: float) -> np.ndarray:
        """4x4 world transform turning the whole avatar about the neck's base (for avatars without neck and
        head joints)."""
        pivot = self.eyes - PIVOT_DROP * self.size * self.up - PIVOT_BACK * self.size * self.forward
        return _about(pivot, self.turn(yaw, pitch, roll))

    def joint_moves(self, avatar: Avatar, yaw: float, pitch: float, roll: float) -> dict[int, np.ndarray]:
        """World-space moves (index into avatar.joints -> 4x4) turning the neck joint by NECK_SHARE of the
        angles and the head joint, on top of it, by the rest; joints below each go with it."""
        neck, head = avatar.joint(NECK_JOINT), avatar.joint(HEAD_JOINT)
        neck_turn = self.turn(NECK_SHARE * yaw, NECK_SHARE * pitch, NECK_SHARE * roll)
        neck_move = _about(avatar.joints[neck].matrix[:3, 3], neck_turn)
        head_move = neck_move @ _about(avatar.joints[head].matrix[:3, 3],
                                       neck_turn.T @ self.turn(yaw, pitch, roll))
        moves = dict.fromkeys(avatar.joints_below(neck), neck_move)
        return moves | dict.fromkeys(avatar.joints_below(head), head_move)


def turns_on_joints(avatar: Avatar) -> bool:
    """Whether the avatar's skinned meshes turn the head on neck and head joints (the head's parent chain)."""
    neck, head = avatar.joint(NECK_JOINT), avatar.joint(HEAD_JOINT)
    return neck is not None and head is not None and head in avatar.joints_below(neck) and any(
        p.geometry.joints is not None for mesh in avatar.meshes for p in mesh.primitives)


def _about(pivot: np.ndarray, turn: np.ndarray) -> np.ndarray:
    """4x4 rotation by `turn` about the point `pivot`."""
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = turn, pivot - turn @ pivot
    return matrix


def head_frame(avatar: Avatar) -> HeadFrame:
    """The head frame from the face landmarks; without them, a +Y-up, +Z-facing avatar's top of bounds."""
    points = avatar.landmark_points()
    if all(name in points for name in FACE_LANDMARKS):
        eyes = (points["eyeLeft"] + points["eyeRight"]) / 2
        up = _unit(eyes - points["chin"])
        left = _unit(points["eyeLeft"] - points["eyeRight"])
        forward = _unit(np.cross(left, up))
        if np.dot(forward, points["noseTip"] - eyes) < 0:
            forward = -forward
        left = np.cross(up, forward)
        return HeadFrame(eyes, left, up, forward, float(np.linalg.norm(eyes - points["chin"])))
    low, high = avatar.bounds()
    extent = high - low
    standing = extent[1] > 3 * extent[2]  # a whole figure is far taller than deep; a bust is not
    head_height = extent[1] / 5.5 if standing else extent[1]
    size = head_height / 2.9  # the default preset then shows the same height as before
    centre = np.array([(low[0] + high[0]) / 2, high[1] - head_height / 2, (low[2] + high[2]) / 2])
    up, forward = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    return HeadFrame(centre + 0.1 * size * up, np.cross(up, forward), up, forward, size)


@cache
def camera_presets() -> dict[str, dict[str, float]]:
    with Path(__file__).with_name("cameras.toml").open("rb") as f:
        return tomllib.load(f)


def check_camera(preset: str) -> None:
    if preset not in camera_presets():
        raise UserError(f"unknown camera preset '{preset}'; choose one of {', '.join(camera_presets())}")


def frame_face(avatar: Avatar, aspect: float, preset: str = DEFAULT_PRESET, fov_y: float = PORTRAIT_FOV) -> Camera:
    """A camera framing the avatar's head as the named preset does (cameras.toml)."""
    check_camera(preset)
    shot = camera_presets()[preset]
    head = head_frame(avatar)
    centre = head.eyes - shot["drop"] * head.size * head.up
    yaw = np.radians(shot["yaw"])
    toward_camera = np.cos(yaw) * head.forward + np.sin(yaw) * head.left
    half_view = max(shot["height"], shot["width"] / aspect) * head.size / 2
    distance = half_view / np.tan(np.radians(fov_y) / 2)
    return Camera(centre + toward_camera * distance, centre, head.up, fov_y, distance * 0.3, distance * 3.0)


def _rotate(axis: int, angle: float) -> np.ndarray:
    """3x3 right-handed rotation about coordinate axis 0, 1 or 2."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    matrix = np.eye(3)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = c, -s, s, c
    return matrix


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
