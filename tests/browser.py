"""A test client that acts like a person with a browser: it reads the forms on the page it was shown
(hidden fields included: CSRF token, version) and submits them, with or without htmx."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx

PASSWORD = "mot-de-passe-des-tests-2026"
CSRF_IN_PAGE = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs_list: list) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if tag == "form":
            self._form = Form(action=attrs.get("action", ""), method=attrs.get("method", "get").lower(), attrs=attrs)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.fields[attrs["name"]] = attrs.get("value", "on")
            else:
                self._form.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select:
            if "selected" in attrs or self._select not in self._form.fields:
                self._form.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self._form.fields[self._textarea or ""] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_in(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Browser:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf: str | None = None
        self.page: httpx.Response | None = None

    async def get(self, path: str, *, htmx: bool = False, **kwargs) -> httpx.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        response = await self.http.get(path, headers=headers, **kwargs)
        found = CSRF_IN_PAGE.search(response.text)
        if found:
            self.csrf = found.group(1)
        if not htmx:
            self.page = response
        return response

    async def post(
        self, path: str, data: dict | None = None, *, htmx: bool = False, csrf: bool = True, **kwargs
    ) -> httpx.Response:
        """POST as the page would: the token in the form, or (htmx) in the x-csrftoken header from hx-headers."""
        if csrf and self.csrf is None:
            await self.get("/connexion")
        data = dict(data or {})
        headers: dict[str, str] = {}
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["x-csrftoken"] = self.csrf or ""
        elif csrf:
            data.setdefault("_csrf_token", self.csrf)
        elif "_csrf_token" in data:
            del data["_csrf_token"]
        return await self.http.post(path, data=data, headers=headers, **kwargs)

    async def login(self, email: str) -> None:
        """Signed in without the form, for tests whose subject is not the sign-in: a session opened by the service
        the form uses (the previous one closed, as the form does), its cookie set, then a page for a CSRF token."""
        from tracker.accounts.service import SESSION_COOKIE, close_session, open_session
        from tracker.accounts.tables import User

        user = await User.objects().where(User.email == email).first()
        assert user is not None and user.is_active, f"aucun compte actif pour {email}"
        await close_session(self.http.cookies.get(SESSION_COOKIE))
        self.http.cookies.delete(SESSION_COOKIE)
        self.http.cookies.set(SESSION_COOKIE, await open_session(user))
        await self.get("/connexion")

    async def login_through_form(self, email: str, password: str = PASSWORD) -> httpx.Response:
        """The real sign-in, for the tests of the sign-in itself (tests/test_accounts.py)."""
        await self.get("/connexion")
        response = await self.post("/connexion", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        await self.get("/connexion")  # a fresh page, as after the redirect: a current CSRF token
        return response

    def form(self, action: str, page: httpx.Response | None = None) -> Form:
        """The form posting to `action` on the last page shown."""
        html = (page or self.page).text  # type: ignore[union-attr]
        for found in forms_in(html):
            if found.action == action:
                return found
        raise AssertionError(f"aucun formulaire vers {action} sur la page")

    async def submit(self, path: str, action: str, changes: dict | None = None, *, htmx: bool = False):
        """Open `path`, fill the form posting to `action` with `changes`, send it."""
        await self.get(path)
        fields = dict(self.form(action).fields)
        fields.update(changes or {})
        if htmx:
            fields.pop("_csrf_token", None)
        return await self.post(action, fields, htmx=htmx)
