"""Domain errors. Every layer raises these; the web layer turns them into French pages and 4xx codes."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    title = "Requête invalide"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    status_code = 404
    title = "Page introuvable"


class Forbidden(DomainError):
    status_code = 403
    title = "Accès refusé"


class InvalidInput(DomainError):
    status_code = 422
    title = "Saisie à corriger"


class Conflict(DomainError):
    status_code = 409
    title = "Modification concurrente"


class BadQuery(InvalidInput):
    """A query string that cannot be read (a filter, a page number): 400, with the French reason."""

    status_code = 400
    title = "Requête invalide"


class NotAuthenticated(Exception):
    """Raised by the signed-in guard; the app sends the visitor to /connexion."""
