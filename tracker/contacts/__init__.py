"""Partners' contacts: people, under the RGPD (purpose stated, rectification, export, erasure). Above partners,
commitments and history, since erasing a contact voids its signed links and exporting it gathers what it did."""
