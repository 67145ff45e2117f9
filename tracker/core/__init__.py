"""The bottom layer: settings, database, errors, clock, French formatting, form reading, HTTP helpers.
It imports nothing else from tracker; every domain may import it."""
