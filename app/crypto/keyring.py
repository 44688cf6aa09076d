"""The organisation's keys in the database: initialise, hold, unlock, rotate, recover.

Services add and flush; the caller commits — except ``rotate_keys``, which is a long batch job
and commits through the callback it is given after each batch, so it can be interrupted and
resumed at any point without leaving a report unreadable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select

from app.audit import AuditTag, record_event
from app.crypto.errors import KeysAlreadyInitialised, KeysNotInitialised, SealError, WrongPassword
from app.crypto.kdf import DEFAULT_KDF, KdfParams
from app.crypto.keys import (
    fingerprint,
    load_public_key,
    new_key_pair,
    private_bytes,
    public_bytes,
    unwrap_secret,
    wrap_secret,
)
from app.crypto.reports import rewrap_report
from app.crypto.slots import (
    SealedHolderKey,
    open_holder_key,
    recovery_code,
    recovery_private_key,
    seal_holder_key,
)
from app.extensions import db
from app.models import KeyGrant, KeySlot, OrgKey, Report

ACTIVE, NEXT, RETIRED = "active", "next", "retired"
PASSWORD_SLOT, RECOVERY_SLOT = "password", "recovery"


class UnlockedKeys(Mapping[int, X25519PrivateKey]):
    """Organisation private keys by ``OrgKey.id``, opened for one holder. Never printed."""

    def __init__(self, keys: Mapping[int, X25519PrivateKey]) -> None:
        self._keys = dict(keys)

    def __getitem__(self, org_key_id: int) -> X25519PrivateKey:
        try:
            return self._keys[org_key_id]
        except KeyError:
            raise SealError(f"organisation key {org_key_id} is not unlocked") from None

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"UnlockedKeys(ids={sorted(self._keys)})"


def keys_initialised() -> bool:
    return db.session.scalar(select(func.count(OrgKey.id))) != 0


def _org_key(state: str) -> OrgKey | None:
    return db.session.scalars(select(OrgKey).where(OrgKey.state == state)).first()


def sealing_key() -> OrgKey:
    """The key new reports are sealed to: the incoming one during a rotation.

    Raises:
        KeysNotInitialised: before ``flask keys init``.
    """
    key = _org_key(NEXT) or _org_key(ACTIVE)
    if key is None:
        raise KeysNotInitialised("no organisation key: run `flask keys init`")
    return key


def _grant_context(org_key: OrgKey, slot: KeySlot) -> str:
    return f"grant:{org_key.id}:{slot.id}"


def _slot_context(slot: KeySlot) -> str:
    return f"slot:{slot.id}"


def grant_key(org_key: OrgKey, private_key: X25519PrivateKey, slot: KeySlot) -> KeyGrant:
    """Wrap the organisation private key to a holder's public key."""
    wrapped = wrap_secret(
        private_bytes(private_key), load_public_key(slot.public_key), _grant_context(org_key, slot)
    )
    grant = KeyGrant(org_key=org_key, slot=slot, wrapped_private_key=wrapped)
    db.session.add(grant)
    return grant


def _new_org_key(state: str, today: dt.date) -> tuple[OrgKey, X25519PrivateKey]:
    private_key = new_key_pair()
    public = public_bytes(private_key.public_key())
    org_key = OrgKey(
        public_key=public, fingerprint=fingerprint(public), state=state, created_on=today
    )
    db.session.add(org_key)
    db.session.flush()
    return org_key, private_key


def initialise_keys(today: dt.date) -> str:
    """Create the organisation key pair and the recovery slot; return the recovery key.

    The recovery key is shown once and never stored: only its public half is kept.

    Raises:
        KeysAlreadyInitialised: when any organisation key exists.
    """
    if keys_initialised():
        raise KeysAlreadyInitialised("organisation keys exist already; see `flask keys status`")
    org_key, org_private = _new_org_key(ACTIVE, today)
    recovery = new_key_pair()
    slot = KeySlot(
        kind=RECOVERY_SLOT,
        holder="recovery key",
        public_key=public_bytes(recovery.public_key()),
        created_on=today,
    )
    db.session.add(slot)
    db.session.flush()
    grant_key(org_key, org_private, slot)
    record_event(
        AuditTag.ORG_KEY_INIT,
        "organisation key created",
        target_type="org_key",
        target_id=org_key.id,
        details={"fingerprint": org_key.fingerprint},
    )
    return recovery_code(recovery)


def _open_grants(slot: KeySlot, holder: X25519PrivateKey) -> UnlockedKeys:
    keys = {}
    for grant in slot.grants:
        if grant.org_key.state == RETIRED:
            continue
        raw = unwrap_secret(grant.wrapped_private_key, holder, _grant_context(grant.org_key, slot))
        keys[grant.org_key_id] = X25519PrivateKey.from_private_bytes(raw)
    return UnlockedKeys(keys)


def _sealed_holder_key(slot: KeySlot) -> SealedHolderKey:
    if slot.kind != PASSWORD_SLOT or not (
        slot.kdf_salt and slot.sealed_private_key and slot.kdf_params
    ):
        raise SealError("not a password slot")
    return SealedHolderKey(
        slot.kdf_salt, slot.sealed_private_key, KdfParams.from_dict(slot.kdf_params)
    )


def unlock_with_password(slot: KeySlot, password: str) -> UnlockedKeys:
    """The organisation keys this staff slot holds.

    Raises:
        WrongPassword: when the password does not open the slot.
    """
    holder = open_holder_key(_sealed_holder_key(slot), password, _slot_context(slot))
    return _open_grants(slot, holder)


def password_slot_of(holder: str) -> KeySlot | None:
    return db.session.scalars(
        select(KeySlot).where(KeySlot.kind == PASSWORD_SLOT, KeySlot.holder == holder)
    ).first()


def recovery_slot() -> KeySlot | None:
    return db.session.scalars(select(KeySlot).where(KeySlot.kind == RECOVERY_SLOT)).first()


def unlock_with_recovery(code: str) -> UnlockedKeys:
    """The organisation keys, opened with the recovery key.

    Raises:
        WrongPassword: when the code is not this installation's recovery key.
    """
    holder = recovery_private_key(code)
    slot = recovery_slot()
    if slot is None or slot.public_key != public_bytes(holder.public_key()):
        raise WrongPassword("this is not the recovery key of this installation")
    return _open_grants(slot, holder)


def _live_org_keys() -> list[OrgKey]:
    return list(db.session.scalars(select(OrgKey).where(OrgKey.state != RETIRED)))


def _seal_slot(slot: KeySlot, holder: X25519PrivateKey, password: str, params: KdfParams) -> None:
    sealed = seal_holder_key(holder, password, params, _slot_context(slot))
    slot.kdf_salt = sealed.salt
    slot.sealed_private_key = sealed.sealed
    slot.kdf_params = params.to_dict()


def add_password_slot(
    holder: str,
    password: str,
    unlocked: UnlockedKeys | None,
    *,
    today: dt.date,
    account_id: int | None = None,
    params: KdfParams = DEFAULT_KDF,
    actor_id: int | None = None,
) -> KeySlot:
    """Give a staff member their own slot, granted every live organisation key.

    With ``unlocked`` None the slot starts *pending*: it holds nothing until a key holder
    grants it (``grant_pending_slots``) — how an invited moderator gets their keys.

    Raises:
        SealError: when ``unlocked`` lacks a live organisation key.
    """
    holder_key = new_key_pair()
    slot = KeySlot(
        kind=PASSWORD_SLOT,
        holder=holder,
        account_id=account_id,
        public_key=public_bytes(holder_key.public_key()),
        created_on=today,
    )
    db.session.add(slot)
    db.session.flush()
    _seal_slot(slot, holder_key, password, params)
    if unlocked is not None:
        for org_key in _live_org_keys():
            grant_key(org_key, unlocked[org_key.id], slot)
    record_event(
        AuditTag.KEY_SLOT_ADD,
        "key slot added",
        actor_id=actor_id,
        target_type="key_slot",
        target_id=slot.id,
        details={"account_id": account_id},
    )
    return slot


def pending_slots() -> list[KeySlot]:
    """Password slots that do not yet hold every live organisation key."""
    live = {key.id for key in _live_org_keys()}
    slots = db.session.scalars(select(KeySlot).where(KeySlot.kind == PASSWORD_SLOT))
    return [slot for slot in slots if not live <= {grant.org_key_id for grant in slot.grants}]


def grant_pending_slots(unlocked: UnlockedKeys, *, actor_id: int | None = None) -> int:
    """Grant every live organisation key to every slot still missing one; return how many.

    Raises:
        SealError: when ``unlocked`` lacks a live organisation key.
    """
    granted = 0
    for slot in pending_slots():
        held = {grant.org_key_id for grant in slot.grants}
        for org_key in _live_org_keys():
            if org_key.id not in held:
                grant_key(org_key, unlocked[org_key.id], slot)
        granted += 1
        record_event(AuditTag.KEY_SLOT_GRANT, "organisation key granted to a slot",
                     actor_id=actor_id, target_type="key_slot", target_id=slot.id)  # fmt: skip
    return granted


def change_slot_password(
    slot: KeySlot,
    old_password: str,
    new_password: str,
    *,
    params: KdfParams = DEFAULT_KDF,
    actor_id: int | None = None,
) -> None:
    """Reseal only this slot's own key under the new password (and current KDF parameters).

    Raises:
        WrongPassword: when ``old_password`` does not open the slot.
    """
    holder = open_holder_key(_sealed_holder_key(slot), old_password, _slot_context(slot))
    _seal_slot(slot, holder, new_password, params)
    record_event(
        AuditTag.KEY_SLOT_CHANGE_PASSWORD, "key slot password changed", actor_id=actor_id,
        target_type="key_slot", target_id=slot.id,
    )  # fmt: skip


def remove_slot(slot: KeySlot, *, actor_id: int | None = None) -> None:
    """Delete a slot and its grants: that holder can open nothing any more."""
    record_event(
        AuditTag.KEY_SLOT_REMOVE, "key slot removed", actor_id=actor_id,
        target_type="key_slot", target_id=slot.id,
    )  # fmt: skip
    db.session.delete(slot)


def recover_slot(
    code: str,
    holder: str,
    password: str,
    *,
    today: dt.date,
    account_id: int | None = None,
    params: KdfParams = DEFAULT_KDF,
) -> KeySlot:
    """With the recovery key, give ``holder`` a fresh slot, replacing any slot they had.

    Raises:
        WrongPassword: when ``code`` is not the recovery key.
    """
    unlocked = unlock_with_recovery(code)
    stale = db.session.scalars(
        select(KeySlot).where(KeySlot.kind == PASSWORD_SLOT, KeySlot.holder == holder)
    ).all()
    for slot in stale:
        remove_slot(slot)
    db.session.flush()
    slot = add_password_slot(
        holder, password, unlocked, today=today, account_id=account_id, params=params
    )
    record_event(AuditTag.KEY_SLOT_RECOVER, "key slot re-created with the recovery key",
                 target_type="key_slot", target_id=slot.id)  # fmt: skip
    return slot


@dataclass
class RotationProgress:
    old_fingerprint: str
    new_fingerprint: str
    reports_rewrapped: int = 0
    batches: int = 0
    finished: bool = False


def start_rotation(unlocked: UnlockedKeys, today: dt.date) -> tuple[OrgKey, OrgKey]:
    """The (active, incoming) pair, creating and granting the incoming key unless a rotation
    is already under way.

    Raises:
        KeysNotInitialised: before ``flask keys init``.
        SealError: when ``unlocked`` cannot open the active key.
    """
    active = _org_key(ACTIVE)
    if active is None:
        raise KeysNotInitialised("no organisation key: run `flask keys init`")
    unlocked[active.id]  # noqa: B018 - refuse before changing anything
    incoming = _org_key(NEXT)
    if incoming is None:
        incoming, private_key = _new_org_key(NEXT, today)
        for slot in db.session.scalars(select(KeySlot)):
            grant_key(incoming, private_key, slot)
        record_event(
            AuditTag.ORG_KEY_START_ROTATION, "key rotation started", target_type="org_key",
            target_id=incoming.id, details={"fingerprint": incoming.fingerprint},
        )  # fmt: skip
    return active, incoming


def rotate_keys(
    unlocked: UnlockedKeys,
    *,
    today: dt.date,
    commit: Callable[[], None],
    batch_size: int = 200,
) -> RotationProgress:
    """Move every report to a new organisation key pair, then retire the old one.

    Resumable: run it again after an interruption and it carries on. Every batch is committed,
    and until the end both keys stay granted to every slot, so each report stays readable. New
    reports are sealed to the incoming key as soon as the rotation starts.

    Raises:
        SealError: when ``unlocked`` does not hold the active key.
    """
    active, incoming = start_rotation(unlocked, today)
    commit()
    progress = RotationProgress(active.fingerprint, incoming.fingerprint)
    old_private = unlocked[active.id]
    while True:
        batch = db.session.scalars(
            select(Report).where(Report.org_key_id == active.id).limit(batch_size)
        ).all()
        if not batch:
            break
        for report in batch:
            rewrap_report(report, old_private, incoming)
        progress.reports_rewrapped += len(batch)
        progress.batches += 1
        commit()
    active.state = RETIRED
    for grant in list(active.grants):
        db.session.delete(grant)  # the old private key is gone for good
    incoming.state = ACTIVE
    record_event(
        AuditTag.ORG_KEY_ROTATE, "key rotation finished", target_type="org_key",
        target_id=incoming.id,
        details={"old": active.fingerprint, "new": incoming.fingerprint,
                 "reports": progress.reports_rewrapped},
    )  # fmt: skip
    commit()
    progress.finished = True
    return progress


@dataclass
class SlotStatus:
    kind: str
    holder: str
    created_on: dt.date
    holds_active_key: bool


@dataclass
class KeyStatus:
    fingerprint: str | None
    incoming_fingerprint: str | None
    slots: list[SlotStatus] = field(default_factory=list)
    reports_per_key: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def key_status() -> KeyStatus:
    """What an operator needs to see: fingerprints, holders, reports per key, and dangers."""
    active, incoming = _org_key(ACTIVE), _org_key(NEXT)
    status = KeyStatus(
        fingerprint=active.fingerprint if active else None,
        incoming_fingerprint=incoming.fingerprint if incoming else None,
    )
    if active is None:
        status.warnings.append("No organisation key yet: run `flask keys init`.")
        return status
    for slot in db.session.scalars(select(KeySlot).order_by(KeySlot.id)):
        holds = any(grant.org_key_id == active.id for grant in slot.grants)
        status.slots.append(SlotStatus(slot.kind, slot.holder, slot.created_on, holds))
    counts = db.session.execute(
        select(OrgKey.fingerprint, func.count(Report.id))
        .join(Report, Report.org_key_id == OrgKey.id)
        .group_by(OrgKey.fingerprint)
    )
    status.reports_per_key = {fp: count for fp, count in counts}
    people = sum(1 for s in status.slots if s.kind == PASSWORD_SLOT and s.holds_active_key)
    if not any(s.kind == RECOVERY_SLOT for s in status.slots):
        status.warnings.append("No recovery slot: if every password is lost, reports are lost.")
    if people < 2:
        holders = "1 person holds" if people == 1 else f"{people} people hold"
        status.warnings.append(
            f"Only {holders} a key slot: add a second one so that no single lost "
            "password locks the reports away."
        )
    if incoming is not None:
        status.warnings.append("A key rotation is unfinished: run `flask keys rotate` again.")
    return status
