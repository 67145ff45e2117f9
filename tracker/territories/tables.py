from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Territory(Table):
    """An EPCI (from the official list) or another body that signs agreements (added by an administrator)."""

    siren = Varchar(length=9, unique=True, index=True)
    name = Varchar(length=200, index=True)
    # CC, CA, CU, METRO, MET69 for EPCI; PETR, PNR, SM, DEP, REG, ETAT, AUTRE for the other bodies.
    kind = Varchar(length=10)
    population = Integer(null=True, default=None)
    departement = Varchar(length=3)  # the main one (the first of `departements`)
    region = Varchar(length=3)  # the main one (the first of `regions`)
    short_name = Varchar(length=100, default="")
    aliases = Text(default="")  # other names it goes by, one a line (set by an administrator)
    departements = Varchar(length=400, default="")  # every département's code, comma-separated (a PETR may span 3)
    regions = Varchar(length=100, default="")  # every région's code, comma-separated
    # name, short name and aliases without case, accents, hyphens or apostrophes, "|" between them
    # (territories.search.search_key), rewritten on every write of those: the search runs LIKE on it.
    search_key = Text(default="")
    # urbain / periurbain / rural
    typology = Varchar(length=12)
    is_epci = Boolean(default=False)
    created_at = Timestamptz()
