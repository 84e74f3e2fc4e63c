"""/healthz (liveness), /readyz (readiness) and /metrics (Prometheus, protected in production)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from dsr.ops.checks import readiness_check


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches no database, broker or cache (a restart would not help)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: database, broker, cache and storage each work; 503 when any one does not."""
    results = readiness_check()
    ok = all(r.ok for r in results)
    body = {
        "status": "ok" if ok else "fail",
        "checks": {
            r.name: {"ok": r.ok, "ms": r.ms, **({"error": r.error} if r.error else {})} for r in results
        },
    }
    return JsonResponse(body, status=200 if ok else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """Open in development. In production only with ``DSR_METRICS_TOKEN`` as a bearer token or from an
    address in ``DSR_METRICS_ALLOW_IPS`` (the peer address: list your proxy's if one is in front)."""
    token = settings.DSR_METRICS_TOKEN
    allowed = settings.DSR_METRICS_ALLOW_IPS
    if not settings.PRODUCTION and not token and not allowed:
        return True
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in allowed)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return JsonResponse({"detail": "Not allowed."}, status=403)
    return ExportToDjangoView(request)
