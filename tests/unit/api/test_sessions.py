from api.sessions import SessionCache


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_token_is_remembered_for_a_few_seconds_then_looked_up_again() -> None:
    clock = Clock()
    cache: SessionCache[str] = SessionCache(ttl_s=10, clock=clock)
    cache.put("sw_a", "wang")
    assert cache.get("sw_a") == "wang" and cache.get("sw_b") is None
    clock.t = 10.0
    assert cache.get("sw_a") is None


def test_a_change_here_forgets_every_token_at_once() -> None:
    cache: SessionCache[str] = SessionCache(ttl_s=10, clock=Clock())
    cache.put("sw_a", "wang")
    cache.forget_all()
    assert cache.get("sw_a") is None


def test_a_zero_lifetime_remembers_nothing() -> None:
    cache: SessionCache[str] = SessionCache(ttl_s=0, clock=Clock())
    cache.put("sw_a", "wang")
    assert cache.get("sw_a") is None


def test_a_dead_token_is_forgotten_alone() -> None:
    cache: SessionCache[str] = SessionCache(ttl_s=10, clock=Clock())
    cache.put("sw_a", "wang")
    cache.put("sw_b", "li")
    cache.forget("sw_a")
    assert cache.get("sw_a") is None and cache.get("sw_b") == "li"
