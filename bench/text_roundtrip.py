"""Independent check of labeled office files with a real office suite (LibreOffice, headless).

For docx, xlsx and pptx: label a synthetic document (notice at both ends + AIGC custom property), then
(1) convert it to PDF and look for the notice in the PDF text (the explicit label renders, LM-09), and
(2) re-save it in the same format and read our label back (the AIGC property survives, ReservedCode1 verifies).
Needs Debian packages libreoffice-{writer,calc,impress}-nogui and poppler-utils (pdftotext); not part of the tests.
Run: `.venv/bin/python bench/text_roundtrip.py`; writes bench/results/text_roundtrip.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from synthguard.marking.text.marker import TextMetadataMarker, TextNoticeMarker
from synthguard.media import Media
from synthguard.testing import sample_context, synthetic_media

ROOT = Path(__file__).resolve().parents[1]
KEY = b"k" * 32
NOTICE = "【AI生成 / AI-generated】"


def soffice(args: list[str], cwd: Path) -> None:
    subprocess.run(["soffice", "--headless", *args], cwd=cwd, check=True, capture_output=True, timeout=300)


def main() -> None:
    if not shutil.which("soffice") or not shutil.which("pdftotext"):
        raise SystemExit("needs soffice and pdftotext: apt-get install libreoffice-writer-nogui "
                         "libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils")
    version = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("DOCX", "XLSX", "PPTX"):
            ext = fmt.lower()
            work = Path(tmp) / ext
            (work / "resaved").mkdir(parents=True)
            ctx = sample_context()
            labeled = TextMetadataMarker(KEY).mark(TextNoticeMarker(NOTICE, "both").mark(synthetic_media(fmt), ctx),
                                                   ctx)
            (work / f"labeled.{ext}").write_bytes(labeled.data)
            soffice(["--convert-to", "pdf", "--outdir", str(work), f"labeled.{ext}"], work)
            pdf_text = subprocess.run(["pdftotext", str(work / "labeled.pdf"), "-"], capture_output=True,
                                      text=True, check=True).stdout
            soffice(["--convert-to", ext, "--outdir", str(work / "resaved"), f"labeled.{ext}"], work)
            resaved = Media.open(work / "resaved" / f"labeled.{ext}")
            meta = TextMetadataMarker(KEY).read(resaved)
            notice = TextNoticeMarker().read(resaved)
            compact = "".join(pdf_text.split())
            rows.append({"format": ext, "notice_in_pdf": compact.count("".join(NOTICE.split())),
                         "resaved_aigc_count": meta.data["count"], "resaved_integrity": meta.data["integrity"],
                         "resaved_notice_positions": notice.data.get("positions", []),
                         "resaved_digest_equal": resaved.content_sha256 == labeled.content_sha256})
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "text_roundtrip.json").write_text(
        json.dumps({"office": version, "results": rows}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
