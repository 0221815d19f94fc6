"""Measuring detectors offline: simulated homes, recorded homes, any events file."""
