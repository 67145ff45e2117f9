"""Contrats de réciprocité: parties, obligations (ce que chacun apporte), signatures, balance and follow-up.

- `tables.py`, `states.py` — the tables; the states, transitions and theme suggestions;
- `forms.py` — every form and query string read into a typed value (shape checks, French messages);
- `lifecycle.py` — the AGREEMENT and OBLIGATION machines, a party's signature, the lock on an agreement;
- `reading.py` — one agreement (and who may edit it), the list and its filters, the balance, the history;
- `text.py` — what the contract says (title, purpose, dates, themes), created and edited while drafted;
- `parties.py` — finding territories, adding and removing parties, deliberations, who signs;
- `obligations.py` — reading an obligation and writing what it says while the text is drafted;
- `linked_actions.py` — roadmap actions linked to an agreement, and the agreements of an action;
- `reviews.py` — review dates;
- `for_partners.py` — the obligations partners carry, for their contacts' page;
- `routes.py` — the pages (HTTP only); `demo.py` — the demo agreements, through the same functions.
"""
