"""Text labeling (LM-03, LM-09, LM-10, GB-02, GB-18): plain text, Markdown, docx, xlsx and pptx.

``io`` decodes documents and defines the content digest; ``notice`` the explicit label's wording; ``plain`` and
``frontmatter`` place notice and metadata in text and Markdown; ``ooxml`` reads and rewrites office packages,
``office`` places the notice in them and ``customprops`` the AIGC property; ``marker`` and ``metadata`` hold the
``text.notice`` and ``text.metadata`` markers.
"""
