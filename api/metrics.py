"""What Prometheus scrapes besides the services' own counters: figures read from the store."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shouwang.domain.model import Tier
from shouwang.storage.state import StateStore


class StateCollector(Collector):
    """Open alerts by colour, dead letters and failed deliveries, read at each scrape."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        by_tier = self._state.alerts.count_unresolved_by_tier()
        alerts = GaugeMetricFamily("shouwang_alerts_unresolved",
                                   "unresolved alerts, by household colour", labels=["colour"])
        for tier in Tier:
            alerts.add_metric([tier.colour], by_tier.get(tier, 0))
        yield alerts
        yield GaugeMetricFamily("shouwang_dead_letters",
                                "messages the gateway refused, kept with the reason",
                                value=self._state.dead_letters.count())
        yield GaugeMetricFamily("shouwang_deliveries_failed",
                                "notifications given up on after every retry",
                                value=self._state.alerts.count_failed_deliveries())
        yield GaugeMetricFamily("shouwang_deliveries_retrying",
                                "notifications whose attempts have failed so far, being retried",
                                value=self._state.alerts.count_retrying_deliveries())
