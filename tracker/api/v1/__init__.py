"""The read-only JSON API, version 1, under /api/v1/.

Conventions (also in the OpenAPI schema at /api/v1/schema/openapi.json):
- Authentication: `Authorization: Bearer sfr_…`, a personal access token (page « Jetons d’accès »). Session cookies
  are ignored here: the API never acts on a cookie, so it needs no CSRF protection.
- A token reads exactly what its owner reads on the site now: same Viewer, same service functions.
- Field names are French, in snake_case without accents. Dates `AAAA-MM-JJ`; instants ISO 8601 in UTC.
- Lists are paginated: `?page=` (from 1) and `?par_page=` (1 to 200, 50 by default); the answer is
  `{"donnees": [...], "page": n, "par_page": n, "total": n, "pages": n}`.
- Errors: `{"erreur": {"statut", "titre", "message", "champs"}}` — 401 without a valid token (with
  `WWW-Authenticate: Bearer`), 404 for what does not exist or is not readable, 400 for a bad query parameter.

The modules, by concern:
- `schemas.py`: what the API returns (dataclasses: the OpenAPI schema is made from them) and the documented errors;
- `queries.py`: the query string read into typed values (paging, filters), bad values → `BadQuery` (400);
- `convert.py`: rows read by the domains' services → schemas;
- `territories.py`, `roadmaps.py` (roadmaps, actions and their history), `commitments.py`, `agreements.py`: the
  handlers of each resource, HTTP only: every rule is the owning domain's;
- `wiring.py`: the router (the bearer-token viewer, error handlers, headers) and the OpenAPI configuration.
"""
