from piccolo.columns import Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.territories.tables import Territory


class Partner(Table):
    """An organisation taking part in actions: public, public-private, private or associative."""

    name = Varchar(length=200, index=True)
    sector = Varchar(length=20)  # public, public_prive, prive, associatif
    legal_form = Varchar(length=30)
    siren = Varchar(length=9, null=True, default=None)
    siret = Varchar(length=14, null=True, default=None)
    rna = Varchar(length=10, null=True, default=None)
    dsp_contract_end = Date(null=True, default=None)  # délégataire de service public only
    created_at = Timestamptz()


class PartnerTerritory(Table):
    """The territories a partner works with. Unique per (partner, territory)."""

    partner = ForeignKey(Partner, on_delete=OnDelete.cascade, null=False)
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False)
