"""The provider journey for text (LM-03, LM-09, LM-10, DS-16..DS-19, GB-12, GB-18): label -> inspect -> trace,
through the library and the CLI; bad input leaves nothing written and no record."""

from __future__ import annotations

import io
import json
import zipfile

import docx
import pytest
from sqlalchemy import func, select

from synthguard.cli import main
from synthguard.core import SynthGuard
from synthguard.errors import CorruptMediaError, MetadataError, UnsupportedMediaError
from synthguard.store.schema import Record
from synthguard.testing import synthetic_media

NOTICE = "【AI生成 / AI-generated】"
EXT = {"TXT": "txt", "MD": "md", "DOCX": "docx", "XLSX": "xlsx", "PPTX": "pptx"}


def _records(sg) -> int:
    with sg.db.session() as s:
        return s.scalar(select(func.count()).select_from(Record))


@pytest.mark.parametrize("fmt", ["TXT", "MD", "DOCX"])
def test_label_inspect_trace(sg, verified_user, tmp_path, fmt):
    src = tmp_path / f"in.{EXT[fmt]}"
    src.write_bytes(synthetic_media(fmt).data)
    out = tmp_path / f"out.{EXT[fmt]}"
    r = sg.label(src, user=verified_user, producer="ACME", output=out, model="llm-1")
    assert r.marks == ["text.notice", "text.metadata"] and r.watermark_payload is None
    seen = sg.inspect(out)
    assert seen["modality"] == "text" and seen["size"] is None
    assert seen["visible_label"]["found"] and seen["visible_label"]["text"] == NOTICE
    assert seen["aigc"]["ProduceID"] == r.content_id and seen["aigc"]["ContentProducer"] == "ACME"
    assert seen["aigc"]["PropagateID"] == r.content_id  # GB-11 first write
    assert seen["aigc_integrity"] == "valid" and seen["aigc_count"] == 1 and seen["problems"] == []
    sg.checkpoint()
    t = sg.trace(out)
    assert t["found"] and t["content_id"] == r.content_id and t["confirmed"]
    assert {"aigc", "sha256", "pixel_sha256"} <= set(t["via"]) and t["proof"]["verified"]
    assert t["problems"] == []


def test_stripped_copy_is_traced_by_content_hash(sg, verified_user, tmp_path):
    """Notice and metadata removed: the normalised body still matches the record (DS-21 style tracing)."""
    src = synthetic_media("TXT")
    out = tmp_path / "o.txt"
    r = sg.label(src, user=verified_user, producer="ACME", output=out)
    stripped = "\n".join(x for x in out.read_text().splitlines() if x != NOTICE and not x.startswith("AIGC:"))
    t = sg.trace(stripped.encode() + b"\n")
    assert t["found"] and t["content_id"] == r.content_id and t["via"] == ["pixel_sha256"]


def test_edited_text_is_not_traced_through_its_label(sg, verified_user, tmp_path):
    out = tmp_path / "o.md"
    sg.label(synthetic_media("MD"), user=verified_user, producer="ACME", output=out)
    out.write_text(out.read_text().replace("Tuesday", "Sunday"))
    seen = sg.inspect(out)
    assert seen["aigc_integrity"] == "invalid" and any("GB-12" in p for p in seen["problems"])
    t = sg.trace(out)
    assert not t["found"] and any("integrity is invalid" in p for p in t["problems"])


def test_no_visible_and_position_setting(settings, tmp_path):
    wording = {"text_notice_position": "end", "text_notice_zh": "本内容由人工智能生成", "text_notice_en": ""}
    sg = SynthGuard.open(settings.model_copy(update=wording))
    sg.add_user("u")
    sg.verify_user("u", "netid")
    r = sg.label(synthetic_media("DOCX"), user="u", producer="ACME", output=tmp_path / "a.docx")
    paragraphs = [p.text for p in docx.Document(tmp_path / "a.docx").paragraphs]
    assert paragraphs[-1] == "【本内容由人工智能生成】" and paragraphs[0] == "Budget notes"
    r = sg.label(synthetic_media("TXT"), user="u", producer="ACME", output=tmp_path / "b.txt", visible=False)
    assert r.marks == ["text.metadata"] and "【" not in (tmp_path / "b.txt").read_text()
    sg.close()


def test_cli_label_and_inspect_markdown(capsys, settings, tmp_path):
    main(["users", "add", "u-7"])
    main(["users", "verify", "u-7", "--method", "netid", "--reference", "r-1"])
    capsys.readouterr()
    src = tmp_path / "file.md"
    src.write_bytes(synthetic_media("MD").data)
    out = tmp_path / "out.md"
    code = main(["label", str(src), "-o", str(out), "--producer", "ACME", "--user", "u-7", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["marks"] == ["text.notice", "text.metadata"] and out.read_text().startswith("---\n")
    code = main(["inspect", str(out), "--json"])
    seen = json.loads(capsys.readouterr().out)
    assert code == 0 and seen["format"] == "markdown" and seen["aigc"]["ProduceID"] == data["content_id"]
    assert seen["aigc_integrity"] == "valid" and seen["visible_label"]["found"]


def _bad(sg, user, tmp_path, name: str, data: bytes, exc: type[Exception]) -> None:
    src = tmp_path / name
    src.write_bytes(data)
    out = tmp_path / ("out." + name.rsplit(".", 1)[1])
    with pytest.raises(exc) as ei:
        sg.label(src, user=user, producer="ACME", output=out)
    assert "What to do" in ei.value.diagnostics()
    assert not out.exists() and _records(sg) == 0 and not list(tmp_path.glob(".out.*"))


def test_bad_inputs_write_nothing(sg, verified_user, tmp_path):
    docx_bytes = synthetic_media("DOCX").data
    _bad(sg, verified_user, tmp_path, "t.docx", docx_bytes[:2000], CorruptMediaError)
    _bad(sg, verified_user, tmp_path, "u.txt", b"x" * 100 + b"\xc3\x28 broken\n", CorruptMediaError)
    _bad(sg, verified_user, tmp_path, "h.md", ("---\nk: " + "v" * 70_000 + "\n---\nbody\n").encode(), MetadataError)
    _bad(sg, verified_user, tmp_path, "y.md", b"---\nk: [1,\n---\nbody\n", MetadataError)
    _bad(sg, verified_user, tmp_path, "e.txt", b"", CorruptMediaError)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for i in zin.infolist():
            zout.writestr(i, zin.read(i))
        zout.writestr("word/vbaProject.bin", b"vba")
    _bad(sg, verified_user, tmp_path, "m.docm", buf.getvalue(), UnsupportedMediaError)


def test_platform_scan_reads_the_label_and_writes_its_fields(sg, verified_user, tmp_path):
    """LM Art. 6(1)(1) and LM-17 on a labeled docx: verdict from the AIGC block, propagator fields written into the
    same single block, the producer's ReservedCode1 still verifying."""
    out = tmp_path / "o.docx"
    r = sg.label(synthetic_media("DOCX"), user=verified_user, producer="ACME", output=out)
    scan = sg.scan(out, propagator="PLATFORM01", propagate_id="UP-1")
    assert scan.verdict == "ai_generated" and scan.label_value == "1"
    written = [a for a in scan.actions if a["action"] == "write_propagator"]
    assert written and written[0]["status"] == "written"
    marker = sg.marker("text.metadata")
    rewritten = marker.propagate(sg.media(out), "PLATFORM01", "UP-1")
    seen = sg.inspect(rewritten)
    assert seen["aigc_count"] == 1 and seen["aigc_integrity"] == "valid"
    assert seen["aigc"]["ContentPropagator"] == "PLATFORM01" and seen["aigc"]["ProduceID"] == r.content_id


def test_bad_wording_setting_refuses_before_writing(settings, tmp_path):
    from synthguard.errors import ConfigError

    sg = SynthGuard.open(settings.model_copy(update={"text_notice_zh": "", "text_notice_en": "hello"}))
    sg.add_user("u")
    sg.verify_user("u", "netid")
    with pytest.raises(ConfigError) as ei:
        sg.label(synthetic_media("TXT"), user="u", producer="ACME", output=tmp_path / "o.txt")
    assert "GB-02" in ei.value.message + ei.value.hint and not (tmp_path / "o.txt").exists() and _records(sg) == 0
    assert sg.marker("text.metadata").read(synthetic_media("TXT")).found is False
    sg.close()
