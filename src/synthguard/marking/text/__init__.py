"""Text labeling (LM-03, LM-09, LM-10, GB-02, GB-18): plain text, Markdown, docx, xlsx and pptx.

Reading documents, recognising notices and the content digest are the codec layer's (``codecs/text``). Here:
``notice`` the explicit label's wording; ``plain`` and ``frontmatter`` place notice and metadata in text and
Markdown; ``office`` places the notice in office packages and ``customprops`` the AIGC property; ``marker`` and
``metadata`` hold the ``text.notice`` and ``text.metadata`` markers; ``io`` makes synthetic samples.
"""
