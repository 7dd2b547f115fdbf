"""DSA statements of reasons for the Commission's Transparency Database (DSA-06, DSA-07, DSA-11; Appendix E).

What the database's API (``POST /api/v1/statements``, ``{"statements": [...]}``, 1 to 100 per request) checks, and
so what we emit: field names and enum values exactly as its ``StatementStoreRequest`` rules name them; the measure's
``territorial_scope`` (Art. 17(3)(a)) as EEA country codes; legal grounds that name the law ("Art. 50 of
Regulation (EU) 2024/1689"), never our requirement row ids; a ``puid`` of ``[A-Za-z0-9_-]``.  Statements come from
decided cases (a reviewer decided) and from measures an upload scan applied by itself (a label or a restriction
with no case: ``automated_decision`` fully automated).  No personal data goes out (DSA-11).

:class:`Submitter` POSTs batches to a configured endpoint with a bearer token and retries transient failures
(connection errors, 429, 5xx) with exponential backoff; a 4xx answer is the database refusing the statements and is
raised with its errors, never retried.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from synthguard.errors import ConfigError, DeliveryError, ValidationError
from synthguard.i18n import _, translate
from synthguard.moderation import texts

BATCH_MAX = 100  # StatementMultipleAPIController: 'statements' => 'required|array|between:1,100'
VISIBILITY = {"remove": "DECISION_VISIBILITY_CONTENT_REMOVED", "restrict": "DECISION_VISIBILITY_CONTENT_DEMOTED",
              "label": "DECISION_VISIBILITY_CONTENT_LABELLED", "notice": "DECISION_VISIBILITY_CONTENT_LABELLED",
              "refute": "DECISION_VISIBILITY_CONTENT_LABELLED"}
SOURCE_TYPE = {"complaint": "SOURCE_ARTICLE_16", "victim_notice": "SOURCE_ARTICLE_16",
               "regulator": "SOURCE_TYPE_OTHER_NOTIFICATION", "scan": "SOURCE_VOLUNTARY", "copy": "SOURCE_VOLUNTARY"}
TC_CATEGORIES = ("label_missing", "false_information", "ai_disclosure")  # decided on the terms, not as illegal
_PUID = re.compile(r"[^a-zA-Z0-9_-]")


def _legal_ground(policy: Any, reason: dict[str, Any], lang: str) -> str:
    """The law the measure rests on, as written in the policy's ``law``; the policy's title (which names its laws)
    when a reason code has none."""
    return str(reason.get("law") or translate(policy.title, lang))[:500]


def _content_type(mime: str | None) -> list[str]:
    kinds = {"image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO",
             "text": "CONTENT_TYPE_TEXT"}
    return ["CONTENT_TYPE_SYNTHETIC_MEDIA"] + ([kinds.get(mime.split("/")[0], "CONTENT_TYPE_OTHER")] if mime else [])


def _grounds(out: dict[str, Any], policy: Any, category: str, reason: dict[str, Any], reason_text: str,
             lang: str) -> None:
    if category in TC_CATEGORIES:
        out["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        out["incompatible_content_ground"] = _("Platform terms on synthetic media, applying {law}", lang,
                                               law=_legal_ground(policy, reason, lang))[:500]
        out["incompatible_content_explanation"] = reason_text[:2000]
        out["incompatible_content_illegal"] = "No"
    else:
        out["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        out["illegal_content_legal_ground"] = _legal_ground(policy, reason, lang)
        out["illegal_content_explanation"] = reason_text[:2000]


def sor(policy: Any, c: Any, x: Any, *, lang: str) -> dict[str, Any]:
    """The statement for one decided case (a human reviewer decided it)."""
    t = policy.complaint_types.get(c.kind)
    dsa = t.dsa if t else {}
    reason = policy.reason_codes.get(c.reason_code or "", {})
    reason_text = translate(reason["text"], lang) if reason.get("text") else str(c.reason_code)
    ctype = _content_type(x.mime if x is not None else None)
    following = _("a notice", lang) if c.source in ("complaint", "victim_notice") else texts.label(
        texts.SOURCES, c.source, lang)
    facts = _("Case {ticket}: {title}. Decision: {action} ({reason}), following {source}. Policy {policy}.", lang,
              ticket=c.ticket, title=translate(t.title, lang) if t else c.kind,
              action=texts.label(texts.ACTIONS, c.action, lang), reason=reason_text, source=following,
              policy=f"{policy.jurisdiction}@{policy.version}")
    out: dict[str, Any] = {
        "decision_visibility": [VISIBILITY[c.action or ""]],
        "content_type": ctype,
        "category": dsa.get("category", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"),
        "territorial_scope": list(policy.territorial_scope),
        "content_date": (x.created_at if x is not None else c.opened_at).strftime("%Y-%m-%d"),
        "application_date": (c.actioned_at or c.opened_at).strftime("%Y-%m-%d"),
        "decision_facts": facts[:5000],
        "source_type": SOURCE_TYPE.get(c.source, "SOURCE_VOLUNTARY"),
        "automated_detection": "Yes" if c.automated else "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",  # a human reviewer decides every case
        "puid": _PUID.sub("-", f"{c.tenant}-{c.ticket}")[:500],
    }
    if "CONTENT_TYPE_OTHER" in ctype:
        out["content_type_other"] = x.mime if x is not None else "unknown"
    if dsa.get("keyword"):
        out["category_specification"] = [dsa["keyword"]]
    _grounds(out, policy, c.category, reason, reason_text, lang)
    return out


def automated_sors(policy: Any, x: Any, *, lang: str) -> list[dict[str, Any]]:
    """Statements for the measures an upload scan applied with no case (``evidence["automated"]``)."""
    out = []
    for m in (x.evidence or {}).get("automated", []):
        kind = policy.complaint_types.get(m.get("case_kind") or "")
        code = m.get("reason") or (kind.category if kind else "")
        reason = policy.reason_codes.get(code, {})
        reason_text = translate(reason["text"], lang) if reason.get("text") else code
        dsa = kind.dsa if kind else {}
        actions = [a for a in m.get("actions", []) if a in VISIBILITY]
        if not actions:
            continue
        facts = _("Upload {ref} scanned on arrival: verdict {verdict}; rule {rule} applied {actions} ({reason}) "
                  "without human review. Policy {policy}.", lang, ref=x.ref, verdict=x.verdict, rule=m.get("rule"),
                  actions=", ".join(texts.label(texts.ACTIONS, a, lang) for a in actions), reason=reason_text,
                  policy=f"{policy.jurisdiction}@{policy.version}")
        s: dict[str, Any] = {
            "decision_visibility": sorted({VISIBILITY[a] for a in actions}),
            "content_type": _content_type(x.mime),
            "category": dsa.get("category", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC" if code in TC_CATEGORIES
                                else "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"),
            "territorial_scope": list(policy.territorial_scope),
            "content_date": x.created_at.strftime("%Y-%m-%d"),
            "application_date": x.created_at.strftime("%Y-%m-%d"),
            "decision_facts": facts[:5000],
            "source_type": "SOURCE_VOLUNTARY",
            "automated_detection": "Yes",
            "automated_decision": "AUTOMATED_DECISION_FULLY",
            "puid": _PUID.sub("-", f"{x.tenant}-auto-{x.ref}-{m.get('rule')}")[:500],
        }
        if "CONTENT_TYPE_OTHER" in s["content_type"]:
            s["content_type_other"] = x.mime
        if dsa.get("keyword"):
            s["category_specification"] = [dsa["keyword"]]
        _grounds(s, policy, code if code in TC_CATEGORIES else "", reason, reason_text, lang)
        out.append(s)
    return out


def batches(statements: list[dict[str, Any]], size: int = BATCH_MAX) -> Iterator[dict[str, Any]]:
    """POSTable request bodies of 1 to ``size`` statements each; nothing at all when there is nothing to send."""
    if not 1 <= size <= BATCH_MAX:
        raise ValidationError("a batch holds 1 to {max} statements, not {size}",
                              values={"max": BATCH_MAX, "size": size})
    for i in range(0, len(statements), size):
        yield {"statements": statements[i:i + size]}


def ndjson(statements: list[dict[str, Any]]) -> str:
    """One POSTable batch per line (empty text when there is nothing to send)."""
    return "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in batches(statements))


@dataclass(frozen=True)
class Submission:
    batch: int  # index of the batch
    statements: int
    status: int
    attempts: int
    answer: Any


Transport = Callable[[str, bytes, dict[str, str], float], tuple[int, bytes]]


def urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (the operator's configured endpoint)
            return int(r.status), r.read(1 << 20)
    except urllib.error.HTTPError as e:
        return int(e.code), e.read(1 << 20)


class Submitter:
    """POST batches to the Transparency Database (or a national mirror), retrying what may succeed later."""

    def __init__(self, endpoint: str, token: str, *, retries: int = 4, backoff: float = 1.0, timeout: float = 30.0,
                 transport: Transport = urllib_transport, sleep: Callable[[float], None] = time.sleep):
        if not endpoint.startswith(("https://", "http://")) or not token:
            raise ConfigError("the DSA submitter needs an http(s) endpoint and an API token",
                              hint="Set SYNTHGUARD_DSA_ENDPOINT and SYNTHGUARD_DSA_TOKEN.")
        self.endpoint, self.token = endpoint, token
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.transport, self.sleep = transport, sleep

    def submit(self, statements: list[dict[str, Any]]) -> list[Submission]:
        return [self._post(i, b) for i, b in enumerate(batches(statements))]

    def _post(self, index: int, batch: dict[str, Any]) -> Submission:
        body = json.dumps(batch, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Authorization": f"Bearer {self.token}"}
        problem = ""
        for attempt in range(1, self.retries + 2):
            try:
                status, raw = self.transport(self.endpoint, body, headers, self.timeout)
            except OSError as exc:  # refused, reset, timed out: worth another try
                status, raw, problem = 0, b"", str(exc)
            if 200 <= status < 300:
                return Submission(index, len(batch["statements"]), status, attempt, _json(raw))
            if status and status != 429 and status < 500:
                raise ValidationError("the Transparency Database refused batch {index} (HTTP {status}): {errors}",
                                      values={"index": index, "status": status, "errors": str(_json(raw))[:2000]},
                                      hint="Fix the statements; a refused batch is not retried.")
            problem = problem or f"HTTP {status}"
            if attempt <= self.retries:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise DeliveryError("batch {index} not delivered after {attempts} attempts ({problem})",
                            values={"index": index, "attempts": self.retries + 1, "problem": problem})


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw[:500].decode("utf-8", "replace")


__all__ = ["BATCH_MAX", "Submission", "Submitter", "automated_sors", "batches", "ndjson", "sor"]
