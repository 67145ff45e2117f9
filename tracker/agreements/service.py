"""Contrats de réciprocité: what the pages read, and the edits that are not state changes (the text while it is
drafted, parties, deliberations, obligations' content, linked actions, review dates). State, signature and
obligation status changes are in lifecycle.py."""
from __future__ import annotations

from tracker.core import clock
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from piccolo.query.functions.aggregate import Count

from tracker.core.permissions import Viewer
from tracker.agreements.lifecycle import (
    NOT_FOUND_AGREEMENT,
    NOT_FOUND_OBLIGATION,
    NOT_FOUND_PARTY,
    NotNow,
    hold_agreement,
    party_rows,
)
from tracker.agreements.states import (
    AGREEMENT_STATE_LABELS,
    DELIBERATION,
    DRAFTING,
    FINAL,
    THEME_MAX_LENGTH,
    THEME_SUGGESTIONS,
    THEMES_MAX,
    normalise_theme,
)
from tracker.agreements.tables import (
    Agreement,
    AgreementAction,
    AgreementParty,
    AgreementReview,
    AgreementTheme,
    Obligation,
)
from tracker.core.db import name_contains, write_transaction
from tracker.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker import lifecycle
from tracker.history import service as history
from tracker.core.identifiers import clean
from tracker.partners.tables import PartnerTerritory
from tracker.roadmaps.statuses import STATUS_LABELS, is_overdue
from tracker.roadmaps.tables import Action
from tracker.territories.tables import Territory
from tracker.core.forms import FormReader
from tracker.core.french import date_fr

PAGE_SIZE = 50
MAX_PARTIES = 10
MAX_REVIEWS = 20
SEARCH_RESULTS = 20
MIN_YEAR, MAX_YEAR = 1990, 2100
OPEN = frozenset(AGREEMENT_STATE_LABELS) - FINAL

DRAFT_ONLY = (
    "Le texte du contrat ne se modifie qu’en brouillon ou en négociation ; une fois soumis à la signature, "
    "rouvrez la négociation pour le changer."
)
CLOSED_AGREEMENT = "Ce contrat est échu ou résilié : son suivi est clos."


def french_order(text: str) -> str:
    """Sort key: « Énergie » between « Eau » and « Habitat », not after « Tourisme »."""
    return unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode().casefold()


def _bad_query(form: FormReader, intro: str) -> InvalidInput:
    error = InvalidInput(intro + " ".join(form.errors.values()), errors=form.errors)
    error.status_code = 400
    return error


def read_date(form: FormReader, name: str, label: str, *, required: bool = False) -> date | None:
    """A date of the life of a contract: ISO format, and a plausible year."""
    value = form.date(name, label, required=required)
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        form.check(False, name, f"« {label} » doit se situer entre {MIN_YEAR} et {MAX_YEAR}.")
        return None
    return value


def _party_territories(parties: list[dict]) -> list[int]:
    return [p["territory"] for p in parties]


def _require_edit(viewer: Viewer, agreement: dict, message: str = "") -> None:
    if not viewer.can_edit_agreement(agreement["party_territories"]):
        raise Forbidden(message or "Votre rôle ne permet pas de modifier ce contrat.")


def _require_state(agreement: dict, states: frozenset[str] | set[str], message: str) -> None:
    if agreement["state"] not in states:
        raise NotNow(message)


# --- reading -----------------------------------------------------------------------------------------------


async def agreement_for(viewer: Viewer, agreement_id: int) -> dict:
    """The agreement with its parties and themes, or NotFound when it does not exist or is not readable."""
    agreement = (
        await Agreement.select(
            Agreement.all_columns(),
            Agreement.territory.name.as_alias("lead_name"),
            Agreement.created_by.full_name.as_alias("created_by_name"),
        )
        .where(Agreement.id == agreement_id)
        .first()
    )
    parties = await party_rows(agreement_id) if agreement else []
    if agreement is None or not viewer.can_read_agreement(_party_territories(parties)):
        raise NotFound(NOT_FOUND_AGREEMENT)
    agreement["parties"] = parties
    agreement["party_territories"] = _party_territories(parties)
    agreement["themes"] = await themes_of(agreement_id)
    today = clock.today()
    # In force but past its end: the `contrats-echus` command has not run yet; the page says so.
    agreement["end_passed"] = bool(
        agreement["state"] in {"en_vigueur", "suspendu"} and agreement["ends_on"] and agreement["ends_on"] < today
    )
    return agreement


async def themes_of(agreement_id: int) -> list[str]:
    rows = await AgreementTheme.select(AgreementTheme.theme).where(AgreementTheme.agreement == agreement_id)
    return sorted((r["theme"] for r in rows), key=french_order)


@dataclass
class AgreementFilters:
    state: str | None = None
    theme: str = ""
    action: int | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.state or self.theme or self.action)

    def query(self, **changes: Any) -> dict[str, str]:
        params = {"etat": self.state, "theme": self.theme, "action": self.action, "page": self.page, **changes}
        return {k: str(v) for k, v in params.items() if v and not (k == "page" and v == 1)}


def parse_agreement_filters(query: Mapping[str, Any]) -> AgreementFilters:
    """Query string of /contrats: etat, theme, action, page. Bad values → 400 with a French message."""
    form = FormReader(query)
    filters = AgreementFilters(
        state=form.choice("etat", "État", AGREEMENT_STATE_LABELS),
        theme=normalise_theme(form.text("theme", "Thème", max_length=THEME_MAX_LENGTH)),
        action=form.integer("action", "Action", minimum=1, maximum=2_147_483_647),
        page=form.integer("page", "Page", minimum=1, maximum=10_000) or 1,
    )
    if form.errors:
        raise _bad_query(form, "Filtre invalide : ")
    return filters


def _visible_agreements(viewer: Viewer):
    """Condition on Agreement: all for the ADGCF, else agreements one of whose parties is the viewer's."""
    if viewer.sees_all_territories:
        return Agreement.id.is_not_null()
    if not viewer.roles:
        return Agreement.id.is_null()
    return Agreement.id.is_in(
        AgreementParty.select(AgreementParty.agreement).where(AgreementParty.territory.is_in(list(viewer.roles)))
    )


async def list_agreements(viewer: Viewer, filters: AgreementFilters) -> dict:
    where = _visible_agreements(viewer)
    visible = where
    if filters.state:
        where &= Agreement.state == filters.state
    if filters.theme:
        where &= Agreement.id.is_in(
            AgreementTheme.select(AgreementTheme.agreement).where(AgreementTheme.theme == filters.theme)
        )
    if filters.action:
        where &= Agreement.id.is_in(
            AgreementAction.select(AgreementAction.agreement).where(AgreementAction.action == filters.action)
        )
    total = await Agreement.count().where(where)
    rows = (
        await Agreement.select(
            Agreement.id, Agreement.title, Agreement.state, Agreement.in_force_on, Agreement.ends_on
        )
        .where(where)
        .order_by(Agreement.updated_at, ascending=False)
        .order_by(Agreement.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    ids = [r["id"] for r in rows] or [0]
    parties = await AgreementParty.select(
        AgreementParty.agreement, AgreementParty.territory.name.as_alias("name")
    ).where(AgreementParty.agreement.is_in(ids)).order_by(AgreementParty.position).order_by(AgreementParty.id)
    themes = await AgreementTheme.select(AgreementTheme.agreement, AgreementTheme.theme).where(
        AgreementTheme.agreement.is_in(ids)
    )
    progress = await Obligation.select(
        Obligation.agreement, Obligation.status, Count(Obligation.id).as_alias("n")
    ).where(Obligation.agreement.is_in(ids)).group_by(Obligation.agreement, Obligation.status)
    by_id = {r["id"]: r for r in rows}
    for row in rows:
        row.update(parties=[], themes=[], total=0, done=0)
    for p in parties:
        by_id[p["agreement"]]["parties"].append(p["name"])
    for t in themes:
        by_id[t["agreement"]]["themes"].append(t["theme"])
    for g in progress:
        by_id[g["agreement"]]["total"] += g["n"]
        if g["status"] == "realisee":
            by_id[g["agreement"]]["done"] += g["n"]
    for row in rows:
        row["themes"].sort(key=french_order)
    # Themes in use among the agreements this person may see (never those of others).
    used = await AgreementTheme.select(AgreementTheme.theme).where(
        AgreementTheme.agreement.is_in(Agreement.select(Agreement.id).where(visible))
    ).distinct()
    return {
        "rows": rows,
        "total": total,
        "page": filters.page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "themes": sorted({r["theme"] for r in used}, key=french_order),
    }


async def history_of(agreement_id: int) -> list[dict]:
    return await history.entries_for("agreement", agreement_id)


# --- balance: what each party brings -----------------------------------------------------------------------


def beneficiary_label(obligation: dict, parties: list[dict]) -> str:
    """Whom an obligation is for: the named beneficiary, else the other party, else all the others."""
    if obligation.get("beneficiary"):
        return next((p["name"] for p in parties if p["id"] == obligation["beneficiary"]), "")
    others = [p["name"] for p in parties if p["id"] != obligation["owner"]]
    if len(others) == 1:
        return others[0]
    return "l’ensemble des autres parties"


async def balance_of(agreement: dict) -> dict:
    """Obligations grouped under the party that brings them, and each side's progress (counts by status,
    overdue, share done = réalisées / total)."""
    today = clock.today()
    parties = agreement["parties"]
    rows = await Obligation.select(
        Obligation.id,
        Obligation.title,
        Obligation.description,
        Obligation.owner,
        Obligation.beneficiary,
        Obligation.partner,
        Obligation.deadline,
        Obligation.status,
        Obligation.version,
        Obligation.partner.name.as_alias("partner_name"),
    ).where(Obligation.agreement == agreement["id"])
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or date.max, r["id"]))
    by_party: dict[int, list[dict]] = {p["id"]: [] for p in parties}
    summary: dict[int, dict] = {}
    for party in parties:
        summary[party["id"]] = {"by_status": {code: 0 for code in STATUS_LABELS}, "total": 0, "done": 0,
                                "overdue": 0, "share": None}
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
        row["for_label"] = beneficiary_label(row, parties)
        by_party.setdefault(row["owner"], []).append(row)
        side = summary.get(row["owner"])
        if side is not None:
            side["by_status"][row["status"]] += 1
            side["total"] += 1
            side["overdue"] += row["overdue"]
    for side in summary.values():
        side["done"] = side["by_status"]["realisee"]
        side["share"] = round(100 * side["done"] / side["total"]) if side["total"] else None
    return {"by_party": by_party, "summary": summary, "count": len(rows)}


# --- the agreement's text ----------------------------------------------------------------------------------


def read_themes(form: FormReader) -> list[str]:
    """Checked suggestions (theme_<code>) and free themes separated by ; or , (autres_themes)."""
    themes = [label for code, label in THEME_SUGGESTIONS.items() if form.boolean(f"theme_{code}")]
    other = form.text("autres_themes", "Autres thèmes", max_length=1000)
    for part in re.split(r"[;,]", other):
        theme = normalise_theme(part)
        if not theme:
            continue
        if len(theme) > THEME_MAX_LENGTH:
            form.check(False, "autres_themes", f"Un thème tient en {THEME_MAX_LENGTH} caractères au plus.")
        elif theme.casefold() not in {t.casefold() for t in themes}:
            themes.append(theme)
    form.check(len(themes) <= THEMES_MAX, "autres_themes", f"Un contrat compte {THEMES_MAX} thèmes au plus.")
    return themes


def read_agreement_form(form: FormReader) -> tuple[dict, list[str]]:
    values = {
        Agreement.title: form.text("title", "Intitulé", max_length=200, required=True),
        Agreement.purpose: form.text("purpose", "Objet du contrat", max_length=10000, multiline=True),
        Agreement.in_force_on: read_date(form, "in_force_on", "Date d’entrée en vigueur"),
        Agreement.ends_on: read_date(form, "ends_on", "Date de fin"),
    }
    start, end = values[Agreement.in_force_on], values[Agreement.ends_on]
    form.check(not (start and end and end <= start), "ends_on",
               "La date de fin doit être postérieure à la date d’entrée en vigueur.")
    return values, read_themes(form)


async def _dates_still_fit(form: FormReader, agreement_id: int, start: date | None, end: date | None) -> None:
    """Obligation deadlines and review dates must stay inside the new dates."""
    if end and not form.errors.get("ends_on"):
        late = await Obligation.select(Obligation.title).where(
            (Obligation.agreement == agreement_id) & Obligation.deadline.is_not_null() & (Obligation.deadline > end)
        ).first()
        form.check(late is None, "ends_on",
                   f"L’obligation « {late['title'] if late else ''} » a une échéance après cette date de fin.")
    reviews = await AgreementReview.select(AgreementReview.review_on).where(AgreementReview.agreement == agreement_id)
    for review in reviews:
        outside = (start and review["review_on"] < start) or (end and review["review_on"] > end)
        form.check(not outside, "ends_on" if end else "in_force_on",
                   f"La revue du {date_fr(review['review_on'])} sortirait de la période du contrat.")


async def _write_themes(agreement_id: int, themes: list[str]) -> None:
    await AgreementTheme.delete().where(AgreementTheme.agreement == agreement_id)
    if themes:
        await AgreementTheme.insert(*[AgreementTheme(agreement=agreement_id, theme=t) for t in themes])


async def lead_choices(viewer: Viewer) -> list[dict]:
    """The territories in whose name this person may start an agreement."""
    ids = viewer.editable_territories()
    if not ids:
        return []
    return await Territory.select(Territory.id, Territory.name).where(Territory.id.is_in(ids)).order_by(
        Territory.name
    )


async def create_agreement(viewer: Viewer, data: Mapping[str, Any], *, at=None) -> int:
    """A draft agreement; the creator's territory (porteur) is its first party. One history entry."""
    if not viewer.editable_territories():
        raise Forbidden("Seuls les éditeurs et référents d’un territoire créent des contrats de réciprocité.")
    form = FormReader(data)
    lead = form.id_in("territory", "Territoire porteur", set(viewer.editable_territories()), required=True)
    values, themes = read_agreement_form(form)
    form.raise_if_errors()
    now = at or clock.now()
    async with write_transaction():
        agreement = Agreement(territory=lead, state="brouillon", version=1, created_by=viewer.user_id,
                              created_at=now, updated_at=now,
                              **{column._meta.name: value for column, value in values.items()})
        await agreement.save()
        await AgreementParty.insert(AgreementParty(agreement=agreement.id, territory=lead, position=1,
                                                   deliberation_ref="", version=1))
        await _write_themes(agreement.id, themes)
        await lifecycle.record(subject="agreement", subject_id=agreement.id, territory_id=lead, source="",
                             target="brouillon", actor=viewer, comment="Contrat créé", at=now)
    return agreement.id


async def update_agreement(viewer: Viewer, agreement_id: int, data: Mapping[str, Any]) -> None:
    """Edit the text of a draft (not its state: that is lifecycle.change_agreement_state)."""
    agreement = await agreement_for(viewer, agreement_id)
    _require_edit(viewer, agreement)
    _require_state(agreement, DRAFTING, DRAFT_ONLY)
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    values, themes = read_agreement_form(form)
    async with write_transaction():
        await _dates_still_fit(form, agreement_id, values[Agreement.in_force_on], values[Agreement.ends_on])
        form.raise_if_errors()
        updated = (
            await Agreement.update(
                {**values, Agreement.version: Agreement.version + 1, Agreement.updated_at: clock.now()}
            )
            .where((Agreement.id == agreement_id) & (Agreement.version == version)
                   & Agreement.state.is_in(list(DRAFTING)))
            .returning(Agreement.id)
        )
        if not updated:
            raise Conflict(
                "Ce contrat a été modifié par quelqu’un d’autre depuis que vous avez ouvert le formulaire. "
                "Vos modifications n’ont pas été enregistrées : rechargez la page pour repartir de la version actuelle."
            )
        await _write_themes(agreement_id, themes)


# --- parties and deliberations -----------------------------------------------------------------------------


def parse_party_search(query: Mapping[str, Any]) -> str:
    form = FormReader(query)
    text = form.text("q", "Recherche", max_length=100)
    if form.errors:
        raise _bad_query(form, "Recherche invalide : ")
    return text


async def search_territories(agreement: dict, text: str) -> list[dict]:
    """Territories (any kind) whose name contains the text or whose SIREN it is, not parties yet. Names and
    SIREN of public bodies are public data."""
    if not text:
        return []
    where = name_contains(Territory.name, text) | (Territory.siren == clean(text))
    if agreement["party_territories"]:
        where = where & Territory.id.not_in(agreement["party_territories"])
    return (
        await Territory.select(Territory.id, Territory.name, Territory.siren, Territory.kind, Territory.departement)
        .where(where)
        .order_by(Territory.name)
        .limit(SEARCH_RESULTS)
    )


async def add_party(viewer: Viewer, agreement_id: int, data: Mapping[str, Any]) -> str:
    """Returns the new party's name."""
    agreement = await agreement_for(viewer, agreement_id)
    _require_edit(viewer, agreement)
    _require_state(agreement, DRAFTING, DRAFT_ONLY)
    form = FormReader(data)
    territory_id = form.integer("territory", "Territoire", required=True, minimum=1, maximum=2_147_483_647)
    form.raise_if_errors("Choisissez un territoire dans les résultats de la recherche.")
    territory = await Territory.select(Territory.id, Territory.name).where(Territory.id == territory_id).first()
    if territory is None:
        raise InvalidInput("Ce territoire n’existe pas : choisissez-le dans les résultats de la recherche.",
                           errors={"territory": "Territoire inconnu."})
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY)
        parties = await party_rows(agreement_id)
        if territory_id in _party_territories(parties):
            raise InvalidInput(f"{territory['name']} est déjà partie à ce contrat.",
                               errors={"territory": "Déjà partie."})
        if len(parties) >= MAX_PARTIES:
            raise InvalidInput(f"Un contrat compte {MAX_PARTIES} parties au plus.", errors={"territory": "Trop de parties."})
        position = max((p["position"] for p in parties), default=0) + 1
        await AgreementParty.insert(AgreementParty(agreement=agreement_id, territory=territory_id, position=position,
                                                   deliberation_ref="", version=1))
    return territory["name"]


async def remove_party(viewer: Viewer, agreement_id: int, party_id: int) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    party = next((p for p in agreement["parties"] if p["id"] == party_id), None)
    if party is None:
        raise NotFound(NOT_FOUND_PARTY)
    _require_edit(viewer, agreement)
    _require_state(agreement, DRAFTING, DRAFT_ONLY)
    if party["territory"] == agreement["territory"]:
        raise InvalidInput(f"{party['name']} porte ce contrat : ce territoire ne peut en être retiré.")
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY)
        if await Obligation.exists().where(
            (Obligation.agreement == agreement_id) & ((Obligation.owner == party_id) | (Obligation.beneficiary == party_id))
        ):
            raise InvalidInput(
                f"Des obligations concernent {party['name']} (ce qu’elle apporte ou reçoit) : "
                "retirez-les ou changez-les d’abord."
            )
        if await AgreementAction.exists().where(
            (AgreementAction.agreement == agreement_id) & (AgreementAction.action.territory == party["territory"])
        ):
            raise InvalidInput(f"Des actions de {party['name']} sont liées au contrat : retirez d’abord ces liens.")
        await AgreementParty.delete().where((AgreementParty.id == party_id) & (AgreementParty.agreement == agreement_id))


async def record_deliberation(viewer: Viewer, agreement_id: int, party_id: int, data: Mapping[str, Any]) -> None:
    """Each party records its own deliberation (date, reference), before it signs."""
    agreement = await agreement_for(viewer, agreement_id)
    party = next((p for p in agreement["parties"] if p["id"] == party_id), None)
    if party is None:
        raise NotFound(NOT_FOUND_PARTY)
    if not viewer.can_edit_territory(party["territory"]):
        raise Forbidden(
            f"Chaque partie enregistre sa propre délibération : seuls les éditeurs et référents de {party['name']} "
            "le peuvent."
        )
    refusal = "Les délibérations s’enregistrent pendant la négociation ou avant la signature."
    _require_state(agreement, DELIBERATION, refusal)
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    deliberation_on = read_date(form, "deliberation_on", "Date de la délibération", required=True)
    reference = form.text("deliberation_ref", "Référence de la délibération", max_length=120, required=True)
    form.check(not (deliberation_on and deliberation_on > clock.today()), "deliberation_on",
               "La date de la délibération ne peut être dans le futur.")
    form.raise_if_errors()
    async with write_transaction():
        await hold_agreement(agreement_id, DELIBERATION, refusal)
        current = await AgreementParty.select(AgreementParty.signed_at).where(AgreementParty.id == party_id).first()
        if current["signed_at"] is not None:
            raise NotNow(f"{party['name']} a déjà signé : sa délibération ne se modifie plus.")
        updated = (
            await AgreementParty.update(
                {AgreementParty.deliberation_on: deliberation_on, AgreementParty.deliberation_ref: reference,
                 AgreementParty.version: version + 1}
            )
            .where((AgreementParty.id == party_id) & (AgreementParty.version == version))
            .returning(AgreementParty.id)
        )
        if not updated:
            raise Conflict(
                f"Les informations de {party['name']} ont été modifiées par quelqu’un d’autre depuis que vous avez "
                "ouvert la page. Rien n’a été enregistré : rechargez la page."
            )


# --- obligations' content ----------------------------------------------------------------------------------


async def obligation_form_choices(agreement: dict) -> dict:
    """Parties, and for each party the partners working with its territory (who may carry an obligation)."""
    partners = await PartnerTerritory.select(
        PartnerTerritory.territory,
        PartnerTerritory.partner.id.as_alias("id"),
        PartnerTerritory.partner.name.as_alias("name"),
    ).where(PartnerTerritory.territory.is_in(agreement["party_territories"] or [0])).order_by(
        PartnerTerritory.partner.name
    )
    by_territory: dict[int, list[dict]] = {}
    for row in partners:
        by_territory.setdefault(row["territory"], []).append(row)
    groups = [{"party": p, "partners": by_territory.get(p["territory"], [])} for p in agreement["parties"]]
    return {"parties": agreement["parties"], "partner_groups": groups}


def read_obligation_form(form: FormReader, agreement: dict, choices: dict) -> dict:
    parties = {p["id"]: p for p in choices["parties"]}
    partners_by_territory = {g["party"]["territory"]: {p["id"] for p in g["partners"]} for g in choices["partner_groups"]}
    all_partners = set().union(*partners_by_territory.values()) if partners_by_territory else set()
    values = {
        Obligation.title: form.text("title", "Ce qui est apporté", max_length=200, required=True),
        Obligation.description: form.text("description", "Précisions", max_length=10000, multiline=True),
        Obligation.owner: form.id_in("owner", "Partie qui apporte", set(parties), required=True),
        Obligation.beneficiary: form.id_in("beneficiary", "Au bénéfice de", set(parties)),
        Obligation.partner: form.id_in("partner", "Porté par le partenaire", all_partners),
        Obligation.deadline: read_date(form, "deadline", "Échéance"),
    }
    owner, beneficiary = values[Obligation.owner], values[Obligation.beneficiary]
    form.check(not (owner and beneficiary and owner == beneficiary), "beneficiary",
               "Une partie ne s’apporte pas quelque chose à elle-même : choisissez une autre partie.")
    partner = values[Obligation.partner]
    if owner and partner:
        form.check(partner in partners_by_territory.get(parties[owner]["territory"], set()), "partner",
                   f"Ce partenaire ne travaille pas avec {parties[owner]['name']}, la partie qui apporte.")
    deadline, end = values[Obligation.deadline], agreement["ends_on"]
    form.check(not (deadline and end and deadline > end), "deadline",
               f"L’échéance ne peut dépasser la date de fin du contrat ({date_fr(end) if end else ''}).")
    return values


async def create_obligation(viewer: Viewer, agreement_id: int, data: Mapping[str, Any], *, at=None) -> int:
    agreement = await agreement_for(viewer, agreement_id)
    _require_edit(viewer, agreement, "Votre rôle ne permet pas d’inscrire des obligations à ce contrat.")
    _require_state(agreement, DRAFTING, DRAFT_ONLY)
    form = FormReader(data)
    values = read_obligation_form(form, agreement, await obligation_form_choices(agreement))
    form.raise_if_errors()
    now = at or clock.now()
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY)
        owner = await AgreementParty.select(AgreementParty.territory).where(
            (AgreementParty.id == values[Obligation.owner]) & (AgreementParty.agreement == agreement_id)
        ).first()
        if owner is None:  # removed meanwhile
            raise InvalidInput("Cette partie n’est plus partie au contrat : rechargez la page.",
                               errors={"owner": "Partie inconnue."})
        obligation = Obligation(agreement=agreement_id, status="a_venir", version=1, created_at=now, updated_at=now,
                                **{column._meta.name: value for column, value in values.items()})
        await obligation.save()
        await lifecycle.record(subject="obligation", subject_id=obligation.id, territory_id=owner["territory"],
                             source="", target="a_venir", actor=viewer,
                             comment="Obligation inscrite au contrat", at=now)
    return obligation.id


async def obligation_for(viewer: Viewer, obligation_id: int) -> dict:
    obligation = (
        await Obligation.select(
            Obligation.all_columns(),
            Obligation.partner.name.as_alias("partner_name"),
            Obligation.owner.territory.as_alias("owner_territory"),
            Obligation.owner.territory.name.as_alias("owner_name"),
        )
        .where(Obligation.id == obligation_id)
        .first()
    )
    if obligation is None:
        raise NotFound(NOT_FOUND_OBLIGATION)
    try:
        agreement = await agreement_for(viewer, obligation["agreement"])
    except NotFound:
        raise NotFound(NOT_FOUND_OBLIGATION) from None
    obligation["agreement_row"] = agreement
    obligation["overdue"] = is_overdue(obligation["status"], obligation["deadline"], clock.today())
    obligation["for_label"] = beneficiary_label(obligation, agreement["parties"])
    return obligation


async def update_obligation(viewer: Viewer, obligation_id: int, data: Mapping[str, Any]) -> int:
    """Edit what an obligation says while the contract is drafted; returns the agreement id."""
    obligation = await obligation_for(viewer, obligation_id)
    agreement = obligation["agreement_row"]
    _require_edit(viewer, agreement, "Votre rôle ne permet pas de modifier les obligations de ce contrat.")
    _require_state(agreement, DRAFTING, DRAFT_ONLY)
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    values = read_obligation_form(form, agreement, await obligation_form_choices(agreement))
    form.raise_if_errors()
    async with write_transaction():
        await hold_agreement(agreement["id"], DRAFTING, DRAFT_ONLY)
        updated = (
            await Obligation.update(
                {**values, Obligation.version: Obligation.version + 1, Obligation.updated_at: clock.now()}
            )
            .where((Obligation.id == obligation_id) & (Obligation.version == version))
            .returning(Obligation.id)
        )
        if not updated:
            raise Conflict(
                "Cette obligation a été modifiée par quelqu’un d’autre depuis que vous avez ouvert le formulaire. "
                "Vos modifications n’ont pas été enregistrées : rechargez la page."
            )
    return agreement["id"]


async def delete_obligation(viewer: Viewer, obligation_id: int, data: Mapping[str, Any]) -> int:
    """Take an obligation out of a draft; the history keeps a « supprimee » entry. Returns the agreement id."""
    obligation = await obligation_for(viewer, obligation_id)
    agreement = obligation["agreement_row"]
    _require_edit(viewer, agreement, "Votre rôle ne permet pas de modifier les obligations de ce contrat.")
    _require_state(agreement, DRAFTING, DRAFT_ONLY)
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    form.raise_if_errors("Version manquante : rechargez la page.")
    async with write_transaction():
        await hold_agreement(agreement["id"], DRAFTING, DRAFT_ONLY)
        deleted = (
            await Obligation.delete()
            .where((Obligation.id == obligation_id) & (Obligation.version == version))
            .returning(Obligation.id)
        )
        if not deleted:
            raise Conflict("Cette obligation a été modifiée entre-temps : rechargez la page avant de la retirer.")
        await lifecycle.record(subject="obligation", subject_id=obligation_id,
                             territory_id=obligation["owner_territory"], source=obligation["status"],
                             target="supprimee", actor=viewer,
                             comment=f"Obligation retirée du projet de contrat : « {obligation['title']} »")
    return agreement["id"]


# --- linked roadmap actions --------------------------------------------------------------------------------


async def linked_actions(viewer: Viewer, agreement: dict) -> list[dict]:
    """The linked actions this person may know of (a confidential one stays inside its territory)."""
    rows = await AgreementAction.select(
        AgreementAction.action.id.as_alias("id"),
        AgreementAction.action.title.as_alias("title"),
        AgreementAction.action.status.as_alias("status"),
        AgreementAction.action.deadline.as_alias("deadline"),
        AgreementAction.action.territory.as_alias("territory"),
        AgreementAction.action.confidential.as_alias("confidential"),
        AgreementAction.action.territory.name.as_alias("territory_name"),
    ).where(AgreementAction.agreement == agreement["id"]).order_by(AgreementAction.id)
    today = clock.today()
    visible = []
    for row in rows:
        if row["confidential"] and not viewer.can_see_confidential(row["territory"]):
            continue
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
        row["readable"] = viewer.can_read_action(row["territory"], row["confidential"])
        row["can_unlink"] = viewer.can_edit_territory(row["territory"]) and agreement["state"] in OPEN
        visible.append(row)
    return visible


async def candidate_actions(viewer: Viewer, agreement: dict) -> list[dict]:
    """Actions one may link: of a party territory this person edits, not confidential, not linked yet."""
    territories = [t for t in agreement["party_territories"] if viewer.can_edit_territory(t)]
    if not territories or agreement["state"] not in OPEN:
        return []
    linked = AgreementAction.select(AgreementAction.action).where(AgreementAction.agreement == agreement["id"])
    return await Action.select(
        Action.id, Action.title, Action.territory.name.as_alias("territory_name"),
        Action.roadmap.title.as_alias("roadmap_title"),
    ).where(
        Action.territory.is_in(territories) & Action.confidential.eq(False) & Action.id.not_in(linked)
    ).order_by(Action.territory.name).order_by(Action.title)


async def link_action(viewer: Viewer, agreement_id: int, data: Mapping[str, Any]) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    _require_edit(viewer, agreement)
    _require_state(agreement, OPEN, CLOSED_AGREEMENT)
    form = FormReader(data)
    action_id = form.id_in("action", "Action", {a["id"] for a in await candidate_actions(viewer, agreement)},
                           required=True)
    form.raise_if_errors(
        "Cette action ne peut être liée : choisissez une action non confidentielle d’une feuille de route de "
        "votre territoire, partie au contrat."
    )
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT)
        if await AgreementAction.exists().where(
            (AgreementAction.agreement == agreement_id) & (AgreementAction.action == action_id)
        ):
            raise InvalidInput("Cette action est déjà liée au contrat.", errors={"action": "Déjà liée."})
        await AgreementAction.insert(
            AgreementAction(agreement=agreement_id, action=action_id, created_at=clock.now())
        )


async def unlink_action(viewer: Viewer, agreement_id: int, action_id: int) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    link = await AgreementAction.select(
        AgreementAction.id, AgreementAction.action.territory.as_alias("territory"),
        AgreementAction.action.confidential.as_alias("confidential"),
    ).where((AgreementAction.agreement == agreement_id) & (AgreementAction.action == action_id)).first()
    if link is None or (link["confidential"] and not viewer.can_see_confidential(link["territory"])):
        raise NotFound("Cette action n’est pas liée à ce contrat.")
    if not viewer.can_edit_territory(link["territory"]):
        raise Forbidden("Seuls les éditeurs et référents du territoire de l’action la retirent du contrat.")
    _require_state(agreement, OPEN, CLOSED_AGREEMENT)
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT)
        await AgreementAction.delete().where(AgreementAction.id == link["id"])


async def agreements_of_action(viewer: Viewer, action_id: int) -> list[dict]:
    """For the action page: the agreements the action is linked to that this person may read."""
    rows = await AgreementAction.select(
        AgreementAction.agreement.id.as_alias("id"),
        AgreementAction.agreement.title.as_alias("title"),
        AgreementAction.agreement.state.as_alias("state"),
    ).where(AgreementAction.action == action_id).order_by(AgreementAction.agreement.title)
    if not rows:
        return []
    parties = await AgreementParty.select(AgreementParty.agreement, AgreementParty.territory).where(
        AgreementParty.agreement.is_in([r["id"] for r in rows])
    )
    territories: dict[int, list[int]] = {}
    for p in parties:
        territories.setdefault(p["agreement"], []).append(p["territory"])
    return [r for r in rows if viewer.can_read_agreement(territories.get(r["id"], []))]


# --- review dates ------------------------------------------------------------------------------------------


async def reviews_of(agreement_id: int) -> list[dict]:
    return await AgreementReview.select(AgreementReview.id, AgreementReview.review_on, AgreementReview.title).where(
        AgreementReview.agreement == agreement_id
    ).order_by(AgreementReview.review_on).order_by(AgreementReview.id)


async def add_review(viewer: Viewer, agreement_id: int, data: Mapping[str, Any]) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    _require_edit(viewer, agreement)
    _require_state(agreement, OPEN, CLOSED_AGREEMENT)
    form = FormReader(data)
    review_on = read_date(form, "review_on", "Date de la revue", required=True)
    title = form.text("review_title", "Intitulé de la revue", max_length=120) or "Revue à mi-parcours"
    start, end = agreement["in_force_on"], agreement["ends_on"]
    if review_on:
        form.check(not (start and review_on < start), "review_on",
                   f"La revue ne peut précéder l’entrée en vigueur du contrat ({date_fr(start) if start else ''}).")
        form.check(not (end and review_on > end), "review_on",
                   f"La revue ne peut suivre la date de fin du contrat ({date_fr(end) if end else ''}).")
    form.raise_if_errors()
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT)
        if await AgreementReview.count().where(AgreementReview.agreement == agreement_id) >= MAX_REVIEWS:
            raise InvalidInput(f"Un contrat compte {MAX_REVIEWS} revues au plus.", errors={"review_on": "Trop de revues."})
        await AgreementReview.insert(AgreementReview(agreement=agreement_id, review_on=review_on, title=title))


async def delete_review(viewer: Viewer, agreement_id: int, review_id: int) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    if not await AgreementReview.exists().where(
        (AgreementReview.id == review_id) & (AgreementReview.agreement == agreement_id)
    ):
        raise NotFound("Cette revue n’existe pas.")
    _require_edit(viewer, agreement)
    _require_state(agreement, OPEN, CLOSED_AGREEMENT)
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT)
        await AgreementReview.delete().where(
            (AgreementReview.id == review_id) & (AgreementReview.agreement == agreement_id)
        )


# --- for the partners' commitments page (/engagements) -----------------------------------------------------


async def obligations_for_partners(partner_ids: set[int]) -> list[dict]:
    """Obligations carried by these partners, for their contacts' /engagements page. The caller has checked that
    the viewer is a contact of these partners. Drafts (brouillon) are left out: a partner sees an obligation once
    the parties negotiate it. Each dict: agreement_id, agreement_title, agreement_state, obligation_id,
    obligation_title, deadline, status, overdue, party_name (the party that brings it), partner_id, partner_name.
    Sorted by deadline (none last)."""
    ids = [i for i in partner_ids if isinstance(i, int)]
    if not ids:
        return []
    rows = await Obligation.select(
        Obligation.agreement.id.as_alias("agreement_id"),
        Obligation.agreement.title.as_alias("agreement_title"),
        Obligation.agreement.state.as_alias("agreement_state"),
        Obligation.id.as_alias("obligation_id"),
        Obligation.title.as_alias("obligation_title"),
        Obligation.deadline,
        Obligation.status,
        Obligation.owner.territory.name.as_alias("party_name"),
        Obligation.partner.id.as_alias("partner_id"),
        Obligation.partner.name.as_alias("partner_name"),
    ).where(Obligation.partner.is_in(ids) & (Obligation.agreement.state != "brouillon"))
    today = clock.today()
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or date.max, r["obligation_id"]))
    return rows
