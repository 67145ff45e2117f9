"""Reads of commitments used by other domains' pages (roadmap table, action page, partner page).
Imports tables only, so that roadmaps.service may import it. A fixed number of queries per page, never one per row."""
from __future__ import annotations

from tracker.core import clock
from collections.abc import Iterable

from datetime import datetime

from tracker.core.db import in_list
from tracker.core.permissions import Viewer
from tracker.commitments.states import ACTIVE, CONFIRMED
from tracker.commitments.confirmations import confirmations
from tracker.commitments.tables import Commitment, CommitmentComment, CommitmentLink
from tracker.history.service import contact_label, entries_for_many


async def confirmed_counts(action_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per action: commitments still in force (proposed, confirmed, fulfilled) and how many are confirmed.
    One aggregated query for the whole table."""
    ids = list(action_ids)
    counts: dict[int, dict[str, int]] = {i: {"confirmed": 0, "total": 0} for i in ids}
    if not ids:
        return counts
    rows = await Commitment.raw(
        "SELECT action, state, COUNT(*) AS n FROM commitment WHERE action IN " + in_list(ids) + " GROUP BY action, state",
        *ids,
    )
    for row in rows:
        count = counts.setdefault(row["action"], {"confirmed": 0, "total": 0})
        if row["state"] in ACTIVE:
            count["total"] += row["n"]
        if row["state"] in CONFIRMED:
            count["confirmed"] += row["n"]
    return counts


async def committed_partners(action_id: int, partner_ids: Iterable[int]) -> set[int]:
    """Which of these partners have a commitment (in any state) on the action."""
    ids = list(partner_ids)
    if not ids:
        return set()
    rows = await Commitment.select(Commitment.partner).where(
        (Commitment.action == action_id) & Commitment.partner.is_in(ids)
    )
    return {row["partner"] for row in rows}


def commitment_columns():
    return (
        Commitment.id,
        Commitment.action,
        Commitment.territory,
        Commitment.partner,
        Commitment.role,
        Commitment.description,
        Commitment.amount,
        Commitment.amount_unit,
        Commitment.due_on,
        Commitment.state,
        Commitment.version,
        Commitment.confirmed_at,
        Commitment.created_at,
        Commitment.updated_at,
        Commitment.partner.name.as_alias("partner_name"),
        Commitment.action.title.as_alias("action_title"),
        Commitment.action.deadline.as_alias("action_deadline"),
        Commitment.action.confidential.as_alias("action_confidential"),
        Commitment.action.roadmap.as_alias("roadmap"),
        Commitment.territory.name.as_alias("territory_name"),
        Commitment.territory.siren.as_alias("siren"),
    )


# `commitment_columns()` in SQL, for the pages' hot reads (Piccolo's `raw`, bound parameters; the same keys and types):
# building the select with its joins cost more than running it (issue 15). Followed by a condition on `c`.
COMMITMENT_ROWS = (
    "SELECT c.id, c.action, c.territory, c.partner, c.role, c.description, c.amount, c.amount_unit, c.due_on, c.state, "
    "c.version, c.confirmed_at, c.created_at, c.updated_at, p.name AS partner_name, a.title AS action_title, "
    "a.deadline AS action_deadline, a.confidential AS action_confidential, a.roadmap AS roadmap, "
    "t.name AS territory_name, t.siren AS siren FROM commitment c LEFT JOIN partner p ON p.id = c.partner "
    "LEFT JOIN action a ON a.id = c.action LEFT JOIN territory t ON t.id = c.territory WHERE "
)


def _link_status(link: dict, now: datetime) -> str:
    if link["used_at"] is not None:
        return "utilise"
    if link["voided_at"] is not None:
        return "remplace"
    if clock.aware(link["expires_at"]) <= now:
        return "expire"
    return "valide"


async def enrich(rows: list[dict], *, with_links: bool) -> list[dict]:
    """Add each commitment's history, comments and (for those who send them) its latest signed link.
    Three queries whatever the number of rows."""
    ids = [row["id"] for row in rows]
    history = await entries_for_many("commitment", ids)
    comments: dict[int, list[dict]] = {i: [] for i in ids}
    links: dict[int, dict] = {}
    if ids:
        for comment in await CommitmentComment.raw(
            "SELECT cc.commitment, cc.body, cc.created_at, cc.author_contact, u.full_name AS author_name, "
            "pc.full_name AS contact_name, pc.erased_at AS contact_erased_at, pp.name AS contact_partner "
            "FROM commitment_comment cc LEFT JOIN app_user u ON u.id = cc.author "
            "LEFT JOIN partner_contact pc ON pc.id = cc.author_contact LEFT JOIN partner pp ON pp.id = pc.partner "
            "WHERE cc.commitment IN " + in_list(ids) + " ORDER BY cc.created_at, cc.id",
            *ids,
        ):
            if comment["author_contact"]:
                who = contact_label(comment["contact_name"], comment["contact_erased_at"])
                comment["author_label"] = f"{who} ({comment['contact_partner']})"
            else:
                comment["author_label"] = comment["author_name"]
            comments[comment["commitment"]].append(comment)
        if with_links:
            now = clock.now()
            for link in await CommitmentLink.raw(
                "SELECT l.commitment, l.created_at, l.expires_at, l.used_at, l.voided_at, pc.full_name AS contact_name, "
                "pc.erased_at AS contact_erased_at FROM commitment_link l LEFT JOIN partner_contact pc ON pc.id = l.contact "
                "WHERE l.commitment IN " + in_list(ids) + " ORDER BY l.id DESC",
                *ids,
            ):
                if link["commitment"] not in links:
                    link["status"] = _link_status(link, now)
                    link["contact_label"] = contact_label(link["contact_name"], link["contact_erased_at"])
                    links[link["commitment"]] = link
    confirmed = await confirmations([row["id"] for row in rows if row.get("confirmed_at")])
    for row in rows:
        row["confirmation"] = confirmed.get(row["id"])
        row["history"] = history.get(row["id"], [])
        row["comments"] = comments.get(row["id"], [])
        row["last_link"] = links.get(row["id"])
        row["due"] = row["due_on"] or row["action_deadline"]
    return rows


async def for_action(viewer: Viewer, action: dict) -> list[dict]:
    """The commitments shown on an action page. A partner's contact reading the action through their
    organisation's commitment sees only their organisation's commitments."""
    sql, args = COMMITMENT_ROWS + "c.action = {}", [action["id"]]
    if action.get("partner_view"):
        partners = sorted(viewer.partner_ids) or [0]
        sql += " AND c.partner IN " + in_list(partners)
        args += partners
    rows = await Commitment.raw(sql + " ORDER BY c.id", *args)
    return await enrich(rows, with_links=viewer.can_record_commitments(action["territory"]))
