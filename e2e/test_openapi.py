"""/openapi.json of the real server: a valid OpenAPI 3.1 document of every public endpoint,
and a property-based fuzzer (schemathesis) against the live consent API and CSP report
endpoint and the cookie declaration: no 5xx, every answer as documented, and no refused request leaves a record (a
consent record, or a violation count).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import get_args
import urllib.request

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gatekeeper.decisions import Source
from gatekeeper import errors

from .server import REPO

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
# A CSP Level 2 report is JSON under its own media type (w3.org/TR/CSP2/#violation-reports).
schemathesis.serializer.alias("application/csp-report", "application/json")
# Enough to reach every operation and its error paths in well under half a minute.
MAX_EXAMPLES = 30


def fetch_document(server) -> dict:
    with urllib.request.urlopen(f"{server.url}/openapi.json", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        return json.load(response)


def test_the_document_is_valid_openapi_and_lists_every_public_endpoint(server):
    document = fetch_document(server)
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert set(document["paths"]) >= {
        "/api/v1/consent", "/api/v1/consent/{consent_id}", "/gk/{site}.js", "/gk/{site}.{digest}.js",
        "/gk/{site}/prefs/{lang}.{digest}.js", "/gk/{site}/cookies", "/healthz", "/metrics", "/openapi.json", "/demo/{site}",
        "/api/v1/csp-report",
    }
    assert not any(path.startswith(("/admin", "/qa/")) for path in document["paths"])
    post = document["paths"]["/api/v1/consent"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ConsentRequest"}
    request_schema = document["components"]["schemas"]["ConsentRequest"]
    assert request_schema["required"] == ["site", "categories", "revision"]
    assert set(request_schema["properties"]["source"]["enum"]) == set(get_args(Source))
    # Each error class the endpoint raises, under its status, with its code.
    codes = {
        status: answer["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]["enum"]
        for status, answer in post["responses"].items()
        if int(status) >= 400
    }
    assert codes["403"] == ["origin_not_allowed"] and codes["409"] == ["stale_revision"]
    assert set(codes["422"]) == {"invalid_field", "unknown_category", "missing_category"}
    documented = {code for listed in codes.values() for code in listed}
    # Every error the consent POST's modules raise is documented under it.
    sources = "".join((REPO / "gatekeeper" / name).read_text() for name in ("api.py", "decisions.py", "sites.py"))
    raised = {getattr(errors, name).code for name in re.findall(r"errors\.(\w+)\(", sources)} - {"not_found"}
    assert raised and raised <= documented, raised - documented


def test_the_csp_report_endpoint_is_described_from_the_structs_it_reads(server):
    document = fetch_document(server)
    report = document["paths"]["/api/v1/csp-report"]["post"]
    content = report["requestBody"]["content"]
    assert content["application/csp-report"]["schema"] == {"$ref": "#/components/schemas/CspReport"}
    assert content["application/reports+json"]["schema"]["items"] == {"$ref": "#/components/schemas/Report"}
    schemas = document["components"]["schemas"]
    assert {"document-uri", "blocked-uri", "effective-directive"} <= set(schemas["CspReportBody"]["properties"])
    assert {"documentURL", "blockedURL", "effectiveDirective"} <= set(schemas["ViolationBody"]["properties"])
    assert report["parameters"][0]["name"] == "site" and report["responses"]["204"]
    codes = {code for status, answer in report["responses"].items() if int(status) >= 400
             for code in answer["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]["enum"]}
    assert {"unsupported_media_type", "unknown_site", "invalid_json", "rate_limited"} <= codes, codes
    assert {"name": "decided", "in": "query", "required": False, "schema": {"type": "string", "enum": ["1", "0"]}} \
        in report["parameters"]


def test_the_declaration_is_described_from_the_structs_it_is_checked_against(server):
    document = fetch_document(server)
    answer = document["paths"]["/gk/{site}/cookies.json"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SiteDeclaration"}
    declared = document["components"]["schemas"]["SiteDeclaration"]
    assert set(declared["required"]) >= {"site", "categories", "consent_cookie", "services"}
    assert document["components"]["schemas"]["DeclaredService"]["properties"]["trackers"]["type"] == "array"


def violations_counted(server) -> int:
    with sqlite3.connect(server.db_path) as db:
        return db.execute("SELECT COALESCE(SUM(count), 0) FROM csp_violations").fetchone()[0]


def _operations(server):
    # The consent API, the CSP reports and the declaration, whose bodies and answers the
    # document describes from their structs.
    api = schemathesis.openapi.from_url(f"{server.url}/openapi.json").include(
        path_regex=r"^/(api/v1/(consent|csp-report)|gk/\{site\}/cookies\.json$)"
    )
    return [result.ok() for result in api.get_all_operations()]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_fuzzed_requests_never_fail_the_server_and_a_refusal_records_nothing(server, mode):
    operations = _operations(server)
    assert {(op.method.upper(), op.path) for op in operations} >= {
        ("POST", "/api/v1/consent"), ("GET", "/api/v1/consent"), ("DELETE", "/api/v1/consent"),
        ("GET", "/api/v1/consent/{consent_id}"), ("POST", "/api/v1/csp-report"), ("GET", "/gk/{site}/cookies.json"),
    }
    seen: dict[str, set[int]] = {}

    for operation in operations:

        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def exchange(case):
            before, counted = server.last_rowid(), violations_counted(server)
            # A browser on the server's own origin, so bodies get past the Origin check.
            response = case.call(headers={"Origin": server.url, "User-Agent": CHROME}, timeout=10)
            case.validate_response(
                response,
                checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                        response_schema_conformance],
            )
            seen.setdefault(operation.label, set()).add(response.status_code)
            if response.status_code >= 400:
                written = server.records(after=before)
                assert written == [], f"{case.method} {case.formatted_path} answered {response.status_code} but wrote"
                assert violations_counted(server) == counted, f"{case.formatted_path} answered {response.status_code} but counted"

        try:
            exchange()
        except Unsatisfiable:
            # Nothing in it can be made invalid: the preflight has no input, any string is a
            # valid consent id.
            assert mode is GenerationMode.NEGATIVE and operation.method.upper() in ("OPTIONS", "GET"), operation.label
    # The fuzzer got past the front door: refusals of several kinds were provoked.
    assert len(set().union(*seen.values())) >= 3, seen
    # Well-formed reports are counted; malformed ones refused.
    assert (204 if mode is GenerationMode.POSITIVE else 400) in seen["POST /api/v1/csp-report"], seen
    if mode is GenerationMode.POSITIVE:  # each served declaration matched its documented schema
        assert 200 in seen["GET /gk/{site}/cookies.json"], seen
