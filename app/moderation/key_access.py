"""Whether this login can open reports, and what to tell an admin or moderator when it cannot.

An invited key holder starts with a pending key slot: nothing opens until an admin grants it
(the accounts page's button, whose words the message quotes), and a login opens only what the
slot held when it began, so after the grant the person logs in once more.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.crypto.keyring import pending_slots
from app.models import User
from app.models.user import ADMIN, MODERATOR
from app.moderation.labels import GRANT_KEYS_BUTTON

NOT_GRANTED = _l(
    "Ihr Schlüssel ist noch nicht freigegeben. Ohne ihn können Sie keine Meldung öffnen. Ein "
    "Admin muss ihn auf der Seite „Konten“ mit der Schaltfläche „%(button)s“ freigeben. Melden "
    "Sie sich danach bitte ab und neu an: erst eine neue Anmeldung öffnet den Schlüssel."
)
GRANTED_SINCE = _l(
    "Ihr Schlüssel ist inzwischen freigegeben. Bitte melden Sie sich ab und neu an: erst eine "
    "neue Anmeldung öffnet den Schlüssel."
)


def waits_for_keys(user: User) -> bool:
    """An admin or moderator whose key slot does not hold every live organisation key yet."""
    return user.role in (ADMIN, MODERATOR) and any(
        slot.account_id == user.id for slot in pending_slots()
    )


def key_notice(user: User, *, login_holds_keys: bool) -> str | None:
    """What keeps this admin or moderator from opening reports, in their language; None when
    nothing does (or for a researcher, who never opens one)."""
    if user.role not in (ADMIN, MODERATOR):
        return None
    if waits_for_keys(user):
        return str(NOT_GRANTED) % {"button": GRANT_KEYS_BUTTON}
    if not login_holds_keys:
        return str(GRANTED_SINCE)
    return None
