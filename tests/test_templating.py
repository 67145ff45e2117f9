"""The Jinja environment reads a plain dictionary's key first for `row.field` (issue 15: no AttributeError raised and
caught per field of every row): the same output as Jinja's own `getattr`, whatever the key, the object or a miss."""
from collections import OrderedDict

from jinja2 import Environment

from tracker.web.templating import _configure

TEMPLATE = (
    "{{ d.title }}|{{ d.items is defined }}|{{ d.get('title') }}|{{ d.keys is defined }}|{{ d.missing is defined }}|"
    "{{ d.missing|default('absent') }}|{{ d.n + 1 }}|{{ o.title }}|{{ o.items is defined }}|{{ s.upper() }}|"
    "{{ n.real }}|{{ d.none }}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ nested.a.b }}|"
    "{{ d['title'] }}|{{ l.append is defined }}|{{ d.__class__ is defined }}|{{ d.copy is defined }}"
)


class Engine:
    def __init__(self) -> None:
        self.engine = Environment(autoescape=True)


def test_dictionary_fields_read_as_jinja_reads_them():
    ours = Engine()
    _configure(ours)
    plain = Environment(autoescape=True)
    for d in ({"title": "Un titre <b>", "n": 1, "none": None},
              {"title": "x", "items": "clé items", "get": "clé get", "keys": 3, "n": 2, "none": 0, "copy": "c"}):
        context = {"d": d, "o": OrderedDict(title="ordonné", items="i"), "s": "texte", "n": 4,
                   "nested": {"a": {"b": "profond"}}, "l": []}
        assert ours.engine.from_string(TEMPLATE).render(context) == plain.from_string(TEMPLATE).render(context)
    assert ours.engine.getattr({"a": 1}, "a") == 1
    assert plain.getattr({}, "a").__class__ is ours.engine.getattr({}, "a").__class__
