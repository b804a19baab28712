"""/metrics: the counters and histograms move with real requests through the app."""

from __future__ import annotations

import json
import logging
import sqlite3

from prometheus_client.parser import text_string_to_metric_families

from gatekeeper.logs import JSONFormatter

from test_api import CHROME, decision, post


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_decisions_refusals_commits_and_bundles_are_counted(client):
    before = scrape(client)
    assert post(client, decision({"analytics": True})).status_code == 201
    assert post(client, decision(), origin="https://evil.example").status_code == 403
    assert post(client, decision({"nope": True})).status_code == 422
    first = client.get("/gk/ecomarket.js")
    assert client.get("/gk/ecomarket.js", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    after = scrape(client)

    assert moved(before, after, "gatekeeper_decisions_recorded_total", site="ecomarket", action="grant", source="banner") == 1
    assert moved(before, after, "gatekeeper_refusals_total", code="origin_not_allowed") == 1
    assert moved(before, after, "gatekeeper_refusals_total", code="unknown_category") == 1
    assert moved(before, after, "gatekeeper_log_commit_batch_size_count") == 1
    assert moved(before, after, "gatekeeper_log_commit_batch_size_sum") == 1
    assert moved(before, after, "gatekeeper_log_commit_seconds_count") == 1
    assert moved(before, after, "gatekeeper_bundle_requests_total", site="ecomarket", outcome="full") == 1
    assert moved(before, after, "gatekeeper_bundle_requests_total", site="ecomarket", outcome="not_modified") == 1


def test_a_failed_commit_is_counted(client, settings):
    before = scrape(client)
    # The table gone under the running writer: the commit fails, the visitor is told 503.
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        db.execute("DROP TABLE consent_records")
    assert post(client, decision()).status_code == 503
    after = scrape(client)
    assert moved(before, after, "gatekeeper_log_write_failures_total") == 1
    assert moved(before, after, "gatekeeper_refusals_total", code="not_recorded") == 1
    assert moved(before, after, "gatekeeper_decisions_recorded_total", site="ecomarket", action="refuse", source="banner") == 0


def test_each_request_is_one_line_with_the_truncated_address_and_no_cookie(settings, caplog):
    from starlette.testclient import TestClient

    from gatekeeper.app import create_app

    with TestClient(create_app(settings), base_url="http://testserver", client=("198.51.100.23", 4444)) as client:
        with caplog.at_level(logging.INFO, logger="gatekeeper.access"):
            token = post(client, decision({"analytics": True})).json()["token"]
            client.get("/api/v1/consent?site=ecomarket", headers={"User-Agent": CHROME})
    lines = [json.loads(JSONFormatter().format(r)) for r in caplog.records if r.name == "gatekeeper.access"]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("POST", "/api/v1/consent", 201), ("GET", "/api/v1/consent", 200),
    ]
    assert {line["client"] for line in lines} == {"198.51.100.0"}
    text = "\n".join(JSONFormatter().format(r) for r in caplog.records)
    assert "198.51.100.23" not in text and token not in text and token.split(".")[0] not in text
