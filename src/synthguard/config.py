"""Settings: environment (prefix SYNTHGUARD_) over an optional TOML file over defaults.

Passed explicitly to :class:`synthguard.SynthGuard`; never read from a global.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from synthguard.errors import ConfigError

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left", "bottom", "top"]


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("synthguard", appauthor=False))


class Settings(BaseSettings):
    """Operator settings. Every field can be set as SYNTHGUARD_<FIELD> (upper case)."""

    model_config = SettingsConfigDict(env_prefix="SYNTHGUARD_", extra="forbid", validate_default=True)

    home: Path = Field(default_factory=default_home, description="Where the database, keys and config live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<home>/synthguard.db")
    profile: Literal["cn", "eu", "us", "none"] = Field("cn", description="Jurisdiction profile (DS-01).")
    require_verified_identity: bool | None = Field(
        None, description="Refuse labeling for unverified users (DS-07). Default: on for the cn profile."
    )
    producer: str | None = Field(None, description="Default provider code for ContentProducer (GB-14).")
    strict_producer_code: bool = Field(
        False, description="Require the 27-character TC260 provider-code structure (GB-14) [configurable]."
    )
    max_pixels: int = Field(64_000_000, gt=0, description="Decompression-bomb guard for images.")
    max_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Largest file accepted.")
    label_text: str = Field("AI生成 AI-generated", min_length=1, description="Visible label text (GB-03).")
    label_position: Corner = Field("bottom-right", description="Edge or corner for the visible label.")
    label_height_ratio: float = Field(0.05, ge=0.05, le=0.5, description="Glyph height / shorter side, >= 0.05.")
    font_path: Path | None = Field(None, description="Font for visible labels; default: a system CJK font.")
    jpeg_quality: int = Field(92, ge=50, le=100, description="Quality when re-encoding JPEG/WebP outputs.")
    watermark: bool = Field(True, description="Embed the invisible watermark when labeling images.")
    watermark_strength: float = Field(1.0, gt=0, le=4.0, description="Watermark energy; 1.0 gives ~42.5 dB PSNR.")
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

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    # --- derived ------------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'synthguard.db'}"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def identity_required(self) -> bool:
        if self.require_verified_identity is not None:
            return self.require_verified_identity
        return self.profile == "cn"

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings, turning pydantic's errors into a ConfigError that names the field."""
        try:
            return cls(**overrides)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "settings"
            raise ConfigError(f"invalid setting {field!r}: {first['msg']}") from exc


class _TomlSource(PydanticBaseSettingsSource):
    """``<home>/synthguard.toml`` or the file named by SYNTHGUARD_CONFIG, lowest priority."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
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
            raise ConfigError(f"malformed TOML: {exc}", path=path) from exc
        return data.get("synthguard", data)
