"""Regenerate the territory reference files in ``tracker/territories/data/``.

Source: the npm package @etalab/decoupage-administratif 6.0.0 (MIT licence),
https://github.com/datagouv/decoupage-administratif

Usage::

    cd "$(mktemp -d)" && npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf *.tgz
    python -m tracker.territories.build_data PATH_TO_UNPACKED_PACKAGE

(PATH_TO_UNPACKED_PACKAGE is the ``package/`` folder, the one holding ``data/``.)

Writes, UTF-8 and comma-separated:

- ``epci.csv``        siren,name,kind,population,departement,region
- ``departements.csv`` code,name,region
- ``regions.csv``      code,name

For an EPCI, ``kind`` is the package's ``type`` (CC, CA, CU, METRO, MET69),
``population`` its ``populationMunicipale`` (or, if absent, the sum of its
members' populations), and ``departement`` the département holding the largest
share of that population among its member communes (ties: lowest code);
``region`` is the région of that département.

Only the Python standard library is used.
"""

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def load(package_dir, name):
    with open(Path(package_dir) / "data" / name, encoding="utf-8") as f:
        return json.load(f)


def write_csv(name, header, rows):
    path = DATA_DIR / name
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path}: {len(rows)} rows")


def member_population(member, commune):
    for value in (member.get("populationMunicipale"), commune.get("population")):
        if value is not None:
            return value
    return 0


def main_departement(epci, communes):
    """Département code holding the largest share of the EPCI's population."""
    weights = defaultdict(int)
    for member in epci["membres"]:
        commune = communes[member["code"]]
        weights[commune["departement"]] += member_population(member, commune)
    # Largest population first, then lowest code.
    return min(weights, key=lambda code: (-weights[code], code))


def build(package_dir):
    regions = load(package_dir, "regions.json")
    departements = load(package_dir, "departements.json")
    # communes.json also lists communes déléguées, associées and arrondissements
    # municipaux; EPCI members are current communes only.
    communes = {
        c["code"]: c
        for c in load(package_dir, "communes.json")
        if c["type"] == "commune-actuelle"
    }
    epcis = load(package_dir, "epci.json")

    region_of = {d["code"]: d["region"] for d in departements}

    epci_rows = []
    for epci in sorted(epcis, key=lambda e: e["code"]):
        population = epci.get("populationMunicipale")
        if population is None:
            population = sum(
                member_population(m, communes[m["code"]]) for m in epci["membres"]
            )
        departement = main_departement(epci, communes)
        epci_rows.append(
            [
                epci["code"],
                epci["nom"],
                epci["type"],
                population,
                departement,
                region_of[departement],
            ]
        )

    write_csv("epci.csv", ["siren", "name", "kind", "population", "departement", "region"], epci_rows)
    write_csv(
        "departements.csv",
        ["code", "name", "region"],
        [[d["code"], d["nom"], d["region"]] for d in sorted(departements, key=lambda d: d["code"])],
    )
    write_csv(
        "regions.csv",
        ["code", "name"],
        [[r["code"], r["nom"]] for r in sorted(regions, key=lambda r: r["code"])],
    )
    print(f"{len(epci_rows)} EPCI")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(sys.argv[1])
