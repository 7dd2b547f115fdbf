"""A local stand-in for the DSA Transparency Database API: ``POST /api/v1/statements`` validated with the official
rules (StatementStoreRequest / GroupedSubmissionsService::multi_rules at the commit in tests/data/dsa), re-implemented
here in Python from their text, with the database's own enum values. Used by tests/test_dsa_sor.py."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import data_file

ENUMS = json.loads(data_file("dsa", "tdb_enums.json").read_text())
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PUID = re.compile(r"^[a-zA-Z0-9\-_]+$")


def _date_between(v: Any, lo: str, hi: str) -> bool:
    if not isinstance(v, str) or not _DATE.match(v):
        return False
    try:
        return date.fromisoformat(lo) <= date.fromisoformat(v) <= date.fromisoformat(hi)
    except ValueError:
        return False


def _in_array(v: Any, allowed: list[str]) -> bool:
    return isinstance(v, list) and all(x in allowed for x in v)


def statement_errors(s: Any) -> dict[str, str]:
    """Field -> problem for one statement, after the official rules (empty when it would be accepted)."""
    if not isinstance(s, dict):
        return {"statement": "must be an object"}
    e: dict[str, str] = {}

    def present(k: str) -> bool:
        return s.get(k) not in (None, "", [])

    def need(k: str, ok: bool, msg: str) -> None:
        if not present(k):
            e[k] = "required"
        elif not ok:
            e[k] = msg

    others = ("decision_monetary", "decision_provision", "decision_account")
    if present("decision_visibility"):
        if not _in_array(s["decision_visibility"], ENUMS["DECISION_VISIBILITIES"]):
            e["decision_visibility"] = "invalid"
    elif not any(present(k) for k in others):
        e["decision_visibility"] = "required_without_all"
    if "DECISION_VISIBILITY_OTHER" in (s.get("decision_visibility") or []) and not present("decision_visibility_other"):
        e["decision_visibility_other"] = "required"
    need("decision_ground", s.get("decision_ground") in ENUMS["DECISION_GROUNDS"], "invalid")
    ground = s.get("decision_ground")
    for k, limit, when in (("illegal_content_legal_ground", 500, "DECISION_GROUND_ILLEGAL_CONTENT"),
                           ("illegal_content_explanation", 2000, "DECISION_GROUND_ILLEGAL_CONTENT"),
                           ("incompatible_content_ground", 500, "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
                           ("incompatible_content_explanation", 2000, "DECISION_GROUND_INCOMPATIBLE_CONTENT")):
        if ground == when:
            need(k, isinstance(s.get(k), str) and len(s[k]) <= limit, f"max:{limit}")
    if ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT" and present("incompatible_content_illegal") and \
            s["incompatible_content_illegal"] not in ENUMS["INCOMPATIBLE_CONTENT_ILLEGALS"]:
        e["incompatible_content_illegal"] = "invalid"
    need("content_type", _in_array(s.get("content_type"), ENUMS["CONTENT_TYPES"]), "invalid")
    if "CONTENT_TYPE_OTHER" in (s.get("content_type") or []):
        need("content_type_other", isinstance(s.get("content_type_other"), str) and len(s["content_type_other"]) <= 500,
             "max:500")
    need("category", s.get("category") in ENUMS["STATEMENT_CATEGORIES"], "invalid")
    if present("category_specification") and not _in_array(s["category_specification"], ENUMS["KEYWORDS"]):
        e["category_specification"] = "invalid"
    if present("territorial_scope") and not _in_array(s["territorial_scope"], ENUMS["EUROPEAN_COUNTRY_CODES"]):
        e["territorial_scope"] = "invalid"
    need("content_date", _date_between(s.get("content_date"), "2000-01-01", "2038-01-01"), "date_format:Y-m-d")
    need("application_date", _date_between(s.get("application_date"), "2020-01-01", "2038-01-01"),
         "date_format:Y-m-d")
    need("decision_facts", isinstance(s.get("decision_facts"), str) and len(s["decision_facts"]) <= 5000, "max:5000")
    need("source_type", s.get("source_type") in ENUMS["SOURCE_TYPES"], "invalid")
    need("automated_detection", s.get("automated_detection") in ENUMS["AUTOMATED_DETECTIONS"], "invalid")
    need("automated_decision", s.get("automated_decision") in ENUMS["AUTOMATED_DECISIONS"], "invalid")
    need("puid", isinstance(s.get("puid"), str) and len(s["puid"]) <= 500 and bool(_PUID.match(s["puid"])),
         "regex")
    return e


class StubDatabase:
    """The API on 127.0.0.1: bearer token checked, 1-100 statements per request, puids unique across requests.
    ``fail_first`` answers that many requests with 503 before serving (to exercise the submitter's retries)."""

    def __init__(self, token: str = "tdb-test-token", fail_first: int = 0):
        self.token, self.fail_first = token, fail_first
        self.requests: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.puids: set[str] = set()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = stub.handle(self.path, self.headers.get("Authorization", ""), raw)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v1/statements"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubDatabase:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, auth: str, raw: bytes) -> tuple[int, Any]:
        self.requests.append({"path": path, "size": len(raw)})
        if self.fail_first > 0:
            self.fail_first -= 1
            return 503, {"message": "Service Unavailable"}
        if path != "/api/v1/statements":
            return 404, {"message": "not found"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Unauthenticated."}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"message": "bad JSON"}
        items = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= 100:
            return 422, {"errors": {"statements": ["The statements field must have between 1 and 100 items."]}}
        errors = {f"statement_{i}": err for i, s in enumerate(items) if (err := statement_errors(s))}
        if errors:
            return 422, {"errors": errors}
        puids = [s["puid"] for s in items]
        dupes = sorted({p for p in puids if puids.count(p) > 1 or p in self.puids})
        if dupes:
            return 422, {"message": "the platform unique id(s) already exist", "errors": {"puid": dupes}}
        self.puids.update(puids)
        self.accepted += items
        return 201, {"statements": [{"puid": p} for p in puids]}
