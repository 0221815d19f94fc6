"""Counters and gauges every service shares, in a registry of our own (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "shouwang_mqtt_messages", "MQTT messages received by the gateway", registry=r
        )
        self.readings_accepted = Counter(
            "shouwang_readings_accepted", "readings stored", registry=r
        )
        self.readings_duplicate = Counter(
            "shouwang_readings_duplicate", "repeated readings ignored", registry=r
        )
        self.readings_rejected = Counter(
            "shouwang_readings_rejected", "readings refused, by reason", ["reason"], registry=r
        )
        self.dead_letters_dropped = Counter(
            "shouwang_dead_letters_dropped", "oldest dead letters dropped to stay within the caps", registry=r
        )
        self.ingest_errors = Counter(
            "shouwang_ingest_errors", "unexpected failures while storing a batch", registry=r
        )
        self.alerts_opened = Counter(
            "shouwang_alerts_opened", "alerts opened, by kind", ["kind"], registry=r
        )
        self.deliveries = Counter(
            "shouwang_deliveries", "delivery attempts, by channel and result",
            ["channel", "result"], registry=r,
        )
        self.open_alerts = Gauge(
            "shouwang_open_alerts", "unresolved alerts, by colour", ["colour"], registry=r
        )
        self.role_problems = Counter(
            "shouwang_role_problems", "problems a role met (a broker refusing it, ...), by kind",
            ["role", "problem"], registry=r,
        )
        self.ingest_queue = Gauge(
            "shouwang_ingest_queue", "messages waiting in the gateway", registry=r
        )
