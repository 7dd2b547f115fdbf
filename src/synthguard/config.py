"""Settings: environment (prefix SYNTHGUARD_) over an optional TOML file over defaults.

Passed explicitly to :class:`synthguard.SynthGuard`; never read from a global.

Every setting belongs to exactly one section of :data:`SECTIONS` (issue 23, step 6): ``[label]``,
``[watermark]``, ``[scan]``, ``[moderation]`` ...  The flat names (``scan_watermark_search``,
``SYNTHGUARD_SCAN_WATERMARK_SEARCH``) stay the fields, the environment variables and the keys of a flat
``synthguard.toml``; a section names the same setting without its prefix (``[scan] watermark_search``), in the
TOML file and as ``settings.sections.scan.watermark_search``.  The defaults a jurisdiction profile decides
(DS-01) are declared in :data:`PROFILE_DEFAULTS` and resolved by :meth:`Settings.profile_defaults` only.
"""

from __future__ import annotations

import json
import os
import tomllib
import typing
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from synthguard.errors import ConfigError

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left", "bottom", "top"]
Profile = Literal["cn", "eu", "us", "none"]


@dataclass(frozen=True)
class Section:
    """One settings section: its fields (flat names) and the prefixes a field drops inside the section.

    A field's name in the section is the flat name without the first matching prefix; a field named like its
    section (``watermark``, ``c2pa``: the on/off switch) is ``enabled`` there."""

    fields: tuple[str, ...]
    prefixes: tuple[str, ...] = ()

    def member(self, name: str, field: str) -> str:
        if field == name:
            return "enabled"
        for prefix in self.prefixes or (f"{name}_",):
            if field.startswith(prefix):
                return field.removeprefix(prefix)
        return field


# The one table of sections: every field of Settings is in exactly one (tests/test_settings_sections.py).
SECTIONS: dict[str, Section] = {
    "deployment": Section(("home", "database_url", "profile")),
    "identity": Section(("require_verified_identity", "identity_verifier", "require_terms_acceptance")),
    "label": Section(("producer", "strict_producer_code", "label_text", "label_position", "label_height_ratio",
                      "text_notice_zh", "text_notice_en", "text_notice_position", "font_path", "jpeg_quality",
                      "audio_notice", "audio_notice_text", "audio_notice_position", "video_label_seconds",
                      "video_label_persistent", "video_crf")),
    "watermark": Section(("watermark", "watermark_strength", "watermark_mode", "audio_scale_search")),
    "c2pa": Section(("c2pa", "c2pa_cert", "c2pa_key", "c2pa_trust_anchors", "tsa_url")),
    "limits": Section(("max_pixels", "max_bytes", "max_metadata_depth", "max_audio_seconds", "max_video_seconds")),
    "scan": Section(("scan_watermark_search", "scan_cache", "scan_cache_entries", "scan_cache_days",
                     "scan_processes", "scan_process_nice", "detector_manifests", "vpdq_quality", "vpdq_query_share",
                     "vpdq_compared_share")),
    "consent": Section(("consent_unknown_policy", "face_match_threshold", "voice_match_threshold")),
    "moderation": Section(("moderation_policy", "smtp_url", "mail_from")),
    "compliance": Section(("service_name", "filing_number", "filing_link", "tool_description", "tool_techniques",
                           "log_retention_days", "dsa_endpoint", "dsa_token")),
    "ledger": Section(("ledger_origin", "checkpoint_extensions", "witness_name")),
    "http": Section(("rate_limit_per_minute", "rate_limit_burst", "rate_limit_shared", "trusted_proxies",
                     "secure_cookies")),
    "public": Section(("public_sandbox", "public_workers", "public_memory_mb", "public_seconds",
                       "public_media_seconds", "public_rate_per_minute")),
    "jobs": Section(("jobs_inline", "job_lease_seconds", "job_max_attempts", "job_backoff_seconds"),
                    prefixes=("jobs_", "job_")),
    "uploads": Section(("upload_buckets", "upload_callback_url", "upload_callback_secret"), prefixes=("upload_",)),
}
# (section, name in the section) of every flat field name
SECTION_OF: dict[str, tuple[str, str]] = {f: (name, sec.member(name, f)) for name, sec in SECTIONS.items()
                                          for f in sec.fields}
# flat field name of every (section, name in the section)
FIELD_OF: dict[tuple[str, str], str] = {where: f for f, where in SECTION_OF.items()}


@dataclass(frozen=True)
class ProfileDefaults:
    """What a jurisdiction profile (DS-01) decides for a setting the operator left unset."""

    require_verified_identity: bool  # DS-07: real-name verification before labeling (the cn profile)
    consent_unknown_policy: Literal["allow", "deny"]  # DS-15: a face or voice of nobody enrolled
    moderation_jurisdiction: str  # the shipped moderation policy, policies/<name>.yaml (docs/moderation.md)
    compliance_profile: str  # the checks `synthguard compliance audit` runs (docs/compliance.md)


# The one table of profile-dependent defaults.  consent_unknown_policy: cn, DSP Art. 14(2) and PIPL Arts. 28-29
# require separate consent for every edited face or voice; eu, GDPR Art. 9 (biometric data for identification
# needs explicit consent); us, no general federal consent duty (state laws protect registered persons).  The
# none profile has no moderation policy or compliance checks of its own and uses cn's.
PROFILE_DEFAULTS: dict[str, ProfileDefaults] = {
    "cn": ProfileDefaults(True, "deny", "cn", "cn"),
    "eu": ProfileDefaults(False, "deny", "eu", "eu"),
    "us": ProfileDefaults(False, "allow", "us", "us"),
    "none": ProfileDefaults(False, "allow", "cn", "cn"),
}


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("synthguard", appauthor=False))


ENV_PREFIX = "SYNTHGUARD_"


class Settings(BaseModel):
    """Operator settings. Every field can be set as SYNTHGUARD_<FIELD> (upper case).

    Sources, highest first: the arguments, the environment, the TOML file (:func:`file_values`), the defaults.
    Read by :meth:`_sources` rather than pydantic-settings, whose import (with asyncio and its cloud secret
    providers) cost every command 40 ms (issue 22)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    home: Path = Field(default_factory=default_home, description="Where the database, keys and config live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<home>/synthguard.db")
    profile: Profile = Field("cn", description="Jurisdiction profile (DS-01).")
    require_verified_identity: bool | None = Field(
        None, description="Refuse labeling for unverified users (DS-07). Default: on for the cn profile."
    )
    identity_verifier: str = Field(
        "operator", min_length=1, max_length=64,
        description="Which registered identity verifier checks users' real identity (DS-07): the built-in "
                    "'operator' (the operator attests a check made elsewhere) or a plugin's name "
                    "(entry-point group synthguard.identity_verifiers, docs/plugins.md).",
    )
    producer: str | None = Field(None, description="Default provider code for ContentProducer (GB-14).")
    strict_producer_code: bool = Field(
        False, description="Require the 27-character TC260 provider-code structure (GB-14) [configurable]."
    )
    max_pixels: int = Field(64_000_000, gt=0, description="Decompression-bomb guard for images.")
    max_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Largest file accepted.")
    max_metadata_depth: int = Field(
        32, ge=2, le=1000, description="Deepest nesting accepted in embedded metadata JSON/XMP (parser-bomb guard)."
    )
    rate_limit_per_minute: int = Field(
        600, ge=0, description="HTTP requests per minute per API token (token bucket; 0 turns the limit off)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For gives the client IP (e.g. 127.0.0.1); "
                    "empty: the peer address is the client (issue 18 finding 3).",
    )
    secure_cookies: bool | None = Field(
        None, description="Mark console and form cookies Secure (default: when the request came over https).")
    public_sandbox: bool = Field(
        True, description="Run anonymous inspections and checks in a limited child process (issue 18 finding 5).")
    public_workers: int = Field(2, ge=1, le=64, description="Anonymous inspections/checks running at once.")
    public_memory_mb: int = Field(768, ge=64, description="Memory one anonymous inspection may add (RLIMIT_AS).")
    public_seconds: int = Field(20, ge=1, description="Wall-clock (and CPU) budget of one anonymous inspection.")
    public_media_seconds: int = Field(
        60, ge=1, description="Longest audio or video an anonymous inspection decodes (the operator's own limits "
                              "may be hours).")
    public_rate_per_minute: int = Field(
        30, ge=0, description="Anonymous requests per minute per client address on public routes (0: off).")
    rate_limit_burst: int = Field(120, ge=1, description="Requests a token may send at once before the rate applies.")
    rate_limit_shared: bool | None = Field(
        None, description="Keep each token's bucket in the database, shared by every server process and host. "
                          "Default: on for Postgres, off (per process, in memory) for SQLite.")
    jobs_inline: bool | None = Field(
        None, description="Run queued jobs in the submitting process. Default: on for SQLite, off for Postgres."
    )
    job_lease_seconds: float = Field(
        300.0, gt=0, description="Visibility timeout: a running job whose worker died is re-leased after this."
    )
    job_max_attempts: int = Field(5, ge=1, le=100, description="Attempts before a job goes to the dead letter.")
    job_backoff_seconds: float = Field(2.0, ge=0, description="First retry delay; doubles per attempt (max 1 h).")
    label_text: str = Field("AI生成 AI-generated", min_length=1, description="Visible label text (GB-03).")
    label_position: Corner = Field("bottom-right", description="Edge or corner for the visible label.")
    label_height_ratio: float = Field(0.05, ge=0.05, le=0.5, description="Glyph height / shorter side, >= 0.05.")
    text_notice_zh: str = Field("AI生成", description="Chinese wording of the text notice (GB-02); may be empty.")
    text_notice_en: str = Field("AI-generated", description="English wording of the text notice; may be empty.")
    text_notice_position: Literal["start", "end", "both"] = Field(
        "start", description="Where the text notice goes: start, end or both (LM-03)."
    )
    font_path: Path | None = Field(None, description="Font for visible labels; default: the bundled WenQuanYi subset, "
                                                     "else a system CJK font.")
    jpeg_quality: int = Field(92, ge=50, le=100, description="Quality when re-encoding JPEG/WebP outputs.")
    watermark: bool = Field(True, description="Embed the invisible watermark when labeling images.")
    watermark_strength: float = Field(1.0, gt=0, le=4.0, description="Watermark energy; 1.0 gives ~42.5 dB PSNR.")
    watermark_mode: Literal["private", "shared", "public"] = Field(
        "private", description="Image watermark scheme (issue 19, docs/federation.md): private (the scheme key's "
                               "own pattern, detected only with watermark.key), shared (the common SynthGuard sync "
                               "pattern; platforms you grant the detection key read the token) or public (the "
                               "detection key is in the signed descriptor: anyone reads the token, only you resolve "
                               "it).")
    audio_scale_search: bool = Field(
        False, description="Audio (and video soundtrack) watermark: when the offsets-only search finds nothing, also "
                           "search time and pitch scale 0.85-1.15 (finds sped-up, slowed or pitch-shifted copies; "
                           "about 3 s CPU per 10 s of unmarked audio, so off for scans by default; issue 25).")
    require_terms_acceptance: bool = Field(
        True, description="Refuse to label for a user who has not accepted the tenant's current service agreement "
                          "(DS-06); no effect until an agreement is published.")
    scan_watermark_search: Literal["full", "priors"] = Field(
        "full", description="Image watermark search in scans: every geometry, or only the re-encode/resize/crop "
                            "priors (about 5x cheaper; the scan then asks for a deferred deep scan).")
    scan_cache: bool = Field(
        True, description="Reuse the marks, detector and fingerprint readings of an earlier scan of identical bytes "
                          "(keyed by content hash, settings, keys and detector versions); bank matches, actions and "
                          "the ledger entry stay each upload's own.")
    scan_cache_entries: int = Field(4096, ge=0, description="Cached scan analyses kept in memory per process.")
    scan_cache_days: float = Field(7.0, gt=0, description="Cached scan analyses older than this are deleted.")
    scan_processes: int = Field(
        0, ge=0, le=64, description="Analyse uncached uploads in this many child processes per server process "
                                    "(0: in the request's thread), so a slow scan never holds up cached repeats.")
    scan_process_nice: int = Field(
        10, ge=0, le=19, description="CPU niceness of those child processes: their analyses (uncached uploads, deep "
                                     "scans) yield the cores to the processes answering requests, which keep theirs "
                                     "for the database writes every upload makes (`synthguard worker --nice`). 10 by "
                                     "default: a viral file's first scan no longer delays its cached repeats "
                                     "(issue 28; 0 gives the analyses the same priority as the requests).")
    audio_notice: Literal["speech", "rhythm"] = Field(
        "speech", description="Explicit audio label (GB-04): spoken notice (espeak-ng) or the rhythm cue."
    )
    audio_notice_text: str = Field(
        "本内容由人工智能生成 This audio is AI-generated", min_length=1,
        description="Words of the spoken notice; must name AI and generation (GB-04(b)).",
    )
    audio_notice_position: Literal["start", "end", "start_end"] = Field(
        "start", description="Where the audio notice goes (GB-04(d))."
    )
    max_audio_seconds: float = Field(3600.0, gt=0, le=4 * 3600, description="Longest audio accepted for labeling.")
    c2pa: bool = Field(True, description="Sign a C2PA manifest when labeling.")
    c2pa_cert: Path | None = Field(None, description="PEM chain (signing cert first); default <home>/keys.")
    c2pa_key: Path | None = Field(None, description="PKCS#8 PEM private key for the C2PA signing cert.")
    c2pa_trust_anchors: Path | None = Field(None, description="PEM bundle of trusted root certificates.")
    log_retention_days: int = Field(
        190, ge=183, description="Keep personal data linked to logs this long (>= 183 days: CSL-01, DS-18, LM-20)."
    )
    detector_manifests: list[Path] = Field(
        default_factory=list, description="Operator-supplied ONNX detector manifests (advisory scores, GB-19)."
    )
    tsa_url: str | None = Field(None, description="RFC 3161 time-stamp authority for C2PA (off by default: offline).")
    max_video_seconds: float = Field(4 * 3600.0, gt=0, description="Longest video accepted for labeling, seconds.")
    vpdq_quality: int = Field(
        50, ge=0, le=100,
        description="vPDQ bank matching: frames below this PDQ quality are not compared (ThreatExchange's "
                    "VPDQ_QUALITY_THRESHOLD; our hasher keeps frames of quality 50 and up).")
    vpdq_query_share: float = Field(
        80.0, gt=0, le=100,
        description="vPDQ bank matching: percent of the query video's frames that must be within the bank's "
                    "distance of a banked frame (ThreatExchange's VPDQ_QUERY_MATCH_THRESHOLD_PERCENT).")
    vpdq_compared_share: float = Field(
        0.0, ge=0, le=100,
        description="vPDQ bank matching: percent of the banked video's frames that must be matched too "
                    "(ThreatExchange's VPDQ_INDEX_MATCH_THRESHOLD_PERCENT; 0 lets an excerpt match).")
    video_label_seconds: float = Field(
        3.0, ge=2.0, description="How long the visible label shows from the first frame (GB-05: >= 2 s)."
    )
    video_label_persistent: bool = Field(False, description="Keep the visible video label on every frame (LM-06).")
    video_crf: int = Field(18, ge=0, le=51, description="x264 CRF of re-encoded labeled videos (lower = better).")
    consent_unknown_policy: Literal["allow", "deny"] | None = Field(
        None, description="Consent gate: faces/voices of nobody enrolled (DS-15). Default per profile: deny for cn/eu."
    )
    face_match_threshold: float | None = Field(
        None, gt=0, lt=2, description="Face embedding distance below which two faces match (default: calibrated 0.6)."
    )
    voice_match_threshold: float | None = Field(
        None, gt=0, lt=1, description="Speaker-embedding cosine above which two voices match (default: calibrated)."
    )
    smtp_url: str | None = Field(None, description="SMTP server for moderation notices: smtp://user:pw@host:587 "
                                  "(STARTTLS required), smtps://host:465, or smtp+insecure:// to allow cleartext.")
    mail_from: str = Field("synthguard@localhost", description="From address of moderation notices.")
    moderation_policy: Path | None = Field(
        None, description="Own moderation policy YAML (deadlines, actions); default: policies/<profile>.yaml.")
    service_name: str | None = Field(None, description="Name of the generation service shown in notices and reports.")
    filing_number: str | None = Field(
        None, description="Algorithm filing number shown in notices and compliance reports (DS-22, DS Art. 19)."
    )
    filing_link: str | None = Field(None, description="Public link to the algorithm filing information (DS-22).")
    tool_description: str | None = Field(
        None, description="What the generation tool does: the description in the Art. 15 security assessment (DS-17)."
    )
    tool_techniques: list[str] = Field(
        default_factory=list,
        description="DS-26 techniques the service offers, e.g. face_swap, voice_clone (drive the DS-15/DS-17 checks).",
    )
    witness_name: str | None = Field(
        None, description="Cosigner name (a schema-less URL) when this deployment witnesses other logs (issue 19).")
    # scan on upload (issue 26): object-created events -> scan jobs -> signed callbacks (jobs/objects.py)
    upload_buckets: list[str] = Field(
        default_factory=list, description="Buckets POST /v1/hooks/objects may scan, as s3://bucket?endpoint_override="
                                          "...&region=... URLs; empty: the hook refuses every bucket.")
    upload_callback_url: str | None = Field(None, description="Where scan results of uploaded objects are POSTed.")
    upload_callback_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key for the X-SynthGuard-Signature header of callbacks.")

    ledger_origin: str | None = Field(
        None, pattern=r"^[^\s+]+$",
        description="The ledger's checkpoint origin (C2SP tlog-checkpoint: unique per log, e.g. example.com/log1); "
                    "default synthguard.ledger/<first 16 hex digits of the ledger key's log id>.",
    )
    dsa_endpoint: str | None = Field(
        None, pattern=r"^https?://\S+$",
        description="DSA Transparency Database statements endpoint, e.g. "
                    "https://transparency.dsa.ec.europa.eu/api/v1/statements (DSA-11).")
    dsa_token: str | None = Field(None, repr=False, description="API token for the DSA Transparency Database.")
    checkpoint_extensions: bool = Field(
        True, description="Add the time and log-id extension lines to signed checkpoints (both optional in C2SP).")

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @model_validator(mode="before")
    @classmethod
    def _sources(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return file_values() | env_values() | data

    # --- derived ------------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'synthguard.db'}"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def identity_required(self) -> bool:
        return self.profile_defaults().require_verified_identity

    def profile_defaults(self) -> ProfileDefaults:
        """The profile's defaults with the operator's own settings in their place: the one function that
        resolves a profile-dependent default (identity, consent gate, moderation policy, compliance checks)."""
        d = PROFILE_DEFAULTS[self.profile]
        identity = d.require_verified_identity if self.require_verified_identity is None \
            else self.require_verified_identity
        return replace(d, require_verified_identity=identity,
                       consent_unknown_policy=self.consent_unknown_policy or d.consent_unknown_policy)

    @property
    def sections(self) -> Sections:
        """Read access by section: ``settings.sections.scan.watermark_search`` is ``settings.scan_watermark_search``."""
        return Sections(self)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings, turning pydantic's errors into a ConfigError that names the field."""
        try:
            return cls(**overrides)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "settings"
            raise ConfigError("invalid setting {field!r}: {msg}",
                              values={"field": field, "msg": first["msg"]}) from exc


_LIST_FIELDS = frozenset(n for n, f in Settings.model_fields.items() if typing.get_origin(f.annotation) is list)


def env_values(environ: Any = None) -> dict[str, Any]:
    """``SYNTHGUARD_<FIELD>`` variables (any case) as field values: lists as JSON, everything else as the string
    pydantic converts (as pydantic-settings read them)."""
    environ = os.environ if environ is None else environ
    wanted = {f"{ENV_PREFIX}{name}".lower(): name for name in Settings.model_fields}
    out: dict[str, Any] = {}
    for var, value in environ.items():
        name = wanted.get(var.lower())
        if name is None:
            continue
        if name in _LIST_FIELDS:
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError("invalid setting {field!r}: {msg}", values={
                    "field": name, "msg": f"{var} must be a JSON list ({exc})"}) from exc
        out[name] = value
    return out


def file_values() -> dict[str, Any]:
    """``<home>/synthguard.toml`` or the file named by SYNTHGUARD_CONFIG, flattened (lowest priority)."""
    path_s = os.environ.get("SYNTHGUARD_CONFIG")
    home = Path(os.environ.get("SYNTHGUARD_HOME") or default_home()).expanduser()
    path = Path(path_s) if path_s else home / "synthguard.toml"
    if not path.is_file():
        if path_s:
            raise ConfigError("SYNTHGUARD_CONFIG names a file that does not exist", path=path)
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("malformed TOML: {exc}", path=path, values={"exc": exc}) from exc
    return flatten(data.get("synthguard", data), path)


def flatten(data: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """A settings table with sections (``[scan] watermark_search = ...``) as flat fields; flat keys pass as they
    are, so a file may mix both forms.  A setting given twice, or a name no section has, is a ConfigError."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if not (key in SECTIONS and isinstance(value, dict)):
            pairs = [(key, value)]
        else:
            pairs = []
            for member, v in value.items():
                field = FIELD_OF.get((key, member))
                if field is None:  # (messages shared with the plugin registry: already in the catalogs)
                    known = ", ".join(SECTIONS[key].member(key, f) for f in SECTIONS[key].fields)
                    raise ConfigError("unknown {noun} {unknown} in {what}; known: {known}",
                                      values={"noun": "setting", "unknown": repr(member), "what": f"section [{key}]",
                                              "known": known}, path=path)
                pairs.append((field, v))
        for field, v in pairs:
            if field in flat:
                section, member = SECTION_OF[field]
                raise ConfigError("parameter {name} defined twice",
                                  values={"name": f"{field} ([{section}] {member})"}, path=path)
            flat[field] = v
    return flat


class SectionView:
    """One section of a :class:`Settings`, read-only: its settings under their names in the section."""

    __slots__ = ("_name", "_settings")

    def __init__(self, settings: Settings, name: str) -> None:
        self._settings, self._name = settings, name

    def __getattr__(self, member: str) -> Any:
        field = FIELD_OF.get((self._name, member))
        if field is None:
            raise AttributeError(f"settings section [{self._name}] has no setting {member!r}")
        return getattr(self._settings, field)

    def __iter__(self) -> Iterator[str]:
        sec = SECTIONS[self._name]
        return iter([sec.member(self._name, f) for f in sec.fields])

    def as_dict(self) -> dict[str, Any]:
        return {m: getattr(self, m) for m in self}

    def __repr__(self) -> str:
        return f"<settings [{self._name}]>"


class Sections:
    """Every section of a :class:`Settings` as a :class:`SectionView` attribute (``sections.label``)."""

    __slots__ = ("_settings",)

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __getattr__(self, name: str) -> SectionView:
        if name not in SECTIONS:
            raise AttributeError(f"no settings section {name!r}; the sections are {', '.join(SECTIONS)}")
        return SectionView(self._settings, name)

    def __iter__(self) -> Iterator[str]:
        return iter(SECTIONS)
