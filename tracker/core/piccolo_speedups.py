"""One cost of Piccolo's query building removed, without changing what it builds.

`ForeignKey.__getattribute__` (Piccolo 1.38, piccolo/columns/column_types.py, MIT licence) runs
`name not in dir(self)` on every public attribute read of a foreign key column — and building a query with joins
reads them hundreds of times (`_get_joins`, the column names): `dir()` builds and sorts the list of the column's
attributes each time. py-spy on the roadmap page at 8 clients: 9.7 % of the event loop's samples in that method.
The test only serves to set up a lazy reference's proxy columns, so it matters only while they are still unset.

`install()` puts in its place the same method with the same conditions evaluated cheapest first: the proxy
columns unset and the reference lazy (two attribute reads) before `dir()`. The body is Piccolo's, copied word for
word; `install()` replaces the method only when the installed Piccolo's source is the one it was copied from (its
SHA-256 below), and otherwise leaves Piccolo as it is. tests/test_piccolo_speedups.py checks that a query built
either way is the same SQL."""
from __future__ import annotations

import hashlib
import inspect
import logging
from typing import Any

from piccolo.columns.base import Column
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.reference import LazyTableReference

EXPECTED_SHA256 = "0f3e348150c5efd8423dce1ce57b8574c532634964d00fbed6e741f5b67a3d6d"  # inspect.getsource of Piccolo 1.38.0's method
_original = ForeignKey.__getattribute__
log = logging.getLogger(__name__)


def _getattribute(self: ForeignKey, name: str) -> Any:
    # Piccolo's: `if not name.startswith("_") and name not in dir(self):` then the same two checks inside.
    if not name.startswith("_"):
        try:
            _foreign_key_meta = object.__getattribute__(self, "_foreign_key_meta")
        except AttributeError:
            pass
        else:
            if (
                _foreign_key_meta.proxy_columns == []
                and isinstance(_foreign_key_meta.references, LazyTableReference)
                and name not in dir(self)
            ):
                object.__getattribute__(self, "set_proxy_columns")()

    value = object.__getattribute__(self, name)

    if name.startswith("_"):
        return value

    foreignkey_class: type[ForeignKey] = object.__getattribute__(self, "__class__")

    if isinstance(value, foreignkey_class):  # i.e. a ForeignKey
        new_column = value.copy()
        new_column._meta.call_chain.append(self)

        if len(new_column._meta.call_chain) >= 10:
            raise Exception("Call chain too long!")

        foreign_key_meta = object.__getattribute__(new_column, "_foreign_key_meta")

        for proxy_column in foreign_key_meta.proxy_columns:
            try:
                delattr(new_column, proxy_column._meta.name)
            except Exception:
                pass

        foreign_key_meta.proxy_columns = []

        for column in value._foreign_key_meta.resolved_references._meta.columns:
            _column: Column = column.copy()
            _column._meta.call_chain = list(new_column._meta.call_chain)
            setattr(new_column, _column._meta.name, _column)
            foreign_key_meta.proxy_columns.append(_column)

        return new_column
    elif issubclass(type(value), Column):
        new_column = value.copy()

        column_meta = object.__getattribute__(self, "_meta")

        new_column._meta.call_chain = column_meta.call_chain.copy()

        new_column._meta.call_chain.append(self)
        return new_column
    else:
        return value


def original_source_digest() -> str:
    return hashlib.sha256(inspect.getsource(_original).encode()).hexdigest()


def install() -> bool:
    """Replace the method if Piccolo's is the one copied above; True when replaced (or already)."""
    if ForeignKey.__getattribute__ is _getattribute:
        return True
    if original_source_digest() != EXPECTED_SHA256:
        log.warning("Piccolo a changé ForeignKey.__getattribute__ : l’accélération de tracker/core/"
                    "piccolo_speedups.py n’est pas appliquée (à revoir).")
        return False
    ForeignKey.__getattribute__ = _getattribute  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    ForeignKey.__getattribute__ = _original  # type: ignore[method-assign]
