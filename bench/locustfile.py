"""Locust users for the load benchmark (bench/load.py starts locust headless with this file).

One phase per locust run: LOAD_PLAN names a JSON file written by bench/load.py with the
phase's requests (method, path, headers, body) per simulated client. Each user takes the
next client's requests and repeats them with no wait (a closed loop: 16 users = 16
requests in flight), until the run time is up or LOAD_MAX_REQUESTS per user are done.
Redirects are not followed: any answer but the expected status is an error."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from locust import FastHttpUser, constant, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "100000"))
_clients = itertools.cycle(PLAN["clients"])


class Client(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        client = next(_clients)
        self.headers = {**PLAN["headers"], **client.get("headers", {})}
        self.requests = itertools.cycle(client["requests"])
        self.done = 0

    @task
    def request(self):
        if self.done >= MAX_REQUESTS:
            raise StopUser()
        self.done += 1
        spec = next(self.requests)
        expected = spec.get("status", 200)
        with self.client.request(
            spec["method"], spec["path"], headers=self.headers, json=spec.get("json"),
            name=PLAN["name"], catch_response=True, allow_redirects=False,
        ) as response:  # fmt: skip
            if response.status_code != expected:
                response.failure(f"HTTP {response.status_code}, expected {expected}")
