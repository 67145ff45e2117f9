"""/admin/comptes: administrators find an account by name or address, see its roles, deactivate and reactivate it.
Composed here because deactivating voids what several domains hold for the account, in one transaction: its
sessions and reset links (accounts), its API tokens (api), its calendar addresses (deadlines) and the signed links
sent to it as a partner's contact (commitments). Every action goes to the audit log with who did it."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.accounts import service as accounts
from tracker.accounts.tables import Membership, User, UserSession
from tracker.api.tables import ApiToken
from tracker.commitments.tables import CommitmentLink
from tracker.core import audit, clock
from tracker.core.db import name_contains, write_transaction
from tracker.core.errors import InvalidInput, NotFound
from tracker.core.forms import FormReader
from tracker.core.guards import administrators_only
from tracker.core.http import redirect, render
from tracker.core.permissions import Viewer
from tracker.deadlines.tables import CalendarFeed
from tracker.members import invitations
from tracker.partners.tables import PartnerContact

PAGE_SIZE = 50
REFUSED = "L’administration des comptes est réservée aux administrateurs."
UNKNOWN = "Ce compte n’existe pas."
NOT_YOURSELF = "Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre administrateur."
GUARD = {"guards": [administrators_only], "opt": {"refusal": REFUSED}}


def _read_search(query) -> tuple[str, int]:
    form = FormReader(query)
    text = form.text("q", "Recherche", max_length=254)
    page = form.integer("page", "Page", minimum=1, maximum=10_000) or 1
    form.raise_if_bad_query()
    return text, page


async def search_accounts(text: str, page: int) -> dict:
    """Accounts whose name or address contains `text` (case-insensitive), by name, with their roles."""
    where = User.id.is_not_null()
    if text:
        where &= name_contains(User.full_name, text) | name_contains(User.email, text.lower())
    total = await User.count().where(where)
    rows = await User.select(
        User.id, User.email, User.full_name, User.is_admin, User.is_reviewer, User.is_active, User.last_login_at
    ).where(where).order_by(User.full_name).order_by(User.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ids = [row["id"] for row in rows] or [0]
    roles: dict[int, list[dict]] = {}
    for m in await Membership.select(
        Membership.user, Membership.role, Membership.territory.name.as_alias("territory"),
        Membership.territory.siren.as_alias("siren"),
    ).where(Membership.user.is_in(ids)).order_by(Membership.territory.name):
        roles.setdefault(m["user"], []).append(m)
    sessions: dict[int, int] = {}
    for s in await UserSession.select(UserSession.user).where(UserSession.user.is_in(ids)):
        sessions[s["user"]] = sessions.get(s["user"], 0) + 1
    for row in rows:
        row["roles"] = roles.get(row["id"], [])
        row["sessions"] = sessions.get(row["id"], 0)
    return {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "q": text}


@get("/admin/comptes", name="accounts_admin", **GUARD)
async def accounts_admin(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    text, page = _read_search(request.query_params)
    return render(request, "accounts/admin.html", {"listing": await search_accounts(text, page)})


async def _account(account_id: str) -> dict:
    row = await User.select(User.id, User.email, User.is_active).where(User.id == int(account_id)).first() \
        if account_id.isascii() and account_id.isdigit() and len(account_id) < 10 else None
    if row is None:
        raise NotFound(UNKNOWN)
    return row


async def deactivate(viewer: Viewer, account_id: int) -> None:
    """All at once: the account stops, its sessions end, its reset links, API tokens, calendar addresses, the
    signed links sent to it as a partner's contact and the invitations it sent are voided (they stay voided if it is reactivated)."""
    if account_id == viewer.user_id:
        raise InvalidInput(NOT_YOURSELF)
    now = clock.now()
    async with write_transaction():
        await accounts.close_account_access(account_id)
        await ApiToken.update({ApiToken.revoked_at: now}).where(
            (ApiToken.user == account_id) & ApiToken.revoked_at.is_null())
        await CalendarFeed.update({CalendarFeed.revoked_at: now}).where(
            (CalendarFeed.user == account_id) & CalendarFeed.revoked_at.is_null())
        contacts = PartnerContact.select(PartnerContact.id).where(PartnerContact.account == account_id)
        await CommitmentLink.update({CommitmentLink.voided_at: now}).where(
            CommitmentLink.contact.is_in(contacts) & CommitmentLink.used_at.is_null()
            & CommitmentLink.voided_at.is_null())
        # The invitations it sent and nobody has accepted yet: a departed référent's links stop working too.
        await invitations.revoke_sent_by(viewer, account_id)
    audit.record("compte_desactive", utilisateur=viewer.user_id, compte=account_id)


@post("/admin/comptes/{account_id:str}/desactiver", name="account_deactivate", **GUARD)
async def account_deactivate(request: Request, viewer: NamedDependency[Viewer], account_id: FromPath[str]
                             ) -> Redirect | Template:
    account = await _account(account_id)
    try:
        await deactivate(viewer, account["id"])
    except InvalidInput as error:
        context = {"listing": await search_accounts(account["email"], 1), "error": error.message}
        return render(request, "accounts/admin.html", context, status_code=error.status_code)
    return redirect("/admin/comptes", flash="compte_desactive", query={"q": account["email"]})


@post("/admin/comptes/{account_id:str}/reactiver", name="account_reactivate", **GUARD)
async def account_reactivate(request: Request, viewer: NamedDependency[Viewer], account_id: FromPath[str]
                             ) -> Redirect:
    account = await _account(account_id)
    await accounts.reopen_account(account["id"])
    audit.record("compte_reactive", utilisateur=viewer.user_id, compte=account["id"])
    return redirect("/admin/comptes", flash="compte_reactive", query={"q": account["email"]})


ROUTES = [accounts_admin, account_deactivate, account_reactivate]
