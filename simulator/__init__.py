"""Simulated homes: elders' daily routines, scripted incidents, hubs that speak MQTT v1."""
