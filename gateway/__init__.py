"""MQTT in: decode, validate, de-duplicate and store every reading; track hub presence."""
