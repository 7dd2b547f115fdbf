"""The verdict cache (issue 28): identical bytes are analysed once, each upload still gets its own bank matches,
declaration, actions, propagator fields and ledger entry (LM-14, LM-17, DS-09, DS-10, CC-12)."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from PIL import Image

from synthguard.core import SynthGuard
from synthguard.detection import Detection
from synthguard.media import Modality
from synthguard.scan import _DETECTORS, detectors_for
from tests.conftest import kodak


def jpeg(name: str = "kodim05.png", quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.open(kodak(name)).convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def ledger_size(sg: SynthGuard) -> int:
    with sg.db.session() as s:
        return sg.ledger.size(s)


def hit(result) -> bool:
    return "cache" in result.timings


class Fixed:
    """An ML detector of a new model version: its appearance must invalidate every cached analysis."""

    name = "image.fixed"
    modalities = frozenset({Modality.IMAGE})
    version = "2"

    def detect(self, media):
        return [Detection(self.name, "classifier", 0.97, 0.97, "3", advisory=True)]


def test_a_repeat_reuses_the_analysis_but_gets_its_own_ledger_entry_and_propagator_id(sg, verified_user, tmp_path):
    out = tmp_path / "gen.png"
    sg.label(kodak(), user=verified_user, producer="ACME", output=out, c2pa=False)
    data = out.read_bytes()
    before = ledger_size(sg)
    first = sg.scan(data, propagator="PLAT01")
    again = sg.scan(data, propagator="PLAT01")
    assert not hit(first) and hit(again) and sg.scan_cache.misses == 1
    assert first.verdict == again.verdict == "ai_generated" and first.evidence == again.evidence
    ids = [next(a for a in r.actions if a["action"] == "write_propagator")["propagate_id"] for r in (first, again)]
    assert ids[0] != ids[1] and first.output.sha256 != again.output.sha256  # LM-17: each upload's own id
    assert ledger_size(sg) == before + 2  # DS-10: one scan entry per upload, cached or not


def test_the_declaration_is_each_uploads_own(sg):
    data = jpeg()
    assert sg.scan(data).verdict == "none"
    declared = sg.scan(data, declared_ai=True)
    assert hit(declared) and declared.verdict == "possibly_ai"  # LM-14
    assert sg.scan(data).verdict == "none"


def test_a_bank_entry_added_after_the_first_scan_blocks_the_next_upload(sg):
    """CC-12 stay-down: the cache never holds bank matches; the banks are asked at each upload."""
    from synthguard.moderation.content import STAY_DOWN_EXACT

    data = jpeg()
    first = sg.scan(data)
    assert not first.matches and not any(a["action"] == "block" for a in first.actions)
    sg.banks.create(STAY_DOWN_EXACT, kind="sha256", actor="t")
    sg.banks.add(STAY_DOWN_EXACT, hashlib.sha256(data).hexdigest(), reason="removed after review", actor="t")
    again = sg.scan(data)
    assert hit(again) and [m["bank"] for m in again.matches] == [STAY_DOWN_EXACT]
    assert any(a["action"] == "block" for a in again.actions)
    entry = sg.banks.entries(STAY_DOWN_EXACT)[0]["id"]
    sg.banks.remove(STAY_DOWN_EXACT, entry, reason="appeal granted", actor="t")
    assert not sg.scan(data).matches


def test_a_new_detector_or_other_settings_make_a_new_key(settings):
    data = jpeg()
    with SynthGuard.open(settings) as sg:
        assert not hit(sg.scan(data)) and hit(sg.scan(data))
    with SynthGuard.open(settings) as sg:  # another process: the shared table serves it
        assert hit(sg.scan(data))
    with SynthGuard.open(settings) as sg:  # restarted with a new detector
        marks, ml = detectors_for(sg, Modality.IMAGE)
        _DETECTORS[sg][Modality.IMAGE] = (marks, [*ml, Fixed()])
        r = sg.scan(data)
        assert not hit(r) and r.verdict == "suspected_ai"
        assert any(e["source"] == "image.fixed" for e in r.evidence)
    other = settings.model_copy(update={"max_metadata_depth": 16})
    with SynthGuard.open(other) as sg:
        assert not hit(sg.scan(data))
    anchors = settings.home / "anchors.pem"
    anchors.write_text("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n")
    trusting = settings.model_copy(update={"c2pa_trust_anchors": anchors})
    with SynthGuard.open(trusting) as sg:
        assert not hit(sg.scan(data)) and hit(sg.scan(data))
    anchors.write_text("-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n")  # same path, new roots
    with SynthGuard.open(trusting) as sg:
        assert not hit(sg.scan(data))


def test_an_upgraded_detector_distribution_makes_a_new_key_and_its_lookup_is_once_per_process(settings, monkeypatch):
    """The detectors' distribution versions are in the key; reading them (every installed distribution's file list)
    happens once per process, not once per core object and detector (~0.9 CPU s per fresh core's first scan)."""
    from synthguard import scan_cache

    with SynthGuard.open(settings) as sg:
        before = sg.scan_cache.detectors_version(Modality.IMAGE)
    assert scan_cache._dist_version("synthguard.scan").startswith("synthguard==")
    calls = []
    real = scan_cache._packages_distributions

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(scan_cache, "_packages_distributions", counted)
    with SynthGuard.open(settings) as sg:  # a new core: the process-wide answers are reused
        assert sg.scan_cache.detectors_version(Modality.IMAGE) == before and calls == []
    monkeypatch.setattr(scan_cache, "_dist_version", lambda module: module + "==9.9")  # as after an upgrade
    with SynthGuard.open(settings) as sg:
        assert sg.scan_cache.detectors_version(Modality.IMAGE) != before


def test_a_full_analysis_serves_priors_scans_but_not_the_other_way(settings):
    data = jpeg()
    priors = settings.model_copy(update={"scan_watermark_search": "priors"})
    with SynthGuard.open(priors) as sg:
        shallow = sg.scan(data)
        assert any(a["action"] == "deep_scan" for a in shallow.actions)
        assert sg.scan_cache.analysis(sg.media(data), "full").search == "full"  # the deep scan's analysis
        r = sg.scan(data)
        assert hit(r) and not any(a["action"] == "deep_scan" for a in r.actions)
        other = jpeg("kodim01.png")
        assert not hit(sg.scan(other))
    with SynthGuard.open(settings.model_copy(update={"scan_watermark_search": "full"})) as sg:
        assert hit(sg.scan(data))
        assert not hit(sg.scan(other))  # a priors analysis never stands in for the full search


def test_concurrent_misses_of_one_content_are_analysed_once(sg, monkeypatch):
    calls = []
    real = sg.scanner.analyse

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(sg.scanner, "analyse", counted)
    data = jpeg()
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(sg.scan(data, log=False))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and len({r.verdict for r in results}) == 1
    assert sum("shared" in r.timings for r in results) >= 1  # the waiters are told apart from plain hits


def test_the_cache_can_be_turned_off_and_is_bounded(settings):
    data = jpeg()
    with SynthGuard.open(settings.model_copy(update={"scan_cache": False})) as sg:
        assert sg.scan_cache is None and not hit(sg.scan(data)) and not hit(sg.scan(data))
    with SynthGuard.open(settings.model_copy(update={"scan_cache_entries": 2})) as sg:
        for name in ("kodim01.png", "kodim02.png", "kodim03.png"):
            sg.scan(jpeg(name), log=False)
        assert len(sg.scan_cache._mem) == 2
        assert sg.scan_cache.clear() == 3 and not hit(sg.scan(jpeg("kodim01.png"), log=False))


@pytest.mark.parametrize("bad", [b"", b"\xff\xd8\xff" + b"\0" * 50])
def test_a_corrupt_upload_is_an_error_and_is_not_cached(sg, bad):
    from synthguard.errors import SynthGuardError

    for _ in range(2):
        with pytest.raises(SynthGuardError):
            sg.scan(bad)
    assert sg.scan_cache.hits == 0 and sg.scan_cache.clear() == 0  # nothing stored for bytes that do not decode


def test_misses_can_be_analysed_in_a_child_process(settings):
    """scan_processes: the same analysis, computed outside the server's process (its GIL stays free for the
    cached repeats); a corrupt upload is still the same clear error."""
    from synthguard.errors import CorruptMediaError

    data = jpeg()
    with SynthGuard.open(settings) as sg:
        here = sg.scan(data, log=False)
    child = settings.model_copy(update={"scan_processes": 1, "max_metadata_depth": 31})  # a new cache key
    with SynthGuard.open(child) as sg:
        there = sg.scan(data, log=False)
        assert not hit(there) and sg.scan_cache._pool is not None and hit(sg.scan(data, log=False))
        assert there.verdict == here.verdict and there.fingerprints == here.fingerprints
        assert [e["source"] for e in there.evidence] == [e["source"] for e in here.evidence]
        with pytest.raises(CorruptMediaError):
            sg.scan(jpeg()[:300], log=False)
    assert sg.scan_cache._pool is None  # closed with the core object
