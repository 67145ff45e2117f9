"""How pages are rendered: the shared macros are imported without the page's context (Jinja then builds their
module once per process instead of once per table row: a third of the roadmap page's time at network scale), and
the forms' CSRF field comes from the request being answered, in whole pages and in htmx fragments alike."""
import re
from pathlib import Path

import pytest

from tests.factories import EMAILS

pytestmark = pytest.mark.anyio

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TOKEN_FIELD = re.compile(r'name="_csrf_token" value="([^"]*)"')
HTMX_TOKEN = re.compile(r'data-hx-headers=\'\{"x-csrftoken": "([^"]+)"\}\'')


def test_no_template_imports_the_shared_macros_with_its_context():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r'from\s+"macros\.html"\s+import[^%]*with context', line)
    ]
    assert offenders == []


async def test_every_form_of_a_page_and_of_a_fragment_carries_the_token_of_the_session(client, world):
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    session_token = HTMX_TOKEN.search(page.text).group(1)
    fields = TOKEN_FIELD.findall(page.text)
    assert len(fields) >= 4 and set(fields) == {session_token}  # the status form of each row, and sign-out

    fragment = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?statut=en_cours", htmx=True)
    assert fragment.text.lstrip().startswith('<section id="actions"')
    assert set(TOKEN_FIELD.findall(fragment.text)) == {session_token}

    # A row's form, sent as it is, is accepted: the status changes.
    form = client.form(f"/actions/{world.overdue}/statut", fragment)
    answer = await client.post(form.action, {**form.fields, "status": "realisee", "comment": "Fait."})
    assert answer.status_code == 303

    # Another session (the previous one closed) gets another token in the same forms.
    await client.login(EMAILS["ga_editor"])
    again = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert set(TOKEN_FIELD.findall(again.text)) == {HTMX_TOKEN.search(again.text).group(1)} != {session_token}


def test_a_dicts_keys_and_methods_read_in_a_template_as_jinja_reads_them():
    """The faster attribute read (tracker/web/templating.py) answers what Jinja's own does: keys for names, dict's
    methods for its own names, an undefined value for a missing key."""
    from jinja2 import Environment, StrictUndefined, UndefinedError

    from tracker.web.templating import _getattr_for

    source = "{{ row.title }}|{{ row.items()|list|length }}|{{ row.get('n') }}|{{ row.missing is defined }}"
    row = {"title": "Guichet", "n": 3}
    plain = Environment()
    faster = Environment()
    faster.getattr = _getattr_for(faster)
    assert faster.from_string(source).render(row=row) == plain.from_string(source).render(row=row) \
        == "Guichet|2|3|False"
    strict = Environment(undefined=StrictUndefined)
    strict.getattr = _getattr_for(strict)
    with pytest.raises(UndefinedError):
        strict.from_string("{{ row.missing }}").render(row=row)
