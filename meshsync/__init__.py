"""meshsync: audio-driven lip sync for 3D avatars."""

__version__ = "0.1.0"
