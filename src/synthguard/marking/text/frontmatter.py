"""Markdown YAML front matter: find it, count and read ``AIGC`` keys, replace the one ``AIGC`` mapping (GB-18).

Edits are line-based so the author's other keys, comments and layout stay exactly as they were; every result is
parsed back with ``yaml.safe_load`` and compared before it is used.
"""

from __future__ import annotations

import json
import re
from typing import Any

from synthguard.codecs.text.frontmatter import FrontMatter
from synthguard.errors import MetadataError
from synthguard.limits import check_nesting

MAX_ALIASES = 8
_AIGC_KEY = re.compile(r"""^(["']?)AIGC\1[ \t]*:""")


def _loader() -> Any:
    """A SafeLoader that allows few aliases: a 64 KiB "billion laughs" block must not expand when compared."""
    import yaml

    class Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise yaml.YAMLError(f"more than {MAX_ALIASES} YAML aliases")
            return super().compose_node(parent, index)

    return Loader


def load(fm: FrontMatter) -> dict[str, Any]:
    """The front matter as a mapping; MetadataError when it is not valid YAML or not a mapping."""
    import yaml

    check_nesting(fm.yaml, what="YAML front matter", error=MetadataError,
                  hint="Flatten the front matter (or remove it) and label again.")  # before PyYAML recurses
    try:
        data = yaml.load(fm.yaml, Loader=_loader()) if fm.yaml.strip() else {}  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise MetadataError("the YAML front matter is malformed: {error}",
                            hint="Fix the YAML between the --- fences (or remove it) and label again.",
                            values={"error": str(exc).splitlines()[0]}) from exc
    except RecursionError:  # PyYAML recurses per nesting level (issue 27: 1,100 nested flow lists)
        raise MetadataError("the YAML front matter nests too deeply",
                            hint="Flatten the front matter (or remove it) and label again.") from None
    if not isinstance(data, dict):
        raise MetadataError("the YAML front matter is a {data_type}, not a mapping",
                            hint="Front matter must be key: value pairs; fix it and label again.",
                            values={"data_type": type(data).__name__})
    return data


def aigc_key_count(fm: FrontMatter) -> int:
    """How many top-level AIGC keys the block has (YAML keeps only the last of duplicates; GB-08 counts all)."""
    return sum(1 for line in fm.yaml.splitlines() if _AIGC_KEY.match(line))


def aigc_json(value: Any) -> str:
    """The AIGC value as JSON text for ``AIGCLabel.parse``: a mapping or a JSON string, as found in the wild."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=lambda o: {"unsupported YAML value": str(o)})


def with_aigc(fm: FrontMatter | None, label: dict[str, str], newline: str) -> str:
    """The new front matter block (fences included): every AIGC key removed, ours appended."""
    lines = fm.yaml.splitlines() if fm else []
    kept: list[str] = []
    skipping = False
    for line in lines:
        if _AIGC_KEY.match(line):
            skipping = True
            continue
        if skipping and (not line.strip() or line[:1] in " \t"):
            continue  # the removed key's nested block
        skipping = False
        kept.append(line)
    kept.append("AIGC:")
    kept += [f"  {k}: {json.dumps(v, ensure_ascii=True)}" for k, v in label.items()]
    new = FrontMatter(newline.join(kept) + newline, 0)
    before = load(fm) if fm else {}
    after = load(new)
    before.pop("AIGC", None)
    if after.pop("AIGC", None) != label or after != before:
        raise MetadataError("rewriting the front matter would change other keys; refusing to write",
                            hint="Simplify the front matter (no multi-line AIGC constructs) and label again.")
    return f"---{newline}{new.yaml}---{newline}"
