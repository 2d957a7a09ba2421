"""A checked import file, kept in the person's session between the dry run and the
confirmation, so the confirmation imports exactly the file that was checked (and the
browser does not upload it twice). One pending file per kind of import; confirming (or
uploading another) replaces it. The file is checked again when confirmed: the
organisation may have changed in between, and the import stays all or nothing."""

from __future__ import annotations

import secrets

SESSION_KEY = "imports_pending"


def pending_store(request, *, kind: str, content: str, **extra) -> str:
    """Keep ``content`` (the decoded CSV text) for ``kind``; returns the token the confirm form posts."""
    token = secrets.token_urlsafe(24)
    pending = dict(request.session.get(SESSION_KEY, {}))
    pending[kind] = {"token": token, "content": content, **extra}
    request.session[SESSION_KEY] = pending
    return token


def pending_take(request, *, kind: str, token: str) -> dict | None:
    """The file kept for ``kind`` under ``token`` (removed from the session), or None."""
    pending = dict(request.session.get(SESSION_KEY, {}))
    entry = pending.get(kind)
    if not entry or not token or not secrets.compare_digest(entry["token"], token):
        return None
    del pending[kind]
    request.session[SESSION_KEY] = pending
    return entry
