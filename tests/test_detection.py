"""Detectors: the Detection contract, the registry, SD's dwtDct decoder, the ONNX adapter and its calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from synthguard.detection import Detection, Detector
from synthguard.detection.evaluate import equal_error_rate, evaluate, roc_auc, threshold_at_fpr
from synthguard.detection.marks import KNOWN_PAYLOADS, DwtDctDetector, binomial_tail, decode_bits, dwtdct_votes
from synthguard.detection.onnx import OnnxDetector, file_sha256
from synthguard.errors import ConfigError, PluginError
from synthguard.media import Media
from synthguard.plugins import Plugins
from synthguard.plugins.builtin import DETECTORS as MARK_DETECTORS
from tests.conftest import TEST_DATA, kodak
from tests.test_scan import load_imwatermark_maxdct, sd_watermarked

SIZE = 8  # the test model looks at an 8x8 thumbnail


# --- contract -----------------------------------------------------------------------------------
def test_detection_rejects_unknown_kinds_and_tiers():
    with pytest.raises(ValueError):
        Detection("x", "verdict")
    with pytest.raises(ValueError):
        Detection("x", "label", label_value="4")
    d = Detection("x", "trace", 0.5, 0.9, "3", {"a": 1}, problems=("p",))
    assert d.to_dict()["problems"] == ["p"]


CLEAN_SAMPLE = {"audio": "WAV", "video": "MP4", "text": "TXT"}


@pytest.mark.parametrize("name", list(MARK_DETECTORS))
def test_every_mark_detector_meets_the_protocol(sg, name: str):
    from synthguard.testing import synthetic_media

    det = Plugins(load_entry_points=False).detectors.create(name, sg)
    assert isinstance(det, Detector) and det.name == name
    modality = name.split(".")[0]
    clean = Media.open(kodak("kodim02.png")) if modality == "image" else synthetic_media(CLEAN_SAMPLE[modality])
    found = det.detect(clean)  # clean media: nothing but, at most, info
    assert all(isinstance(d, Detection) and d.kind in ("info",) for d in found)


def test_registry_rejects_duplicates_and_unknown_names(sg):
    reg = Plugins(load_entry_points=False).detectors
    with pytest.raises(PluginError):
        reg.add("image.c2pa", lambda ctx: None)
    with pytest.raises(ConfigError):
        reg.create_all(sg, ["image.nope"])


def test_no_ml_detector_is_configured_by_default(sg):
    from synthguard.scan import detectors_for

    marks, ml = detectors_for(sg)
    assert [d.name for d in marks] == [n for n in MARK_DETECTORS if n.startswith("image.")] and ml == []


# --- invisible-watermark dwtDct (LM-15 third-party decoder) -------------------------------------------
def test_decoder_matches_imwatermark_reference():
    import cv2

    maxdct = load_imwatermark_maxdct()
    bits = list(KNOWN_PAYLOADS["sdxl"])
    rgb = np.asarray(Image.open(kodak("kodim03.png")).convert("RGB"))
    bgr = maxdct.EmbedMaxDct(bits, wmLen=48).encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    reference = maxdct.EmbedMaxDct(bits, wmLen=48).decode(bgr).astype(np.uint8)
    ours = decode_bits(dwtdct_votes(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)), 48)
    assert (ours == reference).all()


def test_known_payloads_are_the_published_bits():
    assert "".join(map(str, KNOWN_PAYLOADS["sdxl"])) == "101100111110110010010000011110111011000110011110"
    assert np.packbits(np.array(KNOWN_PAYLOADS["sd-v1"], np.uint8)).tobytes() == b"StableDiffusionV1"


@pytest.mark.parametrize("payload", ["sdxl", "sd-v1"])
def test_sd_payloads_are_found(payload: str):
    found = DwtDctDetector().detect(Media.from_bytes(sd_watermarked("kodim09.png", payload)))
    assert found and found[0].evidence["payload"] == payload and found[0].kind == "trace"


def test_no_false_match_on_any_kodak_image():
    det = DwtDctDetector()
    hits = {p.name: det.detect(Media.open(p)) for p in sorted((TEST_DATA / "kodak").glob("*.png"))}
    assert len(hits) == 24 and not any(hits.values())


def test_binomial_tail():
    assert binomial_tail(48, 0) == 1.0 and binomial_tail(48, 48) == 2.0**-48
    assert binomial_tail(4, 3) == 5 / 16


# --- ONNX adapter (bring your own weights) -----------------------------------------------------------
def _synthetic(dirpath: Path, n: int, lo: int, hi: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    dirpath.mkdir()
    for i in range(n):
        base = rng.uniform(lo, hi)
        img = np.clip(base + rng.normal(0, 20, (48, 64, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img, "RGB").save(dirpath / f"{i:03d}.png")


def _features(dirpath: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB").resize((SIZE, SIZE)), np.float32)
                     .transpose(2, 0, 1).reshape(-1) / 255.0 for p in sorted(dirpath.glob("*.png"))])


def _fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 300, lr: float = 0.5) -> tuple[np.ndarray, float]:
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w -= lr * x.T @ (p - y) / len(y)
        b -= lr * float((p - y).mean())
    return w.astype(np.float32), float(b)


def _export(w: np.ndarray, b: float, path: Path) -> None:
    """Logistic regression as an ONNX graph: Flatten -> MatMul -> Add -> Sigmoid."""
    from onnx import TensorProto, checker, helper, numpy_helper, save

    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["logit0"]),
         helper.make_node("Add", ["logit0", "b"], ["logit"]),
         helper.make_node("Sigmoid", ["logit"], ["p"])],
        "logreg",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 1])],
        [numpy_helper.from_array(w.reshape(-1, 1), "w"), numpy_helper.from_array(np.array([b], np.float32), "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    checker.check_model(model)
    save(model, str(path))


@pytest.fixture
def trained(tmp_path: Path) -> dict[str, Path]:
    pytest.importorskip("onnx", reason="the test extra needs `onnx` to build the tiny model")
    real, fake = tmp_path / "real", tmp_path / "fake"
    _synthetic(real, 40, 30, 150, seed=1)  # "real": darker
    _synthetic(fake, 40, 110, 230, seed=2)  # "fake": brighter, overlapping
    x = np.concatenate([_features(real), _features(fake)])
    y = np.concatenate([np.zeros(40), np.ones(40)])
    w, b = _fit_logistic(x, y)
    model = tmp_path / "logreg.onnx"
    _export(w, b, model)
    manifest = tmp_path / "logreg.yaml"
    manifest.write_text(yaml.safe_dump({
        "name": "image.test-logreg", "version": "1", "model": "logreg.onnx", "sha256": file_sha256(model),
        "licence": "CC0-1.0", "benchmark": {"dataset": "synthetic", "metric": "AUC", "value": 0.9},
        "input": {"size": [SIZE, SIZE], "layout": "NCHW", "color": "RGB", "scale": 255,
                  "mean": [0, 0, 0], "std": [1, 1, 1]},
        "output": {"index": 0, "activation": "none", "meaning": "probability the image is AI-generated"},
    }, sort_keys=False))
    return {"real": real, "fake": fake, "model": model, "manifest": manifest}


def test_uncalibrated_detector_scores_but_never_counts(trained):
    det = OnnxDetector.load(trained["manifest"])
    [d] = det.detect(Media.open(next(trained["fake"].glob("*.png"))))
    assert d.kind == "classifier" and d.advisory and 0.0 <= d.score <= 1.0
    assert d.label_value is None and "no calibrated threshold" in d.problems[0]
    assert d.evidence["licence"] == "CC0-1.0" and d.evidence["claimed_benchmark"]["value"] == 0.9


def test_evaluate_calibrates_and_stores_the_threshold(trained):
    before = trained["manifest"].read_text()
    ev = evaluate(trained["manifest"], trained["real"], trained["fake"], target_fpr=0.05)
    assert 0.8 < ev.auc <= 1.0 and 0.0 <= ev.eer < 0.3
    assert ev.fpr <= 0.05 and ev.tpr > 0.3 and (ev.n_real, ev.n_fake) == (40, 40)
    doc = yaml.safe_load(trained["manifest"].read_text())
    assert doc["threshold"] == ev.threshold and doc["calibration"]["target_fpr"] == 0.05
    assert doc["sha256"] == yaml.safe_load(before)["sha256"] and doc["licence"] == "CC0-1.0"  # rest kept
    det = OnnxDetector.load(trained["manifest"])
    labels = [det.detect(Media.open(p))[0].label_value for p in sorted(trained["real"].glob("*.png"))]
    assert labels.count("3") <= 0.05 * len(labels)  # the calibrated FPR holds on the calibration set
    assert not list(trained["manifest"].parent.glob(".*.tmp"))  # atomic write left no temp file


def test_evaluate_cli(trained, sg, capsys):
    import synthguard.cli.scan  # noqa: F401  (registers the commands)
    from synthguard.cli import main

    code = main(["detectors", "evaluate", "--model", str(trained["manifest"]), "--real", str(trained["real"]),
                 "--fake", str(trained["fake"]), "--target-fpr", "0.1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["written"] and out["fpr"] <= 0.1 and "auc" in out
    assert yaml.safe_load(trained["manifest"].read_text())["threshold"] == out["threshold"]


def test_manifest_with_wrong_sha256_is_refused(trained):
    doc = yaml.safe_load(trained["manifest"].read_text())
    doc["sha256"] = "0" * 64
    trained["manifest"].write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="do not match the manifest") as exc:
        OnnxDetector.load(trained["manifest"])
    assert "Restore the file" in exc.value.hint


def test_swapped_weights_are_refused(trained):
    trained["model"].write_bytes(trained["model"].read_bytes() + b"\0")
    with pytest.raises(ConfigError, match="SHA-256"):
        evaluate(trained["manifest"], trained["real"], trained["fake"])


@pytest.mark.parametrize("broken", [{"sha256": None}, {"input": {"size": [8]}}, {"output": {"activation": "relu"}}])
def test_malformed_manifest_is_a_clear_config_error(trained, broken):
    doc = yaml.safe_load(trained["manifest"].read_text()) | broken
    trained["manifest"].write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError):
        OnnxDetector.load(trained["manifest"])


def test_configured_manifest_is_loaded_by_the_scan(trained, sg, monkeypatch):
    from synthguard.scan import detectors_for, scan

    evaluate(trained["manifest"], trained["real"], trained["fake"], target_fpr=0.05)
    monkeypatch.setattr(sg, "settings", sg.settings.model_copy(update={"detector_manifests": [trained["manifest"]]}))
    assert [d.name for d in detectors_for(sg)[1]] == ["image.test-logreg"]
    r = scan(sg.scanner, sorted(trained["fake"].glob("*.png"))[-1])
    assert any(e["source"] == "image.test-logreg" and e["advisory"] for e in r.evidence)


# --- metrics ---------------------------------------------------------------------------------------
def test_metrics_on_known_cases():
    real, fake = np.array([0.1, 0.2, 0.3]), np.array([0.7, 0.8, 0.9])
    assert roc_auc(real, fake) == 1.0 and roc_auc(fake, real) == 0.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5
    assert equal_error_rate(real, fake)[0] == 0.0
    t = threshold_at_fpr(np.linspace(0, 1, 101), 0.01)
    assert (np.linspace(0, 1, 101) >= t).mean() <= 0.01 and t > 0.99
    with pytest.raises(Exception, match="target FPR"):
        threshold_at_fpr(real, 1.5)


def test_haar_approximation_is_bit_exact_with_pywt():
    import pywt

    from synthguard.detection.marks import haar_approx

    x = np.random.default_rng(3).integers(0, 256, (256, 384)).astype(np.uint8)
    assert np.array_equal(haar_approx(x), pywt.dwt2(x, "haar")[0])


def test_to_dict_is_asdict_without_sharing_containers() -> None:
    """Detection.to_dict is built by hand for speed (issue 28: every cached repeat builds its evidence dicts); it
    must give what dataclasses.asdict gave, and a copy the caller may change without touching the cached one."""
    import dataclasses
    from collections import namedtuple

    Point = namedtuple("Point", "x y")

    @dataclasses.dataclass
    class Box:
        w: int
        tags: list[str]

    d = Detection("image.watermark", "label", 3.5, 0.9, "1",
                  {"payload": "ab", "nested": {"list": [1, {"k": (2, 3)}], "box": Box(2, ["a"])}, "pt": Point(1, 2),
                   "raw": b"\x00", "none": None}, advisory=True, problems=("p1",))
    want = dataclasses.asdict(d) | {"problems": ["p1"]}
    got = d.to_dict()
    assert got == want and list(got) == list(want)
    assert json.dumps(got, default=str) == json.dumps(want, default=str)  # same order, same types
    got["evidence"]["nested"]["list"][1]["k"] = "changed"
    got["evidence"]["nested"]["box"]["tags"].append("b")
    assert d.evidence["nested"]["list"][1]["k"] == (2, 3) and d.evidence["nested"]["box"].tags == ["a"]
