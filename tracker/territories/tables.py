from piccolo.columns import Boolean, Integer, Timestamptz, Varchar
from piccolo.table import Table


class Territory(Table):
    """An EPCI (from the official list) or another body that signs agreements (added by an administrator)."""

    siren = Varchar(length=9, unique=True, index=True)
    name = Varchar(length=200, index=True)
    # CC, CA, CU, METRO, MET69 for EPCI; PETR, PNR, SM, DEP, REG, ETAT, AUTRE for the other bodies.
    kind = Varchar(length=10)
    population = Integer(null=True, default=None)
    departement = Varchar(length=3)
    region = Varchar(length=3)
    # urbain / periurbain / rural
    typology = Varchar(length=12)
    is_epci = Boolean(default=False)
    created_at = Timestamptz()
