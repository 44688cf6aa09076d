"""The quick exit: a link on every public page that leaves at once for a neutral site.

It is a plain link (it works without a script); ``static/js/quick-exit.js`` adds the Escape key
and replaces the history entry, so that Back does not lead to the service. Staff pages have none:
staff are not the people who may be watched while they read.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

# The staff areas (moderation and research) and the partner API: no quick exit there.
STAFF_PATH_PREFIXES = ("/moderation", "/research", "/api/")


def quick_exit_context() -> dict[str, Any]:
    """``quick_exit_url`` for templates: the configured site on public pages, else None."""
    if request.path.startswith(STAFF_PATH_PREFIXES):
        return {"quick_exit_url": None}
    return {"quick_exit_url": current_app.config["QUICK_EXIT_URL"]}
