"""The load benchmark's baseline (bench/load.py): the cheapest response the stack can give.

A view returning a tiny JSON body, served by the same gunicorn, behind the same middleware
(tenant routing, sessions, authentication, CSP …), so that every endpoint's throughput is
reported as a share of it: a ratio that holds on a noisy machine. It is routed only when
BENCH_BASELINE is on (the benchmark's own server), on the public host and on organisations'
hosts, so the cost of tenant routing is measured as well."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET


@require_GET
def baseline(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/baseline/", baseline, name="bench_baseline")]
