"""Shouwang (守望): watching over elders who live alone."""

__version__ = "0.1.0"
