"""One error tree for the whole library.

Library code raises these and never prints or exits; the CLI maps an error to
``exit_code`` and the HTTP server to ``http_status``.  Every error carries a
message (what went wrong) and a hint (what to do about it), joined by
:meth:`SynthGuardError.diagnostics`.
"""

from __future__ import annotations

from pathlib import Path


class SynthGuardError(Exception):
    """Base of every error SynthGuard raises on purpose."""

    exit_code = 1
    http_status = 500
    hint = "This is a bug in SynthGuard if it persists; please report it."

    def __init__(self, message: str, *, hint: str | None = None, path: str | Path | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        if hint is not None:
            self.hint = hint

    def diagnostics(self) -> str:
        """A human explanation: what happened, to which file, and what to do."""
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}\nWhat to do: {self.hint}"

    def to_dict(self) -> dict[str, str | None]:
        return {"error": type(self).__name__, "message": self.message, "path": self.path, "hint": self.hint}


# --- input the caller gave us -------------------------------------------------------------
class InputError(SynthGuardError):
    """The caller's input is wrong; fix the input and retry."""

    exit_code = 2
    http_status = 400
    hint = "Check the input and try again."


class MediaError(InputError):
    """A media file cannot be used."""

    http_status = 422
    hint = "Pass an intact JPEG, PNG or WebP image."


class UnsupportedMediaError(MediaError):
    http_status = 415
    hint = "Convert the file to a supported format (JPEG, PNG or WebP for images)."


class CorruptMediaError(MediaError):
    hint = "The file is damaged or truncated; obtain an intact copy and retry."


class MediaTooLargeError(MediaError):
    http_status = 413
    hint = "Downscale the file, or raise SYNTHGUARD_MAX_PIXELS / SYNTHGUARD_MAX_BYTES if you trust its source."


class MetadataError(InputError):
    """Embedded metadata (XMP, AIGC JSON, C2PA) is malformed."""

    hint = "The file's metadata is malformed; re-label the original output."


class ValidationError(InputError):
    """A value (producer code, user id, payload, YAML document) fails validation."""


class OutputError(InputError):
    """An output path cannot be written."""

    hint = "Choose an output path in an existing, writable directory."


# --- configuration and keys ---------------------------------------------------------------
class ConfigError(SynthGuardError):
    exit_code = 3
    http_status = 500
    hint = "Fix the setting named above (environment variable SYNTHGUARD_* or synthguard.toml)."


class KeyMissingError(ConfigError):
    hint = "Run `synthguard keys init` for development keys, or point the settings at your production key files."


class FontMissingError(ConfigError):
    hint = (
        "Install a CJK font (Debian: apt-get install fonts-wqy-microhei) or set SYNTHGUARD_FONT_PATH "
        "to a TrueType/OpenType font that covers the label text."
    )


# --- policy refusals ----------------------------------------------------------------------
class RefusedError(SynthGuardError):
    """The law or the operator's policy forbids the request (not a malfunction)."""

    exit_code = 5
    http_status = 403
    hint = "See the message for the missing precondition."


class IdentityNotVerifiedError(RefusedError):
    hint = "Verify the user's real identity first: `synthguard users verify USER --method mobile` (DS-07)."


class ConsentRequiredError(RefusedError):
    hint = "Record the depicted person's separate consent for this purpose before editing their likeness (DS-15)."


# --- lookups ------------------------------------------------------------------------------
class NotFoundError(SynthGuardError):
    exit_code = 4
    http_status = 404
    hint = "Check the identifier; list what exists with the matching `list` command."


class SubjectErasedError(NotFoundError):
    """Personal data whose subject key was destroyed on erasure (PIPL Art. 47)."""

    http_status = 410
    hint = "The data subject exercised erasure; the data cannot be recovered (the ledger still verifies)."


class ConflictError(SynthGuardError):
    exit_code = 6
    http_status = 409
    hint = "The object already exists or changed meanwhile; reload and retry."


# --- subsystems ---------------------------------------------------------------------------
class ProvenanceError(SynthGuardError):
    """Building, signing or reading a C2PA manifest failed."""

    hint = "Check the signing key and certificate files (`synthguard keys init` for development)."


class WatermarkError(SynthGuardError):
    hint = "Check the image size and the watermark key."


class StoreError(SynthGuardError):
    """The database is unreachable, corrupt or at the wrong schema version."""

    exit_code = 7
    http_status = 503
    hint = "Check SYNTHGUARD_DATABASE_URL; restore from backup if the database file is corrupt."


class LedgerIntegrityError(StoreError):
    """The ledger no longer matches its signed checkpoints."""

    hint = "The log was altered after it was checkpointed; preserve the database as evidence and investigate."


class AuthError(SynthGuardError):
    exit_code = 8
    http_status = 401
    hint = "Send a valid API token: `Authorization: Bearer <token>` (create one with `synthguard tokens create`)."


class ForbiddenError(AuthError):
    http_status = 403
    hint = "Your token's role or tenant does not allow this request."


__all__ = sorted(
    name for name, obj in globals().items() if isinstance(obj, type) and issubclass(obj, SynthGuardError)
)
