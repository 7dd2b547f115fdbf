"""The ``AIGC`` custom property of docx / xlsx / pptx (TC260 text guide, GB-18): ``docProps/custom.xml``, property
``name="AIGC"`` holding the Annex E JSON in ``vt:lpwstr``. Office treats property names case-insensitively, so
"aigc" counts as a block too (GB-08: one block only; ours replaces all of them).
"""

from __future__ import annotations

from synthguard.codecs.text.office import element_text
from synthguard.codecs.text.ooxml import CUSTOM_PROPS_REL, CUSTOM_PROPS_TYPE, NS, Package, lxml_etree, q, to_xml

FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the user-defined property set


def custom_part(pkg: Package) -> str:
    found = pkg.targets("", CUSTOM_PROPS_REL.rsplit("/", 1)[1]) if "_rels/.rels" in pkg.parts else []
    return next((p for p in found if p in pkg.parts), "docProps/custom.xml")


def aigc_properties(pkg: Package) -> list[str]:
    """The value of every custom property named AIGC (case-insensitive, as Office treats names)."""
    part = custom_part(pkg)
    if part not in pkg.parts:
        return []
    out = []
    for prop in pkg.xml(part).findall("cp:property", NS):
        if (prop.get("name") or "").strip().upper() == "AIGC":
            out.append("".join(element_text(v, v.tag) for v in prop[:1]))
    return out


def with_aigc(pkg: Package, aigc_json: str) -> dict[str, bytes]:
    """docProps/custom.xml with exactly one AIGC property (ours), plus the content type and relationship."""
    etree = lxml_etree()
    part = custom_part(pkg)
    changes: dict[str, bytes] = {}
    if part in pkg.parts:
        root = pkg.xml(part)
    else:
        root = etree.Element(q("cp", "Properties"), nsmap={None: NS["cp"], "vt": NS["vt"]})
    for prop in root.findall("cp:property", NS):
        if (prop.get("name") or "").strip().upper() == "AIGC":
            root.remove(prop)
    pids = [int(p.get("pid")) for p in root.findall("cp:property", NS) if (p.get("pid") or "").isdigit()]
    prop = etree.SubElement(root, q("cp", "property"), fmtid=FMTID, pid=str(max(pids, default=1) + 1), name="AIGC")
    etree.SubElement(prop, q("vt", "lpwstr")).text = aigc_json
    changes[part] = to_xml(root)
    types = pkg.xml("[Content_Types].xml")
    if not any(o.get("PartName") == "/" + part for o in types.findall("ct:Override", NS)):
        etree.SubElement(types, q("ct", "Override"), PartName="/" + part, ContentType=CUSTOM_PROPS_TYPE)
        changes["[Content_Types].xml"] = to_xml(types)
    rels = pkg.xml("_rels/.rels") if "_rels/.rels" in pkg.parts else etree.Element(
        q("rel", "Relationships"), nsmap={None: NS["rel"]})
    if not any(r.get("Type") == CUSTOM_PROPS_REL for r in rels.findall("rel:Relationship", NS)):
        used = {r.get("Id") for r in rels.findall("rel:Relationship", NS)}
        rid = next(f"rId{i}" for i in range(1, len(used) + 2) if f"rId{i}" not in used)
        etree.SubElement(rels, q("rel", "Relationship"), Id=rid, Type=CUSTOM_PROPS_REL, Target=part)
        changes["_rels/.rels"] = to_xml(rels)
    return changes
