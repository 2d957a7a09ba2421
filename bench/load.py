"""Load: gunicorn with the production settings on loopback, driven by locust from another process.

The server is the one operators run: ``config.settings.production`` (DEBUG off, whitenoise
static files, secure cookies: every request says ``X-Forwarded-Proto: https`` as the proxy in
front would), gunicorn sync workers (BENCH_WEB_WORKERS, default 2 per CPU), against the large
``bench`` organisation. Each phase is one headless locust run of 16 clients in a closed loop (no
think time: 16 requests in flight) for LOAD_SECONDS, at most LOAD_MAX_REQUESTS per client:

- baseline on the organisation's host, and the same view on the public host: a tiny JSON body
  behind the full middleware stack (config/baseline.py); their ratio is the cost of tenant routing;
- ``GET /api/v1/objectives/?expand=key_results`` (page of 50), with 16 people's API tokens;
- ``GET /`` (My focus) as 16 members, ``GET /okrs/?view=team`` as 16 managers on their team;
- ``POST /api/v1/check-ins/`` by 16 key-result owners on their own key results;
- the same check-ins paced at half the rate the closed loop reached (random arrivals, see
  ``bench/locustfile.py``): the write's latency on a busy but not saturated machine.

The three reads run with the page cache on, as in production (ADR 0011): nothing is written
during their phases, so after each person's warm-up request they are answered from the cache
(what a miss costs is in the ``pages`` and ``api`` benchmarks, one request at a time).

The baseline runs first and again last; endpoints are compared with the mean of the two, so a
machine that got busier in between shows up as a drift between them. API quotas (per token)
are lifted for the run: they protect the service from one integration, not its capacity.
Afterwards each gunicorn worker's resident memory is read from /proc, and one request of the
slowest endpoint is profiled in-process with pyinstrument (bench/results/profile-*.txt).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken, User
from accounts.services_api_tokens import api_token_create
from bench import recalculation
from okrs.models import CheckIn, KeyResult
from okrs.recalculation import recalculate_all
from okrs.selectors.cycles import default_cycle
from tenants.models import Organization

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CLIENTS = 16
TOKEN_NAME = "bench-load"  # noqa: S105 (a token's label)
CHECK_IN_MARK = "load test"  # what_moved of the check-ins a run records (removed afterwards)
QUOTA_LIFTED = "1000000/min"  # API quotas, per token, for the server and the profiled request
PACED_SHARE = 0.5  # of the closed loop's check-in throughput, for the paced run
TARGETS = {"read_share": 0.30, "write_share": 0.20, "p95_ms": 150.0, "worker_rss_mb": 250.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_cookie(user: User) -> str:
    """A signed-in session for ``user`` (tenant schema active), made by Django's own
    ``force_login`` (it names the backend that loads users back, not the lockout backend)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _token(user: User, scope: str, name: str = TOKEN_NAME) -> str:
    """A fresh API token for ``user`` (an earlier run's of the same name is removed)."""
    ApiToken.objects.filter(user=user, name=name).delete()
    return api_token_create(actor=user, name=name, scope=scope).secret


def _plans(organization, progress) -> dict[str, dict]:
    """Each phase's requests per client, with real people, tokens and ids of the bench organisation."""
    tenant_host = f"{organization.slug}.{settings.BASE_DOMAIN}"
    common = {"X-Forwarded-Proto": "https"}
    with tenant_context(organization):
        cycle = default_cycle(timezone.localdate())
        active = User.objects.filter(is_active=True, public_user_id__isnull=True)
        in_cycle = Q(key_results__objective__cycle=cycle)
        members = list(
            active.filter(role=User.Role.MEMBER)
            .annotate(n=Count("key_results", filter=in_cycle))
            .filter(n__gte=2)
            .order_by("-n", "id")[:CLIENTS]
        )
        managers = list(
            active.filter(role=User.Role.MANAGER, team__isnull=False)
            .annotate(n=Count("reports"))
            .order_by("-n", "id")[:CLIENTS]
        )
        progress(f"  {len(members)} members, {len(managers)} managers; signing them in and making tokens …")
        api_page = f"/api/v1/objectives/?cycle={cycle.pk}&expand=key_results&page_size=50"
        readers, writers, homes, explorers = [], [], [], []
        for member in members:
            read = _token(member, ApiToken.Scope.READ)
            write = _token(member, ApiToken.Scope.READ_WRITE, f"{TOKEN_NAME}-write")
            readers.append(
                {
                    "headers": {"Authorization": f"Bearer {read}"},
                    "requests": [{"method": "GET", "path": api_page}],
                }
            )
            key_results = KeyResult.objects.filter(owner=member, objective__cycle=cycle).order_by("id")
            writers.append(
                {
                    "headers": {"Authorization": f"Bearer {write}"},
                    "requests": [
                        {
                            "method": "POST",
                            "path": "/api/v1/check-ins/",
                            "json": _check_in_body(kr, step),
                            "status": 201,
                        }
                        for step in range(5)
                        for kr in key_results
                    ],
                }
            )
            homes.append(
                {"headers": {"Cookie": _session_cookie(member)}, "requests": [{"method": "GET", "path": "/"}]}
            )
        for manager in managers:
            path = f"/okrs/?cycle={cycle.pk}&view=team&team={manager.team_id}"
            explorers.append(
                {
                    "headers": {"Cookie": _session_cookie(manager)},
                    "requests": [{"method": "GET", "path": path}],
                }
            )
    connection.set_schema_to_public()
    baseline = [{"requests": [{"method": "GET", "path": "/bench/baseline/"}]}]
    tenant = {**common, "Host": tenant_host}
    return {
        "baseline": {"headers": tenant, "clients": baseline},
        "baseline, public host": {"headers": {**common, "Host": settings.BASE_DOMAIN}, "clients": baseline},
        "API objectives?expand=key_results": {"headers": tenant, "clients": readers},
        "home (My focus)": {"headers": tenant, "clients": homes},
        "explorer, team": {"headers": tenant, "clients": explorers},
        "check-in (API POST)": {
            "headers": {**tenant, "Content-Type": "application/json"},
            "clients": writers,
        },
    }


def _check_in_body(kr: KeyResult, step: int) -> dict:
    if kr.kind == KeyResult.Kind.MILESTONE:
        value = float(step % 2)
    else:
        low = kr.start if kr.start is not None else (kr.low if kr.low is not None else 0.0)
        high = kr.target if kr.target is not None else (kr.high if kr.high is not None else low + 10)
        value = round(low + (high - low) * (step + 1) / 6, 2)
    return {"key_result": kr.pk, "value": value, "confidence": 5 + step % 4, "what_moved": CHECK_IN_MARK}


class Server:
    """gunicorn with the production settings on a free loopback port."""

    def __init__(self, workers: int, secret_key: str):
        self.port = _free_port()
        self.workers = workers
        self.log = tempfile.NamedTemporaryFile("w+", suffix="-gunicorn.log", delete=False)  # noqa: SIM115
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": f"{settings.BASE_DOMAIN},.{settings.BASE_DOMAIN}",
            "BENCH_BASELINE": "true",
            "API_QUOTA_READ": QUOTA_LIFTED,
            "API_QUOTA_WRITE": QUOTA_LIFTED,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        }

    def __enter__(self) -> Server:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--worker-class", "sync", "--backlog", "256",
             "--timeout", "60", "--error-logfile", "-"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"{self.url}/healthz", timeout=2) == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise SystemExit(f"[bench] gunicorn did not start:\n{self.log.read()[-3000:]}")
            time.sleep(0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_rss_mb(self) -> list[float]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        sizes = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
        return sizes

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer of its own (e.g. to the login page), never followed


_OPENER = urllib.request.build_opener(_NoRedirects)


def _get(url: str, headers: dict | None = None, timeout: float = 30) -> int:
    """GET a loopback URL of our own server (http only); the status, redirects not followed."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _warm(server: Server, plan: dict) -> None:
    """A few requests per client first: imports, templates and connections are then warm."""
    for client in plan["clients"]:
        spec = client["requests"][0]
        if spec["method"] != "GET":
            continue
        for _ in range(2):
            answer = _get(server.url + spec["path"], {**plan["headers"], **client.get("headers", {})})
            expected = spec.get("status", 200)
            if answer != expected:
                raise SystemExit(
                    f"[bench] GET {spec['path']} answered {answer} before the run, not {expected}:"
                    " the phase would measure something else (a 302 is the login page: is the session"
                    " made with the server's SECRET_KEY?)"
                )


def _locust(server: Server, name: str, plan: dict, seconds: int, max_requests: int) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        plan_file = Path(directory) / "plan.json"
        plan_file.write_text(json.dumps({"name": name, **plan}))
        prefix = Path(directory) / "stats"
        env = {**os.environ, "LOAD_PLAN": str(plan_file), "LOAD_MAX_REQUESTS": str(max_requests)}
        completed = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--users", str(CLIENTS), "--spawn-rate", str(CLIENTS), "--run-time", f"{seconds}s",
             "--host", server.url, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
             "--stop-timeout", "10"],
            check=False, cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        stats_file = Path(f"{prefix}_stats.csv")
        if not stats_file.exists():
            raise SystemExit(f"[bench] locust failed for {name}:\n{completed.stderr[-3000:]}")
        rows = list(csv.DictReader(stats_file.open()))
        failures_file = Path(f"{prefix}_failures.csv")
        failures = list(csv.DictReader(failures_file.open())) if failures_file.exists() else []
    row = next(r for r in rows if r["Name"] == name)
    return {
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "throughput_rps": round(float(row["Requests/s"]), 1),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "error_samples": [f"{f['Error']} ×{f['Occurrences']}" for f in failures][:3],
    }


def run(progress=print) -> dict:
    existing = Organization.objects.filter(slug=recalculation.SLUG).first()
    if existing is not None:  # what a crashed run left behind, before the sizes are compared
        _forget_load_check_ins(existing)
    organization = recalculation.ensure_tenant(recalculation.sizes_from_env(), progress)
    # Sessions are signed, and bound to the password hash, with SECRET_KEY: make them with the
    # server's key, or every page request would be a redirect to the login page.
    secret_key = secrets.token_urlsafe(50)
    with override_settings(SECRET_KEY=secret_key):
        plans = _plans(organization, progress)
    seconds = int(os.environ.get("LOAD_SECONDS", "15"))
    max_requests = int(os.environ.get("LOAD_MAX_REQUESTS", "5000"))
    workers = int(os.environ.get("BENCH_WEB_WORKERS", str(2 * (os.cpu_count() or 1))))
    order = ["baseline", "baseline, public host", *[n for n in plans if not n.startswith("baseline")]]
    phases: dict[str, dict] = {}
    progress(
        f"  gunicorn: {workers} sync workers, production settings; {CLIENTS} clients, {seconds} s per phase"
    )
    with Server(workers, secret_key) as server:
        for name in order:
            _warm(server, plans[name])
            phases[name] = _locust(server, name, plans[name], seconds, max_requests)
            progress(_line(name, phases[name]))
        paced = _paced_write(
            server, plans, phases, seconds=seconds, max_requests=max_requests, progress=progress
        )
        _warm(server, plans["baseline"])
        again = _locust(server, "baseline", plans["baseline"], seconds, max_requests)
        progress(_line("baseline (again, last)", again))
        rss = server.worker_rss_mb()
    base_rps = (phases["baseline"]["throughput_rps"] + again["throughput_rps"]) / 2
    for row in phases.values():
        row["share_of_baseline"] = round(row["throughput_rps"] / base_rps, 3) if base_rps else None
    result = {
        "clients": CLIENTS,
        "seconds_per_phase": seconds,
        "web_workers": workers,
        "baseline_rps": round(base_rps, 1),
        "baseline_again": again,
        "tenant_routing_cost": round(phases["baseline, public host"]["throughput_rps"] / base_rps, 3)
        if base_rps
        else None,
        "phases": phases,
        "paced_write": paced,
        "worker_rss_mb": rss,
        "targets": TARGETS,
    }
    slowest = max((n for n in phases if not n.startswith("baseline")), key=lambda n: phases[n]["p50_ms"])
    result["profiled"] = _profile(organization, slowest, plans[slowest], progress, secret_key)
    removed = _forget_load_check_ins(organization)
    progress(f"  removed the run's {removed} check-ins and recalculated: the bench organisation is as before")
    return result


def _paced_write(
    server: Server, plans: dict, phases: dict, *, seconds: int, max_requests: int, progress
) -> dict:
    """The check-in again, paced at PACED_SHARE of the rate the closed loop reached: its latency
    when the machine is busy but not saturated (in a closed loop, latency is the number of
    clients over the throughput, whatever one request costs). For information: no target."""
    name = next(n for n in plans if "POST" in n)
    offered = round(phases[name]["throughput_rps"] * PACED_SHARE, 1)
    row = _locust(server, name, {**plans[name], "pace": offered / CLIENTS}, seconds, max_requests)
    row = {"endpoint": name, "offered_rps": offered, "share_of_capacity": PACED_SHARE, **row}
    progress(_line(f"{name}, {offered:.0f}/s offered", row))
    return row


def _forget_load_check_ins(organization) -> int:
    """Delete the check-ins a load run recorded and recalculate, so the bench organisation keeps
    the sizes the other benchmarks expect (and a crashed run is cleaned up by the next one)."""
    with tenant_context(organization):
        removed, _ = CheckIn.objects.filter(what_moved=CHECK_IN_MARK).delete()
        if removed:
            recalculate_all()
    connection.set_schema_to_public()
    return removed


def _line(name: str, row: dict) -> str:
    return (
        f"  {name:<36}{row['throughput_rps']:8.1f} req/s  p50 {row['p50_ms']:6.0f}  p95 {row['p95_ms']:6.0f}"
        f"  p99 {row['p99_ms']:6.0f} ms  {row['requests']} requests, {row['errors']} errors"
    )


def _profile(organization, name: str, plan: dict, progress, secret_key: str) -> dict:
    """One request of the slowest endpoint through Django's test client, under pyinstrument."""
    from pyinstrument import Profiler

    client_plan = plan["clients"][0]
    spec = client_plan["requests"][0]
    headers = {**plan["headers"], **client_plan.get("headers", {})}
    extra = {
        "HTTP_HOST": headers.pop("Host"),
        "headers": {k: v for k, v in headers.items() if k != "Content-Type"},
    }
    client = Client(**extra)
    # The quotas are lifted as on the server: the token has just made more calls than its
    # quota allows in a minute (DRF binds the rates when the throttle classes are defined).
    lifted = dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, QUOTA_LIFTED)
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=["*"], SECRET_KEY=secret_key),
        mock.patch.dict(SimpleRateThrottle.THROTTLE_RATES, lifted),
    ):
        body = json.dumps(spec["json"]) if spec.get("json") else ""
        for _ in range(2):
            client.generic(spec["method"], spec["path"], body, content_type="application/json")
        profiler = Profiler(interval=0.0005)
        with profiler:
            response = client.generic(spec["method"], spec["path"], body, content_type="application/json")
    if response.status_code != spec.get("status", 200):
        raise SystemExit(
            f"[bench] the profiled {spec['method']} {spec['path']} answered {response.status_code}"
        )
    connection.set_schema_to_public()
    RESULTS.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    path = RESULTS / f"profile-{slug}.txt"
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    progress(f"  profiled one request of the slowest endpoint ({name}): {path.relative_to(ROOT)}")
    return {"endpoint": name, "file": str(path.relative_to(ROOT))}


def rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    """The table rows: each endpoint's share of the baseline, its p95, errors and memory."""
    targets, out = result["targets"], []
    out.append((f"load: baseline ({result['clients']} clients)", f"{result['baseline_rps']:.0f} req/s",
                "—", None))  # fmt: skip
    out.append(("load: public host / tenant host", f"{result['tenant_routing_cost']:.2f}x", "—", None))
    for name, row in result["phases"].items():
        if name.startswith("baseline"):
            continue
        share = targets["write_share"] if "POST" in name else targets["read_share"]
        out.append((f"load: {name}", f"{row['share_of_baseline']:.0%}", f"≥ {share:.0%} of base",
                    row["share_of_baseline"] >= share))  # fmt: skip
    for name, row in result["phases"].items():
        out.append((f"load p95: {name}", f"{row['p95_ms']:.0f} ms", f"≤ {targets['p95_ms']:.0f} ms",
                    row["p95_ms"] <= targets["p95_ms"]))  # fmt: skip
    if paced := result.get("paced_write"):
        label = f"load p95: {paced['endpoint']}, {paced['offered_rps']:.0f}/s paced"
        out.append((label, f"{paced['p95_ms']:.0f} ms", f"— ({paced['share_of_capacity']:.0%} load)", None))
    errors = sum(row["errors"] for row in result["phases"].values()) + result["baseline_again"]["errors"]
    errors += paced["errors"] if paced else 0
    out.append(("load: errors, all phases", str(errors), "0", errors == 0))
    biggest = max(result["worker_rss_mb"], default=0.0)
    out.append((f"load: largest of {len(result['worker_rss_mb'])} workers' RSS", f"{biggest:.0f} MB",
                f"≤ {targets['worker_rss_mb']:.0f} MB", biggest <= targets["worker_rss_mb"]))  # fmt: skip
    return out
