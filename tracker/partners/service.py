"""The partner directory: who sees which partners, creating and editing them, and keeping out duplicates
(same identifier: refused; close name: flagged, the user confirms)."""
from __future__ import annotations

from tracker.core import clock
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, Mapping


from tracker.core.permissions import Viewer
from tracker.core.db import name_contains, write_transaction
from tracker.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.core.identifiers import clean, rna_ok, siren_ok, siret_ok
from tracker.partners.kinds import LEGAL_FORMS, SECTOR_LABELS, sector_of
from tracker.partners.similar import similar_names
from tracker.partners.tables import Partner, PartnerContact, PartnerTerritory
from tracker.territories.tables import Territory
from tracker.core.forms import FormReader

NOT_FOUND = "Ce partenaire n’existe pas ou ne vous est pas accessible."
PAGE_SIZE = 50
IDENTIFIERS = {"siren": "SIREN", "siret": "SIRET", "rna": "RNA"}


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


async def directory(viewer: Viewer, query: Mapping[str, Any]) -> dict:
    """Search (name or identifier) and filters (secteur, forme), 50 per page. Bad parameters: French 400."""
    form = FormReader(query)
    text = form.text("q", "Recherche", max_length=100)
    sector = form.choice("secteur", "Secteur", SECTOR_LABELS)
    legal_form = form.choice("forme", "Forme juridique", LEGAL_FORMS)
    page = form.integer("page", "Page", minimum=1, maximum=10_000) or 1
    if form.errors:
        error = InvalidInput("Filtre invalide : " + " ".join(form.errors.values()), errors=form.errors)
        error.status_code = 400
        raise error
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


def _identifier(form: FormReader, name: str, label: str, check, problem: str) -> str | None:
    value = clean(form.text(name, label, max_length=30))
    if name == "rna":
        value = value.upper()
    if not value:
        return None
    form.check(check(value), name, problem)
    return value if check(value) else None


async def _read_form(form: FormReader, viewer: Viewer, partner: dict | None) -> tuple[dict, set[int], set[int]]:
    """The partner's fields, and the territories to link and to unlink. Collects errors in `form`."""
    name = form.text("name", "Nom", max_length=200, required=True)
    legal_form = form.choice("legal_form", "Forme juridique", LEGAL_FORMS, required=True)
    siren = _identifier(form, "siren", "SIREN", siren_ok, "Ce SIREN n’est pas valide : 9 chiffres dont le dernier "
                        "est une clé de contrôle (formule de Luhn). Vérifiez la saisie.")
    siret = _identifier(form, "siret", "SIRET", siret_ok, "Ce SIRET n’est pas valide : 14 chiffres (SIREN puis "
                        "numéro d’établissement), clé de contrôle (formule de Luhn) incorrecte.")
    rna = _identifier(form, "rna", "RNA", rna_ok, "Ce numéro RNA n’est pas valide : la lettre W suivie de "
                      "9 chiffres (par exemple W161000123).")
    dsp_end = form.date("dsp_contract_end", "Fin du contrat de délégation")
    if siren and siret:
        form.check(siret.startswith(siren), "siret", "Le SIRET doit commencer par le SIREN du partenaire.")
    if legal_form == "dsp":
        form.check(dsp_end is not None, "dsp_contract_end",
                   "« Fin du contrat de délégation » est obligatoire pour un délégataire de service public.")
    elif dsp_end is not None:
        form.check(False, "dsp_contract_end",
                   "La fin du contrat de délégation ne concerne que les délégataires de service public.")
    if rna and legal_form and legal_form != "association":
        form.check(False, "rna", "Le numéro RNA ne concerne que les associations loi 1901.")

    current = set(partner["territory_ids"]) if partner else set()
    choices = {t["id"] for t in await territory_choices(viewer, partner)}
    ticked = {t for t in choices if form.boolean(f"territoire_{t}")}
    added = ticked - current
    removed = (choices - ticked) & current
    if viewer.is_admin:
        sirens = form.text("autres_territoires", "Autres territoires", max_length=500).replace(",", " ").split()
        if len(sirens) > 20:
            form.check(False, "autres_territoires", "Ajoutez au plus 20 territoires à la fois.")
            sirens = []
        for raw in sirens:
            row = await Territory.select(Territory.id).where(Territory.siren == clean(raw)).first()
            if row is None:
                form.check(False, "autres_territoires", f"Aucun territoire ne porte le SIREN « {raw[:20]} ».")
            elif row["id"] not in current:
                added.add(row["id"])
                removed.discard(row["id"])
    if not (current | added) - removed:
        form.check(False, "territoires", "Cochez au moins un territoire avec lequel ce partenaire travaille.")
    values = {
        Partner.name: name,
        Partner.legal_form: legal_form,
        Partner.sector: sector_of(legal_form) if legal_form else "",
        Partner.siren: siren,
        Partner.siret: siret,
        Partner.rna: rna,
        Partner.dsp_contract_end: dsp_end if legal_form == "dsp" else None,
    }
    return values, added, removed


async def _check_duplicates(form: FormReader, values: dict, partner_id: int | None) -> None:
    """Same identifier as another partner: refused. Close name: refused until the user confirms."""
    candidates: dict[int, dict] = {}
    for column, label in ((Partner.siren, "SIREN"), (Partner.siret, "SIRET"), (Partner.rna, "RNA")):
        value = values[column]
        if not value:
            continue
        where = column == value
        if partner_id:
            where &= Partner.id != partner_id
        other = await Partner.select(Partner.id, Partner.name).where(where).first()
        if other:
            form.check(False, column._meta.name,
                       f"Ce {label} est déjà celui du partenaire « {other['name']} » : il est déjà dans l’annuaire.")
            candidates[other["id"]] = other
    if candidates:
        raise DuplicatePartner(
            "Ce partenaire existe déjà dans l’annuaire. Rattachez-le à votre territoire plutôt que de le recréer.",
            errors=form.errors, candidates=list(candidates.values()), by_name=False,
        )
    if form.boolean("confirmer_nom") or not values[Partner.name]:
        return
    where = Partner.id != partner_id if partner_id else Partner.id.is_not_null()
    close = similar_names(values[Partner.name], await Partner.select(Partner.id, Partner.name).where(where))
    if close:
        names = ", ".join(f"« {c['name']} »" for c in close)
        message = (
            f"Un partenaire au nom proche existe déjà : {names}. S’il s’agit du même, rattachez-le à votre "
            "territoire ; sinon, cochez « Il s’agit d’un autre partenaire » et enregistrez à nouveau."
        )
        form.check(False, "name", message)
        raise DuplicatePartner(message, errors=form.errors, candidates=close, by_name=True)


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


async def create_partner(viewer: Viewer, data: Mapping[str, Any]) -> int:
    if not viewer.can_create_partners():
        raise Forbidden("Seuls les référents des territoires et les administrateurs ajoutent des partenaires.")
    form = FormReader(data)
    values, added, _ = await _read_form(form, viewer, None)
    form.raise_if_errors()
    await _check_duplicates(form, values, None)
    now = clock.now()
    try:
        async with write_transaction():
            partner = Partner(created_at=now, updated_at=now, version=1)
            for column, value in values.items():
                setattr(partner, column._meta.name, value)
            await partner.save()
            await _link_territories(partner.id, added, set())
    except Exception as error:  # noqa: BLE001 - only a unique index may refuse here; anything else is re-raised
        if _unique_violation(error):
            raise InvalidInput("Un partenaire portant cet identifiant vient d’être enregistré : rechargez la page.")
        raise
    return partner.id


async def update_partner(
    viewer: Viewer,
    partner_id: int,
    data: Mapping[str, Any],
    *,
    open_commitments: Callable[[int, set[int]], Awaitable[bool]],
) -> None:
    """`open_commitments(partner_id, territories)`: whether the partner still has open commitments there (the
    commitments layer above answers it); such a territory cannot be detached."""
    partner = await partner_for(viewer, partner_id)
    if not viewer.can_manage_partner(partner["territory_ids"]):
        raise Forbidden("Seuls les référents des territoires de ce partenaire et les administrateurs le modifient.")
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    values, added, removed = await _read_form(form, viewer, partner)
    if removed:
        if await open_commitments(partner_id, removed):
            form.check(False, "territoires", "Ce partenaire a des engagements en cours sur des actions d’un "
                       "territoire que vous voulez retirer : clôturez-les d’abord.")
    form.raise_if_errors()
    await _check_duplicates(form, values, partner_id)
    try:
        async with write_transaction():
            updated = (
                await Partner.update({**values, Partner.version: Partner.version + 1,
                                      Partner.updated_at: clock.now()})
                .where((Partner.id == partner_id) & (Partner.version == version))
                .returning(Partner.id)
            )
            if not updated:
                raise Conflict(
                    "Ce partenaire a été modifié par quelqu’un d’autre depuis que vous avez ouvert le formulaire. "
                    "Vos modifications n’ont pas été enregistrées : rechargez la page pour repartir de la version "
                    "actuelle."
                )
            await _link_territories(partner_id, added, removed)
    except Conflict:
        raise
    except Exception as error:  # noqa: BLE001
        if _unique_violation(error):
            raise InvalidInput("Un partenaire portant cet identifiant vient d’être enregistré : rechargez la page.")
        raise


async def attach_partner(viewer: Viewer, partner_id: int, data: Mapping[str, Any]) -> None:
    """Add an existing partner to a territory whose directory this person keeps (instead of a duplicate)."""
    managed = viewer.managed_territories()
    exists = await Partner.exists().where(Partner.id == partner_id)
    if not exists:
        raise NotFound(NOT_FOUND)
    if not managed:
        territory_ids = [t["id"] for t in (await territories_of([partner_id]))[partner_id]]
        if not viewer.can_read_partner(partner_id, territory_ids):
            raise NotFound(NOT_FOUND)
        raise Forbidden("Seuls les référents rattachent un partenaire à leur territoire.")
    form = FormReader(data)
    territory_id = form.id_in("territoire", "Territoire", set(managed), required=True)
    form.raise_if_errors()
    async with write_transaction():
        await _link_territories(partner_id, {territory_id}, set())
