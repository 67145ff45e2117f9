"""The API's query strings read into typed values: paging and each list's filters. Handlers declare their
parameters (the OpenAPI schema documents them) and hand what Litestar read to a `read_…` function here; a bad value
raises `BadQuery`, a 400 whose `erreur.champs` names every bad parameter."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from litestar.params import QueryParameter

from tracker.agreements.states import AGREEMENT_STATE_LABELS
from tracker.commitments.states import STATE_LABELS as COMMITMENT_STATE_LABELS
from tracker.core.forms import MAX_INT, FormReader

PER_PAGE_DEFAULT = 50
PER_PAGE_MAX = 200
PAGE_MAX = 100_000
BAD = "Paramètre invalide : "

PageParam = Annotated[str | None, QueryParameter(description="Numéro de page, à partir de 1.")]
PerPageParam = Annotated[
    str | None,
    QueryParameter(description=f"Éléments par page, de 1 à {PER_PAGE_MAX} ({PER_PAGE_DEFAULT} par défaut)."),
]


@dataclass(frozen=True)
class Paging:
    page: int = 1
    size: int = PER_PAGE_DEFAULT

    def window(self, ids: list[int]) -> list[int]:
        """The ids of this page."""
        return ids[(self.page - 1) * self.size : self.page * self.size]


def read_paging(query: Mapping[str, Any]) -> Paging:
    """`page` (from 1) and `par_page` (1 to 200, 50 by default)."""
    form = FormReader(query)
    page = form.integer("page", "page", minimum=1, maximum=PAGE_MAX) or 1
    size = form.integer("par_page", "par_page", minimum=1, maximum=PER_PAGE_MAX) or PER_PAGE_DEFAULT
    form.raise_if_bad_query(BAD)
    return Paging(page=page, size=size)


@dataclass(frozen=True)
class RoadmapFilter:
    siren: str | None = None  # one territory's roadmaps


def read_roadmap_filter(query: Mapping[str, Any]) -> RoadmapFilter:
    form = FormReader(query)
    siren = form.raw("territoire").strip()
    if siren:
        form.check(
            len(siren) == 9 and siren.isascii() and siren.isdigit(),
            "territoire",
            "« territoire » doit être un SIREN (9 chiffres).",
        )
    form.raise_if_bad_query(BAD)
    return RoadmapFilter(siren=siren or None)


@dataclass(frozen=True)
class CommitmentFilter:
    action: int | None = None
    state: str | None = None


def read_commitment_filter(query: Mapping[str, Any]) -> CommitmentFilter:
    form = FormReader(query)
    action = form.integer("action", "action", minimum=1, maximum=MAX_INT)
    state = form.choice("etat", "etat", COMMITMENT_STATE_LABELS)
    form.raise_if_bad_query(BAD)
    return CommitmentFilter(action=action, state=state)


@dataclass(frozen=True)
class AgreementFilter:
    state: str | None = None


def read_agreement_filter(query: Mapping[str, Any]) -> AgreementFilter:
    form = FormReader(query)
    state = form.choice("etat", "etat", AGREEMENT_STATE_LABELS)
    form.raise_if_bad_query(BAD)
    return AgreementFilter(state=state)
