"""Rig profiles (naming conventions of morph targets, as data in `rigs/*.toml`), their detection, and
retargeting ARKit curves to the avatar at hand."""

from .profiles import Match, Profile, detect, find_profile, load_profiles
from .retarget import JawTrack, RigCurves, choose_profile, jaw_joint, jaw_track, joint_moves, morph_weights, solve

__all__ = ["JawTrack", "Match", "Profile", "RigCurves", "choose_profile", "detect", "find_profile", "jaw_joint",
           "jaw_track", "joint_moves", "load_profiles", "morph_weights", "solve"]
