"""Members of territories: invitations (links that create an account or add a role), the members page of each
territory (change a role, remove a member) and its append-only history of memberships (issue 10)."""
