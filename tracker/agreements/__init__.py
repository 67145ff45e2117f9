"""Contrats de réciprocité: parties and witnesses, themes, obligations (ce que chacun apporte), signatures, balance,
amendments (avenants) and follow-up.

- `tables.py`, `states.py` — the tables; the states, transitions, theme suggestions, history event labels;
- `forms.py` — every form and query string read into a typed value (shape checks, French messages);
- `lifecycle.py` — the AGREEMENT and OBLIGATION machines, a party's signature, the lock on an agreement;
- `reading.py` — one agreement (and who may edit it), the list and its filters, a territory's agreements, the
  balance theme by theme, the history (the agreement's and its amendments');
- `text.py` — what the contract says (title, purpose, dates, protocol, themes), created and edited while drafted;
  the signed document's place, reference and link; each edit one history entry, before → after;
- `edits.py` — how the history writes an edit (one line per field, before → after);
- `parties.py` — finding territories, adding and removing parties and witnesses, deliberations, who signs;
- `obligations.py` — reading an obligation and writing what it says (theme, parties, deadline) while drafted;
- `recording.py` — an agreement signed long ago recorded as it was, with its real dates;
- `amendments.py` — amendments: the AMENDMENT machine, their text and changes, deliberations and signatures,
  taking effect, and the agreement as it was before each one;
- `linked_actions.py` — roadmap actions linked to an agreement, and the agreements of an action;
- `reviews.py` — review dates;
- `for_partners.py` — the obligations partners carry, for their contacts' page;
- `routes.py`, `amendment_routes.py` — the pages (HTTP only); `demo.py` — the demo agreements, through the same
  functions.
"""
