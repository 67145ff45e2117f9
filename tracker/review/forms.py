"""The CODIR meeting form, read at the edge into a typed value with French messages."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.core import clock
from tracker.core.forms import FormReader


@dataclass(frozen=True)
class MeetingInput:
    held_on: date


def read_meeting(data: Mapping[str, Any]) -> MeetingInput:
    form = FormReader(data)
    held_on = form.date("held_on", "Date de la réunion", required=True)
    if held_on:
        form.check(held_on <= clock.today(), "held_on", "La réunion ne peut être dans le futur.")
        form.check(held_on.year >= 2000, "held_on", "Date trop ancienne.")
    form.raise_if_errors()  # a missing date is refused here: held_on is a date below
    return MeetingInput(held_on=held_on)
