"""The human side of an evidence bundle: one view model, rendered as HTML and PDF (:mod:`synthguard.documents`).

Both renderings show the same sections, with bilingual headings ("溯源结论 / Trace conclusion"), in
plain words: what was found, what the proof means, how anyone can re-verify it (US-07, CC-10).
The PDF uses a CJK font found by :func:`synthguard.documents.fonts.find_font`; when none covers the
Chinese text it falls back to English-only headings, and never prints tofu boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synthguard import documents
from synthguard.documents import Block, Box, BulletList, Document, Heading, KeyValues, Paragraph
from synthguard.documents.fonts import BUNDLED, find_font
from synthguard.errors import FontMissingError

VIA = {"sha256": "the exact file hash (SHA-256)", "pixel_sha256": "the hash of the decoded pixels",
       "watermark": "the provider's invisible watermark", "c2pa": "a valid C2PA manifest",
       "pdq": "perceptual-hash (PDQ) similarity", "aigc": "GB 45438 AIGC metadata with a valid integrity code"}
MATCH = {"identical": "The file is byte-for-byte the output that was recorded.",
         "same-pixels": "The file has exactly the recorded output's pixels; only its metadata differs.",
         "derived-copy": "The file is not identical to the recorded output: it is a modified copy (for example "
                         "resized, recompressed or stripped of its metadata) that was still recognised.",
         "none": ""}
PROOF_TEXT = (
    "The provider keeps every generation record in an append-only log built as an RFC 6962 Merkle tree (the "
    "structure Certificate Transparency uses). The leaf hash is SHA-256 of a 0x00 byte followed by the exact "
    "text of the record. The audit path lists the sibling hashes that, combined upwards with "
    "SHA-256(0x01 || left || right), must give the tree's root. Changing, inserting or removing any record "
    "changes the root, so a matching root shows that this record was in the log exactly as shown.")
CHECKPOINT_TEXT = (
    "A checkpoint is the tree size and root, signed with the provider's ledger key (Ed25519) at the time shown. "
    "Once signed, the provider cannot alter or deny the record without the signature failing or a conflicting "
    "signed root coming to light. The key is only meaningful if it is the provider's: compare the log id below "
    "with the one the provider publishes.")
STEPS = (
    "Unpack the zip and check that no file was altered: sha256sum -c MANIFEST.sha256",
    "Run python3 verify.py --trusted-key KEY (the provider's key or verifier key, obtained from the provider, not "
    "from this bundle) or --trust-list LIST (a trust list you hold) in the unpacked folder (needs Python 3 and the "
    "cryptography package: pip install cryptography; no network is used). It recomputes the leaf hash, walks the "
    "audit path to the root (RFC 9162 section 2.1.3.2), checks the Ed25519 signature of checkpoint.txt with the "
    "key you trust, the witness cosignatures your list requires and provider-descriptor.json, then prints OK or "
    "FAILED.",
    "To show that a file is the one described here: python3 verify.py --file THE_FILE (compares SHA-256; "
    "SHA-512 is listed too).",
    "Ask the provider, or the authority it files with, for the record with this content id and for a newer "
    "checkpoint with a consistency proof (LM-24). With SynthGuard: synthguard evidence-verify bundle.zip",
)


@dataclass
class Section:
    zh: str
    en: str
    paragraphs: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    zh_paragraphs: list[str] = field(default_factory=list)  # dropped when no CJK font is available
    mono: bool = False  # rows hold hashes


def _fmt(v: Any) -> str:
    return "-" if v in (None, "", []) else str(v)


def when(iso: str | None) -> str:
    """ISO 8601 time as "2026-01-02 03:04:05 UTC" for people (evidence.json keeps the exact value)."""
    if not iso:
        return "-"
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def _marks_rows(m: dict[str, Any]) -> list[tuple[str, str]]:
    wm, aigc, c2, vis = m["watermark"], m["aigc"], m["c2pa"], m["visible_label"]
    rows = [("Invisible watermark", f"detected: payload {wm['payload']}, score {wm['score']:.2f}, p-value "
             f"{wm['p_value']:.3g} (the chance an unmarked image scores this high)" if wm["detected"]
             else "not detected")]
    if aigc["found"]:
        f = aigc["fields"] or {}
        rows.append(("AIGC metadata (GB 45438)", f"found: ContentProducer {f.get('ContentProducer')}, ProduceID "
                     f"{f.get('ProduceID')}, integrity {aigc['integrity']}"))
    else:
        rows.append(("AIGC metadata (GB 45438)", "not found"))
    rows.append(("IPTC digital source type", _fmt(aigc["digital_source_type"])))
    c2_text = f"{c2['state']}" + (f", signer {c2['signer']}" if c2.get("signer") else "")
    rows.append(("C2PA manifest", c2_text + "".join(f"; {p}" for p in c2.get("problems", []))))
    rows.append(("Visible label", _visible(vis)))
    return rows


def _visible(vis: dict[str, Any]) -> str:
    """Never "not found" when the reader is not sure, and never without saying what was checked (issue 22): a
    label another tool drew, or one cropped away, is invisible to this reader but not absent from the file."""
    if vis["found"]:
        return f"found: \"{vis['text']}\" at {vis['position']}, correlation {vis['correlation']}"
    checked = vis.get("checked") or "this service's label design near its configured corner"
    if vis.get("certain", True) is False:
        return (f"not confirmed: a pattern like the label matched only in part (correlation {vis['correlation']}); "
                f"checked {checked}. Look at the image itself.")
    return f"not detected; checked {checked}. Look at the image itself: other label designs are not recognized."


def sections(doc: dict[str, Any]) -> list[Section]:
    """The report's content, shared by the HTML and PDF renderings."""
    t, f, ver = doc["trace"], doc["file"], doc["verification"]
    rec, proof, cp = t.get("record") or {}, t.get("proof") or {}, t.get("checkpoint")
    out = [_conclusion(doc)]
    out.append(Section("检材文件", "The file examined", mono=True, rows=[
        ("Name", f["name"]), ("Size", f"{f['size_bytes']:,} bytes"), ("Format", f"{f['format']} ({f['mime']})"),
        ("Dimensions", f"{f['width']} x {f['height']} pixels"), ("SHA-256", f["sha256"]), ("SHA-512", f["sha512"]),
        ("Pixel hash", f["pixel_sha256"]),
        ("In this bundle", "yes: " + f["bundle_path"] if f["included"] else "no (not copied, to protect the "
                                                                           "person depicted)")]))
    out.append(Section("检测到的标识", "Marks found on the file", rows=_marks_rows(doc["marks"])))
    if t["found"]:
        out.append(Section("生成记录", "Generation record", mono=True, rows=[
            ("Content id", t["content_id"]), ("Producer", t["producer"]), ("Account", _fmt(rec.get("user"))),
            ("Created", when(rec.get("created_at"))), ("Model", _fmt(rec.get("model"))),
            ("Recorded output SHA-256", _fmt(rec.get("output_sha256"))), ("Ledger entry", _fmt(rec.get("ledger_index")))
        ], paragraphs=[MATCH[doc["match"]]]))
        prov = doc.get("provider")
        if prov:  # who the provider is, and why its key is trusted (issue 19)
            out.append(Section("服务提供者", "Provider", mono=True, rows=[
                ("Name", _fmt(prov.get("name"))), ("Producer code", _fmt(prov.get("producer"))),
                ("Filing number", _fmt(prov.get("filing_number"))), ("Log origin", _fmt(prov.get("origin"))),
                ("Key fingerprint", _fmt(prov.get("key_fingerprint"))), ("Key source", _fmt(prov.get("key_source"))),
                ("Witnesses", ", ".join(prov.get("witnesses") or []) or "-"),
                ("Signed descriptor", _fmt(prov.get("descriptor_file")))]))
        out.append(Section("包含证明", "Inclusion proof", paragraphs=[PROOF_TEXT], mono=True, rows=[
            ("Leaf index", _fmt(proof.get("leaf_index"))), ("Tree size", _fmt(proof.get("tree_size"))),
            ("Leaf hash", _fmt(proof.get("leaf_hash"))), ("Root", _fmt(proof.get("root"))),
            *((f"Audit path {i}", h) for i, h in enumerate(proof.get("audit_path", [])))]))
        out.append(Section("签名检查点", "Signed checkpoint", paragraphs=[CHECKPOINT_TEXT], mono=True, rows=[
            ("Origin", cp["origin"]), ("Tree size", str(cp["tree_size"])), ("Root", cp["root"]),
            ("Signed at", when(cp["timestamp"])), ("Log id", cp["log_id"])] if cp else [("Checkpoint", "none yet")]))
        verdict = {True: "All checks passed.", False: "Some checks FAILED: do not rely on this proof.",
                   None: "Nothing to check."}[ver["ok"]]
        out.append(Section("验证结果", "Verification at bundle time", paragraphs=[verdict], items=[
            f"{'PASS' if c['ok'] else 'FAIL'} {c['check']}: {c['detail']}" for c in ver["checks"]]))
    out.append(Section("时间线", "Timeline", rows=[(when(e["time"]), e["detail"]) for e in doc["timeline"]]))
    out.append(Section("问题", "Problems", items=doc["problems"] or ["none"]))
    steps = list(STEPS) if t["found"] else [STEPS[0], "python3 verify.py re-checks the manifest; a bundle "
                                            "without a record holds no proof to check.", STEPS[2]]
    out.append(Section("如何独立验证", "How anyone can re-verify this", items=steps))
    return out


def _conclusion(doc: dict[str, Any]) -> Section:
    t = doc["trace"]
    if not t["found"]:
        return Section("溯源结论", "Trace conclusion", paragraphs=[
            "No generation record of this provider was found for this file. This does not show that the file is "
            "authentic or not AI-generated: it may come from another provider or carry no marks at all. The "
            "marks that were looked for, and whether each was found, are listed below."],
            zh_paragraphs=["结论：未在本服务提供者的账本中找到该文件的生成记录。"])
    rec = t["record"] or {}
    how = ", ".join(VIA.get(v, v) for v in t["via"])
    ok = doc["verification"]["ok"]
    checked = ("Its inclusion proof and the provider's signed checkpoint were re-verified when this bundle was "
               "made." if ok else "WARNING: the proof or the checkpoint did not verify; see the verification "
               "section.")
    return Section("溯源结论", "Trace conclusion", paragraphs=[
        f"This file was traced to generation record {t['content_id']}, made by the provider with code "
        f"{t['producer']} on {when(rec.get('created_at'))} for the account {rec.get('user')}. It was matched by "
        f"{how}. {MATCH[doc['match']]} The record is entry {rec.get('ledger_index')} of the provider's "
        f"tamper-evident ledger. {checked}"],
        zh_paragraphs=[f"结论：该文件可追溯至生成记录 {t['content_id']}（服务提供者 {t['producer']}，"
                       f"生成时间 {when(rec.get('created_at'))}）。"])


def document(doc: dict[str, Any], *, bilingual: bool = True) -> Document:
    """The report as a document; without ``bilingual`` (no font for the Chinese) headings are English only and the
    Chinese paragraphs are left out."""
    heading = ("溯源证据报告 / " if bilingual else "") + "Evidence report"
    out: list[Block] = [Heading(heading), Paragraph(
        f"Generated {when(doc['generated_at'])} by synthguard {doc['tool']['version']} ({doc['schema']}). "
        "evidence.json in this bundle holds every value shown here.", small=True)]
    for i, s in enumerate(sections(doc)):
        out.append(Heading(f"{s.zh} / {s.en}" if bilingual else s.en, 2))
        text: list[Block] = [Paragraph(p, lang="zh") for p in (s.zh_paragraphs if bilingual else [])]
        text += [Paragraph(p) for p in s.paragraphs]
        if i == 0:  # the conclusion, framed
            out.append(Box(text, tone="found" if doc["trace"]["found"] else "notfound"))
        else:
            out += text
        if s.rows:
            out.append(KeyValues(s.rows, table=True, mono=s.mono))
        if s.items:
            out.append(BulletList(s.items, flagged=frozenset(n for n, x in enumerate(s.items) if x.startswith("FAIL"))))
    return Document(title=f"{heading} — {doc['file']['name']}", blocks=out, theme="evidence",
                    creator=f"synthguard {doc['tool']['version']}")


def render_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML page (inline CSS, no external resources)."""
    return documents.render_html(document(doc))


def _pdf_font(secs: list[Section]) -> tuple[Path, bool]:
    """(font file, bilingual?): a font covering the Chinese text, else one for English (never tofu)."""
    zh = "".join(s.zh + "".join(s.zh_paragraphs) for s in secs)
    try:
        return find_font(zh), True
    except FontMissingError:
        return BUNDLED, False


def render_pdf(doc: dict[str, Any]) -> bytes:
    font, bilingual = _pdf_font(sections(doc))
    return documents.render_pdf(document(doc, bilingual=bilingual), font=font)
