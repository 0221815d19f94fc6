"""A role's health endpoint over real HTTP: 200 while nothing is wrong, 503 naming the problem."""

import logging

import httpx

from shouwang.health import Health, HealthServer


def test_the_health_endpoint_fails_while_a_problem_lasts_and_counts_it_in_metrics() -> None:
    health = Health("dispatch")
    server = HealthServer(health, "127.0.0.1", 0)
    server.start()
    try:
        assert httpx.get(server.url).json() == {"role": "dispatch", "status": "ok", "problems": [],
                                                "counts": {}}
        health.problem("publish_refused", "the MQTT broker refused a publish (user x; check its ACL)",
                       level=logging.WARNING)  # logged as an error in earnest; this test is the endpoint
        answer = httpx.get(server.url)
        assert answer.status_code == 503
        assert [p["problem"] for p in answer.json()["problems"]] == ["publish_refused"]
        metrics = httpx.get(server.url.replace("/health", "/metrics")).text
        assert 'shouwang_role_problems_total{problem="publish_refused",role="dispatch"} 1.0' in metrics
        health.clear("publish_refused")
        assert httpx.get(server.url).status_code == 200
    finally:
        server.stop()
