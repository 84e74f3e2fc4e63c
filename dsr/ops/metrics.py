"""DSR Hub's own Prometheus metrics, read from the database (the source of truth) at scrape time.

django-prometheus adds the HTTP and process metrics. These are computed on each scrape of /metrics
by a collector, so every web process reports the same numbers whichever worker did the work:

- ``dsr_requests{status,type}``: requests by status and type;
- ``dsr_jobs{system,status}``: connector jobs by system and outcome;
- ``dsr_job_queue_depth{system}``: jobs ready to run or running (pending, running, waiting for a vendor);
- ``dsr_requests_deadline_risk{risk}``: open requests ``overdue`` or ``due_soon`` (within
  ``DSR_DUE_SOON_DAYS``);
- ``dsr_job_duration_seconds{system}``: a histogram of the run time of jobs finished in the last
  ``WINDOW`` (started to finished).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

WINDOW = timedelta(days=7)
BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0)
QUEUED = ("pending", "running", "waiting")


class DsrCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Lets the registry learn the names without a scrape (collect() queries the database).
        yield GaugeMetricFamily("dsr_requests", "", labels=["status", "type"])
        yield GaugeMetricFamily("dsr_jobs", "", labels=["system", "status"])
        yield GaugeMetricFamily("dsr_job_queue_depth", "", labels=["system"])
        yield GaugeMetricFamily("dsr_requests_deadline_risk", "", labels=["risk"])
        yield HistogramMetricFamily("dsr_job_duration_seconds", "", labels=["system"])

    def collect(self) -> Iterator[Metric]:
        from dsr.workflow.models import TERMINAL_STATUSES, ConnectorJob, DataSubjectRequest

        requests = GaugeMetricFamily("dsr_requests", "Requests by status and type", labels=["status", "type"])
        for row in DataSubjectRequest.objects.values("status", "type").annotate(n=Count("id")).order_by():
            requests.add_metric([row["status"], row["type"]], row["n"])
        yield requests

        jobs = GaugeMetricFamily(
            "dsr_jobs", "Connector jobs by system and outcome", labels=["system", "status"]
        )
        depth = GaugeMetricFamily(
            "dsr_job_queue_depth", "Jobs pending, running or waiting for a vendor", labels=["system"]
        )
        queued: dict[str, int] = {}
        for row in ConnectorJob.objects.values("system__key", "status").annotate(n=Count("id")).order_by():
            jobs.add_metric([row["system__key"], row["status"]], row["n"])
            queued.setdefault(row["system__key"], 0)
            if row["status"] in QUEUED:
                queued[row["system__key"]] += row["n"]
        for system, n in sorted(queued.items()):
            depth.add_metric([system], n)
        yield jobs
        yield depth

        now = timezone.now()
        open_requests = DataSubjectRequest.objects.exclude(status__in=TERMINAL_STATUSES)
        risk = GaugeMetricFamily(
            "dsr_requests_deadline_risk", "Open requests overdue or due soon", labels=["risk"]
        )
        risk.add_metric(["overdue"], open_requests.filter(due_at__lt=now).count())
        risk.add_metric(
            ["due_soon"],
            open_requests.filter(due_at__gte=now, due_at__lt=now + settings.DSR_DUE_SOON).count(),
        )
        yield risk

        durations: dict[str, list[float]] = {}
        finished = ConnectorJob.objects.filter(
            finished_at__gte=now - WINDOW, started_at__isnull=False
        ).values_list("system__key", "started_at", "finished_at")
        for system, started, ended in finished.iterator():
            if started is not None and ended is not None:
                durations.setdefault(system, []).append(max(0.0, (ended - started).total_seconds()))
        histogram = HistogramMetricFamily(
            "dsr_job_duration_seconds", "Run time of jobs finished in the last 7 days", labels=["system"]
        )
        for system, values in sorted(durations.items()):
            cumulative = [(_le(b), sum(1 for v in values if v <= b)) for b in BUCKETS]
            cumulative.append(("+Inf", len(values)))
            histogram.add_metric([system], cumulative, sum_value=sum(values))
        yield histogram


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{bound:.1f}"


_registered: DsrCollector | None = None


def register_collector() -> None:
    global _registered
    if _registered is None:
        _registered = DsrCollector()
        REGISTRY.register(_registered)
