"""tracker/core/piccolo_speedups.py: Piccolo's ForeignKey.__getattribute__ with its cheapest checks first. The
queries the application builds are the same SQL with Piccolo's method and with this one, and it is in place with
the pinned Piccolo (an upgrade that changes the method makes this test fail rather than silently slow)."""
from piccolo.columns.column_types import ForeignKey

from tracker.accounts.tables import Membership, UserSession
from tracker.commitments.tables import Commitment
from tracker.core import piccolo_speedups
from tracker.roadmaps.tables import Action, Roadmap


def queries() -> list[str]:
    built = [
        Action.select(Action.id, Action.title, Action.territory.siren.as_alias("siren"),
                      Action.axis.title.as_alias("axis_title"), Action.parent.title.as_alias("parent_title"),
                      Action.parent.confidential, Action.pilot.name, Action.roadmap.workshop.held_on)
        .where((Action.territory.siren == "200071827") & (Action.roadmap.territory.name.like("%a%"))),
        Roadmap.select(Roadmap.all_columns(), Roadmap.territory.all_columns(), Roadmap.workshop.module_primary),
        Commitment.select(Commitment.id, Commitment.action.title, Commitment.action.territory.name,
                          Commitment.partner.name).where(Commitment.action.confidential.eq(False)),
        UserSession.select(UserSession.user.email, UserSession.user.is_admin).where(UserSession.token_hash == "x"),
        Membership.select(Membership.user.full_name).where(Membership.territory.siren.is_in(["1", "2"])),
        Action.update({Action.title: "t"}).where(Action.territory.kind == "CA"),
        Action.count().where(Action.roadmap.territory.id == 3),
    ]
    return [str(query) for query in built]


def test_the_pinned_piccolo_gets_the_faster_method():
    assert piccolo_speedups.original_source_digest() == piccolo_speedups.EXPECTED_SHA256
    assert piccolo_speedups.install()
    assert ForeignKey.__getattribute__ is piccolo_speedups._getattribute


def test_queries_are_the_same_sql_with_either_method():
    assert piccolo_speedups.install()
    faster = queries()
    piccolo_speedups.uninstall()
    try:
        assert ForeignKey.__getattribute__ is not piccolo_speedups._getattribute
        original = queries()
    finally:
        piccolo_speedups.install()
    assert faster == original
    assert all("JOIN" in sql for sql in faster[:5])
