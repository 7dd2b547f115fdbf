"""Image labels (LM-06, LM-10, GB-03, GB-15): ``visible`` the explicit label, ``metadata`` the AIGC JSON in XMP,
``xmp`` the packet reader/writer and ``containers`` where JPEG, PNG and WebP keep XMP and in-the-wild blocks."""
