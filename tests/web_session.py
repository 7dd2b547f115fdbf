"""Signing a test client in to the web pages (issue 22: /signin trades an API token for a server-side session)."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SIGNIN_CSRF = re.compile(r'action="/signin" method="post">\s*<input type="hidden" name="csrf" value="([^"]+)"')


def signin(client, token: str, next: str = ""):
    """POST /signin with the form's CSRF token; the 303 response (the session cookie is kept by the client)."""
    form = client.get("/signin")
    csrf = SIGNIN_CSRF.search(form.text).group(1)  # (a signed-in page also carries the sign-out form's)
    return client.post("/signin", data={"token": token, "csrf": csrf, "next": next}, follow_redirects=False)


def session_csrf(client) -> str:
    """The signed-in session's CSRF token (every page's header carries it in the sign-out form)."""
    return CSRF.search(client.get("/").text).group(1)
