"""The audit log (ASVS V7): sign-ins, refusals and administrative changes, one JSON object per line on the
`tracker.audit` logger (to standard error, or to the file AUDIT_LOG names: see core.logs). Chosen over a table:
it costs no database write on a sign-in under attack, it cannot be rewritten by the application's database role,
and the operator's log shipping keeps it as long as they must (see SECURITY.md).

Each line: `horodatage` (UTC, ISO 8601), `evenement`, and the fields given. Never a password nor a token: keys that
name one are refused here, and values are masked and escaped (core.logs.safe)."""
from __future__ import annotations

import logging
from typing import Any

from tracker.core import clock
from tracker.core.logs import safe

log = logging.getLogger("tracker.audit")
_FORBIDDEN_KEYS = ("password", "mot_de_passe", "token", "jeton", "secret", "cookie", "hash")


def record(event: str, **fields: Any) -> None:
    """One audit line: `event` (connexion_reussie, connexion_refusee, membre_ajoute…) and what identifies it
    (utilisateur, adresse_ip, compte, territoire…)."""
    for key in fields:
        if any(word in key.lower() for word in _FORBIDDEN_KEYS):
            raise ValueError(f"le journal d’audit ne reçoit jamais de secret ({key})")
    entry = {"horodatage": clock.now().isoformat().replace("+00:00", "Z"), "evenement": event}
    entry.update({key: value if isinstance(value, (int, bool)) or value is None else safe(value)[:300]
                  for key, value in fields.items()})
    log.info("%s", event, extra={"audit": entry})
