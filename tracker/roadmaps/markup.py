"""An action's status badge and deadline as HTML, shared by every page that lists actions (the roadmap and CODIR
templates through web/templating.py's globals, « à relancer »'s rows in review/routes.py): functions rather than
Jinja macros (a macro call builds a frame, a context and a caller each time), the bytes of the macros they replaced
(tests/test_templates.py keeps those as the reference)."""
from __future__ import annotations

from markupsafe import Markup, escape

from tracker.core import french
from tracker.roadmaps.statuses import STATUS_LABELS

NO_DEADLINE = Markup('<span class="muted">Sans échéance</span>')
OVERDUE = Markup('<span class="badge overdue">En retard</span>')


def status_badge(status) -> Markup:
    return Markup(f'<span class="badge status-{escape(status)}">{escape(STATUS_LABELS.get(status, status))}</span>')


def overdue_badge() -> Markup:
    return OVERDUE


def due(deadline, overdue=False) -> Markup:
    """A deadline as a `<time>`, its distance from today, « En retard » when `overdue`; « Sans échéance » if none."""
    if not deadline:
        return NO_DEADLINE
    shown = (f'<time datetime="{escape(french.datetime_attr(deadline))}">{escape(french.date_fr(deadline))}</time> '
             f'<span class="muted">({escape(french.relative_fr(deadline))})</span>')
    return Markup(f"{shown} {OVERDUE}" if overdue else shown)
