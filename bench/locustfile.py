"""Locust users for the load benchmark (bench/load.py starts locust headless with this file).

One phase per locust run: LOAD_PLAN names a JSON file written by bench/load.py with the
phase's requests (method, path, headers, body) per simulated client. Each user takes the
next client's requests and repeats them with no wait (a closed loop: 16 users = 16
requests in flight), until the run time is up or LOAD_MAX_REQUESTS per user are done. A plan
with a ``pace`` (requests a second per user) is paced instead: requests start at random, at
that rate on average (``_paced``), so the server sees a set arrival rate rather than as much as
it can take.
Redirects are not followed: any answer but the expected status is an error."""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import FastHttpUser, constant, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "100000"))
_clients = itertools.cycle(PLAN["clients"])


def _paced(pace: float):
    """Starts of requests as a Poisson process of ``pace`` a second per user (16 users: one of
    16 × pace), as independent people checking in would: the time to the next start is drawn
    from an exponential distribution, minus the time the last request took. A fixed interval
    (locust's ``constant_throughput``) keeps the 16 users in step, so all 16 arrive together
    once per interval and queue behind each other (measured: median 120 ms at 17 check-ins a
    second with 80 % of the CPU idle)."""

    def wait(user) -> float:
        return max(0.0, random.expovariate(pace) - (time.monotonic() - user.started))

    return wait


class Client(FastHttpUser):
    wait_time = _paced(PLAN["pace"]) if PLAN.get("pace") else constant(0)
    started = 0.0

    def on_start(self):
        client = next(_clients)
        self.headers = {**PLAN["headers"], **client.get("headers", {})}
        self.requests = itertools.cycle(client["requests"])
        self.done = 0
        if PLAN.get("pace"):  # spread the first requests over one interval, not all at once
            time.sleep(random.uniform(0, 1 / PLAN["pace"]))  # noqa: S311 (timing, not security)

    @task
    def request(self):
        if self.done >= MAX_REQUESTS:
            raise StopUser()
        self.done += 1
        self.started = time.monotonic()
        spec = next(self.requests)
        expected = spec.get("status", 200)
        with self.client.request(
            spec["method"], spec["path"], headers=self.headers, json=spec.get("json"),
            name=PLAN["name"], catch_response=True, allow_redirects=False,
        ) as response:  # fmt: skip
            if response.status_code != expected:
                response.failure(f"HTTP {response.status_code}, expected {expected}")
