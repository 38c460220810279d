"""The admin token, checked the same way by the web UI and the REST API.

Why a constant-time comparison: the token guards uploads (and optionally questions), and
``==`` on strings leaks through timing how many leading characters were right.
"""

from __future__ import annotations

import hmac

MISSING = ("Toegangstoken ontbreekt. Stuur 'Authorization: Bearer <token>' of "
           "'X-Vraagbaak-Token: <token>' mee.")
WRONG = "Het toegangstoken is onjuist."
UI_WRONG = "Geweigerd: het beheerderstoken ontbreekt of is onjuist."


def admin_token(settings) -> str | None:
    return getattr(settings, "admin_token", None) or None


def token_matches(settings, supplied: str | None) -> bool:
    expected = admin_token(settings)
    if expected is None:
        return True
    if not supplied:
        return False
    return hmac.compare_digest(supplied.strip().encode("utf-8"), expected.encode("utf-8"))


def token_from_headers(headers) -> str | None:
    """The token from ``Authorization: Bearer`` or ``X-Vraagbaak-Token``, if any."""
    auth = headers.get("authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    value = headers.get("x-vraagbaak-token") or ""
    return value.strip() or None
