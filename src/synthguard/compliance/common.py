"""Small shared pieces of the compliance module: name checks, dates, ledger bodies without personal data."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from synthguard.errors import ValidationError
from synthguard.i18n import N_

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
FEATURE = re.compile(r"^[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30})?$")
TENANT = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")
_SINCE = re.compile(r"^(\d{1,5})([hdw])$")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_name(value: str, what: str, hint: str) -> str:
    if not NAME.match(value or ""):
        raise ValidationError("{what} {value!r} is not a valid name", hint=hint, values={"what": what, "value": value})
    return value


def check_tenant(tenant: str) -> str:
    if not TENANT.match(tenant or ""):
        raise ValidationError("tenant {tenant!r} is not a valid tenant id",
                              hint="Use 1-64 letters, digits, '.', '_' or '-' ('*' for every tenant).",
                              values={"tenant": tenant})
    return tenant


def check_text(value: str, what: str, *, max_len: int = 2000) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError("{what} is empty", hint=N_("Say {what}: the register keeps it for the audit trail."),
                              values={"what": what})
    if len(value) > max_len:
        raise ValidationError("{what} is longer than {max_len} characters", values={"what": what, "max_len": max_len})
    return value


def parse_since(value: str | timedelta) -> timedelta:
    """``30d``, ``12h`` or ``2w`` -> a timedelta (the audit period)."""
    if isinstance(value, timedelta):
        return value
    m = _SINCE.match((value or "").strip())
    if not m or int(m.group(1)) == 0:
        raise ValidationError("period {value!r} is not understood", hint="Use a number and a unit: 30d, 12h or 2w.",
                              values={"value": value})
    n, unit = int(m.group(1)), m.group(2)
    return {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


def parse_day(value: str | date | datetime) -> datetime:
    """An ISO date (``2027-01-31``) or datetime -> an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError("date {value!r} is not an ISO date", hint="Write it as YYYY-MM-DD.",
                              values={"value": value}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


UserRef = Callable[[str], str]
"""The ledger pseudonym of a user key (``SynthGuard.user_ref``): the ledger never holds a name (PI-*)."""


def ledger_body(user_ref: UserRef, event: str, actor: str, **fields: Any) -> dict[str, Any]:
    """A governance event for the ledger: the actor as a pseudonymous reference, never the name itself."""
    return {"event": event, "actor": user_ref(f"actor:{actor}")} | fields
