"""What partners see of the agreements: the obligations their organisation carries, for their contacts'
/engagements page."""
from __future__ import annotations

from datetime import date

from tracker.agreements.tables import Obligation
from tracker.core import clock
from tracker.roadmaps.statuses import is_overdue


async def obligations_for_partners(partner_ids: set[int]) -> list[dict]:
    """Obligations carried by these partners. The caller has checked that the viewer is a contact of these
    partners. Drafts (brouillon) are left out: a partner sees an obligation once the parties negotiate it. Each
    dict: agreement_id, agreement_title, agreement_state, obligation_id, obligation_title, deadline, status,
    overdue, party_name (the party that brings it), partner_id, partner_name. Sorted by deadline (none last)."""
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
