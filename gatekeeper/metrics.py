"""What an operator watches, at /metrics in Prometheus' text format (prometheus-client).

Every metric is declared here; the modules that do the work only increment or observe.
The values are counts and timings, never a visitor's data: the labels are site ids,
actions, sources, error codes and outcomes, all from fixed vocabularies.
"""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

decisions = Counter(
    "gatekeeper_decisions_recorded", "Decisions committed to the consent log.", ["site", "action", "source"]
)
refusals = Counter(
    "gatekeeper_refusals", "API requests answered with an error, by its code; none of them wrote a record.", ["code"]
)
commit_batch = Histogram(
    "gatekeeper_log_commit_batch_size",
    "Records per consent-log commit (group commit: concurrent decisions share one).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 500),
)
commit_seconds = Histogram(
    "gatekeeper_log_commit_seconds",
    "Time of one consent-log commit, from its first statement to the durable commit.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
chain_lock_seconds = Histogram(
    "gatekeeper_log_chain_lock_seconds",
    "Time a consent-log commit waited for its sites' chain heads: the lock that keeps each hash "
    "chain linear when several servers share one database.",
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
chain_head_moved = Counter(
    "gatekeeper_log_chain_head_moved",
    "Batches that found their site's chain head moved by another server since this one last wrote "
    "it, so nothing of them was written and they were chained again after it, under the heads' lock.",
)
write_failures = Counter(
    "gatekeeper_log_write_failures", "Consent-log commits that failed; each of their records was answered 503."
)


@lru_cache(maxsize=1024)
def _decisions_of(site: str, action: str, source: str):
    return decisions.labels(site, action, source)


def decision_recorded(site: str, action: str, source: str) -> None:
    """Counts one committed decision (the labelled counter looked up once per combination)."""
    _decisions_of(site, action, source).inc()


bundle_requests = Counter(
    "gatekeeper_bundle_requests", "Bundle requests by site and outcome: full (200) or not_modified (304).",
    ["site", "outcome"],
)


async def metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics, methods=["GET"])]
