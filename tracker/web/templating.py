"""The Jinja environment: French filters and the reference labels every template may use."""
from __future__ import annotations

from types import MethodType
from typing import Any

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine
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
from tracker.core.config import ROOT
from tracker.partners.kinds import LEGAL_FORM_LABELS, LEGAL_FORMS, SECTOR_LABELS
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


def _getattr(environment: Environment, obj: Any, attribute: str) -> Any:
    """Jinja's `getattr` (`row.title` in a template) reading a plain dictionary's key first when the name is not
    one of `dict`'s own attributes: the same answer as Jinja's (such a name is never an attribute of a dict, so Jinja
    reads the key after an AttributeError), without raising and catching that exception for every field of every
    row (issue 15: the rows of the pages are dictionaries). Anything else goes through Jinja's own method."""
    if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
        try:
            return obj[attribute]
        except KeyError:
            return environment.undefined(obj=obj, name=attribute)
    return Environment.getattr(environment, obj, attribute)


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.getattr = MethodType(_getattr, env)  # type: ignore[method-assign]
    env.trim_blocks = True
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
