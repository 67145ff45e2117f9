"""The sign-in form, read at the edge into a typed value. Nothing here is refused: a missing or wrong address or
password is one and the same failure (`service.authenticate`), so that the page says nothing about which was wrong."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import FormReader
from tracker.core.http import local_path

EMAIL_MAX = 254
PASSWORD_MAX = 1024  # argon2id hashes anything, but not a megabyte per attempt


@dataclass(frozen=True)
class SignInInput:
    email: str  # as typed (cut to 254 characters); `service.authenticate` normalises it
    password: str  # as typed, never stripped
    next_path: str  # a local path to go to once signed in, "/" by default

    @property
    def complete(self) -> bool:
        return bool(self.email and self.password)


def read_sign_in(data: Mapping[str, Any]) -> SignInInput:
    form = FormReader(data)
    return SignInInput(
        email=form.raw("email")[:EMAIL_MAX],
        password=form.raw("password")[:PASSWORD_MAX],
        next_path=local_path(form.raw("suivant"), "/"),
    )


def read_reset_request(data: Mapping[str, Any]) -> str:
    """The address typed on « mot de passe oublié » (never refused: the answer is the same for any address)."""
    return FormReader(data).raw("email").strip()[:EMAIL_MAX]


def read_new_password(data: Mapping[str, Any]) -> tuple[str, str]:
    """(new password, its confirmation), as typed, never stripped; judged by `passwords.password_problem`."""
    form = FormReader(data)
    return form.raw("new_password")[:PASSWORD_MAX], form.raw("confirmation")[:PASSWORD_MAX]


def read_password_change(data: Mapping[str, Any]) -> tuple[str, str, str]:
    """(current password, new password, confirmation)."""
    return (FormReader(data).raw("current_password")[:PASSWORD_MAX], *read_new_password(data))


def read_name(data: Mapping[str, Any]) -> str:
    form = FormReader(data)
    name = form.text("full_name", "Nom", max_length=120, required=True)
    form.raise_if_errors()
    return name
