"""The review's query strings read into typed values at the edge: the dashboard's filters and sort, the
cross-territory action search, the « à relancer » threshold and the CODIR pack's starting date. The pages and
their downloads read them the same way; a bad value raises `BadQuery` (400) naming every bad parameter."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.core import clock
from tracker.core.forms import FormReader
from tracker.partners.kinds import SECTOR_LABELS
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.territories.reference import KIND_LABELS, departements, regions

SORTS = {
    "territoire": "Territoire",
    "actions": "Actions",
    "realise": "Part réalisée",
    "retard": "En retard",
    "bloquees": "Bloquées",
    "maj": "Dernière mise à jour",
}
IDLE_DAYS = 60  # « à relancer »: territories without an update for this many days, unless the query says otherwise


def _url_values(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, str]:
    values.update(overrides)
    return {k: str(v) for k, v in values.items() if v}


# --- /pilotage ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    region: str | None = None
    departement: str | None = None
    kind: str | None = None
    module: int | None = None
    year: int | None = None
    sort: str = "territoire"
    descending: bool = False
    page: int = 1

    def query(self, **overrides: Any) -> dict[str, str]:
        """The query string that gives these filters back (`overrides` change some of its parameters)."""
        values = {
            "page": self.page if self.page > 1 else None,
            "region": self.region,
            "departement": self.departement,
            "type": self.kind,
            "module": self.module,
            "annee": self.year,
            "tri": self.sort if self.sort != "territoire" else None,
            "ordre": "desc" if self.descending else None,
        }
        return _url_values(values, overrides)

    @property
    def active(self) -> bool:
        return any([self.region, self.departement, self.kind, self.module, self.year])


def read_dashboard_filters(query: Mapping[str, Any]) -> DashboardFilters:
    form = FormReader(query)
    filters = DashboardFilters(
        region=form.choice("region", "Région", regions()),
        departement=form.choice("departement", "Département", departements()),
        kind=form.choice("type", "Type de territoire", KIND_LABELS),
        module=form.integer("module", "Module", minimum=1, maximum=4),
        year=form.integer("annee", "Année de l’atelier", minimum=2000, maximum=2100),
        sort=form.choice("tri", "Tri", SORTS) or "territoire",
        descending=form.choice("ordre", "Ordre", {"asc": 1, "desc": 1}) == "desc",
        page=form.integer("page", "Page", minimum=1, maximum=1000) or 1,
    )
    form.raise_if_bad_query()
    return filters


# --- /pilotage/actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSearch:
    status: str | None = None
    overdue: bool = False
    module: int | None = None
    sector: str | None = None
    siren: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    text: str = ""
    page: int = 1

    def query(self, **overrides: Any) -> dict[str, str]:
        """The query string that gives this search back (`overrides` change some of its parameters)."""
        values = {
            "statut": self.status, "en_retard": "1" if self.overdue else None, "module": self.module,
            "secteur": self.sector, "territoire": self.siren,
            "du": self.due_from.isoformat() if self.due_from else None,
            "au": self.due_to.isoformat() if self.due_to else None, "q": self.text,
            "page": self.page if self.page > 1 else None,
        }
        return _url_values(values, overrides)


def read_action_search(query: Mapping[str, Any]) -> ActionSearch:
    form = FormReader(query)
    search = ActionSearch(
        status=form.choice("statut", "Statut", STATUS_LABELS),
        overdue=form.boolean("en_retard"),
        module=form.integer("module", "Module", minimum=1, maximum=4),
        sector=form.choice("secteur", "Secteur du pilote", SECTOR_LABELS),
        siren=form.text("territoire", "Territoire (SIREN)", max_length=9) or None,
        due_from=form.date("du", "Échéance à partir du"),
        due_to=form.date("au", "Échéance jusqu’au"),
        text=form.text("q", "Recherche", max_length=100),
        page=form.integer("page", "Page", minimum=1, maximum=100_000) or 1,
    )
    if search.siren and not (search.siren.isascii() and search.siren.isdigit() and len(search.siren) == 9):
        form.check(False, "territoire", "« Territoire (SIREN) » doit compter 9 chiffres.")
    if search.due_from and search.due_to:
        form.check(search.due_from <= search.due_to, "au", "La fin de la période précède son début.")
    form.raise_if_bad_query()
    return search


# --- /pilotage/relances ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpQuery:
    idle_days: int = IDLE_DAYS  # a territory without an update for longer is to be chased


def read_follow_up_query(query: Mapping[str, Any]) -> FollowUpQuery:
    form = FormReader(query)
    days = form.integer("jours", "Nombre de jours sans mise à jour", minimum=1, maximum=3650) or IDLE_DAYS
    form.raise_if_bad_query()
    return FollowUpQuery(idle_days=days)


# --- /territoires/{siren}/point-codir -------------------------------------------------------------------------


@dataclass(frozen=True)
class PackQuery:
    since: date | None = None  # None: from the last recorded CODIR meeting, else the last 30 days


def read_pack_query(query: Mapping[str, Any]) -> PackQuery:
    form = FormReader(query)
    since = form.date("depuis", "Depuis le")
    if since and since > clock.today():
        form.check(False, "depuis", "« Depuis le » ne peut être dans le futur.")
    form.raise_if_bad_query()
    return PackQuery(since=since)
