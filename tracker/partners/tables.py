from piccolo.columns import Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.territories.tables import Territory


class Partner(Table):
    """An organisation taking part in actions: public, public-private, private or associative.
    Each identifier is unique among partners (unique indexes in migration 2026-11-27T08:07:40)."""

    name = Varchar(length=200, index=True)
    sector = Varchar(length=20)  # public, public_prive, prive, associatif
    legal_form = Varchar(length=30)
    siren = Varchar(length=9, null=True, default=None)
    siret = Varchar(length=14, null=True, default=None)
    rna = Varchar(length=10, null=True, default=None)
    dsp_contract_end = Date(null=True, default=None)  # délégataire de service public only
    created_at = Timestamptz()
    # Optimistic locking of the directory form, as for actions.
    version = Integer(default=1)
    updated_at = Timestamptz(null=True, default=None)


class PartnerTerritory(Table):
    """The territories a partner works with. Unique per (partner, territory)."""

    partner = ForeignKey(Partner, on_delete=OnDelete.cascade, null=False)
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False, index=True)


class PartnerContact(Table):
    """A person at a partner organisation: personal data under the RGPD. Erasure blanks the row in place
    (erased_at set) and never deletes it, so that history entries keep pointing at « contact supprimé ».
    Unique per (partner, email) and per (partner, account); NULLs never collide (migration 2026-11-27T08:07:40)."""

    partner = ForeignKey(Partner, on_delete=OnDelete.restrict, null=False, index=True)
    full_name = Varchar(length=120)
    email = Varchar(length=254, null=True, default=None)  # lower-case; NULL once erased
    function = Varchar(length=120)
    # The contact's own account, if they sign in (then the Viewer gets this partner in partner_ids).
    account = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    # Who added the contact: shown beside every confirmation, so that a contact made up by a member is seen.
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)
    erased_at = Timestamptz(null=True, default=None)


class PartnerAttachment(Table):
    """A territory asking to work with a partner already in the directory: `demande` until one of the partner's
    current territories (or an administrator) accepts it (a PartnerTerritory row is then written) or refuses it.
    Until then the asking territory sees nothing of the partner: neither its page nor its contacts.
    Its life cycle is `tracker.partners.attachments.ATTACHMENT`."""

    partner = ForeignKey(Partner, on_delete=OnDelete.cascade, null=False)
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False)
    state = Varchar(length=10, default="demande")  # demande, accepte, refuse
    version = Integer(default=1)
    requested_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)
