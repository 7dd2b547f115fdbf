"""The one plugin system (issue 23 step 3): contract tests over every built-in of every group, the registry's rules,
and real entry points of fake distributions installed on sys.path (a dist-info with entry_points.txt): a plugin of
each group is loaded and used, the pre-issue-23 marker group still works, and a plugin failing its contract, one
that cannot be imported and one reusing a built-in name are refused with a PluginError naming the distribution and
the entry point."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from synthguard.errors import ConfigError, NotFoundError, PluginError, ValidationError
from synthguard.media import Media, Modality
from synthguard.plugins import BUILTIN_MARKERS, GROUPS, Context, Plugins, default_plugins, hashers_for
from synthguard.testing import check_detector, check_hasher, check_identity_verifier, check_index, check_marker

# Formats each modality's built-in markers are contract-tested on.
CONTRACT_FORMATS = {
    "image": ["PNG", "JPEG", "WEBP"],
    "audio": ["WAV", "MP3", "FLAC", "OGG", "M4A"],
    "video": ["MP4", "MOV"],
    "text": ["TXT", "MD", "DOCX", "XLSX", "PPTX"],
}
CASES = [(name, fmt) for name in sorted(BUILTIN_MARKERS)
         for fmt in CONTRACT_FORMATS.get(name.split(".")[0], [])]
BUILTINS = Plugins(load_entry_points=False)


def test_every_builtin_marker_has_contract_formats():
    missing = sorted({n.split(".")[0] for n in BUILTIN_MARKERS} - set(CONTRACT_FORMATS))
    assert not missing, f"add contract formats for: {missing}"


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_builtin_markers_pass_the_contract(sg, name, fmt):
    check_marker(sg.marker(name), fmt)


@pytest.mark.parametrize("name", BUILTINS.detectors.names)
def test_builtin_detectors_pass_the_contract(sg, name):
    check_detector(sg.plugins.detectors.create(name, sg))


@pytest.mark.parametrize("name", BUILTINS.hashers.names)
def test_builtin_hashers_pass_the_contract(sg, name):
    check_hasher(sg.plugins.hashers.create(name, sg))


@pytest.mark.parametrize("name", [n for n in BUILTINS.indexes.names if n != "faiss"])  # faiss: optional extra
def test_builtin_indexes_pass_the_contract(sg, name):
    check_index(sg.plugins.indexes.create(name, sg))


def test_builtin_identity_verifiers_pass_the_contract(sg):
    for name in BUILTINS.identity_verifiers.names:
        check_identity_verifier(sg.plugins.identity_verifiers.create(name, sg))


def test_checks_fail_on_broken_plugins():
    """The checks can fail: each catches the defect it exists for."""
    from synthguard.fingerprint import Hash
    from synthguard.fingerprint.index import FlatIndex
    from synthguard.fingerprint.pdq import PDQHasher

    class Drifting(PDQHasher):
        n = 0

        def hash(self, media: Media) -> Hash:
            self.n += 1
            return Hash(self.kind, f"{self.n:064x}")

    class Forgetful(FlatIndex):
        def remove(self, id: int) -> bool:
            return True

    with pytest.raises(AssertionError, match="different values"):
        check_hasher(Drifting())
    with pytest.raises(AssertionError, match="remove must return True, then False"):
        check_index(Forgetful())
    with pytest.raises(AssertionError, match="does not implement"):
        check_marker(object())  # type: ignore[arg-type]


def test_duplicate_names_rejected():
    reg = Plugins(load_entry_points=False).markers
    with pytest.raises(ConfigError, match="already registered"):
        reg.add("image.visible", lambda ctx: None)  # type: ignore[arg-type,return-value]


def test_unknown_marker(sg):
    with pytest.raises(NotFoundError):
        Plugins(load_entry_points=False).markers.create("image.nope", sg)


def test_a_plugin_added_by_code_is_contract_checked(settings):
    """A factory registered from code is built with the context like a built-in, and checked on first build."""
    from synthguard.marking.image.visible import VisibleLabelMarker

    plugins = Plugins(load_entry_points=False)
    plugins.markers.add("image.corner-badge", lambda ctx: VisibleLabelMarker("AI生成", "top-left"))
    with pytest.raises(PluginError, match="its name is 'image.visible', not the entry point's name"):
        Context(settings, plugins=plugins).marker("image.corner-badge")


# --- real entry points of fake distributions -------------------------------------------------------------
GOOD = '''
    import io
    import numpy as np
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    from synthguard.detection import Detection
    from synthguard.fingerprint import Hash
    from synthguard.identity import VerificationResult
    from synthguard.marking.base import Reading
    from synthguard.media import Media, Modality

    class Badge:
        """Writes the content id into a PNG text chunk and reads it back."""
        modalities = frozenset({Modality.IMAGE})

        def __init__(self, name):
            self.name = name

        def mark(self, media, ctx):
            info = PngInfo()
            info.add_text(self.name, ctx.content_id)
            buf = io.BytesIO()
            media.image().save(buf, "PNG", pnginfo=info)
            return Media.from_bytes(buf.getvalue(), name=media.name)

        def read(self, media):
            value = Image.open(io.BytesIO(media.data)).info.get(self.name)
            return Reading(self.name, value is not None, {"content_id": value} if value else {})

    def marker(ctx):
        return Badge("image.corner-badge")

    def legacy_marker(settings, keys):  # the pre-issue-23 signature of the group "synthguard"
        assert settings.home.is_dir() and keys is not None
        return Badge("image.legacy-badge")

    class BadgeDetector:
        name = "image.badge"
        modalities = frozenset({Modality.IMAGE})

        def __init__(self, marker):
            self.marker = marker

        def detect(self, media):
            r = self.marker.read(media)
            return [Detection(self.name, "label", 1.0, 1.0, "1", r.data)] if r.found else []

    def detector(ctx):
        return BadgeDetector(ctx.marker("image.corner-badge"))

    class AverageHash:
        """8x8 average hash, 16 hex digits."""
        kind = "ahash"
        modalities = frozenset({Modality.IMAGE})
        match_threshold = 6

        def hash(self, media):
            a = np.asarray(media.image().convert("L").resize((8, 8), Image.BILINEAR), dtype=np.float64)
            bits = (a > a.mean()).astype(np.uint8).ravel()
            return Hash(self.kind, np.packbits(bits).tobytes().hex())

        def distance(self, a, b):
            return (int(a, 16) ^ int(b, 16)).bit_count()

    def hasher(ctx):
        return AverageHash()

    class AcmeKyc:
        name = "acme-kyc"

        def verify(self, user_id, method, identifier, reference):
            ok = bool(identifier) and identifier.replace(" ", "").startswith("+86")
            return VerificationResult(method, ok, self.name, reference or "ACME-" + user_id,
                                      None if ok else "ACME KYC knows mainland numbers only")

    def verifier(ctx):
        return AcmeKyc()

    class SortedScan:
        """Brute force over a dict: slow and exact."""
        def __init__(self):
            self.rows = {}

        def __len__(self):
            return len(self.rows)

        def add(self, ids, hashes):
            for i, h in zip(list(ids), list(hashes)):
                self.rows[int(i)] = int(h if isinstance(h, str) else bytes(h).hex(), 16)

        def remove(self, id):
            return self.rows.pop(id, None) is not None

        def query(self, hash, max_distance):
            q = int(hash if isinstance(hash, str) else bytes(hash).hex(), 16)
            hits = [(i, (v ^ q).bit_count()) for i, v in self.rows.items()]
            return sorted(((i, d) for i, d in hits if d <= max_distance), key=lambda p: (p[1], p[0]))

    def index(ctx):
        return SortedScan()
'''

BAD = '''
    import os
    from synthguard.detection import Detection
    from synthguard.fingerprint import Hash
    from synthguard.marking.base import Reading
    from synthguard.media import Modality

    class Claims:
        name = "image.claims"
        modalities = frozenset({Modality.IMAGE})

        def mark(self, media, ctx):
            return media

        def read(self, media):
            return Reading(self.name, True)  # "found" on every file: fails the contract

    def marker(ctx):
        return Claims()

    class Liar:
        name = "image.liar"
        modalities = frozenset({Modality.IMAGE})

        def detect(self, media):
            return [Detection(self.name, "label", 1.0, 1.0, "1")]

    def detector(ctx):
        return Liar()

    class Noise:
        kind = "noise"
        modalities = frozenset({Modality.IMAGE})
        match_threshold = 0

        def hash(self, media):
            return Hash(self.kind, os.urandom(8).hex())

        def distance(self, a, b):
            return 0 if a == b else 64

    def hasher(ctx):
        return Noise()
'''


def install(root: Path, dist: str, module: str, source: str, entry_points: str) -> Path:
    """A distribution as pip leaves it: the module and ``<dist>-<version>.dist-info`` with METADATA and
    entry_points.txt, under ``root`` (put on sys.path by the caller)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    return root


@pytest.fixture
def on_path(monkeypatch, tmp_path):
    added: list[str] = []

    def put(dist: str, module: str, source: str, entry_points: str) -> None:
        root = install(tmp_path / dist, dist, module, source, entry_points)
        monkeypatch.syspath_prepend(str(root))
        added.append(module)

    yield put
    for module in added:
        sys.modules.pop(module, None)
    default_plugins.cache_clear()  # in case code under test read the process-wide registries meanwhile


GOOD_EPS = """
    [synthguard.markers]
    image.corner-badge = sg_good_plugin:marker

    [synthguard]
    image.legacy-badge = sg_good_plugin:legacy_marker

    [synthguard.detectors]
    image.badge = sg_good_plugin:detector

    [synthguard.hashers]
    ahash = sg_good_plugin:hasher

    [synthguard.identity_verifiers]
    acme-kyc = sg_good_plugin:verifier

    [synthguard.indexes]
    sorted-scan = sg_good_plugin:index
"""


def test_a_fake_distribution_provides_a_plugin_of_every_group(on_path, settings):
    on_path("synthguard-good-plugin", "sg_good_plugin", GOOD, GOOD_EPS)
    plugins = Plugins()
    assert {g.key for g in GROUPS} == set(plugins.registries())
    third = {(p.name, p.distribution) for p in plugins.third_party()}
    assert third == {(n, "synthguard-good-plugin 0.1") for n in (
        "image.corner-badge", "image.legacy-badge", "image.badge", "ahash", "acme-kyc", "sorted-scan")}
    ctx = Context(settings, plugins=plugins)
    checked = plugins.check(ctx)  # builds each and runs check_marker/_detector/_hasher/_index/_identity_verifier
    assert checked["markers"]["image.legacy-badge"].startswith("synthguard: image.legacy-badge = ")
    assert checked["indexes"] == {"sorted-scan": "synthguard.indexes: sorted-scan = sg_good_plugin:index "
                                                 "(distribution synthguard-good-plugin 0.1)"}
    # each one works where the system uses its group
    from synthguard.testing import sample_context, synthetic_image

    marked = ctx.marker("image.corner-badge").mark(synthetic_image(), sample_context("SG01PLUGIN"))
    det = plugins.detectors.create("image.badge", ctx)
    assert det.detect(marked)[0].evidence == {"content_id": "SG01PLUGIN"}
    kinds = [h.kind for h in hashers_for(Modality.IMAGE, ctx, plugins)]
    assert kinds == ["pdq", "sha256", "ahash"]
    assert [h.kind for h in hashers_for(Modality.AUDIO, ctx, plugins, exact=False)] == ["audio"]


def test_a_plugin_failing_its_contract_is_refused_naming_its_distribution(on_path, settings):
    on_path("synthguard-bad-plugin", "sg_bad_plugin", BAD, """
        [synthguard.markers]
        image.claims = sg_bad_plugin:marker
        [synthguard.detectors]
        image.liar = sg_bad_plugin:detector
        [synthguard.hashers]
        noise = sg_bad_plugin:hasher
    """)
    plugins = Plugins()
    ctx = Context(settings, plugins=plugins)
    cases = {("markers", "image.claims"): "read on clean media must return a not-found Reading",
             ("detectors", "image.liar"): "reports a label on clean media",
             ("hashers", "noise"): "hashing the same file twice gave different values"}
    for (group, name), reason in cases.items():
        with pytest.raises(PluginError) as err:
            plugins.registries()[group].create(name, ctx)
        message = err.value.message
        assert reason in message and "distribution synthguard-bad-plugin 0.1" in message, message
        assert f"synthguard.{group}: {name} = sg_bad_plugin:" in message, message
        assert err.value.exit_code == 3
    with pytest.raises(PluginError, match="image.liar"):  # a scan refuses to run with it
        from synthguard.core import SynthGuard

        with SynthGuard(settings, plugins=plugins) as core:
            core.scan(synthetic_png(), log=False)


def synthetic_png() -> Media:
    from synthguard.testing import synthetic_image

    return synthetic_image()


@pytest.mark.parametrize(("dist", "module", "source", "entry", "refusal"), [
    pytest.param("synthguard-ghost", "sg_ghost_plugin", "raise ImportError('needs libghost')\n",
                 "ghost = sg_ghost_plugin:hasher",
                 r"hasher plugin 'ghost' cannot be loaded \(synthguard.hashers: ghost = "
                 r"sg_ghost_plugin:hasher, distribution synthguard-ghost 0.1\).*libghost", id="unimportable"),
    pytest.param("synthguard-clash", "sg_clash_plugin", "def f(ctx):\n    return None\n",
                 "pdq = sg_clash_plugin:f",
                 r"a hasher named 'pdq' is already registered \(built in\); refused: "
                 r"synthguard.hashers: pdq = sg_clash_plugin:f", id="replaces-a-builtin"),
])
def test_an_unimportable_or_clashing_entry_point_is_refused_at_load(on_path, dist, module, source, entry, refusal):
    """An entry point that cannot be imported, or that would replace a built-in hasher, stops the load."""
    on_path(dist, module, source, f"""
        [synthguard.hashers]
        {entry}
    """)
    with pytest.raises(PluginError, match=refusal):
        Plugins()


def test_the_identity_verifier_is_chosen_by_the_setting(on_path, settings, monkeypatch, capsys):
    """DS-07: ``identity_verifier`` names a registered verifier; a plugin's is used by the library and the CLI."""
    import json

    from synthguard.cli import main
    from synthguard.core import SynthGuard

    on_path("synthguard-good-plugin", "sg_good_plugin", GOOD, GOOD_EPS)
    with SynthGuard(settings) as core:  # default: the built-in operator attestation
        core.add_user("u-1")
        assert core.verify_user("u-1", "mobile", identifier="+1 555 0100")["verification"]["verifier"] == "operator"
    chosen = settings.model_copy(update={"identity_verifier": "acme-kyc"})
    with SynthGuard(chosen) as core:
        core.add_user("u-2")
        user = core.verify_user("u-2", "mobile", identifier="+86 138 0013 8000")
        assert user["verification"] | {"verified_at": None} == {
            "method": "mobile", "result": "verified", "verified_at": None, "verifier": "acme-kyc",
            "reference": "ACME-u-2"}
        with pytest.raises(ValidationError, match="ACME KYC knows mainland numbers only"):
            core.verify_user("u-2", "mobile", identifier="+1 555 0100")
    with SynthGuard(settings.model_copy(update={"identity_verifier": "nobody"})) as core:
        core.add_user("u-3")
        with pytest.raises(ConfigError, match="unknown identity verifier 'nobody' in the identity_verifier setting; "
                                              "known: operator, acme-kyc"):
            core.verify_user("u-3", "mobile", identifier="+86 138 0013 8000")
    monkeypatch.setenv("SYNTHGUARD_IDENTITY_VERIFIER", "acme-kyc")  # the CLI (and the server) read the setting
    assert main(["users", "add", "u-4"]) in (0, None)
    assert main(["users", "verify", "u-4", "--method", "mobile", "--identifier", "+86 139 0000 0000",
                 "--json"]) in (0, None)
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["verification"]["verifier"] == "acme-kyc"


def test_a_plugin_hasher_kind_is_a_bank_kind_matched_by_scans(on_path, settings):
    """Banks take their kinds from the hasher registry: a plugin's kind can be banked, and scans query it."""
    import io

    from PIL import Image

    from synthguard.core import SynthGuard
    from synthguard.testing import synthetic_image

    on_path("synthguard-good-plugin", "sg_good_plugin", GOOD, GOOD_EPS)
    original = synthetic_image()
    buf = io.BytesIO()
    Image.open(io.BytesIO(original.data)).convert("RGB").resize((320, 200)).save(buf, "JPEG", quality=70)
    copy = Media.from_bytes(buf.getvalue(), name="copy.jpg")
    buf = io.BytesIO()
    Image.open(io.BytesIO(original.data)).rotate(180).save(buf, "PNG")
    other = Media.from_bytes(buf.getvalue(), name="other.png")  # the gradients run the other way
    with SynthGuard(settings) as core:
        assert list(core.banks.kinds()) == ["pdq", "vpdq", "audio", "sha256", "ahash"]
        bank = core.banks.create("removed-ahash", kind="ahash", actor="t")
        assert bank["kind"] == "ahash" and bank["max_distance"] == 6  # the hasher's match_threshold
        entry = core.banks.add_media("removed-ahash", original, reason="case 7", actor="t")
        hits = [m for m in core.banks.query_media(copy) if m.bank == "removed-ahash"]
        assert [(m.entry_id, m.kind) for m in hits] == [(entry, "ahash")] and hits[0].distance <= 6
        assert not [m for m in core.banks.query_media(other) if m.bank == "removed-ahash"]
        ahash = core.plugins.hashers.create("ahash", core).hash(copy).value
        assert [m.entry_id for m in core.banks.query("ahash", ahash)] == [entry]
        with pytest.raises(ValidationError, match="not a ahash hash"):
            core.banks.add("removed-ahash", "not hex", reason="r", actor="t")
        result = core.scan(copy, log=False)
        assert [(m["bank"], m["kind"]) for m in result.matches] == [("removed-ahash", "ahash")]


def test_one_name_per_hash_kind(sg):
    """vPDQ is "vpdq" everywhere; the old spelling "video" is accepted where a kind is given."""
    from synthguard.core import content_fingerprints
    from synthguard.fingerprint import canonical_kind
    from synthguard.testing import synthetic_media

    assert canonical_kind("video") == "vpdq" and canonical_kind("pdq") == "pdq"
    assert sg.banks.create("removed-videos", kind="video", actor="t")["kind"] == "vpdq"
    with pytest.raises(ValidationError, match="unknown hash kind 'md5'"):
        sg.banks.create("md5s", kind="md5", actor="t")
    assert list(content_fingerprints(synthetic_media("MP4"), sg, sg.plugins)) == ["vpdq"]
    assert list(content_fingerprints(synthetic_media("WAV"), sg, sg.plugins)) == ["audio"]
    assert list(content_fingerprints(synthetic_media("PNG"), sg, sg.plugins)) == ["pdq"]
    assert content_fingerprints(synthetic_media("TXT"), sg, sg.plugins) == {}


def test_builtin_hashers_by_path_are_the_fingerprint_builtins_in_order():
    """plugins/builtin.py names the hasher classes by module path (so a command imports only what it runs,
    issue 22); the table must stay fingerprint/hashers.py's BUILTIN, order included (the first perceptual hasher of
    a modality is the one a record keeps)."""
    from synthguard.fingerprint.hashers import BUILTIN
    from synthguard.plugins import builtin

    loaded = {kind: builtin._load(path) for kind, path in builtin.HASHER_PATHS.items()}
    assert list(loaded) == list(BUILTIN) and loaded == BUILTIN
