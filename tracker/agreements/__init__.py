"""Contrats de réciprocité: parties, obligations (ce que chacun apporte), signatures, balance and follow-up."""
