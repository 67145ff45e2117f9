"""Who may do what. Everything is denied unless a rule here allows it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

ROLE_LABELS = {"lecteur": "Lecteur", "editeur": "Éditeur", "referent": "Référent du territoire"}
EDITING_ROLES = frozenset({"editeur", "referent"})


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and every role they hold, loaded once per request."""

    user_id: int | None = None
    email: str = ""
    full_name: str = ""
    is_admin: bool = False
    is_reviewer: bool = False
    roles: dict[int, str] = field(default_factory=dict)  # territory id → lecteur | editeur | referent
    partner_ids: frozenset[int] = frozenset()  # organisations this person is a contact of
    session_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def sees_all_territories(self) -> bool:
        return self.is_admin or self.is_reviewer

    def role_in(self, territory_id: int) -> str | None:
        """The role this person acts with in a territory: their own, or « referent » for an administrator, who may
        do on any territory what its référent can (help desk, issue 10; the history says they acted as such)."""
        if self.is_admin:
            return "referent"
        return self.roles.get(territory_id)

    def acts_as_admin(self, territory_id: int) -> bool:
        """An administrator acting on a territory of which they are not a référent."""
        return self.is_admin and self.roles.get(territory_id) != "referent"

    def can_read_territory(self, territory_id: int) -> bool:
        return self.sees_all_territories or territory_id in self.roles

    def can_edit_territory(self, territory_id: int) -> bool:
        """Create and edit actions, change statuses: the territory's éditeurs and référents, and administrators
        (acting as its référent)."""
        return self.role_in(territory_id) in EDITING_ROLES

    def can_import_roadmap(self, territory_id: int) -> bool:
        """Import a spreadsheet into a roadmap: the territory's éditeurs and référents, and administrators, who may
        import for any territory (help desk, DESIGN.md §2)."""
        return self.is_admin or self.can_edit_territory(territory_id)

    def as_help_desk(self, territory_id: int) -> Viewer:
        """An administrator acting on a territory with its référent's rights (the history names the administrator);
        anyone else unchanged. Used where an administrator may act for a territory (the import)."""
        if not self.is_admin or self.roles.get(territory_id) == "referent":
            return self
        return replace(self, roles={**self.roles, territory_id: "referent"})

    def can_manage_territory(self, territory_id: int) -> bool:
        """Members and invitations, partner directory, CODIR meeting date: référents (and administrators)."""
        return self.role_in(territory_id) == "referent"

    def can_grant_adgcf_roles(self) -> bool:
        """Invite an ADGCF reviewer or administrator: administrators only."""
        return self.is_admin

    def has_no_role(self) -> bool:
        """Signed in, and nothing to see: no territory, not of the ADGCF, no partner spoken for."""
        return self.is_authenticated and not (self.roles or self.sees_all_territories or self.partner_ids)

    def can_see_confidential(self, territory_id: int) -> bool:
        """Confidential actions stay inside the territory: its members and administrators."""
        return self.is_admin or territory_id in self.roles

    def can_read_action(self, territory_id: int, confidential: bool, committed_partner_ids: Iterable[int] = ()) -> bool:
        """Members, the ADGCF; and a partner's contacts for the actions their organisation is committed to
        (`committed_partner_ids`: the partners with a commitment on the action), never a confidential one."""
        if confidential:
            return self.can_see_confidential(territory_id)
        return self.can_read_territory(territory_id) or self.is_committed_partner(committed_partner_ids)

    def actions_scope(self, territory: Any, confidential: Any) -> Any:
        """The query twin of `can_read_action` for members and the ADGCF (the partner path goes through the
        commitments layer): a Piccolo condition on an action's territory and confidential columns, given directly
        (`Action.territory, Action.confidential`) or through a join (`Commitment.action.territory`, …)."""
        members = sorted(self.roles) or [0]
        conditions = []
        if not self.sees_all_territories:
            conditions.append(territory.is_in(members))
        if not self.is_admin:  # confidential: only the territory's members (and administrators)
            conditions.append(confidential.eq(False) | territory.is_in(members))
        if not conditions:
            return territory.is_not_null()
        scope = conditions[0]
        for condition in conditions[1:]:
            scope &= condition
        return scope

    def actions_scope_sql(self, territory: str, confidential: str, *, sqlite: bool) -> str:
        """`actions_scope` as SQL text for raw aggregate queries (only integers and booleans are written in it)."""
        members = ", ".join(str(int(t)) for t in sorted(self.roles)) or "0"
        false = "0" if sqlite else "false"
        conditions = []
        if not self.sees_all_territories:
            conditions.append(f"{territory} IN ({members})")
        if not self.is_admin:
            conditions.append(f"({confidential} = {false} OR {territory} IN ({members}))")
        return " AND ".join(conditions) or "1 = 1"

    def is_committed_partner(self, committed_partner_ids: Iterable[int]) -> bool:
        return any(p in self.partner_ids for p in committed_partner_ids)

    def can_comment_action(self, territory_id: int) -> bool:
        """Follow-up notes: the territory's editors, and ADGCF reviewers who comment on progress."""
        return self.can_edit_territory(territory_id) or self.is_reviewer

    def can_manage_workshops(self) -> bool:
        return self.is_admin

    def can_manage_territories(self) -> bool:
        return self.is_admin

    # --- contrats de réciprocité: rights come from the party territories ---------------------------------

    def can_read_agreement(self, party_territory_ids: Iterable[int]) -> bool:
        """Members of any party (lecteurs included), and the ADGCF (reviewers, administrators)."""
        return self.sees_all_territories or any(t in self.roles for t in party_territory_ids)

    def can_edit_agreement(self, party_territory_ids: Iterable[int]) -> bool:
        """The text, the state, obligations, reviews: éditeurs and référents of a party territory."""
        return any(self.role_in(t) in EDITING_ROLES for t in party_territory_ids)

    def can_sign_for(self, territory_id: int) -> bool:
        """Each party signs for itself: only its référents (not an administrator, not the other party)."""
        return self.roles.get(territory_id) == "referent"

    def editable_territories(self) -> list[int]:
        """Territories in whose name this person may start an agreement (the porteur is always a party)."""
        return [t for t, role in self.roles.items() if role in EDITING_ROLES]

    def can_start_agreements(self) -> bool:
        """Éditeurs and référents start agreements for their territories; administrators for any territory."""
        return self.is_admin or bool(self.editable_territories())

    def can_lead_agreement(self, territory_id: int) -> bool:
        """Start an agreement in a territory's name: its éditeurs and référents, administrators (help desk)."""
        return self.role_in(territory_id) in EDITING_ROLES

    def can_record_agreement(self, party_territory_ids: Iterable[int]) -> bool:
        """Record an agreement already signed (every party's deliberation and signature at once, after the fact):
        référents of a party territory, and administrators (help desk): `can_manage_territory`."""
        return any(self.can_manage_territory(t) for t in party_territory_ids)

    # --- partenaires et engagements: rights come from the territories a partner works with ---------------

    def can_read_partner(self, partner_id: int, partner_territory_ids: Iterable[int]) -> bool:
        """Members of a territory the partner works with, the partner's own contacts, and the ADGCF."""
        return (
            self.sees_all_territories
            or partner_id in self.partner_ids
            or any(t in self.roles for t in partner_territory_ids)
        )

    def managed_territories(self) -> list[int]:
        """Territories whose partner directory this person keeps: their référent roles."""
        return [t for t, role in self.roles.items() if role == "referent"]

    def can_create_partners(self) -> bool:
        return self.is_admin or bool(self.managed_territories())

    def can_manage_partner(self, partner_territory_ids: Iterable[int]) -> bool:
        """Edit a partner, its territories and its contacts' personal data (rectify, export, erase):
        référents of a territory it works with, and administrators."""
        return self.is_admin or any(self.roles.get(t) == "referent" for t in partner_territory_ids)

    def can_see_contacts(self, partner_id: int, partner_territory_ids: Iterable[int]) -> bool:
        """Contacts are personal data: shown to those who write to them (éditeurs and référents of a territory the
        partner works with), administrators, and the partner's own contacts — not to readers nor to the ADGCF."""
        return (
            self.is_admin
            or partner_id in self.partner_ids
            or any(self.roles.get(t) in EDITING_ROLES for t in partner_territory_ids)
        )

    def can_add_contacts(self, partner_territory_ids: Iterable[int]) -> bool:
        return self.is_admin or any(self.roles.get(t) in EDITING_ROLES for t in partner_territory_ids)

    def can_record_commitments(self, territory_id: int) -> bool:
        """Propose, edit and send commitments, record « tenu » or « retiré »: the action's territory's editors."""
        return self.can_edit_territory(territory_id)

    def acts_for_partner(self, partner_id: int) -> bool:
        """Confirm, decline, mark fulfilled, comment: the partner's own signed-in contacts."""
        return partner_id in self.partner_ids


ANONYMOUS = Viewer()
