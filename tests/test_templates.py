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


REFERENCE_MACROS = """
{% macro status_badge(status) -%}
<span class="badge status-{{ status }}">{{ STATUS_LABELS.get(status, status) }}</span>
{%- endmacro %}
{% macro overdue_badge() -%}
<span class="badge overdue">En retard</span>
{%- endmacro %}
{% macro due(deadline, overdue) -%}
{% if deadline %}<time datetime="{{ deadline|datetime_attr }}">{{ deadline|date_fr }}</time> <span class="muted">({{ deadline|relative_fr }})</span>{% if overdue %} {{ overdue_badge() }}{% endif %}{% else %}<span class="muted">Sans échéance</span>{% endif %}
{%- endmacro %}
"""


def test_the_row_components_write_the_bytes_the_macros_they_replace_wrote():
    """status_badge, overdue_badge and due are Python globals (tracker/web/templating.py); the Jinja macros they
    replace, kept here word for word, are the reference, in the application's own environment."""
    from datetime import date, datetime, timedelta, timezone

    from jinja2 import ChoiceLoader, DictLoader
    from litestar.plugins.jinja import JinjaTemplateEngine

    from tracker.core import clock
    from tracker.web.templating import template_config

    config = template_config()
    engine = JinjaTemplateEngine(directory=config.directory)
    config.engine_callback(engine)
    env = engine.engine
    call = "{{ status_badge(s) }}|{{ due(d, o) }}|{{ overdue_badge() }}"
    env.loader = ChoiceLoader([DictLoader({"reference": REFERENCE_MACROS}), env.loader])
    reference = env.from_string("{% from 'reference' import status_badge, due, overdue_badge %}" + call)
    globals_ = env.from_string(call)
    today = clock.today()
    cases = [
        ("en_cours", None, False), ("realisee", today, False), ("bloquee", today - timedelta(days=40), True),
        ("a_venir", today + timedelta(days=400), False), ("<inconnu & \"x\">", date(2026, 1, 1), True),
        ("abandonnee", datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc), True), ("en_pause", "", False),
    ]
    for status, deadline, overdue in cases:
        expected = reference.render(s=status, d=deadline, o=overdue)
        assert globals_.render(s=status, d=deadline, o=overdue) == expected, (status, deadline, overdue)
    assert "&lt;inconnu &amp; &#34;x&#34;&gt;" in globals_.render(s="<inconnu & \"x\">", d=None, o=False)


def test_a_status_selects_options_are_those_the_loop_wrote():
    from jinja2 import Environment

    from tracker.roadmaps.statuses import STATUS_LABELS
    from tracker.web.templating import status_options

    loop = Environment(autoescape=True).from_string(
        '{% for code, label in STATUS_LABELS.items() %}<option value="{{ code }}" {% if chosen == code %}selected'
        '{% endif %}>{{ label }}</option>{% endfor %}')
    for chosen in [*STATUS_LABELS, None, "", "inconnu", "<b>"]:
        assert str(status_options(chosen)) == loop.render(STATUS_LABELS=STATUS_LABELS, chosen=chosen), chosen
    assert str(status_options("bloquee")).count(" selected>") == 1


REFERENCE_DASHBOARD_ROW = """{% for row in rows %}
      <tr>
        <th scope="row"><a href="/territoires/{{ row.siren }}">{{ row.name }}</a><br><span class="muted">{{ KIND_LABELS.get(row.kind, row.kind) }}{% if row.departement %}, {{ row.departement }}{% endif %}</span></th>
        <td class="num">{{ row.total }}</td>
        {% for code in STATUS_LABELS %}<td class="num">{{ row.by_status[code] }}</td>{% endfor %}
        <td class="num">{{ (row.share_done * 100)|round|int }}&nbsp;%</td>
        <td class="num">{{ row.overdue }}</td>
        <td class="num">{{ row.commitments.get('confirme', 0) }}&nbsp;/ {{ row.commitments.get('propose', 0) }}</td>
        <td>{% for state, n in row.agreements.items() %}{{ n }} {{ agreement_states.get(state, state)|lower }}{{ ', ' if not loop.last }}{% else %}<span class="muted">Aucun</span>{% endfor %}</td>
        <td>{% if row.last_update %}{{ row.last_update|date_fr }} <span class="muted">({{ row.last_update|relative_fr }})</span>{% else %}<span class="muted">Jamais</span>{% endif %}</td>
      </tr>
{% endfor %}"""


def test_a_dashboard_row_is_the_markup_the_template_wrote():
    """/pilotage's rows are written by `review.routes.dashboard_row` (100 rows × 20 Jinja expressions were half of
    the page's time); the template's row, kept here, is the reference, in the application's environment."""
    from datetime import datetime, timedelta, timezone

    from litestar.plugins.jinja import JinjaTemplateEngine

    from tracker.agreements.states import AGREEMENT_STATE_LABELS
    from tracker.core import clock
    from tracker.review.routes import dashboard_row
    from tracker.roadmaps.statuses import STATUS_LABELS
    from tracker.web.templating import template_config

    config = template_config()
    engine = JinjaTemplateEngine(directory=config.directory)
    config.engine_callback(engine)
    reference = engine.engine.from_string(REFERENCE_DASHBOARD_ROW)
    mine = engine.engine.from_string("{% for row in rows %}\n      {{ dashboard_row(row) }}\n{% endfor %}")
    counts = dict.fromkeys(STATUS_LABELS, 0)
    rows = [
        {"siren": "200071827", "name": "Grand Angoulême", "kind": "CA", "departement": "16", "total": 7,
         "by_status": {**counts, "realisee": 2, "bloquee": 1, "en_cours": 4}, "share_done": 2 / 7, "overdue": 3,
         "commitments": {"confirme": 4, "propose": 1}, "agreements": {"signe": 1, "brouillon": 2},
         "last_update": clock.now() - timedelta(days=3)},
        {"siren": "200000001", "name": "CC <Tom & \"Jerry\"> l'été", "kind": "inconnu", "departement": "", "total": 0,
         "by_status": counts, "share_done": 0.0, "overdue": 0, "commitments": {}, "agreements": {},
         "last_update": None},
        {"siren": "200000002", "name": "Métropole", "kind": "ME", "departement": "2A", "total": 8,
         "by_status": {**counts, "realisee": 1}, "share_done": 1 / 8, "overdue": 0,
         "commitments": {"propose": 2}, "agreements": {"resilie": 1},
         "last_update": datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)},
    ]
    for row in rows:
        assert mine.render(rows=[row], dashboard_row=dashboard_row) == reference.render(
            rows=[row], agreement_states=AGREEMENT_STATE_LABELS), row["name"]


REFERENCE_FILTER_OPTIONS = """
{%- for code, name in regions.items() %}<option value="{{ code }}" {% if filters.region == code %}selected{% endif %}>{{ name }}</option>{% endfor %}|
{%- for code, d in departements.items() %}<option value="{{ code }}" {% if filters.departement == code %}selected{% endif %}>{{ code }} – {{ d[0] }}</option>{% endfor %}|
{%- for code, label in kinds.items() %}<option value="{{ code }}" {% if filters.kind == code %}selected{% endif %}>{{ label }}</option>{% endfor %}|
{%- for m, t in modules.items() %}<option value="{{ m }}" {% if filters.module == m %}selected{% endif %}>{{ m }} – {{ t|truncate(40) }}</option>{% endfor %}"""


def test_the_dashboards_filter_options_are_those_the_loops_wrote():
    """/pilotage's four filter lists come from `review.routes.filter_options` (made once per process); the loops
    the template ran, kept here, are the reference, in the application's environment, chosen value or not."""
    from litestar.plugins.jinja import JinjaTemplateEngine

    from tracker.review.queries import DashboardFilters
    from tracker.review.routes import filter_options
    from tracker.roadmaps.statuses import MODULE_TITLES
    from tracker.territories.reference import KIND_LABELS, departements, regions
    from tracker.web.templating import template_config

    config = template_config()
    engine = JinjaTemplateEngine(directory=config.directory)
    config.engine_callback(engine)
    reference = engine.engine.from_string(REFERENCE_FILTER_OPTIONS)
    mine = engine.engine.from_string(
        "{{ filter_options('region', filters.region) }}|{{ filter_options('departement', filters.departement) }}|"
        "{{ filter_options('kind', filters.kind) }}|{{ filter_options('module', filters.module) }}")
    cases = [DashboardFilters(), DashboardFilters(region="84", departement="2A", kind="CC", module=2),
             DashboardFilters(region="01", departement="974", kind="MET69", module=4),
             DashboardFilters(region="zz", departement="<b>", kind="AUTRE", module=1)]
    for filters in cases:
        expected = reference.render(filters=filters, regions=regions(), departements=departements(),
                                    kinds=KIND_LABELS, modules=MODULE_TITLES)
        assert mine.render(filters=filters, filter_options=filter_options) == expected, filters
        assert expected.count(" selected>") == sum(
            [filters.region in regions(), filters.departement in departements(), filters.kind in KIND_LABELS,
             filters.module in MODULE_TITLES])


# templates/review/charts.html as it was when the charts were Jinja macros (word for word): the reference.
REFERENCE_CHARTS = """{# SVG charts drawn on the server, each followed by its data table (RGAA: a table equivalent to every chart). #}
{% macro data_table(chart, rows, id) -%}
<details class="chart-data">
  <summary>Données du graphique «&nbsp;{{ chart.title }}&nbsp;» (tableau)</summary>
  <div class="table-scroll" role="region" aria-labelledby="{{ id }}-titre" tabindex="0">
  <table class="table">
    <caption class="sr-only">{{ chart.title }}</caption>
    <thead><tr><th scope="col">{{ chart.headers[0] }}</th><th scope="col" class="num">{{ chart.headers[1] }}</th></tr></thead>
    <tbody>{% for label, value in rows %}<tr><th scope="row">{{ label }}</th><td class="num">{{ value|number_fr }}</td></tr>{% endfor %}</tbody>
  </table>
  </div>
</details>
{%- endmacro %}

{% macro bar_chart(chart, id) -%}
<figure class="chart">
  <figcaption id="{{ id }}-titre">{{ chart.title }}</figcaption>
  <svg viewBox="0 0 {{ chart.width }} {{ chart.height }}" role="img" aria-labelledby="{{ id }}-titre" aria-describedby="{{ id }}-desc" focusable="false">
    <desc id="{{ id }}-desc">{% for bar in chart.bars %}{{ bar.label }}&nbsp;: {{ bar.value }}{{ ' ; ' if not loop.last else '.' }}{% endfor %}</desc>
    {% for bar in chart.bars %}
    <text x="{{ chart.label_width - 8 }}" y="{{ bar.y + 19 }}" text-anchor="end" class="chart-label">{{ bar.label }}</text>
    <rect x="{{ chart.label_width }}" y="{{ bar.y + 4 }}" width="{{ '%.1f'|format(bar.width) }}" height="{{ chart.row_height - 10 }}" fill="{{ bar.colour }}"></rect>
    <text x="{{ '%.1f'|format(chart.label_width + bar.width + 6) }}" y="{{ bar.y + 19 }}" class="chart-value">{{ bar.value|number_fr }}</text>
    {% endfor %}
  </svg>
  {{ data_table(chart, chart.rows, id) }}
</figure>
{%- endmacro %}

{% macro line_chart(chart, id) -%}
<figure class="chart">
  <figcaption id="{{ id }}-titre">{{ chart.title }}</figcaption>
  <svg viewBox="0 0 {{ chart.width }} {{ chart.height }}" role="img" aria-labelledby="{{ id }}-titre" aria-describedby="{{ id }}-desc" focusable="false">
    <desc id="{{ id }}-desc">{% for label, value in chart.points %}{{ label }}&nbsp;: {{ value }}{{ ' ; ' if not loop.last else '.' }}{% endfor %}</desc>
    <line x1="50" y1="{{ chart.height - 40 }}" x2="{{ chart.width - 20 }}" y2="{{ chart.height - 40 }}" class="chart-axis"></line>
    <line x1="50" y1="15" x2="50" y2="{{ chart.height - 40 }}" class="chart-axis"></line>
    <text x="44" y="20" text-anchor="end" class="chart-value">{{ chart.max_value }}</text>
    <text x="44" y="{{ chart.height - 40 }}" text-anchor="end" class="chart-value">0</text>
    <polyline points="{{ chart.polyline }}" class="chart-line"></polyline>
    {% for x, y, label, value in chart.coords %}<circle cx="{{ '%.1f'|format(x) }}" cy="{{ '%.1f'|format(y) }}" r="3.5" class="chart-point"></circle>{% endfor %}
    {% for x, label in chart.ticks %}<text x="{{ '%.1f'|format(x) }}" y="{{ chart.height - 18 }}" text-anchor="middle" class="chart-label">{{ label }}</text>{% endfor %}
  </svg>
  {{ data_table(chart, chart.rows, id) }}
</figure>
{%- endmacro %}
"""


def test_the_charts_are_the_markup_the_macros_wrote():
    """/pilotage's charts are written by `BarChart.html` and `LineChart.html` (review/charts.py); the macros they
    replace, kept here, are the reference, in the application's environment (escaping, French numbers, no bar)."""
    from jinja2 import ChoiceLoader, DictLoader
    from litestar.plugins.jinja import JinjaTemplateEngine

    from tracker.review.charts import bar_chart, line_chart
    from tracker.web.templating import template_config

    config = template_config()
    engine = JinjaTemplateEngine(directory=config.directory)
    config.engine_callback(engine)
    env = engine.engine
    env.loader = ChoiceLoader([DictLoader({"reference/charts.html": REFERENCE_CHARTS}), env.loader])
    reference = env.from_string('{% from "reference/charts.html" import bar_chart, line_chart with context %}'
                                "{{ bar_chart(chart, id) if bars else line_chart(chart, id) }}")
    charts = [
        (True, bar_chart("Répartition des actions par statut", [("À venir", 6428), ("En cours", 0), ("Bloquée", 12)],
                         ("Statut", "Actions"), ["#4b5563", "#1d4e89", "#7a5c00"])),
        (True, bar_chart("Engagements <par> « secteur » & 'type'", [("Public & \"privé\"", 1234567), ("<b>", 3)],
                         ("Secteur & co", "Engagements"))),
        (True, bar_chart("Vide", [("Seul", 0)], ("A", "B"))),
        (True, bar_chart("Aucune barre", [], ("A", "B"))),
        (False, line_chart("Actions réalisées en fin de mois (12 derniers mois)",
                           [(f"mois {i} & <x>", i * 1013 - 40) for i in range(12)], ("Fin de mois", "Actions"))),
        (False, line_chart("Un point", [("déc. 2026", 0)], ("Mois", "Valeur"))),
        (False, line_chart("Aucun point", [], ("Mois", "Valeur"))),
    ]
    for bars, chart in charts:
        expected = reference.render(chart=chart, id="graphique-x", bars=bars)
        assert str(chart.html("graphique-x")) == expected, chart.title


REFERENCE_FOLLOW_UP_ROWS = {
    "idle": """{% for row in rows %}<tr>
      <th scope="row"><a href="/territoires/{{ row.siren }}">{{ row.name }}</a></th>
      <td>{% if row.last_update %}{{ row.last_update|date_fr }} <span class="muted">({{ row.last_update|relative_fr }})</span>{% else %}Jamais{% endif %}</td>
      <td>{{ who(row.id) }}</td></tr>{% endfor %}""",
    "unanswered": """{% for c in rows %}<tr>
      <th scope="row">{{ c.partner_name }}</th>
      <td><a href="/actions/{{ c.action_id }}">{{ c.action_title }}</a> <span class="muted">({{ c.territory_name }})</span></td>
      <td>{{ c.updated_at|date_fr }} <span class="muted">({{ c.updated_at|relative_fr }})</span></td>
      <td>{% if data.shows_partner_contacts %}{% for p in data.partner_contacts.get(c.partner_id, []) %}<a href="mailto:{{ p.email }}">{{ p.full_name }}</a>{{ ', ' if not loop.last }}{% else %}<span class="muted">Aucun contact enregistré</span>{% endfor %}{% else %}{{ who(c.territory) }} <span class="muted">(les coordonnées des contacts du partenaire restent au territoire)</span>{% endif %}</td></tr>{% endfor %}""",
    "silent": """{% for a in rows %}<tr>
      <th scope="row"><a href="/actions/{{ a.id }}">{{ a.title }}</a> {{ status_badge(a.status) }}</th>
      <td>{{ a.territory_name }}</td>
      <td>{{ due(a.deadline, True) }}</td>
      <td>{% if a.last_note %}{{ a.last_note|date_fr }}{% else %}Aucune{% endif %}</td>
      <td>{{ who(a.territory_id) }}{% if a.pilot_name %}<br><span class="muted">Pilote&nbsp;: {{ a.pilot_name }}</span>{% endif %}</td></tr>{% endfor %}""",
}


def test_the_follow_up_rows_are_the_markup_the_template_wrote():
    """« À relancer »'s three lists are written by `review.routes.idle_rows`, `unanswered_rows` and `silent_rows`
    (its Jinja loops were half of the page's time); the template's loops, kept here, are the reference, in the
    application's environment, over rows with missing values, accents and characters to escape."""
    from datetime import date, datetime, timedelta, timezone

    from litestar.plugins.jinja import JinjaTemplateEngine

    from tracker.core import clock
    from tracker.review.routes import _who, idle_rows, silent_rows, unanswered_rows
    from tracker.web.templating import template_config

    config = template_config()
    engine = JinjaTemplateEngine(directory=config.directory)
    config.engine_callback(engine)
    reference = {kind: engine.engine.from_string(source) for kind, source in REFERENCE_FOLLOW_UP_ROWS.items()}
    now = clock.now()
    today = clock.today()
    contacts = {
        1: [{"territory": 1, "role": "referent", "name": "Rita Référente", "email": "rita@ga.example.org"},
            {"territory": 1, "role": "editeur", "name": "Tom <& \"Jerry\">", "email": "t'o&m@x.example.org"}],
        2: [{"territory": 2, "role": "editeur", "name": "Victor", "email": "v@vr.example.org"}],
        3: [{"territory": 3, "role": "inconnu<", "name": "", "email": ""}],
    }
    idle = [
        {"id": 1, "siren": "200071827", "name": "CA du Grand Angoulême", "last_update": now - timedelta(days=70)},
        {"id": 4, "siren": "<2000>", "name": "CC <Tom & \"Jerry\"> l'été", "last_update": None},
        {"id": 3, "siren": "200068781", "name": "Valence", "last_update": datetime(2026, 3, 29, 0, 30)},
        {"id": 2, "siren": "200068782", "name": "Métropole", "last_update": datetime(2025, 1, 1, tzinfo=timezone.utc)},
    ]
    unanswered = [
        {"id": 10, "role": "pilote", "updated_at": now - timedelta(days=20), "territory": 1,
         "territory_name": "CA du Grand Angoulême", "partner_id": 5, "partner_name": "Solidarité Angoumois",
         "action_id": 7, "action_title": "Guichet unique"},
        {"id": 11, "role": "financeur", "updated_at": datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc),
         "territory": 4, "territory_name": "CC <b>&</b>", "partner_id": 6, "partner_name": "SEM « Drôme » & \"Cie\"",
         "action_id": 8, "action_title": "Audit <script>'x'</script>"},
        {"id": 12, "role": "contributeur", "updated_at": now - timedelta(days=400), "territory": 2,
         "territory_name": "Valence", "partner_id": 7, "partner_name": None, "action_id": 9, "action_title": ""},
    ]
    partner_contacts = {
        5: [{"partner": 5, "full_name": "Sophie Bernard", "email": "sophie@solidarite.example.org"},
            {"partner": 5, "full_name": "Jean <Dupont> & fils", "email": "j\"d@x.example.org"}],
        6: [{"partner": 6, "full_name": "Élise", "email": "elise@sem.example.org"}],
    }
    silent = [
        {"id": 45, "title": "Portage de repas", "status": "en_cours", "deadline": today - timedelta(days=10),
         "territory_id": 1, "territory_name": "CA du Grand Angoulême", "pilot_name": "Solidarité Angoumois",
         "last_note": None},
        {"id": 46, "title": "Carte <des> « initiatives » & 'co'", "status": "bloquee",
         "deadline": today - timedelta(days=10), "territory_id": 4, "territory_name": "CC <Tom & \"Jerry\">",
         "pilot_name": None, "last_note": now - timedelta(days=45)},
        {"id": 47, "title": "Audit", "status": "<inconnu & \"x\">", "deadline": date(2025, 6, 1), "territory_id": 2,
         "territory_name": "Valence", "pilot_name": "", "last_note": datetime(2026, 3, 29, 1, 30)},
        {"id": 48, "title": "Sans date", "status": "en_pause", "deadline": None, "territory_id": 3,
         "territory_name": "Métropole", "pilot_name": "SEM <Drôme>", "last_note": datetime(2026, 3, 29, 23, 30,
                                                                                            tzinfo=timezone.utc)},
        {"id": 49, "title": "Encore", "status": "en_cours", "deadline": today - timedelta(days=400),
         "territory_id": 1, "territory_name": "CA du Grand Angoulême", "pilot_name": "P", "last_note": None},
    ]
    for rows in ([], idle, *([row] for row in idle)):
        assert str(idle_rows(rows, _who(contacts))) == reference["idle"].render(rows=rows, who=_who(contacts))
    for shows in (False, True):
        data = {"shows_partner_contacts": shows, "partner_contacts": partner_contacts if shows else {}}
        for rows in ([], unanswered, *([row] for row in unanswered)):
            assert str(unanswered_rows(rows, _who(contacts), partner_contacts if shows else None)) == \
                reference["unanswered"].render(rows=rows, who=_who(contacts), data=data), (shows, rows)
    for rows in ([], silent, *([row] for row in silent)):
        assert str(silent_rows(rows, _who(contacts))) == reference["silent"].render(rows=rows, who=_who(contacts))
    shown = str(silent_rows(silent, _who(contacts)))
    assert "Carte &lt;des&gt; « initiatives » &amp; &#39;co&#39;" in shown and "<inconnu" not in shown
    assert "t&#39;o&amp;m@x.example.org" in shown and "Aucun référent ni éditeur" in shown
