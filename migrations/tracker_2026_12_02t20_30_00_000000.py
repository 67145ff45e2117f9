"""Reciprocity agreements (issue 13), what the ORM cannot say: unique amendment numbers per agreement and one
deliberation-and-signature row per (amendment, party); and the existing themes put in order.

Themes used to be typed in one field and split on commas and semicolons, then shown in alphabetical order. Each
stored piece stays a theme of its own (which pieces were once one theme cannot be known), in the order they were
stored (their id), and loses the quotation marks a split left at one end (« "Mobilités » and « habitat" »), unless
that would leave nothing or repeat another theme of the same agreement.

Backwards: the indexes go; the positions and the columns go with the previous migration's backwards step; the
quotation marks removed are not put back (nothing else depends on them).

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T20:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "contrats : numéros d’avenant uniques, thèmes existants ordonnés"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_amendment_number_uniq ON agreement_amendment (agreement, number)",
    "CREATE UNIQUE INDEX IF NOT EXISTS amendment_party_uniq ON amendment_party (amendment, party)",
]

DROP_INDEXES = [
    "DROP INDEX amendment_party_uniq",
    "DROP INDEX agreement_amendment_number_uniq",
]

# Straight and typographic quotation marks, and the spaces around them.
QUOTES = "\"«»“”'’ "

POSITIONS = """
UPDATE agreement_theme SET position = (
    SELECT COUNT(*) FROM agreement_theme AS earlier
    WHERE earlier.agreement = agreement_theme.agreement AND earlier.id <= agreement_theme.id
)
"""


def _unquote(function: str) -> str:
    quotes = QUOTES.replace("'", "''")
    mine, other = f"{function}(agreement_theme.theme, '{quotes}')", f"{function}(other.theme, '{quotes}')"
    # Left alone when another theme of the agreement is, or would become, the same: the names stay unique.
    return f"""
UPDATE agreement_theme SET theme = {mine}
WHERE {mine} <> agreement_theme.theme AND {mine} <> ''
  AND NOT EXISTS (
    SELECT 1 FROM agreement_theme AS other
    WHERE other.agreement = agreement_theme.agreement AND other.id <> agreement_theme.id AND {other} = {mine}
  )
"""


SQLITE_UNQUOTE = _unquote("trim")
POSTGRES_UNQUOTE = _unquote("btrim")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in INDEXES:
            await db.run_ddl(statement)
        await db.run_ddl(POSITIONS)
        await db.run_ddl(POSTGRES_UNQUOTE if isinstance(db, PostgresEngine) else SQLITE_UNQUOTE)

    async def run_backwards():
        db = engine_finder()
        for statement in DROP_INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
