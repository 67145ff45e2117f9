"""Who may do what. Everything is denied unless a rule here allows it."""
from __future__ import annotations

from dataclasses import dataclass, field

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

    def can_read_territory(self, territory_id: int) -> bool:
        return self.sees_all_territories or territory_id in self.roles

    def can_edit_territory(self, territory_id: int) -> bool:
        """Create and edit actions, change statuses: the territory's éditeurs and référents only."""
        return self.roles.get(territory_id) in EDITING_ROLES

    def can_manage_territory(self, territory_id: int) -> bool:
        """Users, partner directory, CODIR meeting date: référents (and administrators)."""
        return self.is_admin or self.roles.get(territory_id) == "referent"

    def can_see_confidential(self, territory_id: int) -> bool:
        """Confidential actions stay inside the territory: its members and administrators."""
        return self.is_admin or territory_id in self.roles

    def can_read_action(self, territory_id: int, confidential: bool) -> bool:
        if confidential:
            return self.can_see_confidential(territory_id)
        return self.can_read_territory(territory_id)

    def can_comment_action(self, territory_id: int) -> bool:
        """Follow-up notes: the territory's editors, and ADGCF reviewers who comment on progress."""
        return self.can_edit_territory(territory_id) or self.is_reviewer

    def can_manage_workshops(self) -> bool:
        return self.is_admin

    def can_manage_territories(self) -> bool:
        return self.is_admin


ANONYMOUS = Viewer()
