"""One error tree for the whole library.

Library code raises these and never prints or exits; the CLI maps an error to
``exit_code`` and the HTTP server to ``http_status``.  Every error carries a
message (what went wrong) and a hint (what to do about it), joined by
:meth:`SynthGuardError.diagnostics`.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from synthguard.i18n import N_, _, translate


class SynthGuardError(Exception):
    """Base of every error SynthGuard raises on purpose."""

    exit_code = 1
    http_status = 500
    hint = N_("This is a bug in SynthGuard if it persists; please report it.")

    def __init_subclass__(cls, *, exit_code: int | None = None, http_status: int | None = None,
                          hint: str | None = None, **kwargs: Any):
        """A subclass states what differs from its base in its class line:
        ``class NotFoundError(SynthGuardError, exit_code=4, http_status=404, hint=N_("..."))``."""
        super().__init_subclass__(**kwargs)
        for name, value in (("exit_code", exit_code), ("http_status", http_status), ("hint", hint)):
            if value is not None:
                setattr(cls, name, value)

    def __init__(self, message: str, *, hint: str | None = None, path: str | Path | None = None,
                 values: dict[str, Any] | None = None):
        """``message`` is English; with ``values`` it is a template (``"{n} bytes"``) translated before filling,
        so the catalogs hold one entry per message, not one per value."""
        self._template, self._values = message, dict(values or {})
        message = message.format(**self._values) if values else message
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self._hint_template: str | None = None
        if hint is not None:  # a hint given here may be a template over the same values
            self._hint_template = hint
            self.hint = _fill(hint, self._values)

    @property
    def template(self) -> str:
        """The message before filling (the catalog msgid): re-raising as another class passes ``template`` and
        ``values`` on, so the new error still translates (tests/test_error_templates.py)."""
        return self._template

    @property
    def values(self) -> dict[str, Any]:
        return dict(self._values)

    def localized(self, lang: str | None = None) -> tuple[str, str]:
        """(message, hint) in ``lang`` (default: the current language); English where no translation exists."""
        hint = translate(self.hint if self._hint_template is None else self._hint_template, lang)
        return translate(self._template, lang, **self._values), _fill(hint, self._values)

    def diagnostics(self, lang: str | None = None) -> str:
        """A human explanation: what happened, to which file, and what to do."""
        message, hint = self.localized(lang)
        where = f"{self.path}: " if self.path else ""
        what_to_do = _("What to do:", lang)  # outside the f-string, where the catalog extractor can see it
        return f"{where}{message}\n{what_to_do} {hint}"

    def to_dict(self, lang: str | None = None) -> dict[str, str | None]:
        """The machine-readable error; ``message`` and ``hint`` in ``lang`` when one is given."""
        message, hint = self.localized(lang) if lang else (self.message, self.hint)
        return {"error": type(self).__name__, "message": message, "path": self.path, "hint": hint}


def _fill(text: str, values: dict[str, Any]) -> str:
    """``text`` with ``{named}`` values filled in; as it is when it has no such fields (a hint with literal braces)."""
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


# --- input the caller gave us -------------------------------------------------------------
class InputError(SynthGuardError, exit_code=2, http_status=400, hint=N_("Check the input and try again.")):
    """The caller's input is wrong; fix the input and retry."""


class MediaError(InputError, http_status=422, hint=N_("Pass an intact JPEG, PNG or WebP image.")):
    """A media file cannot be used."""


class UnsupportedMediaError(MediaError, http_status=415,
                            hint=N_("Convert the file to a supported format (JPEG, PNG or WebP for images).")):
    """A format SynthGuard does not read."""


class CorruptMediaError(MediaError, hint=N_("The file is damaged or truncated; obtain an intact copy and retry.")):
    """A file that does not decode."""


class MediaTooLargeError(MediaError, http_status=413, hint=N_(
        "Downscale the file, or raise SYNTHGUARD_MAX_PIXELS / SYNTHGUARD_MAX_BYTES if you trust its source.")):
    """A file over the size, pixel or duration limits."""


class MetadataError(InputError, hint=N_("The file's metadata is malformed; re-label the original output.")):
    """Embedded metadata (XMP, AIGC JSON, C2PA) is malformed."""


class ValidationError(InputError):
    """A value (producer code, user id, payload, YAML document) fails validation."""


class OutputError(InputError, hint=N_("Choose an output path in an existing, writable directory.")):
    """An output path cannot be written."""


# --- configuration and keys ---------------------------------------------------------------
class ConfigError(SynthGuardError, exit_code=3, http_status=500,
                  hint=N_("Fix the setting named above (environment variable SYNTHGUARD_* or synthguard.toml).")):
    """A setting is missing or wrong."""


class PluginError(ConfigError, hint=N_(
        "Fix the plugin so that it passes its contract check (docs/plugins.md), or uninstall the distribution "
        "named above.")):
    """A plugin (an entry point of another distribution) cannot be loaded or fails its contract (docs/plugins.md)."""


class KeyMissingError(ConfigError, hint=N_(
        "Run `synthguard keys init` for development keys, or point the settings at your production key files.")):
    """A signing or watermark key file is missing."""


class FontMissingError(ConfigError, hint=N_(
        "Install a CJK font (Debian: apt-get install fonts-wqy-microhei) or set SYNTHGUARD_FONT_PATH "
        "to a TrueType/OpenType font that covers the label text.")):
    """No font has every character a label or document needs (GB-03: never tofu boxes)."""


# --- policy refusals ----------------------------------------------------------------------
class RefusedError(SynthGuardError, exit_code=5, http_status=403,
                   hint=N_("See the message for the missing precondition.")):
    """The law or the operator's policy forbids the request (not a malfunction)."""


class IdentityNotVerifiedError(RefusedError, hint=N_(
        "Verify the user's real identity first: `synthguard users verify USER --method mobile` (DS-07).")):
    """DS-07: the user's real identity is not verified."""


class ConsentRequiredError(RefusedError, hint=N_(
        "Record the depicted person's separate consent for this purpose before editing their likeness (DS-15).")):
    """DS-15: no consent of the depicted person for this purpose."""


class TermsNotAcceptedError(RefusedError, hint=N_("Show the user the current service agreement and record the "
                                                  "acceptance: `synthguard compliance terms accept USER`.")):
    """DS-06: the user has not accepted the current service agreement."""


class FeatureDisabledError(RefusedError, hint=N_("The operator disabled this feature with an emergency switch; "
                                                 "`synthguard compliance switch list` shows why.")):
    """An emergency switch turned the feature off (DS-05, DS-24).

    403 like every policy refusal, not 503: the service is healthy and a retry will not succeed until an operator
    turns the feature back on, so clients and load balancers must not retry or page anyone."""


# --- lookups ------------------------------------------------------------------------------
class NotFoundError(SynthGuardError, exit_code=4, http_status=404,
                    hint=N_("Check the identifier; list what exists with the matching `list` command.")):
    """No such object."""


class SubjectErasedError(NotFoundError, http_status=410, hint=N_(
        "The data subject exercised erasure; the data cannot be recovered (the ledger still verifies).")):
    """Personal data whose subject key was destroyed on erasure (PIPL Art. 47)."""


class ConflictError(SynthGuardError, exit_code=6, http_status=409,
                    hint=N_("The object already exists or changed meanwhile; reload and retry.")):
    """The object exists already, or changed meanwhile."""


# --- subsystems ---------------------------------------------------------------------------
class ProvenanceError(SynthGuardError, hint=N_(
        "Check the signing key and certificate files (`synthguard keys init` for development).")):
    """Building, signing or reading a C2PA manifest failed."""


class WatermarkError(SynthGuardError, hint=N_("Check the image size and the watermark key.")):
    """Embedding or reading an invisible watermark failed."""


class StoreError(SynthGuardError, exit_code=7, http_status=503,
                 hint=N_("Check SYNTHGUARD_DATABASE_URL; restore from backup if the database file is corrupt.")):
    """The database is unreachable, corrupt or at the wrong schema version."""


class LedgerIntegrityError(StoreError, hint=N_(
        "The log was altered after it was checkpointed; preserve the database as evidence and investigate.")):
    """The ledger no longer matches its signed checkpoints."""


class AuthError(SynthGuardError, exit_code=8, http_status=401, hint=N_(
        "Send a valid API token: `Authorization: Bearer <token>` (create one with `synthguard tokens create`).")):
    """No valid credentials."""


class ForbiddenError(AuthError, http_status=403, hint=N_("Your token's role or tenant does not allow this request.")):
    """Valid credentials whose role or tenant may not do this."""


class RateLimitedError(SynthGuardError, exit_code=9, http_status=429,
                       hint=N_("Slow down and retry after the number of seconds in the Retry-After header.")):
    """Too many requests from one API token (settings ``rate_limit_per_minute``/``rate_limit_burst``)."""


class UpstreamError(SynthGuardError, exit_code=10, http_status=502,
                    hint=N_("Check that the upstream service is reachable and answers as its API documents.")):
    """A service SynthGuard calls for the user (the gateway's upstream API, a bucket) failed or answered nonsense."""


class DeliveryError(UpstreamError, hint=N_(
        "The remote service is unreachable or failing; nothing was lost, submit again later.")):
    """A remote endpoint (e.g. the DSA Transparency Database) stayed unreachable or failing after every retry."""


_ABSOLUTE_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^\s/\\'\",;:()]+)+[/\\]([^\s/\\'\",;:()]+)")


def without_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last component: what a caught third-party exception says
    (``cannot import name ... (/srv/app/.../image.py)``, ``[Errno 2] ... '/var/lib/...'``) may reach API clients and
    public pages as a problem, and the server's layout is not theirs to see."""
    return _ABSOLUTE_PATH.sub(r"\1", text)


def optional_module(name: str, message: str, hint: str) -> Any:
    """The optional dependency ``name``, imported; UnsupportedMediaError(``message``, ``hint``) when it is not
    installed (mark both with ``N_``: they are shown translated)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise UnsupportedMediaError(message, hint=hint) from exc


__all__ = sorted(
    name for name, obj in globals().items() if isinstance(obj, type) and issubclass(obj, SynthGuardError)
)
