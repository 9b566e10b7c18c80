"""Rig profiles: the naming conventions of avatars' morph targets, kept as data in `rigs/*.toml`."""

from .profiles import Match, Profile, detect, load_profiles
from .retarget import Retarget, check_supported

__all__ = ["Match", "Profile", "Retarget", "check_supported", "detect", "load_profiles"]
