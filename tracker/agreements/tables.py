from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.partners.tables import Partner
from tracker.roadmaps.tables import Action
from tracker.territories.tables import Territory


class Agreement(Table):
    """Contrat de réciprocité between two or more territories. `territory` is the territory of the person who
    created it (the porteur): always one of the parties."""

    title = Varchar(length=200)
    purpose = Text()  # objet du contrat (not "objects": that would hide Table.objects())
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False, index=True)
    state = Varchar(length=16, default="brouillon", index=True)
    in_force_on = Date(null=True, default=None)  # entrée en vigueur
    ends_on = Date(null=True, default=None, index=True)  # fin: the contract becomes « échu » after it
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    # Optimistic locking of the contract itself (its text and its state).
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AgreementTheme(Table):
    """One theme of an agreement (free text, suggestions' spelling normalised). Unique per (agreement, theme)."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.cascade, null=False, index=True)
    theme = Varchar(length=80, index=True)


class AgreementParty(Table):
    """A territory that is party to an agreement, with its own deliberation and signature.
    Unique per (agreement, territory)."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.cascade, null=False, index=True)
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False, index=True)
    position = Integer(default=0)
    deliberation_on = Date(null=True, default=None)
    deliberation_ref = Varchar(length=120)  # '' until recorded
    signed_on = Date(null=True, default=None)  # the date on the signed document
    signed_at = Timestamptz(null=True, default=None)  # when it was recorded here…
    signed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)  # …and by which référent
    version = Integer(default=1)


class Obligation(Table):
    """What a party brings (« ce que chacun apporte »): owner party, optionally carried by one of its partners,
    optionally for one beneficiary party; a status with the actions' vocabulary and rules."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.restrict, null=False, index=True)
    owner = ForeignKey(AgreementParty, on_delete=OnDelete.restrict, null=False, index=True)
    beneficiary = ForeignKey(AgreementParty, on_delete=OnDelete.restrict, null=True, default=None)
    partner = ForeignKey(Partner, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    title = Varchar(length=200)
    description = Text()
    deadline = Date(null=True, default=None, index=True)
    status = Varchar(length=12, default="a_venir", index=True)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AgreementAction(Table):
    """A roadmap action of one of the parties, linked to the agreement. Unique per (agreement, action)."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.cascade, null=False, index=True)
    action = ForeignKey(Action, on_delete=OnDelete.restrict, null=False, index=True)
    created_at = Timestamptz()


class AgreementReview(Table):
    """A review date (revue à mi-parcours, revue annuelle…)."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.cascade, null=False, index=True)
    review_on = Date()
    title = Varchar(length=120)
