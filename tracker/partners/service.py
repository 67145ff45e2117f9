"""The partner directory: who sees which partners, creating and editing them, and keeping out duplicates
(same identifier: refused; close name: flagged, the user confirms)."""
from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from piccolo.columns import Column

from tracker import lifecycle
from tracker.auth.separation import check_attachment
from tracker.core import clock
from tracker.core.db import name_contains, write_transaction
from tracker.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.identifiers import clean
from tracker.core.permissions import Viewer
from tracker.partners.forms import DirectoryQuery, PartnerInput
from tracker.partners.kinds import sector_of
from tracker.partners.similar import similar_names
from tracker.partners.tables import Partner, PartnerContact, PartnerTerritory
from tracker.territories.tables import Territory

NOT_FOUND = "Ce partenaire n’existe pas ou ne vous est pas accessible."
PAGE_SIZE = 50
PARTNER = lifecycle.Versioned(subject="partner", table=Partner, this="Ce partenaire", feminine=False)


class DuplicatePartner(InvalidInput):
    """The form names a partner that already exists (same identifier) or may exist (close name)."""

    def __init__(self, message: str, *, errors: dict[str, str], candidates: list[dict], by_name: bool) -> None:
        super().__init__(message, errors=errors)
        self.candidates = candidates
        self.by_name = by_name


# --- reading ------------------------------------------------------------------------------------------------


def _visible_condition(viewer: Viewer):
    """Members see the partners of their territories, a contact their own organisation, the ADGCF all."""
    if viewer.sees_all_territories:
        return Partner.id.is_not_null()
    condition = Partner.id.is_in(
        PartnerTerritory.select(PartnerTerritory.partner).where(
            PartnerTerritory.territory.is_in(list(viewer.roles) or [0])
        )
    )
    if viewer.partner_ids:
        condition |= Partner.id.is_in(list(viewer.partner_ids))
    return condition


async def territories_of(partner_ids: list[int]) -> dict[int, list[dict]]:
    """The territories each partner works with, in one query."""
    grouped: dict[int, list[dict]] = {i: [] for i in partner_ids}
    if not partner_ids:
        return grouped
    rows = await PartnerTerritory.select(
        PartnerTerritory.partner,
        PartnerTerritory.territory.id.as_alias("id"),
        PartnerTerritory.territory.siren.as_alias("siren"),
        PartnerTerritory.territory.name.as_alias("name"),
    ).where(PartnerTerritory.partner.is_in(partner_ids)).order_by(PartnerTerritory.territory.name)
    for row in rows:
        grouped[row["partner"]].append({"id": row["id"], "siren": row["siren"], "name": row["name"]})
    return grouped


def _shown_territories(viewer: Viewer, partner_id: int, territories: list[dict]) -> list[dict]:
    """Beyond their own territories, members are not told which other territories a partner works with."""
    if viewer.sees_all_territories or viewer.acts_for_partner(partner_id):
        return territories
    return [t for t in territories if t["id"] in viewer.roles]


async def directory(viewer: Viewer, query: DirectoryQuery) -> dict:
    """Search (name or identifier) and filters (secteur, forme), 50 per page (`forms.read_directory_query`)."""
    text, sector, legal_form, page = query.text, query.sector, query.legal_form, query.page
    where = _visible_condition(viewer)
    if text:
        ident = clean(text).upper()
        where &= name_contains(Partner.name, text) | (Partner.siren == ident) | (Partner.siret == ident) | (
            Partner.rna == ident
        )
    if sector:
        where &= Partner.sector == sector
    if legal_form:
        where &= Partner.legal_form == legal_form
    total = await Partner.count().where(where)
    rows = (
        await Partner.select(
            Partner.id, Partner.name, Partner.sector, Partner.legal_form, Partner.siren, Partner.siret, Partner.rna,
            Partner.dsp_contract_end,
        )
        .where(where)
        .order_by(Partner.name)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    territories = await territories_of([r["id"] for r in rows])
    for row in rows:
        row["territories"] = _shown_territories(viewer, row["id"], territories[row["id"]])
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "q": text,
        "secteur": sector or "",
        "forme": legal_form or "",
        "filtered": bool(text or sector or legal_form),
    }


async def partner_for(viewer: Viewer, partner_id: int) -> dict:
    """A partner with its territories (`territory_ids`: all of them, for permission checks); 404 if unreadable."""
    partner = await Partner.select().where(Partner.id == partner_id).first()
    if partner is None:
        raise NotFound(NOT_FOUND)
    territories = (await territories_of([partner_id]))[partner_id]
    partner["territory_ids"] = [t["id"] for t in territories]
    if not viewer.can_read_partner(partner_id, partner["territory_ids"]):
        raise NotFound(NOT_FOUND)
    partner["territories"] = _shown_territories(viewer, partner_id, territories)
    return partner


async def contacts_of(partner_id: int) -> list[dict]:
    """The partner's contacts, erased ones last."""
    rows = (
        await PartnerContact.select(
            PartnerContact.id,
            PartnerContact.full_name,
            PartnerContact.email,
            PartnerContact.function,
            PartnerContact.account,
            PartnerContact.erased_at,
            PartnerContact.version,
        )
        .where(PartnerContact.partner == partner_id)
        .order_by(PartnerContact.full_name)
    )
    return sorted(rows, key=lambda r: r["erased_at"] is not None)


# --- the form ---------------------------------------------------------------------------------------------


async def territory_choices(viewer: Viewer, partner: dict | None) -> list[dict]:
    """The territories this person may tick for a partner: the ones they keep the directory of, and for an
    administrator also those the partner already works with (others are added by SIREN)."""
    ids = set(viewer.managed_territories())
    if viewer.is_admin and partner:
        ids |= set(partner["territory_ids"])
    if not ids:
        return []
    return await Territory.select(Territory.id, Territory.siren, Territory.name).where(
        Territory.id.is_in(sorted(ids))
    ).order_by(Territory.name)


def _columns(values: PartnerInput) -> dict[Column, Any]:
    return {
        Partner.name: values.name,
        Partner.legal_form: values.legal_form,
        Partner.sector: sector_of(values.legal_form),
        Partner.siren: values.siren,
        Partner.siret: values.siret,
        Partner.rna: values.rna,
        Partner.dsp_contract_end: values.dsp_contract_end,
    }


async def _territories(viewer: Viewer, values: PartnerInput, partner: dict | None,
                       errors: dict[str, str]) -> tuple[set[int], set[int]]:
    """The territories to link and to unlink: those ticked among the ones this person may tick, and for an
    administrator others by SIREN. Collects its errors in `errors`."""
    current = set(partner["territory_ids"]) if partner else set()
    choices = {t["id"] for t in await territory_choices(viewer, partner)}
    ticked = choices & values.ticked
    added = ticked - current
    removed = (choices - ticked) & current
    if viewer.is_admin:
        for raw in values.other_sirens:
            row = await Territory.select(Territory.id).where(Territory.siren == clean(raw)).first()
            if row is None:
                errors.setdefault("autres_territoires", f"Aucun territoire ne porte le SIREN « {raw[:20]} ».")
            elif row["id"] not in current:
                added.add(row["id"])
                removed.discard(row["id"])
    if not (current | added) - removed:
        errors.setdefault("territoires", "Cochez au moins un territoire avec lequel ce partenaire travaille.")
    return added, removed


async def _check_duplicates(values: PartnerInput, partner_id: int | None) -> None:
    """Same identifier as another partner: refused. Close name: refused until the user confirms."""
    errors: dict[str, str] = {}
    candidates: dict[int, dict] = {}
    for column, label, value in (
        (Partner.siren, "SIREN", values.siren), (Partner.siret, "SIRET", values.siret), (Partner.rna, "RNA", values.rna)
    ):
        if not value:
            continue
        where = column == value
        if partner_id:
            where &= Partner.id != partner_id
        other = await Partner.select(Partner.id, Partner.name).where(where).first()
        if other:
            errors.setdefault(column._meta.name,
                              f"Ce {label} est déjà celui du partenaire « {other['name']} » : il est déjà dans "
                              "l’annuaire.")
            candidates[other["id"]] = other
    if candidates:
        raise DuplicatePartner(
            "Ce partenaire existe déjà dans l’annuaire. Rattachez-le à votre territoire plutôt que de le recréer.",
            errors=errors, candidates=list(candidates.values()), by_name=False,
        )
    if values.confirm_name or not values.name:
        return
    where = Partner.id != partner_id if partner_id else Partner.id.is_not_null()
    close = similar_names(values.name, await Partner.select(Partner.id, Partner.name).where(where))
    if close:
        names = ", ".join(f"« {c['name']} »" for c in close)
        message = (
            f"Un partenaire au nom proche existe déjà : {names}. S’il s’agit du même, rattachez-le à votre "
            "territoire ; sinon, cochez « Il s’agit d’un autre partenaire » et enregistrez à nouveau."
        )
        raise DuplicatePartner(message, errors={"name": message}, candidates=close, by_name=True)


def _unique_violation(error: Exception) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return True
    try:
        from asyncpg.exceptions import UniqueViolationError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, UniqueViolationError)


async def _link_territories(partner_id: int, added: set[int], removed: set[int]) -> None:
    for territory_id in sorted(added):
        if not await PartnerTerritory.exists().where(
            (PartnerTerritory.partner == partner_id) & (PartnerTerritory.territory == territory_id)
        ):
            await PartnerTerritory.insert(PartnerTerritory(partner=partner_id, territory=territory_id))
    if removed:
        await PartnerTerritory.delete().where(
            (PartnerTerritory.partner == partner_id) & PartnerTerritory.territory.is_in(sorted(removed))
        )


def require_partner_creator(viewer: Viewer) -> None:
    """Forbidden unless this person may add partners to the directory."""
    if not viewer.can_create_partners():
        raise Forbidden("Seuls les référents des territoires et les administrateurs ajoutent des partenaires.")


async def create_partner(viewer: Viewer, values: PartnerInput) -> int:
    """A new partner in the directory, working with the territories given."""
    require_partner_creator(viewer)
    errors: dict[str, str] = {}
    added, _ = await _territories(viewer, values, None, errors)
    if errors:
        raise InvalidInput(GENERIC, errors=errors)
    await _check_duplicates(values, None)
    now = clock.now()
    try:
        async with write_transaction():
            partner = Partner(created_at=now, updated_at=now, version=1)
            for column, value in _columns(values).items():
                setattr(partner, column._meta.name, value)
            await partner.save()
            await _link_territories(partner.id, added, set())
    except Exception as error:  # noqa: BLE001 - only a unique index may refuse here; anything else is re-raised
        if _unique_violation(error):
            raise InvalidInput("Un partenaire portant cet identifiant vient d’être enregistré : rechargez la page.")
        raise
    return partner.id


async def editable_partner(viewer: Viewer, partner_id: int) -> dict:
    """The partner, if this person may edit it (NotFound / Forbidden otherwise)."""
    partner = await partner_for(viewer, partner_id)
    if not viewer.can_manage_partner(partner["territory_ids"]):
        raise Forbidden("Seuls les référents des territoires de ce partenaire et les administrateurs le modifient.")
    return partner


async def update_partner(
    viewer: Viewer,
    partner_id: int,
    values: PartnerInput,
    version: int | None,
    *,
    open_commitments: Callable[[int, set[int]], Awaitable[bool]],
) -> None:
    """`open_commitments(partner_id, territories)`: whether the partner still has open commitments there (the
    commitments layer above answers it); such a territory cannot be detached."""
    partner = await editable_partner(viewer, partner_id)
    errors: dict[str, str] = {}
    added, removed = await _territories(viewer, values, partner, errors)
    for territory_id in sorted(added):  # no member of a new territory may be one of the partner's contacts
        try:
            await check_attachment(partner_id, territory_id)
        except InvalidInput as error:
            errors.setdefault("territoires", error.message)
    if removed and await open_commitments(partner_id, removed):
        errors.setdefault("territoires", "Ce partenaire a des engagements en cours sur des actions d’un "
                          "territoire que vous voulez retirer : clôturez-les d’abord.")
    if errors:
        raise InvalidInput(GENERIC, errors=errors)
    await _check_duplicates(values, partner_id)
    try:
        async with write_transaction():
            await lifecycle.save_edit(PARTNER, partner_id, version, _columns(values))
            await _link_territories(partner_id, added, removed)
    except Conflict:
        raise
    except Exception as error:  # noqa: BLE001
        if _unique_violation(error):
            raise InvalidInput("Un partenaire portant cet identifiant vient d’être enregistré : rechargez la page.")
        raise
