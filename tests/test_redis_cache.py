"""The cache backend (config.redis_cache): Django's Redis cache, keeping one Redis client per
connection pool instead of building one per call; shared by threads, as redis-py allows."""

from __future__ import annotations

import threading

from django.core.cache import cache, caches

from config.redis_cache import RedisCache


def test_the_cache_is_the_backend_that_keeps_its_clients():
    assert isinstance(caches["default"], RedisCache)
    clients = caches["default"]._cache

    assert clients.get_client("a") is clients.get_client("b")
    assert clients.get_client("a", write=True) is clients.get_client("b", write=True)


def test_threads_sharing_the_client_each_see_their_own_values():
    errors: list[str] = []
    cache.set("shared-counter", 0)

    def work(n: int) -> None:
        for i in range(50):
            cache.set(f"thread-{n}", i)
            if cache.get(f"thread-{n}") != i:
                errors.append(f"thread {n} read another value")
            cache.incr("shared-counter")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert cache.get("shared-counter") == 8 * 50
    cache.delete_many(["shared-counter", *(f"thread-{n}" for n in range(8))])
