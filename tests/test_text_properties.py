"""Property tests for plain text and Markdown labeling: for any UTF-8 text, labeling keeps the content digest
(GB-12 binds to it), leaves exactly one AIGC block (GB-08), is idempotent (LM-09 re-export) and keeps the words."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthguard.errors import MetadataError
from synthguard.marking.text.marker import TextMetadataMarker, TextNoticeMarker
from synthguard.media import Media
from synthguard.testing import sample_context

KEY = b"k" * 32
NOTICE = "【AI生成 / AI-generated】"
pieces = st.sampled_from(["", " ", "word", "第二行", "AI生成", NOTICE, "---", "AIGC: {}", "# h", "\t", "x" * 30,
                          'AIGC: {"Label":"1"}', "..."])
lines = st.lists(st.lists(pieces, max_size=4).map(" ".join), min_size=1, max_size=12)
newline = st.sampled_from(["\n", "\r\n"])


def label(media: Media, position: str) -> Media:
    ctx = sample_context()
    return TextMetadataMarker(KEY).mark(TextNoticeMarker(NOTICE, position).mark(media, ctx), ctx)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines, nl=newline, name=st.sampled_from(["a.txt", "a.md"]),
       position=st.sampled_from(["start", "end", "both"]))
def test_labeling_any_text(lines, nl, name, position):
    text = nl.join(lines)
    if not text.strip("\r\n"):
        text += "x"
    src = Media.from_bytes(text.encode(), name=name)
    try:
        out = label(src, position)
    except MetadataError:  # only Markdown whose leading --- block is not a YAML mapping may be refused
        assert src.format == "markdown" and text.startswith("---")
        return
    assert out.content_sha256 == src.content_sha256
    reading = TextMetadataMarker(KEY).read(out)
    assert reading.data["count"] == 1 and reading.data["integrity"] == "valid", reading.problems
    seen = TextNoticeMarker().read(out)
    assert seen.found
    if src.text().body:  # with a body, the notice sits where it was asked for
        want = {"start", "end"} if position == "both" else {position}
        assert want <= set(seen.data["positions"]), (position, seen.data)
    again = label(out, position)
    assert TextMetadataMarker(KEY).read(again).data["count"] == 1
    assert again.data.decode().count(NOTICE) == out.data.decode().count(NOTICE)
    body_words = [w for w in src.text().body.split() if w]
    assert all(w in out.data.decode() for w in body_words)
