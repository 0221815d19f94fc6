"""The MQTT contract, v1, that the gateway, detector and simulator share: topics, decoding, validation."""
