"""What every API endpoint shares: pagination, the bad-query error, the documented error responses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from tracker.api.errors import ReponseErreur
from tracker.core.errors import InvalidInput
from tracker.core.forms import FormReader

PER_PAGE_DEFAULT = 50
PER_PAGE_MAX = 200
PAGE_MAX = 100_000


@dataclass
class Pagination:
    page: int
    par_page: int
    total: int
    pages: int


@dataclass
class TerritoireRef:
    siren: str
    nom: str


PageParam = Annotated[str | None, QueryParameter(description="Numéro de page, à partir de 1.")]
PerPageParam = Annotated[
    str | None,
    QueryParameter(description=f"Éléments par page, de 1 à {PER_PAGE_MAX} ({PER_PAGE_DEFAULT} par défaut)."),
]

ERRORS = {
    400: ResponseSpec(data_container=ReponseErreur, description="Paramètre de requête invalide."),
    401: ResponseSpec(data_container=ReponseErreur, description="Jeton absent, inconnu, révoqué ou expiré."),
}
ERRORS_404 = {
    **ERRORS,
    404: ResponseSpec(data_container=ReponseErreur, description="N’existe pas ou n’est pas accessible avec ce jeton."),
}


def bad_query(form: FormReader) -> InvalidInput:
    """A 400 naming every bad parameter (`erreur.champs`)."""
    error = InvalidInput("Paramètre invalide : " + " ".join(form.errors.values()), errors=form.errors)
    error.status_code = 400
    return error


def paging(page: str | None, par_page: str | None) -> tuple[int, int]:
    form = FormReader({"page": page or "", "par_page": par_page or ""})
    number = form.integer("page", "page", minimum=1, maximum=PAGE_MAX) or 1
    size = form.integer("par_page", "par_page", minimum=1, maximum=PER_PAGE_MAX) or PER_PAGE_DEFAULT
    if form.errors:
        raise bad_query(form)
    return number, size


def page_fields(items: list[Any], number: int, size: int, total: int | None = None) -> dict:
    """The page of `items` (all of them when `total` is None; else `items` is already the page), as the fields of
    a Page… dataclass."""
    if total is None:
        total = len(items)
        items = items[(number - 1) * size : number * size]
    return {"donnees": items, "page": number, "par_page": size, "total": total, "pages": max(1, -(-total // size))}


def page_of(ids: list[int], number: int, size: int) -> list[int]:
    return ids[(number - 1) * size : number * size]


def in_order(rows: list[dict], ids: list[int]) -> list[dict]:
    """`rows` (read with WHERE id IN ids) in the order of `ids`."""
    position = {ident: i for i, ident in enumerate(ids)}
    return sorted(rows, key=lambda row: position[row["id"]])
