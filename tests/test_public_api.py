"""The public surface: exact sorted __all__, every error documented with a hint, settings documented."""

import synthguard
from synthguard import errors
from synthguard.config import Settings


def test_all_is_sorted_and_importable():
    assert synthguard.__all__ == sorted(synthguard.__all__)
    for name in synthguard.__all__:
        assert getattr(synthguard, name) is not None


def test_every_error_has_a_hint_and_codes():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert cls.hint and cls.exit_code != 0 and 400 <= cls.http_status < 600, name


def test_every_setting_is_described_and_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        if name != "home":
            assert f"`{name}`" in readme, f"setting {name} is not documented in README.md"
