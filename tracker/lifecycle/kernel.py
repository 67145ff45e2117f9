"""One kernel for every life cycle (DESIGN.md §4).

An object with a state declares a `Machine`: its table and state column, its labels, its transitions (each with
the sides allowed to take it and the comment it requires), and two functions of its own: `load` (the row, with
what the permission rules need) and `side` (who the actor is for this object: « editor », « partner »…, or a
NotFound/Forbidden). `apply` then does, in one write transaction:

    load → who (side) → version → same state → allowed transition → side allowed → comment
         → UPDATE … SET state, version+1 WHERE id AND version (a second writer updates nothing: conflict)
         → the machine's `after` hook (may refuse: everything rolls back)
         → one history entry.

Nothing is written when anything refuses. The history is append-only (database triggers) and written only by this
module: `apply`, `record_created` (`record_created_many`) and `record` (events that are not a change of state: a signature, a
deliberation…).

Observers: other layers keep figures derived from these tables (the review's per-territory figures) without the
kernel knowing them: `observe(subject, callback)` registers a callback, called inside the write transaction of every
change of that subject (`record`, hence `apply` and `record_created`; `record_created_many`; `save_edit`) with what
changed (`Touched`). Writers outside the kernel (a note, a party removed) call `touched` themselves. When a callback
raises, the change rolls back with it. Inside `deferred()`, the calls wait until the block ends (an import: one
refresh for hundreds of changes), still inside its transaction.

Recording afterwards: an event that happened before it was typed in (an agreement signed in 2017, recorded today)
is written with `at=` its real date and `recorded_at=` the time of writing (usually `clock.now()`): the entry keeps
both, and the row's `updated_at` is the time of writing. Without `recorded_at`, `at` only backdates (demo, import)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value

from tracker.core import clock
from tracker.core.db import fetch, write_transaction
from tracker.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.core.french import relative_fr
from tracker.core.permissions import Viewer
from tracker.history.tables import HistoryEntry

COMMENT_MAX = 2000
SYSTEM = "system"  # the side of automatic changes (commands run by cron): no user, no permission check
ADMINISTRATOR = "administrateur"  # history entries made by an administrator acting as a territory's référent


@dataclass(frozen=True)
class Transition:
    """`source` → `target`, taken by the `by` sides. `comment`: the French message shown when the comment is
    missing (None: optional), required only from `comment_sides` when given. `refused`: why another side may not."""

    source: str
    target: str
    by: frozenset[str]
    comment: str | None = None
    comment_sides: frozenset[str] | None = None
    refused: str | None = None
    internal: bool = False  # taken only by the object's own services (never offered, refused as unknown from a form)

    def needs_comment(self, side: str) -> bool:
        return self.comment is not None and (self.comment_sides is None or side in self.comment_sides)


@dataclass(frozen=True)
class Actor:
    """Who acts, as the history records it: a side of the object, a user (None for a signed link or the system),
    and a partner's contact when one acts."""

    side: str
    user_id: int | None
    contact_id: int | None = None
    acting_as: str = ""  # ADMINISTRATOR when an administrator acts on a territory as its référent (help desk)


@dataclass
class Step:
    """One change under way, handed to the machine's hooks."""

    machine: Machine
    row: dict
    transition: Transition
    actor: Actor
    comment: str
    at: datetime
    via: Any = None  # what the entry point passed on (a signed link…)
    values: dict = field(default_factory=dict)  # more columns to write with the state
    recorded_at: datetime | None = None  # set when the change is recorded afterwards (`at` is then its real date)

    @property
    def today(self):
        return self.at.astimezone(clock.PARIS).date()


@dataclass(frozen=True)
class Change:
    """The one result of every state change."""

    subject: str
    subject_id: int
    source: str
    target: str
    version: int


@dataclass(frozen=True)
class Versioned:
    """An object edited under optimistic locking without a life cycle of its own (a partner, a contact, a party):
    what `save_edit` and the conflict message need. A `Machine` is one too."""

    subject: str
    table: type[Table]
    this: str  # « Ce partenaire »
    feminine: bool

    @property
    def modified(self) -> str:
        return "modifiée" if self.feminine else "modifié"


@dataclass(frozen=True)
class Machine:
    subject: str  # history subject_type
    table: type[Table]
    state: Column
    labels: Mapping[str, str]
    transitions: tuple[Transition, ...]
    load: Callable[[int], Awaitable[dict | None]]  # the row: id, territory (for the history), state, version…
    side: Callable[[Viewer, dict, Any], Awaitable[Actor]]  # raises NotFound / Forbidden
    initial: str  # the state an object is created in
    not_found: str  # « Cette action n’existe pas ou ne vous est pas accessible. »
    # French words for the messages: « Une action », « L’action », « Cette action », « statut » or « état ».
    a: str
    the: str
    this: str
    feminine: bool
    state_noun: str = "état"
    refused: str = "Votre rôle ne permet pas ce changement."
    values: Callable[[Step], Mapping[Column, Any]] | None = None  # more columns for the UPDATE
    after: Callable[[Step], Awaitable[None]] | None = None  # inside the transaction, after the UPDATE
    # True when `load` and `side` read only what every writer of the row changes with its version (an action: its
    # state, territory, confidential flag): they then run before the write transaction, and the version in the
    # UPDATE's WHERE re-checks at the write what they read. The transaction, during which SQLite's writers queue,
    # holds only the writes. False (the default): everything runs inside it (hooks that read other rows).
    checks_before: bool = False

    def transition(self, source: str, target: str) -> Transition | None:
        return self._table().get((source, target))

    def targets(self, source: str) -> list[str]:
        return [t.target for t in self.transitions if t.source == source and not t.internal]

    def _table(self) -> dict[tuple[str, str], Transition]:
        cached = self.__dict__.get("_by_pair")
        if cached is None:
            cached = {(t.source, t.target): t for t in self.transitions}
            object.__setattr__(self, "_by_pair", cached)
        return cached

    def label(self, state: str) -> str:
        return self.labels.get(state, state)

    @property
    def at_state(self) -> str:
        return "au statut" if self.state_noun == "statut" else "à l’état"

    @property
    def modified(self) -> str:
        return "modifiée" if self.feminine else "modifié"


@dataclass(frozen=True)
class Touched:
    """What a write changed, handed to the observers of its subject inside its transaction. `subject_id` None: many
    rows of the subject in `territory_id` (an import); `territory_id` None: the observer finds it."""

    subject: str
    subject_id: int | None
    territory_id: int | None = None
    # A state change taken by `apply`: (source, target), when it was written and the row's confidential flag (for
    # an observer that moves its kept counts by one instead of recomputing them). None for any other write.
    moved: tuple[str, str] | None = None
    at: datetime | None = None
    confidential: bool | None = None


Observer = Callable[[Sequence[Touched]], Awaitable[None]]
_observers: dict[str, list[Observer]] = {}
_deferred: ContextVar[list[Touched] | None] = ContextVar("lifecycle_deferred", default=None)


def observe(subject: str, callback: Observer) -> None:
    """Call `callback` with the changes of `subject` inside their write transaction. Registering the same callback
    twice registers it once (the app factory and the command line both register theirs)."""
    callbacks = _observers.setdefault(subject, [])
    if callback not in callbacks:
        callbacks.append(callback)


async def touched(subject: str, subject_id: int | None, territory_id: int | None = None) -> None:
    """Tell the observers of `subject` that a row was written. Call it inside the write transaction, from every
    writer outside the kernel (the kernel's own functions call it already)."""
    await _notify(Touched(subject, subject_id, territory_id))


async def _notify(change: Touched) -> None:
    subject = change.subject
    if not _observers.get(subject):
        return
    waiting = _deferred.get()
    if waiting is not None:
        if change.moved is not None or change not in waiting:  # each move counts, even one just like another
            waiting.append(change)
        return
    for callback in _observers[subject]:
        await callback([change])


@asynccontextmanager
async def deferred() -> AsyncIterator[None]:
    """Inside a write transaction: the observers are called once at the end of the block, with every change made in
    it (nothing is called when the block raises: the transaction rolls back anyway)."""
    if _deferred.get() is not None:  # already deferred by an outer block
        yield
        return
    waiting: list[Touched] = []
    token = _deferred.set(waiting)
    try:
        yield
    finally:
        _deferred.reset(token)
    calls: dict[Observer, list[Touched]] = {}  # each observer once, with every change of its subjects
    for change in waiting:
        for callback in _observers.get(change.subject, ()):
            calls.setdefault(callback, []).append(change)
    for callback, changes in calls.items():
        await callback(changes)


def _stamp(table: type[Table], when: datetime) -> dict:
    """`updated_at`, for the tables that keep one."""
    column = table._meta.get_column_by_name("updated_at") if "updated_at" in {
        c._meta.name for c in table._meta.columns} else None
    return {column: when} if column is not None else {}


def transitions(sources: Iterable[str], targets: Iterable[str], **rule: Any) -> tuple[Transition, ...]:
    """Every source → target pair but the identity, with the same rule."""
    return tuple(Transition(s, t, **rule) for s in sources for t in targets if s != t)


def _as_admin(actor: Actor, viewer: Viewer, territory_id: int | None) -> Actor:
    """The actor, marked as acting as administrator when the viewer is an administrator who is not a référent of
    the territory the entry belongs to (they act with the rights `Viewer.role_in` gives them)."""
    if (actor.user_id is not None and actor.user_id == viewer.user_id and not actor.acting_as
            and territory_id is not None and viewer.acts_as_admin(territory_id)):
        return Actor(actor.side, actor.user_id, actor.contact_id, ADMINISTRATOR)
    return actor


def check_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if "\x00" in comment:
        raise InvalidInput("Le commentaire contient un caractère interdit.", errors={"comment": "Caractère interdit."})
    if len(comment) > COMMENT_MAX:
        message = f"Le commentaire ne peut dépasser {COMMENT_MAX} caractères."
        raise InvalidInput(message, errors={"comment": message})
    return comment


async def conflict_message(machine: Machine | Versioned, subject_id: int) -> str:
    """The one conflict message: who changed the object last, and when."""
    last = (
        await HistoryEntry.select(HistoryEntry.created_at, HistoryEntry.recorded_at,
                                  HistoryEntry.actor.full_name.as_alias("who"))
        .where((HistoryEntry.subject_type == machine.subject) & (HistoryEntry.subject_id == subject_id))
        .order_by(HistoryEntry.id, ascending=False)
        .first()
    )
    # When it was written, even for an event recorded afterwards: that is when the object changed here.
    detail = f" ({last['who'] or 'quelqu’un'}, {relative_fr(last['recorded_at'] or last['created_at'])})" if last else ""
    opened = "ouverte" if machine.feminine else "ouvert"
    return (
        f"{machine.this} a été {machine.modified} par quelqu’un d’autre depuis que vous l’avez {opened}{detail}. "
        "Votre changement n’a pas été enregistré : rechargez la page pour voir son état actuel."
    )


def _refusal(machine: Machine, source: str, target: str) -> InvalidInput:
    if target not in machine.labels:
        noun = machine.state_noun.capitalize()
        return InvalidInput(f"{noun} inconnu : choisissez dans la liste.", errors={"status": f"{noun} inconnu."})
    if target == source:
        return InvalidInput(
            f"{machine.the} est déjà {machine.at_state} « {machine.label(target)} ».", errors={"status": "Inchangé."}
        )
    possible = ", ".join(f"« {machine.label(t)} »" for t in machine.targets(source)) or "aucun"
    message = (
        f"{machine.a} {machine.at_state} « {machine.label(source)} » ne peut passer {machine.at_state} "
        f"« {machine.label(target)} ». Possibles : {possible}."
    )
    return InvalidInput(message, errors={"status": message})


async def apply(
    machine: Machine,
    viewer: Viewer,
    subject_id: int,
    target: str,
    comment: str | None,
    version: int | None,
    *,
    via: Any = None,
    at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> Change:
    """Take one transition, or raise NotFound / Forbidden / InvalidInput / Conflict (or the hooks' own refusals)
    with nothing written. `version` is the object's version the person saw; None is refused. `via` is passed to
    the machine's `side` and hooks (a signed link, or SYSTEM for an automatic change). `at` is when the change
    happened; with `recorded_at`, it is recorded afterwards (see the module's docstring)."""
    comment = check_comment(comment)
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})
    when = at or clock.now()
    written = recorded_at or when
    if machine.checks_before:
        step = await _check(machine, viewer, subject_id, target, comment, version, via, when, recorded_at)
        async with write_transaction():
            await _write(machine, step, subject_id, version, written, recheck=True)
    else:
        async with write_transaction():
            step = await _check(machine, viewer, subject_id, target, comment, version, via, when, recorded_at)
            await _write(machine, step, subject_id, version, written, recheck=False)
    return Change(machine.subject, subject_id, step.transition.source, target, version + 1)


async def _check(machine: Machine, viewer: Viewer, subject_id: int, target: str, comment: str, version: int,
                 via: Any, when: datetime, recorded_at: datetime | None) -> Step:
    """Everything `apply` checks before writing: the row, who acts, the version, the transition, the comment."""
    row = await machine.load(subject_id)
    if row is None:
        raise NotFound(machine.not_found)
    actor = Actor(SYSTEM, None) if via == SYSTEM else await machine.side(viewer, row, via)
    actor = _as_admin(actor, viewer, row.get("territory"))
    if row["version"] != version:
        raise Conflict(await conflict_message(machine, subject_id))
    source = row["state"]
    transition = machine.transition(source, target)
    if transition is None:
        raise _refusal(machine, source, target)
    if actor.side not in transition.by:
        if transition.internal:
            raise _refusal(machine, source, target)
        raise Forbidden(transition.refused or machine.refused)
    if transition.needs_comment(actor.side) and not comment:
        raise InvalidInput(transition.comment, errors={"comment": transition.comment})
    step = Step(machine=machine, row=row, transition=transition, actor=actor, comment=comment, at=when, via=via,
                recorded_at=recorded_at)
    if machine.values is not None:
        step.values.update(machine.values(step))
    return step


async def _write(machine: Machine, step: Step, subject_id: int, version: int, written: datetime, *,
                 recheck: bool) -> None:
    """Inside the write transaction: the state with version + 1, the `after` hook, the one history entry."""
    table = machine.table
    values = {machine.state: step.transition.target, **_stamp(table, written), **step.values}
    # The version in the WHERE clause makes the check hold under concurrency: a second writer who read the
    # same version updates no row.
    if not await update_versioned(table, subject_id, version, values):
        if recheck and await machine.load(subject_id) is None:  # read before the transaction: gone since
            raise NotFound(machine.not_found)
        raise Conflict(await conflict_message(machine, subject_id))
    if machine.after is not None:
        await machine.after(step)
    await _record_step(machine, step, subject_id, written)


async def _record_step(machine: Machine, step: Step, subject_id: int, written: datetime) -> None:
    source, target = step.transition.source, step.transition.target
    confidential = step.row.get("confidential")
    await record(
        subject=machine.subject,
        subject_id=subject_id,
        territory_id=step.row["territory"],
        source=source,
        target=target,
        actor=step.actor,
        comment=step.comment,
        at=step.at,
        recorded_at=step.recorded_at,
        change=Touched(machine.subject, subject_id, step.row["territory"], (source, target), written,
                       None if confidential is None else bool(confidential)),
    )


async def update_versioned(table: type[Table], subject_id: int, version: int, values: Mapping[Column, Any]) -> bool:
    """UPDATE … SET the values, version = version + 1 WHERE id AND version: one raw statement (Piccolo's query
    building cost more than the statement), the values converted as Piccolo does (JSON, enums). True when the
    row was at that version (and so is written)."""
    columns = [c for c in values if c._meta.db_column_name != "version"]
    sets = "".join(f'"{c._meta.db_column_name}" = {{}}, ' for c in columns)
    return bool(await fetch(
        f'UPDATE "{table._meta.tablename}" SET {sets}"version" = {{}} WHERE "id" = {{}} AND "version" = {{}} '
        'RETURNING "id"',
        *[convert_to_sql_value(values[c], c) for c in columns], version + 1, subject_id, version))


async def save_edit(
    machine: Machine | Versioned,
    subject_id: int,
    version: int | None,
    values: Mapping[Column, Any],
    *,
    at: datetime | None = None,
) -> int:
    """Write an edit of what an object says (not its state) if nobody changed it since `version` was read;
    returns the new version, or raises Conflict with the one conflict message. Inside or outside a transaction."""
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})
    table = machine.table
    async with write_transaction():
        updated = await update_versioned(table, subject_id, version, {**values, **_stamp(table, at or clock.now())})
        if not updated:
            raise Conflict(await conflict_message(machine, subject_id))
        await touched(machine.subject, subject_id)
    return version + 1


# One raw statement (Piccolo's building of an insert cost ten times the insert): every column of the entry.
_RECORD = ("INSERT INTO history_entry (subject_type, subject_id, territory, from_value, to_value, actor, actor_contact, "
           "acting_as, comment, created_at, recorded_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})")


async def record(
    *,
    subject: str,
    subject_id: int,
    territory_id: int | None,
    source: str,
    target: str,
    actor: Actor | Viewer | None,
    comment: str = "",
    at: datetime | None = None,
    recorded_at: datetime | None = None,
    change: Touched | None = None,
) -> None:
    """One history entry. Call only inside the write transaction of the change it records. `at`: when it
    happened; `recorded_at`: when it was written, for an event recorded afterwards (None otherwise); `change`:
    what the observers are told (by default, that the row was written).

    The partner's contact who acted is kept as a reference (never a copy of their name): once the contact is
    erased, the entry reads « contact supprimé »."""
    if isinstance(actor, Viewer):
        actor = _as_admin(Actor("user", actor.user_id), actor, territory_id)
    await fetch(_RECORD, subject, subject_id, territory_id, source, target,
                actor.user_id if actor else None, actor.contact_id if actor else None,
                actor.acting_as if actor else "", comment, at or clock.now(), recorded_at)
    await _notify(change or Touched(subject, subject_id, territory_id))


async def record_created(
    machine: Machine,
    subject_id: int,
    territory_id: int | None,
    actor: Actor | Viewer | None,
    *,
    comment: str = "",
    at: datetime | None = None,
    state: str | None = None,
    recorded_at: datetime | None = None,
) -> None:
    """The entry of an object's creation ('' → its first state), inside the transaction that inserts it."""
    await record(subject=machine.subject, subject_id=subject_id, territory_id=territory_id, source="",
                 target=state or machine.initial,
                 actor=actor, comment=comment, at=at, recorded_at=recorded_at)


async def record_created_many(
    machine: Machine,
    created: Sequence[tuple[int, str]],
    territory_id: int | None,
    actor: Actor | Viewer | None,
    *,
    comment: str = "",
    at: datetime | None = None,
) -> None:
    """The creation entries ('' → each one's first state) of objects inserted together (an import), in a few
    statements, inside the transaction that inserts them."""
    if isinstance(actor, Viewer):
        actor = _as_admin(Actor("user", actor.user_id), actor, territory_id)
    when = at or clock.now()
    entries = [
        HistoryEntry(subject_type=machine.subject, subject_id=subject_id, territory=territory_id, from_value="",
                     to_value=state, actor=actor.user_id if actor else None,
                     actor_contact=actor.contact_id if actor else None, comment=comment, created_at=when,
                     acting_as=actor.acting_as if actor else "")
        for subject_id, state in created
    ]
    for start in range(0, len(entries), 500):
        await HistoryEntry.insert(*entries[start:start + 500])
    await touched(machine.subject, None, territory_id)
