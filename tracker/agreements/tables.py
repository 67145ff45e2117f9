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
    # What the signed document says about itself (issue 13). Columns added to an existing table are not indexed:
    # SQLite drops an indexed column only once its index is gone, and the migration's backwards step must work.
    signing_place = Varchar(length=200)  # lieu de signature
    protocol_on = Date(null=True, default=None)  # protocole ou accord préalable
    document_ref = Varchar(length=120)  # référence du document signé
    document_url = Varchar(length=500)  # lien vers le document (https)
    # Recorded after the fact (already signed, in force, expired or terminated): by whom and when it was typed in.
    recorded_at = Timestamptz(null=True, default=None)
    recorded_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None, index=False)
    # Optimistic locking of the contract itself (its text and its state).
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AgreementTheme(Table):
    """One theme of an agreement, in the agreement's order (`position`), with an optional short description.
    Free text (suggestions' spelling normalised), never split. Unique per (agreement, theme)."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.cascade, null=False, index=True)
    theme = Varchar(length=80, index=True)
    position = Integer(default=0)
    description = Varchar(length=300)


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
    # « partie » brings and receives; « temoin » (the État or the Région signing as a witness) neither brings nor
    # receives, and its signature is not needed for the contract to take effect.
    role = Varchar(length=12, default="partie")


class AgreementAmendment(Table):
    """Avenant: numbered per agreement, with its own life cycle (amendments.py) and each party's deliberation and
    signature (AmendmentParty). What it changes is kept in AmendmentChange and `new_ends_on`; once in force, the
    values it replaced are kept too (`previous_ends_on`, AmendmentChange.previous_*), so that the agreement as it
    was before each amendment stays readable. Unique per (agreement, number)."""

    agreement = ForeignKey(Agreement, on_delete=OnDelete.restrict, null=False, index=True)
    number = Integer()
    title = Varchar(length=200)
    purpose = Text()
    state = Varchar(length=16, default="brouillon")
    in_force_on = Date(null=True, default=None)  # date d’effet
    new_ends_on = Date(null=True, default=None)  # None: the end date does not change
    previous_ends_on = Date(null=True, default=None)  # the end date it replaced, written when it takes effect
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


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
    # The theme it belongs to (None: an agreement without themes, or written before themes were a list).
    theme = ForeignKey(AgreementTheme, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    # Added by an amendment, or ended by one (on the amendment's date): an ended obligation stays readable.
    added_by = ForeignKey(AgreementAmendment, on_delete=OnDelete.restrict, null=True, default=None, index=False)
    ended_by = ForeignKey(AgreementAmendment, on_delete=OnDelete.restrict, null=True, default=None, index=False)
    ended_on = Date(null=True, default=None)


class AmendmentParty(Table):
    """A party's deliberation and signature of one amendment. Unique per (amendment, party)."""

    amendment = ForeignKey(AgreementAmendment, on_delete=OnDelete.cascade, null=False, index=True)
    party = ForeignKey(AgreementParty, on_delete=OnDelete.restrict, null=False, index=True)
    deliberation_on = Date(null=True, default=None)
    deliberation_ref = Varchar(length=120)
    signed_on = Date(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    signed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    version = Integer(default=1)


class AmendmentChange(Table):
    """One change an amendment makes to the obligations: « ajout » (the new obligation's text, created when the
    amendment takes effect), « modification » (the new text of `obligation`; the replaced one is kept in
    previous_* when it takes effect) or « fin » (`obligation` ends, `reason`)."""

    amendment = ForeignKey(AgreementAmendment, on_delete=OnDelete.cascade, null=False, index=True)
    kind = Varchar(length=12)
    obligation = ForeignKey(Obligation, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    owner = ForeignKey(AgreementParty, on_delete=OnDelete.restrict, null=True, default=None)
    beneficiary = ForeignKey(AgreementParty, on_delete=OnDelete.restrict, null=True, default=None)
    partner = ForeignKey(Partner, on_delete=OnDelete.set_null, null=True, default=None)
    theme = ForeignKey(AgreementTheme, on_delete=OnDelete.restrict, null=True, default=None)
    title = Varchar(length=200)
    description = Text()
    deadline = Date(null=True, default=None)
    previous_title = Varchar(length=200)
    previous_description = Text()
    previous_deadline = Date(null=True, default=None)
    reason = Text()
    created_at = Timestamptz()


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
