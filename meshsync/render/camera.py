"""A pinhole camera, and framing it on the avatar's face from its landmarks (or its bounds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..avatar import Avatar

FACE_LANDMARKS = ("eyeLeft", "eyeRight", "chin", "noseTip")
PORTRAIT_FOV = 22.0  # degrees of vertical field of view: a portrait lens, little perspective distortion


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


def frame_face(avatar: Avatar, aspect: float, fov_y: float = PORTRAIT_FOV) -> Camera:
    """A frontal camera showing the whole head with a little neck, whatever the avatar's scale or facing."""
    points = avatar.landmark_points()
    if all(name in points for name in FACE_LANDMARKS):
        eyes = (points["eyeLeft"] + points["eyeRight"]) / 2
        eye_to_chin = eyes - points["chin"]
        up = _unit(eye_to_chin)
        across = points["eyeLeft"] - points["eyeRight"]
        forward = _unit(np.cross(across, up))
        if np.dot(forward, points["noseTip"] - eyes) < 0:
            forward = -forward
        size = np.linalg.norm(eye_to_chin)
        centre = eyes - 0.1 * size * up  # from the top of the head down to the neck
        height, width = 2.9 * size, 2.0 * size
    else:  # no landmarks: assume a +Y-up, +Z-facing avatar and frame the top of its bounds
        low, high = avatar.bounds()
        size = high - low
        up, forward = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
        standing = size[1] > 3 * size[2]  # a whole figure is far taller than deep; a bust is not
        height = size[1] / 5.5 if standing else size[1]
        width = min(size[0], height)
        centre = np.array([(low[0] + high[0]) / 2, high[1] - height / 2, (low[2] + high[2]) / 2])
    half_view = max(height, width / aspect) / 2
    distance = half_view / np.tan(np.radians(fov_y) / 2)
    return Camera(centre + forward * distance, centre, up, fov_y, distance * 0.3, distance * 3.0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
