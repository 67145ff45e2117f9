"""Query strings and forms are read at the edge into typed values: every bad parameter is named at once, in
French, and a bad query string is a 400 (BadQuery), never an InvalidInput dressed up by hand."""
from dataclasses import FrozenInstanceError
from datetime import date, timedelta

import pytest

from tracker.accounts.forms import read_sign_in
from tracker.api.forms import read_token
from tracker.api.v1.queries import (
    read_agreement_filter,
    read_commitment_filter,
    read_paging,
    read_roadmap_filter,
)
from tracker.core import clock
from tracker.core.errors import BadQuery, InvalidInput
from tracker.deadlines.queries import read_filters as read_deadline_filters
from tracker.review.forms import read_meeting
from tracker.review.queries import (
    read_action_search,
    read_dashboard_filters,
    read_follow_up_query,
    read_pack_query,
)
from tracker.roadmaps.queries import read_action_filters
from tracker.web.queries import read_territory_search

ROUTES_COVERED: set = set()  # functions only: the routes' 400s are tested with their pages


@pytest.mark.parametrize(
    "reader, query, fields",
    [
        (read_paging, {"page": "0", "par_page": "201"}, {"page", "par_page"}),
        (read_roadmap_filter, {"territoire": "12345"}, {"territoire"}),
        (read_commitment_filter, {"action": "abc", "etat": "nimporte"}, {"action", "etat"}),
        (read_agreement_filter, {"etat": "x"}, {"etat"}),
        (read_action_filters, {"statut": "inconnu", "module": "9", "axe": "x"}, {"statut", "module", "axe"}),
        (read_dashboard_filters, {"region": "99", "tri": "population", "annee": "1999"}, {"region", "tri", "annee"}),
        (read_action_search, {"territoire": "abc", "du": "2026-13-01", "page": "0"}, {"territoire", "du", "page"}),
        (read_follow_up_query, {"jours": "abc"}, {"jours"}),
        (read_pack_query, {"depuis": "hier"}, {"depuis"}),
        (read_territory_search, {"page": "-1", "q": "x" * 101}, {"page", "q"}),
        (read_deadline_filters, {"type": "inconnu", "territoire": "12"}, {"type", "territoire"}),
    ],
)
def test_a_bad_query_string_names_every_bad_parameter_in_a_400(reader, query, fields):
    with pytest.raises(BadQuery) as refused:
        reader(query)
    assert refused.value.status_code == 400
    assert set(refused.value.errors) == fields
    assert all(message.startswith("«") or message[0].isupper() for message in refused.value.errors.values())


def test_readers_give_frozen_typed_values_with_defaults():
    assert read_paging({}).page == 1 and read_paging({"par_page": "20"}).size == 20
    assert read_roadmap_filter({"territoire": " 200071827 "}).siren == "200071827"
    assert read_commitment_filter({"action": "12", "etat": ""}).action == 12
    filters = read_action_filters({"statut": "en_retard"})
    assert (filters.status, filters.overdue, filters.active) == (None, True, True)
    board = read_dashboard_filters({"tri": "retard", "ordre": "desc", "page": "2"})
    assert (board.sort, board.descending, board.page) == ("retard", True, 2)
    assert board.query(page=None) == {"tri": "retard", "ordre": "desc"}
    search = read_action_search({"du": "2026-01-01", "au": "2026-02-01", "q": "  repas  "})
    assert (search.due_from, search.text) == (date(2026, 1, 1), "repas")
    assert read_follow_up_query({}).idle_days == 60
    assert read_pack_query({}).since is None
    assert read_territory_search({"avec_feuille": "1"}).only_roadmaps
    with pytest.raises(FrozenInstanceError):
        search.page = 3  # type: ignore[misc]


def test_forms_read_into_typed_values_or_a_422_naming_the_fields():
    today = clock.today()
    assert read_meeting({"held_on": today.isoformat()}).held_on == today
    with pytest.raises(InvalidInput) as refused:
        read_meeting({"held_on": (today + timedelta(days=1)).isoformat()})
    assert refused.value.status_code == 422 and set(refused.value.errors) == {"held_on"}
    token = read_token({"name": "  Script   de suivi ", "expires_on": ""})
    assert (token.name, token.expires_on) == ("Script de suivi", None)
    with pytest.raises(InvalidInput) as refused:
        read_token({"name": "", "expires_on": (today + timedelta(days=400)).isoformat()})
    assert set(refused.value.errors) == {"name", "expires_on"}
    sign_in = read_sign_in({"email": "a@b.fr", "password": " secret ", "suivant": "//ailleurs.example"})
    assert (sign_in.password, sign_in.next_path, sign_in.complete) == (" secret ", "/", True)
    assert not read_sign_in({"email": "a@b.fr"}).complete
