"""OOXML packages (docx, xlsx, pptx) as ZIP parts: opened with limits, rewritten faithfully.

We edit the few XML parts a label needs (``docProps/custom.xml`` for GB-18, the notice in the body) and copy every
other part byte for byte, in the original order and compression, so nothing the libraries behind Word, Excel or
PowerPoint would drop (charts, pivots, extensions) is lost. XML is parsed with lxml (prefixes and ``mc:Ignorable``
declarations must survive) without entity expansion or network access.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from synthguard.errors import CorruptMediaError, UnsupportedMediaError

MAX_PARTS = 10_000
MAX_UNZIPPED = 256 * 1024 * 1024  # zip-bomb guard over the declared sizes of all parts
MAX_XML_PART = 64 * 1024 * 1024
# issue 18 finding 5: a 193 KB docx inflating to hundreds of MB of XML stayed under MAX_UNZIPPED and cost 36 s and
# 1.4 GB to parse.  Real office files compress text XML about 5-20:1; past RATIO_FLOOR bytes a higher ratio is a bomb.
MAX_RATIO = 100
RATIO_FLOOR = 16 * 1024 * 1024

MAIN_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx", "ppt/presentation.xml": "pptx"}
CUSTOM_PROPS_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_PROPS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
NS = {
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_HINT = "Pass an intact .docx, .xlsx or .pptx file (save it again from the office application)."


def kind(names: list[str]) -> str | None:
    """docx / xlsx / pptx from the part names, or None for any other ZIP."""
    if "[Content_Types].xml" not in names:
        return None
    return next((k for part, k in MAIN_PARTS.items() if part in names), None)


def sniff(data: bytes, name: str) -> str | None:
    """Format of a ZIP that may be OOXML; a damaged ZIP is a CorruptMediaError, another ZIP None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return kind(zf.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise CorruptMediaError("ZIP archive is damaged or truncated: {exc}", path=name, hint=_HINT,
                                values={"exc": exc}) from exc


@dataclass(frozen=True)
class Package:
    """The parts of one OOXML package, in archive order, plus what kind it is."""

    kind: str
    infos: tuple[zipfile.ZipInfo, ...]
    parts: dict[str, bytes]
    macros: bool  # a VBA project or a macro-enabled main content type (docm/xlsm/pptm)

    def xml(self, part: str) -> Any:
        return parse_xml(self.parts[part], part)

    def rels_of(self, part: str) -> str:
        """The relationships part name of ``part`` ("word/document.xml" -> "word/_rels/document.xml.rels")."""
        folder, _, file = part.rpartition("/")
        return f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels"

    def targets(self, part: str, rel_type_suffix: str) -> list[str]:
        """Absolute part names that ``part`` points at with a relationship type ending in ``rel_type_suffix``."""
        rels = self.rels_of(part)
        if rels not in self.parts:
            return []
        folder = part.rpartition("/")[0]
        out = []
        for rel in self.xml(rels).findall("rel:Relationship", NS):
            if rel.get("Type", "").endswith(rel_type_suffix) and rel.get("TargetMode") != "External":
                out.append(resolve(folder, rel.get("Target", "")))
        return out


def resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    stack = folder.split("/") if folder else []
    for piece in target.split("/"):
        if piece == "..":
            if stack:
                stack.pop()
        elif piece not in ("", "."):
            stack.append(piece)
    return "/".join(stack)


def open_package(data: bytes, name: str) -> Package:
    """Read every part, checking sizes first (zip bombs) and CRCs while reading (corruption)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise CorruptMediaError("ZIP archive is damaged or truncated: {exc}", path=name, hint=_HINT,
                                values={"exc": exc}) from exc
    with zf:
        if any(not i.filename for i in zf.infolist()):  # ZipInfo.is_dir() indexes the name (IndexError)
            raise CorruptMediaError("ZIP archive has a part without a name", path=name, hint=_HINT)
        infos = tuple(i for i in zf.infolist() if not i.is_dir())
        names = [i.filename for i in infos]
        if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNZIPPED:
            raise CorruptMediaError(
                "ZIP archive unpacks to {total_size:,} bytes in {parts} parts, over the limits ({MAX_UNZIPPED:,} "
                "bytes, {MAX_PARTS} parts): refused as a possible zip bomb", path=name,
                hint="Pass a regular office document; split very large workbooks.",
                values={"total_size": sum(i.file_size for i in infos), "parts": len(infos),
                        "MAX_UNZIPPED": MAX_UNZIPPED, "MAX_PARTS": MAX_PARTS})
        unzipped = sum(i.file_size for i in infos)
        if unzipped > RATIO_FLOOR and unzipped > MAX_RATIO * max(1, len(data)):
            raise CorruptMediaError(
                "ZIP archive of {size} bytes unpacks to {unzipped} bytes (over {ratio}:1): refused as a possible zip "
                "bomb", values={"size": len(data), "unzipped": unzipped, "ratio": MAX_RATIO}, path=name,
                hint="Pass a regular office document.")
        if len(set(names)) != len(names):
            raise CorruptMediaError("ZIP archive has duplicate part names", path=name, hint=_HINT)
        k = kind(names)
        if k is None:
            raise UnsupportedMediaError("ZIP archive is not an OOXML document (docx, xlsx, pptx)", path=name)
        parts: dict[str, bytes] = {}
        for info in infos:
            try:
                parts[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:  # ValueError: an offset
                raise CorruptMediaError("part {filename} is damaged: {exc}", path=name,  # before the start
                                        hint=_HINT, values={"filename": info.filename, "exc": exc}) from exc
            except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encryption
                raise UnsupportedMediaError("part {filename} cannot be read: {exc}", path=name,
                                            hint=_HINT, values={"filename": info.filename, "exc": exc}) from exc
    types = parts["[Content_Types].xml"]
    macros = b"macroEnabled" in types or any(n.lower().endswith("vbaproject.bin") for n in names)
    return Package(k, infos, parts, macros)


def write_package(pkg: Package, changes: dict[str, bytes]) -> bytes:
    """A new ZIP: the original parts in order (changed ones replaced), then new parts. Compression is kept."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in pkg.infos:
            data = changes.get(info.filename, pkg.parts[info.filename])
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
            out.writestr(copy, data)
        for part, data in changes.items():
            if part not in pkg.parts:
                out.writestr(zipfile.ZipInfo(part, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def lxml_etree() -> Any:
    try:
        from lxml import etree
    except ImportError as exc:  # pragma: no cover - lxml ships with the report extra
        raise UnsupportedMediaError("office documents need lxml", hint="pip install 'synthguard[report]'") from exc
    return etree


def parse_xml(data: bytes, part: str) -> Any:
    etree = lxml_etree()
    if len(data) > MAX_XML_PART:
        raise CorruptMediaError("part {part} is {size:,} bytes, over the {MAX_XML_PART:,}-byte limit",
                                values={"part": part, "size": len(data), "MAX_XML_PART": MAX_XML_PART})
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptMediaError("part {part} is not well-formed XML: {exc}", hint=_HINT,
                                values={"part": part, "exc": exc}) from exc
    return root


def to_xml(root: Any) -> bytes:
    return lxml_etree().tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)  # type: ignore


def q(prefix: str, local: str) -> str:
    """Clark notation: q("w", "p") -> "{http://...wordprocessingml/2006/main}p"."""
    return f"{{{NS[prefix]}}}{local}"
