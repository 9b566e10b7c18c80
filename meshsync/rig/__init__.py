"""Rig profiles: the naming conventions of avatars' morph targets, kept as data in `rigs/*.toml`."""

from .profiles import Match, Profile, detect, load_profiles

__all__ = ["Match", "Profile", "detect", "load_profiles"]
