"""The Jinja environment: French filters and the reference labels every template may use."""
from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup, escape
from litestar.template.config import TemplateConfig

from tracker.core.permissions import ANONYMOUS, ROLE_LABELS
from tracker.agreements.states import (
    AGREEMENT_STATE_LABELS,
    AMENDMENT_STATE_LABELS,
    EVENT_LABELS,
    PARTY_ROLE_LABELS,
)
from tracker.commitments.confirmations import describe as describe_confirmation
from tracker.commitments.states import BADGE_CLASS, ROLE_LABELS as COMMITMENT_ROLE_LABELS
from tracker.commitments.states import STATE_LABELS as COMMITMENT_STATE_LABELS
from tracker.auth.csrf import CSRF_FIELD, CURRENT_TOKEN
from tracker.core.config import ROOT, settings
from tracker.partners.kinds import LEGAL_FORM_LABELS, LEGAL_FORMS, SECTOR_LABELS
from tracker.roadmaps.markup import due, overdue_badge, status_badge
from tracker.roadmaps.statuses import MODULE_TITLES, PRIORITY_LABELS, STATUS_LABELS
from tracker.territories.reference import (
    KIND_LABELS,
    TYPOLOGY_LABELS,
    departement_name,
    region_name,
)
from tracker.core import french

HTMX_SCRIPT = "/static/htmx-2.0.11.min.js"


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _getattr_for(env):
    """Jinja's `row.title` on a dict first tries `getattr(row, "title")`, which raises AttributeError for any name
    that is not one of dict's own attributes, then reads `row["title"]`: an exception per cell (5.7 % of the event
    loop's samples on the roadmap page at 8 clients). The same answer, without the exception: a plain dict's key
    is read at once when the name is not one of dict's attributes (`items`, `get`… keep their meaning)."""
    generic = env.getattr

    def getattr_(obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return env.undefined(obj=obj, name=attribute)
        return generic(obj, attribute)

    return getattr_


# The components of every list (a row each), as functions rather than Jinja macros: a macro call builds a frame,
# a context and a caller each time (a third of the roadmap page's rendering). Same bytes as the macros they replace
# (tests/test_templates.py keeps those macros as the reference). The status badge and the deadline live in
# roadmaps/markup.py (« à relancer »'s rows, a layer below, write them too).
# f-strings over escaped values rather than Markup.format (string.Formatter, in Python: slower than the macro).


def _options(selected) -> Markup:
    return Markup("".join(f'<option value="{escape(code)}" {"selected" if code == selected else ""}>{escape(label)}'
                          "</option>" for code, label in STATUS_LABELS.items()))


_STATUS_OPTIONS = {code: _options(code) for code in [*STATUS_LABELS, None]}


def status_options(selected) -> Markup:
    """The `<option>`s of a status `<select>`, `selected` chosen: the same bytes as the loop over STATUS_LABELS the
    templates wrote per row, made once per status."""
    found = _STATUS_OPTIONS.get(selected) if isinstance(selected, str) or selected is None else None
    return found if found is not None else _options(selected)


def csrf_field() -> Markup:
    """The hidden field every form sends (`_csrf_token`), with the token of the request being answered."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(CURRENT_TOKEN.get())}">')


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.trim_blocks = True
    # A template is read from disk once per process; with DEBUG, Jinja checks its file's date at each render.
    env.auto_reload = settings.debug
    env.getattr = _getattr_for(env)
    env.lstrip_blocks = True
    env.filters.update(
        date_fr=french.date_fr,
        datetime_fr=french.datetime_fr,
        datetime_attr=french.datetime_attr,
        relative_fr=french.relative_fr,
        money_fr=french.money_fr,
        number_fr=french.number_fr,
        typo=french.typo,
        departement_name=departement_name,
        region_name=region_name,
    )
    env.globals.update(
        csrf_field=csrf_field,
        status_badge=status_badge,
        overdue_badge=overdue_badge,
        due=due,
        status_options=status_options,
        viewer=ANONYMOUS,  # pages rendered before anyone is known (errors, sign-in) see the anonymous visitor
        STATUS_LABELS=STATUS_LABELS,
        PRIORITY_LABELS=PRIORITY_LABELS,
        MODULE_TITLES=MODULE_TITLES,
        KIND_LABELS=KIND_LABELS,
        TYPOLOGY_LABELS=TYPOLOGY_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        HTMX_SCRIPT=HTMX_SCRIPT,
        AGREEMENT_STATE_LABELS=AGREEMENT_STATE_LABELS,
        AMENDMENT_STATE_LABELS=AMENDMENT_STATE_LABELS,
        AGREEMENT_EVENT_LABELS=EVENT_LABELS,
        PARTY_ROLE_LABELS=PARTY_ROLE_LABELS,
        COMMITMENT_STATE_LABELS=COMMITMENT_STATE_LABELS,
        COMMITMENT_ROLE_LABELS=COMMITMENT_ROLE_LABELS,
        COMMITMENT_BADGE_CLASS=BADGE_CLASS,
        CONFIRMATION_TEXT=describe_confirmation,
        SECTOR_LABELS=SECTOR_LABELS,
        LEGAL_FORMS=LEGAL_FORMS,
        LEGAL_FORM_LABELS=LEGAL_FORM_LABELS,
    )


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=_configure)
