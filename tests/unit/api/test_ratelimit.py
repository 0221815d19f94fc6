from api.ratelimit import LoginLimiter


def test_failures_past_the_limit_must_wait_out_the_window() -> None:
    limiter = LoginLimiter(max_failures=3, window_s=60)
    keys = ["user:a", "addr:1"]
    for t in (0, 1, 2):
        assert limiter.retry_after(keys, now=t) == 0
        limiter.failed(keys, now=t)
    assert limiter.retry_after(keys, now=10) == 50
    assert limiter.retry_after(keys, now=61) == 0


def test_a_success_forgives_the_username_but_not_the_address() -> None:
    limiter = LoginLimiter(max_failures=1, window_s=60)
    limiter.failed(["user:a", "addr:1"], now=0)
    limiter.succeeded("user:a")
    assert limiter.retry_after(["user:a"], now=1) == 0
    for t in range(3):
        limiter.failed(["addr:1"], now=t)
    assert limiter.retry_after(["addr:1"], now=3) > 0
