from __future__ import annotations

from ccms_server.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 1
    assert limiter.take("b") == 0  # per client
    clock.now += 1.0
    assert limiter.take("a") == 0
    assert limiter.take("a") >= 1


def test_disabled_when_zero():
    limiter = RateLimiter(per_minute=0, burst=1)
    assert not limiter.enabled
    assert all(limiter.take("a") == 0 for _ in range(100))


def test_forgets_idle_clients():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock, max_clients=3)
    for client in "abc":
        limiter.take(client)
    clock.now += 10
    limiter.take("d")
    assert set(limiter._buckets) == {"d"}
