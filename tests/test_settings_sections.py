"""Settings in sections (issue 23, step 6): one table of sections, flat names kept, profile defaults in one place."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from synthguard.config import ENV_PREFIX, FIELD_OF, PROFILE_DEFAULTS, SECTION_OF, SECTIONS, Settings
from synthguard.consent.policy import unknown_rule
from synthguard.errors import ConfigError

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# one changed value per section, so agreement below is not agreement of defaults
CHANGED = {"profile": "eu", "identity_verifier": "other", "label_text": "Made by AI", "watermark": False,
           "c2pa_cert": Path("/tmp/chain.pem"), "max_bytes": 1234, "scan_watermark_search": "priors",
           "consent_unknown_policy": "allow", "mail_from": "mod@example.com", "filing_number": "F-1",
           "ledger_origin": "example.com/log1", "rate_limit_burst": 7, "public_workers": 3, "job_max_attempts": 9,
           "upload_callback_url": "https://example.com/cb"}


def test_every_setting_is_in_exactly_one_section():
    counts = Counter(f for sec in SECTIONS.values() for f in sec.fields)
    assert set(counts) == set(Settings.model_fields), set(counts) ^ set(Settings.model_fields)
    assert [f for f, n in counts.items() if n != 1] == []
    for name, sec in SECTIONS.items():  # names inside a section are unique, so each maps back to one field
        members = [sec.member(name, f) for f in sec.fields]
        assert len(set(members)) == len(members), name
    assert len(FIELD_OF) == len(SECTION_OF) == len(Settings.model_fields)


def test_flat_and_sectioned_access_agree(settings: Settings):
    s = settings.model_copy(update=CHANGED)
    for field, (section, member) in SECTION_OF.items():
        assert getattr(getattr(s.sections, section), member) == getattr(s, field), field
    assert s.sections.scan.watermark_search == "priors" and s.sections.watermark.enabled is False
    assert s.sections.jobs.as_dict()["max_attempts"] == 9 and list(s.sections) == list(SECTIONS)
    with pytest.raises(AttributeError):
        _ = s.sections.scan.scan_watermark_search  # inside a section, the section's name only
    with pytest.raises(AttributeError):
        _ = s.sections.nosuch


def test_environment_names_are_the_flat_names_the_readme_documents(monkeypatch):
    """SYNTHGUARD_<FIELD>, as before: no field has an alias, the prefix is unchanged, and README's section table
    lists exactly the fields, flat, in the sections of SECTIONS."""
    assert ENV_PREFIX == "SYNTHGUARD_"
    assert all(f.alias is None and f.validation_alias is None for f in Settings.model_fields.values())
    rows = re.findall(r"^\| `\[(\w+)\]` \| (.+) \|$", README, re.M)
    documented = {sec: [m.group(1) for m in re.finditer(r"`(\w+)`(?: \(`(\w+)`\))?", cells)] for sec, cells in rows}
    assert documented == {n: list(s.fields) for n, s in SECTIONS.items()}
    for sec, cells in rows:  # the name in the section README gives is the one the loader takes
        for m in re.finditer(r"`(\w+)`(?: \(`(\w+)`\))?", cells):
            assert SECTION_OF[m.group(1)] == (sec, m.group(2) or m.group(1))
    for field, value in CHANGED.items():
        monkeypatch.setenv(f"SYNTHGUARD_{field.upper()}", str(value).lower() if isinstance(value, bool) else str(value))
    s = Settings.load()
    assert {f: getattr(s, f) for f in CHANGED} == CHANGED


def _load_file(tmp_path: Path, monkeypatch, text: str) -> Settings:
    path = tmp_path / "sectioned.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SYNTHGUARD_CONFIG", str(path))
    return Settings.load()


def test_a_sectioned_settings_file_loads(tmp_path, monkeypatch):
    s = _load_file(tmp_path, monkeypatch, """
label_text = "flat still works"
[scan]
watermark_search = "priors"
cache_days = 2.5
[watermark]
enabled = false
mode = "shared"
[jobs]
max_attempts = 9
[uploads]
buckets = ["s3://a"]
""")
    assert (s.label_text, s.scan_watermark_search, s.scan_cache_days, s.watermark, s.watermark_mode,
            s.job_max_attempts, s.upload_buckets) == ("flat still works", "priors", 2.5, False, "shared", 9, ["s3://a"])
    # under a [synthguard] table: [synthguard.scan]; the environment still wins over the file
    monkeypatch.setenv("SYNTHGUARD_SCAN_CACHE_DAYS", "4")
    s = _load_file(tmp_path, monkeypatch, '[synthguard]\nwatermark = false\n'
                                          '[synthguard.scan]\nwatermark_search = "priors"\ncache_days = 1\n')
    assert (s.watermark, s.scan_watermark_search, s.scan_cache_days) == (False, "priors", 4.0)


@pytest.mark.parametrize(("text", "message"), [
    ('scan_watermark_search = "full"\n[scan]\nwatermark_search = "priors"\n',
     r"scan_watermark_search \(\[scan\] watermark_search\) defined twice"),
    ("[scan]\nscan_cache = true\n", r"unknown setting 'scan_cache' in section \[scan\]; known: watermark_search"),
])
def test_a_sectioned_file_is_checked(tmp_path, monkeypatch, text, message):
    with pytest.raises(ConfigError, match=message):
        _load_file(tmp_path, monkeypatch, text)


def test_profile_defaults_are_resolved_in_one_place(settings: Settings):
    assert set(PROFILE_DEFAULTS) == set(Settings.model_fields["profile"].annotation.__args__)  # type: ignore[union-attr]
    for profile, d in PROFILE_DEFAULTS.items():
        s = settings.model_copy(update={"profile": profile})
        assert s.profile_defaults() == d
        assert s.identity_required is d.require_verified_identity and unknown_rule(s) == d.consent_unknown_policy
    assert PROFILE_DEFAULTS["cn"].require_verified_identity and not PROFILE_DEFAULTS["us"].require_verified_identity
    explicit = settings.model_copy(update={"profile": "cn", "require_verified_identity": False,
                                           "consent_unknown_policy": "allow"})
    assert not explicit.identity_required and unknown_rule(explicit) == "allow"
    assert explicit.profile_defaults().moderation_jurisdiction == "cn"


def test_no_getattr_on_settings():
    """Every setting is a declared field, so code reads it as one (issue 23: no ``getattr(settings, ...)``)."""
    src = Path(__file__).resolve().parents[1] / "src" / "synthguard"
    pattern = re.compile(r"getattr\(\s*(?:[\w.]*\.)?(?:settings|st)\s*,")
    hits = [f"{p.relative_to(src)}:{n}" for p in sorted(src.rglob("*.py")) if p.name != "config.py"
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == []


def test_environment_is_read_as_pydantic_settings_read_it(monkeypatch, tmp_path):
    """Names in any case, lists as JSON, the arguments over the environment over the file; a list that is not
    JSON is a ConfigError naming the field (pydantic-settings raised its own SettingsError there)."""
    from synthguard.errors import ConfigError

    (tmp_path / "synthguard.toml").write_text('max_bytes = 10\nproducer = "FILE"\n', encoding="utf-8")
    monkeypatch.setenv("SYNTHGUARD_HOME", str(tmp_path))
    monkeypatch.setenv("synthguard_producer", "ENV")
    monkeypatch.setenv("SYNTHGUARD_TRUSTED_PROXIES", '["10.0.0.1", "10.0.0.2"]')
    s = Settings.load()
    assert (s.max_bytes, s.producer, s.trusted_proxies) == (10, "ENV", ["10.0.0.1", "10.0.0.2"])
    assert Settings(producer="ARG").producer == "ARG"  # direct construction reads the same sources
    monkeypatch.setenv("SYNTHGUARD_TRUSTED_PROXIES", "10.0.0.1")
    with pytest.raises(ConfigError, match="trusted_proxies"):
        Settings.load()
