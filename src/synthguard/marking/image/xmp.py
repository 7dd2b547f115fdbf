"""XMP packets carrying the TC260 AIGC property and the IPTC digital source type (GB-15, LM-10).

:func:`set_properties` patches an existing packet in place (keeps every other property, prefix and
namespace; GB-15 "update, don't overwrite") or builds a new one. It first removes every property whose local
name is ``AIGC`` so the packet keeps exactly one (GB-08). :func:`read_properties` finds both the attribute
form (``TC260:AIGC="..."``) and the element form. A DOCTYPE is refused (XMP forbids it; entity bombs), and so
is a packet nesting elements deeper than ``max_depth`` (``Settings.max_metadata_depth``): expat builds the tree
iteratively, but minidom walks it recursively, so 8,000 nested elements were a RecursionError (issue 18 #7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.dom import minidom
from xml.parsers import expat
from xml.parsers.expat import ExpatError

from synthguard.errors import MetadataError
from synthguard.limits import DEFAULT_MAX_DEPTH
from synthguard.marking.aigc import DST_TRAINED

NS_TC260 = "http://www.tc260.org.cn/ns/AIGC/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_X = "adobe:ns:meta/"
NS_XMLNS = "http://www.w3.org/2000/xmlns/"
_PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_PACKET_END = '<?xpacket end="w"?>'


@dataclass(frozen=True)
class XmpProperties:
    """What one packet says: every AIGC value found (one expected) and the digital source type."""

    aigc: tuple[str, ...]
    digital_source_type: str | None


def new_packet() -> str:
    """An empty packet with one ``rdf:Description``."""
    return (
        f'{_PACKET_BEGIN}\n<x:xmpmeta xmlns:x="{NS_X}">\n <rdf:RDF xmlns:rdf="{NS_RDF}">\n'
        f'  <rdf:Description rdf:about=""/>\n </rdf:RDF>\n</x:xmpmeta>\n{_PACKET_END}'
    )


def _parse(packet: bytes | str, max_depth: int = DEFAULT_MAX_DEPTH) -> minidom.Document:
    if isinstance(packet, bytes):
        try:
            packet = packet.rstrip(b"\x00").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataError("XMP packet is not UTF-8: {exc}", values={"exc": exc}) from exc
    text = packet.lstrip("\ufeff").strip().rstrip("\x00")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise MetadataError("XMP packet contains a DOCTYPE/ENTITY declaration, which XMP forbids")
    data = text.encode("utf-8")
    try:
        _check_depth(data, max_depth)
        return minidom.parseString(data)
    except ExpatError as exc:
        raise MetadataError("XMP packet is not well-formed XML: {exc}", values={"exc": exc}) from exc


class _TooDeep(Exception):
    pass


def _check_depth(data: bytes, max_depth: int) -> None:
    """Refuse element nesting over ``max_depth`` in one streaming expat pass, before minidom sees the packet."""
    parser = expat.ParserCreate()
    depth = [0]

    def start(_name: str, _attrs: object) -> None:
        depth[0] += 1
        if depth[0] > max_depth:
            raise _TooDeep

    def end(_name: str) -> None:
        depth[0] -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(data, True)
    except _TooDeep:
        raise MetadataError(
            "the XMP packet nests elements over {max_depth} levels deep", values={"max_depth": max_depth},
            hint="Flatten the packet; operators can raise SYNTHGUARD_MAX_METADATA_DEPTH.") from None


def _rdf_root(doc: minidom.Document) -> minidom.Element:
    roots = doc.getElementsByTagNameNS(NS_RDF, "RDF")
    if not roots:
        raise MetadataError("XMP packet has no rdf:RDF element")
    return roots[0]


def _descriptions(rdf: minidom.Element) -> list[minidom.Element]:
    return [n for n in rdf.childNodes if n.nodeType == n.ELEMENT_NODE and n.namespaceURI == NS_RDF
            and n.localName == "Description"]


def _text(el: minidom.Element) -> str:
    return "".join(n.data for n in el.childNodes if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE)).strip()


def _props(desc: minidom.Element):
    """Yield (kind, node, namespace, local name) for each property of one rdf:Description."""
    for attr in list(desc.attributes.values()):
        if attr.namespaceURI not in (NS_XMLNS, NS_RDF, None):
            yield "attr", attr, attr.namespaceURI, attr.localName
    for child in list(desc.childNodes):
        if child.nodeType == child.ELEMENT_NODE:
            yield "elem", child, child.namespaceURI, child.localName


# issue 18 finding 5: a PNG carrying a 10 MB XMP packet cost 18 s of DOM parsing.  A GB 45438 label is a few
# hundred bytes and camera/editor packets stay well under this; larger ones are refused before any parser runs.
MAX_XMP_BYTES = 2 * 1024 * 1024


def check_size(packet: bytes | str) -> None:
    if len(packet) > MAX_XMP_BYTES:
        raise MetadataError("XMP packet of {size} bytes is over the limit of {limit} bytes",
                            values={"size": len(packet), "limit": MAX_XMP_BYTES})


def read_properties(packet: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> XmpProperties:
    """All AIGC values (any namespace, local name ``AIGC``; GB-09 "keyword contains AIGC") and the IPTC
    DigitalSourceType. Raises MetadataError for a malformed, oversized or too deeply nested packet."""
    check_size(packet)
    rdf = _rdf_root(_parse(packet, max_depth))
    aigc: list[str] = []
    dst: str | None = None
    for desc in _descriptions(rdf):
        for kind, node, ns, local in _props(desc):
            value = node.value if kind == "attr" else _text(node)
            if kind == "elem" and not value and node.hasAttributeNS(NS_RDF, "resource"):
                value = node.getAttributeNS(NS_RDF, "resource")
            if local == "AIGC":
                aigc.append(value)
            elif ns == NS_IPTC_EXT and local == "DigitalSourceType" and dst is None:
                dst = value
    return XmpProperties(tuple(aigc), dst)


_FALLBACK = re.compile(r"""AIGC\s*=\s*"([^"]*)"|AIGC\s*=\s*'([^']*)'|:AIGC>([^<]*)</""")


def scrape_aigc(packet: bytes) -> list[str]:
    """Last-resort regex for AIGC values in a packet too malformed to parse (readers only)."""
    text = packet.decode("utf-8", "replace")
    out = []
    for m in _FALLBACK.finditer(text):
        raw = next(g for g in m.groups() if g is not None)
        out.append(raw.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">")
                   .replace("&amp;", "&"))
    return out


class _Text(minidom.Text):
    """Text escaping only ``& < >``, so the JSON keeps plain quotes (friendlier to naive readers)."""

    def writexml(self, writer, indent="", addindent="", newl=""):  # type: ignore[no-untyped-def]
        writer.write(indent + self.data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + newl)


def _text_node(doc: minidom.Document, value: str) -> minidom.Text:
    node = _Text()
    node.data = value
    node.ownerDocument = doc
    return node


def set_properties(
    packet: bytes | str | None, aigc_json: str, digital_source_type: str | None = DST_TRAINED,
    *, replace_malformed: bool = False, max_depth: int = DEFAULT_MAX_DEPTH,
) -> bytes:
    """Return a packet (UTF-8) holding exactly one ``TC260:AIGC`` = ``aigc_json`` and, when given, one
    ``Iptc4xmpExt:DigitalSourceType``; every other property of ``packet`` is kept (GB-15, GB-08).

    A malformed (or too deep) ``packet`` raises MetadataError unless ``replace_malformed``, which starts a fresh
    packet.
    """
    try:
        check_size(packet or "")
        doc = _parse(packet if packet else new_packet(), max_depth)
        rdf = _rdf_root(doc)
    except MetadataError:
        if not replace_malformed:
            raise
        doc = _parse(new_packet())
        rdf = _rdf_root(doc)
    descs = _descriptions(rdf)
    for desc in descs:
        for kind, node, ns, local in _props(desc):
            hit = local == "AIGC" or (digital_source_type is not None and ns == NS_IPTC_EXT
                                      and local == "DigitalSourceType")
            if hit and kind == "attr":
                desc.removeAttributeNode(node)
            elif hit:
                desc.removeChild(node)
    if not descs:
        target = doc.createElementNS(NS_RDF, "rdf:Description")
        target.setAttributeNS(NS_RDF, "rdf:about", "")
        rdf.appendChild(target)
    else:
        target = descs[0]
    values = [("TC260", NS_TC260, "AIGC", aigc_json)]
    if digital_source_type is not None:
        values.append(("Iptc4xmpExt", NS_IPTC_EXT, "DigitalSourceType", digital_source_type))
    for prefix, uri, local, value in values:
        target.setAttributeNS(NS_XMLNS, f"xmlns:{prefix}", uri)
        el = doc.createElementNS(uri, f"{prefix}:{local}")
        el.appendChild(_text_node(doc, value))
        target.appendChild(el)
    return _serialise(doc).encode("utf-8")


def _serialise(doc: minidom.Document) -> str:
    body = "".join(node.toxml() for node in doc.childNodes)
    if not body.startswith("<?xpacket"):
        body = f"{_PACKET_BEGIN}\n{body}"
    if not body.rstrip().endswith("?>"):
        body = f"{body}\n{_PACKET_END}"
    return body
