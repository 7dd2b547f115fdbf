"""Contract tests parametrized over the marker registry, and the registry's own rules."""

from __future__ import annotations

import pytest

from synthguard.errors import ConfigError, NotFoundError
from synthguard.plugins import BUILTIN_MARKERS, Registry
from synthguard.testing import check_marker

# Formats each modality's built-in markers are contract-tested on.
CONTRACT_FORMATS = {
    "image": ["PNG", "JPEG", "WEBP"],
    "audio": ["WAV", "MP3", "FLAC", "OGG", "M4A"],
    "video": ["MP4", "MOV"],
    "text": ["TXT", "MD", "DOCX", "XLSX", "PPTX"],
}
CASES = [(name, fmt) for name in sorted(BUILTIN_MARKERS)
         for fmt in CONTRACT_FORMATS.get(name.split(".")[0], [])]


def test_every_builtin_marker_has_contract_formats():
    missing = sorted({n.split(".")[0] for n in BUILTIN_MARKERS} - set(CONTRACT_FORMATS))
    assert not missing, f"add contract formats for: {missing}"


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_builtin_markers_pass_the_contract(sg, name, fmt):
    check_marker(sg.marker(name), fmt)


def test_duplicate_names_rejected():
    reg = Registry(load_entry_points=False)
    with pytest.raises(ConfigError):
        reg.add("image.visible", lambda settings, keys: None)


def test_unknown_marker(sg):
    with pytest.raises(NotFoundError):
        Registry(load_entry_points=False).create("image.nope", sg.settings, sg.keys)


def test_third_party_plugin_is_used(settings):
    """A plugin registered under a new name is created with the settings and keys like a built-in."""
    from synthguard.marking.visible import VisibleLabelMarker

    reg = Registry(load_entry_points=False)
    reg.add("image.corner-badge", lambda s, k: VisibleLabelMarker("AI生成", "top-left"))
    marker = reg.create("image.corner-badge", settings, None)  # type: ignore[arg-type]
    assert marker.position == "top-left"
