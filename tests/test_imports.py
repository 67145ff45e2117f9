"""Importing the workshop's roadmap from a spreadsheet: the template, the preview, one transaction for the whole
file, and files that must write nothing (a bad line, a zip bomb, an oversized file, hostile XML)."""
from __future__ import annotations

import html
import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from tests.factories import EMAILS, user
from tests.workbooks import (
    HEADERS,
    cache_formulas,
    confirm,
    csv_bytes,
    rewrite,
    row,
    save,
    upload,
    upload_and_preview,
    with_member,
    xlsx,
)
from tracker.commitments.tables import Commitment
from tracker.history.tables import HistoryEntry
from tracker.imports.tables import PendingImport, RoadmapImport
from tracker.partners.tables import Partner, PartnerTerritory
from tracker.roadmaps.tables import Action, ActionNote, Axis

pytestmark = pytest.mark.anyio


async def signed_in(make_client, person: str):
    client = await make_client()
    await client.login(EMAILS[person])
    return client


def page(response) -> str:
    """The page's text as a person reads it (entities such as &nbsp; decoded)."""
    return html.unescape(response.text)


async def snapshot() -> tuple:
    """Everything an import may write."""
    return (await Action.count(), await HistoryEntry.count(), await Partner.count(), await PartnerTerritory.count(),
            await Axis.count(), await Commitment.count(), await ActionNote.count(), await RoadmapImport.count())


async def actions_of(roadmap_id: int, titles: list[str]) -> dict[str, dict]:
    rows = await Action.select(Action.all_columns(), Action.axis.title.as_alias("axis_title")).where(
        (Action.roadmap == roadmap_id) & Action.title.is_in(titles))
    return {r["title"]: r for r in rows}


async def creation_entries(action_ids: list[int]) -> list[dict]:
    return await HistoryEntry.select(HistoryEntry.subject_id, HistoryEntry.from_value, HistoryEntry.to_value,
                                     HistoryEntry.comment, HistoryEntry.actor).where(
        (HistoryEntry.subject_type == "action") & HistoryEntry.subject_id.is_in(action_ids))


# --- the template and a valid workbook ---------------------------------------------------------------------


async def test_the_template_filled_in_creates_exactly_its_actions_with_one_history_entry_each(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    template = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/modele-import.xlsx")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert book.sheetnames == ["Actions", "Mode d’emploi"]
    assert [c.value for c in book["Actions"][1]] == HEADERS
    guide = [[c.value for c in r] for r in book["Mode d’emploi"].iter_rows(min_row=2, max_row=len(HEADERS) + 1)]
    assert [g[0] for g in guide] == HEADERS and all(g[1] and g[2] for g in guide), "chaque colonne expliquée, avec un exemple"
    assert any("À venir" in (v.formula1 or "") for v in book["Actions"].data_validations.dataValidation)

    sheet = book["Actions"]
    sheet.append(row(axis="Faire avec les habitants", title="Budget participatif", module=1, pilot="Solidarité Angoumois",
                     start_on=datetime(2027, 1, 4), deadline="31 décembre 2027", status="En cours", priority="Haute"))
    sheet.append(row(axis="Outils numériques", title="Plateforme de prêt de matériel", module="4",
                     deadline="2027-06-30", confidential="Oui"))
    sheet.append(row(title="Charte des associations", status="bloquée", deadline="15/03/2027"))
    before = await snapshot()
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.xlsx", save(book))
    text = preview.text
    assert "3 actions à créer" in text and "Outils numériques" in text
    assert await Action.count() == before[0], "l’aperçu n’écrit rien"

    done = await confirm(editor, preview)
    assert done.status_code == 303 and done.headers["location"] == f"/feuilles-de-route/{world.ga_roadmap}"
    created = await actions_of(world.ga_roadmap, ["Budget participatif", "Plateforme de prêt de matériel",
                                                   "Charte des associations"])
    assert await Action.count() == before[0] + 3
    budget = created["Budget participatif"]
    assert (budget["status"], budget["priority"], budget["module"], budget["pilot"], budget["axis"]) == (
        "en_cours", "haute", 1, world.ga_pilot, world.ga_axis)
    assert (budget["start_on"], budget["deadline"]) == (date(2027, 1, 4), date(2027, 12, 31))
    platform = created["Plateforme de prêt de matériel"]
    assert platform["confidential"] and platform["module"] == 4 and platform["axis_title"] == "Outils numériques"
    assert created["Charte des associations"]["status"] == "bloquee"
    entries = await creation_entries([a["id"] for a in created.values()])
    assert sorted((e["from_value"], e["to_value"], e["comment"]) for e in entries) == [
        ("", "a_venir", "import"), ("", "bloquee", "import"), ("", "en_cours", "import")]
    assert await HistoryEntry.count() == before[1] + 3
    assert await Axis.count() == before[4] + 1

    roadmap_page = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert "L’import est enregistré" in page(roadmap_page)
    kept = await RoadmapImport.select().first()
    assert (kept["file_name"], kept["lines"], kept["created_actions"], kept["created_axes"]) == ("atelier.xlsx", 3, 3, 1)
    assert "atelier.xlsx" in page(roadmap_page) and "Claire Éditrice" in page(roadmap_page)
    assert await PendingImport.count() == 0, "le fichier gardé pour l’aperçu est effacé une fois importé"


async def test_a_windows_1252_csv_creates_exactly_its_actions(make_client, world):
    referent = await signed_in(make_client, "ga_referent")
    content = csv_bytes([
        row(title="Café des aidants à l’Isle-d’Espagnac", description="Œuvre commune, « accueil » mensuel",
            deadline="1er février 2027", contributors="Solidarité Angoumois"),
        row(title="Fête des solidarités", status="Réalisée", deadline="30/09/2026", priority="basse"),
    ], encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really Windows-1252
    preview = await upload_and_preview(referent, world.ga_roadmap, "atelier.csv", content)
    assert "Windows-1252" in page(preview)
    assert (await confirm(referent, preview)).status_code == 303
    created = await actions_of(world.ga_roadmap, ["Café des aidants à l’Isle-d’Espagnac", "Fête des solidarités"])
    assert len(created) == 2
    cafe = created["Café des aidants à l’Isle-d’Espagnac"]
    assert cafe["description"] == "Œuvre commune, « accueil » mensuel" and cafe["deadline"] == date(2027, 2, 1)
    assert created["Fête des solidarités"]["status"] == "realisee"
    assert created["Fête des solidarités"]["priority"] == "basse"
    entries = await creation_entries([a["id"] for a in created.values()])
    assert sorted((e["to_value"], e["comment"]) for e in entries) == [("a_venir", "import"), ("realisee", "import")]
    # A contributor gets a commitment « proposé », with its own history entry, to be confirmed by the partner.
    commitment = await Commitment.select().where(Commitment.action == cafe["id"]).first()
    assert (commitment["partner"], commitment["role"], commitment["state"]) == (world.ga_pilot, "contributeur", "propose")


async def test_a_utf8_csv_with_commas_and_a_bom_is_read_too(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    content = "\ufeff".encode() + csv_bytes([row(title="Répertoire partagé", deadline="2027-03-31")], delimiter=",")
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.csv", content)
    assert "séparateur\u00a0: virgule" in page(preview)
    assert (await confirm(editor, preview)).status_code == 303
    assert (await actions_of(world.ga_roadmap, ["Répertoire partagé"]))["Répertoire partagé"]["deadline"] == date(2027, 3, 31)


async def test_hidden_sheets_are_not_read_and_merged_cells_fill_their_range(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "Brouillon"
    hidden.append(HEADERS)
    hidden.append(row(title="Ligne d’un brouillon masqué", deadline="pas une date"))
    hidden.sheet_state = "hidden"
    sheet = book.create_sheet("Actions")
    sheet.append(["Feuille de route de l’atelier du 12 mars"])  # a title above the header
    sheet.append(HEADERS)
    sheet.append(row(axis="Coopérer avec les voisins", title="Groupement de commandes"))
    sheet.append(row(title="Mutualiser un agent de développement"))
    sheet.merge_cells("A3:A4")  # the axis written once for both lines
    content = save(book)
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.xlsx", content)
    assert "Brouillon" in page(preview)  # named as not read
    assert (await confirm(editor, preview)).status_code == 303
    created = await actions_of(world.ga_roadmap, ["Groupement de commandes", "Mutualiser un agent de développement",
                                                   "Ligne d’un brouillon masqué"])
    assert set(created) == {"Groupement de commandes", "Mutualiser un agent de développement"}
    assert {a["axis_title"] for a in created.values()} == {"Coopérer avec les voisins"}


# --- files that write nothing -----------------------------------------------------------------------------


async def test_one_bad_line_blocks_the_whole_import_and_names_its_line_and_column(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    lines = [row(title=f"Action correcte {n}", axis="Nouvel axe", pilot="Nouveau partenaire") for n in range(5)]
    lines.append(row(title="Action mal datée", deadline="31/02/2027"))  # line 7: the header is line 1
    lines.append(row(title="", description="Une ligne sans titre"))
    before = await snapshot()
    response = await upload(editor, world.ga_roadmap, "atelier.xlsx", xlsx(lines))
    assert response.status_code == 422
    assert "Ligne 7, colonne Échéance\u00a0: “31/02/2027” n’est pas une date." in page(response)
    assert "Ligne 8, colonne Titre\u00a0: le titre de l’action est obligatoire." in page(response)
    assert "rien n’a été importé" in page(response)
    assert await snapshot() == before
    assert await PendingImport.count() == 0, "un fichier refusé n’est pas gardé"


async def test_a_failure_at_line_40_leaves_nothing_written(make_client, world, monkeypatch):
    """One transaction for the whole file: the partner, the axis, the 45 actions with their history entries and the
    39 commitments written before the failure are rolled back with it (the services' own transactions nest in the
    import's)."""
    from tracker.commitments import service as commitments
    from tracker.core.errors import InvalidInput

    referent = await signed_in(make_client, "ga_referent")
    lines = [row(title=f"Action {n}", axis="Axe importé", pilot="Centre social de la Grand Font",
                 contributors="Solidarité Angoumois") for n in range(45)]
    preview = await upload_and_preview(referent, world.ga_roadmap, "atelier.xlsx", xlsx(lines))
    before = await snapshot()
    original, calls = commitments.create_commitment, []

    async def failing_at_the_40th(*args, **kwargs):
        calls.append(1)
        if len(calls) == 40:
            raise InvalidInput("panne simulée à l’écriture.")
        return await original(*args, **kwargs)

    monkeypatch.setattr(commitments, "create_commitment", failing_at_the_40th)
    response = await confirm(referent, preview, {"forme_1": "association"})
    assert response.status_code == 422
    assert "Ligne 41\u00a0: panne simulée" in page(response)
    assert len(calls) == 40, "les actions et 39 engagements étaient écrits avant la panne"
    assert await snapshot() == before
    assert not await Partner.exists().where(Partner.name == "Centre social de la Grand Font")
    assert await PendingImport.count() == 1, "le fichier reste disponible pour réessayer"


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(make_client, world, monkeypatch):
    import tracker.imports.files as files

    def never(*args, **kwargs):
        raise AssertionError("openpyxl ne doit pas ouvrir une bombe")

    monkeypatch.setattr(files.openpyxl, "load_workbook", never)
    editor = await signed_in(make_client, "ga_editor")
    bomb = with_member(xlsx([row(title="Action")]), "xl/media/image1.png", 48 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    before = await snapshot()
    response = await upload(editor, world.ga_roadmap, "atelier.xlsx", bomb)
    assert response.status_code == 422
    assert "se décompresserait en 48" in page(response) and "refusé sans être décompressé" in page(response)
    assert await snapshot() == before and await PendingImport.count() == 0


async def test_an_oversized_file_is_refused_with_a_french_message(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    before = await snapshot()
    just_over = csv_bytes([row(title="Action")]) + b"\n" * (5 * 1024 * 1024)
    response = await upload(editor, world.ga_roadmap, "atelier.csv", just_over)
    assert response.status_code == 413
    assert "dépasse 5\u00a0Mo" in page(response)
    # Beyond what the route reads at all: refused by the framework while reading, still in French.
    far_over = await upload(editor, world.ga_roadmap, "atelier.csv", b"x" * (7 * 1024 * 1024))
    assert far_over.status_code == 413 and "5 Mo" in page(far_over)
    assert await snapshot() == before and await PendingImport.count() == 0
    # Other forms keep their 1 MB limit.
    other = await editor.post(f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle", {"title": "x" * (2 * 1024 * 1024)})
    assert other.status_code == 413


async def test_formulas_are_read_as_their_cached_value_and_never_evaluated(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    content = xlsx([
        row(title='=CONCAT("Guichet ","numérique")', description="=cmd|' /C calc'!A0", module="=1+1"),
        row(title='=HYPERLINK("http://exemple.invalid","clic")', deadline="31/12/2027"),
    ])
    # As a spreadsheet saves them: the formula and the value it computed; the second one never computed.
    content = cache_formulas(content, {"B2": "Guichet numérique", "C2": "texte calculé", "D2": "2"})
    response = await upload(editor, world.ga_roadmap, "atelier.xlsx", content)
    assert response.status_code == 422
    assert "Ligne 3, colonne Titre\u00a0: le titre de l’action est obligatoire." in page(response)
    before = await snapshot()
    content = cache_formulas(xlsx([row(title='=CONCAT("Guichet ","numérique")', description="=cmd|' /C calc'!A0",
                                       module="=1+1")]),
                             {"B2": "Guichet numérique", "C2": "texte calculé", "D2": "2"})
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.xlsx", content)
    assert (await confirm(editor, preview)).status_code == 303
    created = (await actions_of(world.ga_roadmap, ["Guichet numérique"]))["Guichet numérique"]
    assert (created["description"], created["module"]) == ("texte calculé", 2)
    assert await Action.count() == before[0] + 1
    assert not await Action.exists().where(Action.title.like("=%") | Action.description.like("=%"))


@pytest.mark.parametrize("declaration,use", [
    ('<!DOCTYPE worksheet [<!ENTITY piege "piégé">]>', "&piege;"),
    ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>', "&c;"),
    ('<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
], ids=["entité", "milliard-de-rires", "entité-externe"])
async def test_a_workbook_with_hostile_xml_is_refused(make_client, world, declaration, use):
    editor = await signed_in(make_client, "ga_editor")

    def poison(text: str) -> str:
        assert "<t>Action piégée</t>" in text and "<!DOCTYPE" not in text
        return declaration + text.replace("<t>Action piégée</t>", f"<t>{use}</t>")

    content = rewrite(xlsx([row(title="Action piégée")]), "xl/worksheets/sheet1.xml", poison)
    before = await snapshot()
    response = await upload(editor, world.ga_roadmap, "atelier.xlsx", content)
    assert response.status_code == 422
    assert "déclarations XML interdites" in page(response)
    assert "root:" not in page(response)
    assert await snapshot() == before and await PendingImport.count() == 0


@pytest.mark.parametrize("name,content,message", [
    ("atelier.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "ni un classeur Excel (.xlsx) ni un fichier CSV"),
    ("atelier.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Excel 97-2003 (.xls) ou protégé par un mot de passe"),
    ("atelier.xlsx", b"PK\x03\x04 pas un zip", "n’est pas un classeur Excel (.xlsx) lisible"),
    ("atelier.csv", b"Nom;Date\nx;y\n", "il faut au moins une colonne «\u00a0Titre\u00a0»"),
    ("atelier.csv", b'Titre;Axe\n"guillemet jamais referme;x\n', "mal formé"),
    ("atelier.csv", b"Titre;Titre\nx;y\n", "apparaît deux fois"),
    ("atelier.csv", b"", "est vide"),
], ids=["extension", "xls", "zip-casse", "sans-en-tete", "guillemet", "colonne-double", "vide"])
async def test_files_that_cannot_be_read_get_a_french_reason_and_write_nothing(make_client, world, name, content, message):
    editor = await signed_in(make_client, "ga_editor")
    before = await snapshot()
    response = await upload(editor, world.ga_roadmap, name, content)
    assert response.status_code == 422
    assert message in page(response)
    assert await snapshot() == before and await PendingImport.count() == 0


async def test_no_file_or_a_file_of_too_many_lines_is_refused(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/import")
    missing = await editor.post(f"/feuilles-de-route/{world.ga_roadmap}/import", {},
                                files={"autre": ("x.txt", b"x", "text/plain")})
    assert missing.status_code == 422 and "Choisissez le fichier à importer" in page(missing)
    too_many = csv_bytes([row(title=f"Action {n}") for n in range(2001)])
    response = await upload(editor, world.ga_roadmap, "atelier.csv", too_many)
    assert response.status_code == 422 and "plus de 2\u202f000 lignes" in page(response)
    assert await Action.count() == 5


async def test_the_upload_needs_the_pages_csrf_token(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    response = await editor.post(f"/feuilles-de-route/{world.ga_roadmap}/import", {"_csrf_token": "faux"},
                                 files={"fichier": ("atelier.csv", csv_bytes([row(title="Intrusion")]), "text/csv")},
                                 csrf=False)
    assert response.status_code == 403 and "Formulaire expiré" in page(response)
    assert await PendingImport.count() == 0


async def test_the_same_file_twice_is_detected_and_asks_before_creating_duplicates(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    content = csv_bytes([row(title="Conseil local de la vie associative"), row(title="Annuaire des bénévoles")])
    first = await upload_and_preview(editor, world.ga_roadmap, "atelier.csv", content)
    assert (await confirm(editor, first)).status_code == 303
    assert await Action.count() == 7

    again = await upload_and_preview(editor, world.ga_roadmap, "atelier (copie).csv", content)
    assert "Ce fichier a déjà été importé dans cette feuille de route" in page(again)
    assert "Une action de même intitulé existe déjà" in page(again)
    refused = await confirm(editor, again)
    assert refused.status_code == 409 and "cochez «\u00a0Importer quand même\u00a0»" in page(refused)
    assert await Action.count() == 7 and await RoadmapImport.count() == 1
    accepted = await confirm(editor, refused, {"confirmer_doublon": "1"})
    assert accepted.status_code == 303
    assert await Action.count() == 9 and await RoadmapImport.count() == 2


# --- partners ---------------------------------------------------------------------------------------------


async def test_partners_are_matched_by_identifier_then_by_name_and_new_ones_created(make_client, world):
    await Partner.update({Partner.siren: "552100554"}).where(Partner.id == world.vr_pilot)  # SEM Drôme, not GA's
    referent = await signed_in(make_client, "ga_referent")
    content = xlsx([
        row(title="Par identifiant", pilot="SEM de la Drôme", pilot_id="552 100 554"),
        row(title="Par le nom exact", pilot="SOLIDARITE ANGOUMOIS"),
        row(title="Par un nom proche", pilot="Association Solidarité Angoumois Charente"),
        row(title="Nouveau partenaire", pilot="Régie de quartier de Basseau", pilot_id="W161000123"),
    ])
    preview = await upload_and_preview(referent, world.ga_roadmap, "atelier.xlsx", content)
    assert "reconnu par son identifiant, sera rattaché au territoire" in page(preview)
    assert "reconnu par son nom" in page(preview)
    assert "Choisir «\u00a0Solidarité Angoumois\u00a0»" in page(preview)
    assert "Créer le partenaire «\u00a0Régie de quartier de Basseau\u00a0»" in page(preview)
    fields = referent.form(preview.url.path, preview).fields
    close, new = sorted(k for k in fields if k.startswith("partenaire_"))
    assert fields[close] == f"p{world.ga_pilot}", "le nom proche est proposé d’abord"
    assert fields[new] == "nouveau" and fields[new.replace("partenaire", "forme")] == "association"  # RNA
    assert (await confirm(referent, preview)).status_code == 303
    created = await actions_of(world.ga_roadmap, ["Par identifiant", "Par le nom exact", "Par un nom proche",
                                                   "Nouveau partenaire"])
    assert created["Par identifiant"]["pilot"] == world.vr_pilot
    assert await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == world.vr_pilot) & (PartnerTerritory.territory == world.ga))
    assert created["Par le nom exact"]["pilot"] == created["Par un nom proche"]["pilot"] == world.ga_pilot
    regie = await Partner.select().where(Partner.name == "Régie de quartier de Basseau").first()
    assert (regie["legal_form"], regie["rna"], regie["sector"]) == ("association", "W161000123", "associatif")
    assert created["Nouveau partenaire"]["pilot"] == regie["id"]
    assert (await RoadmapImport.select(RoadmapImport.created_partners).first())["created_partners"] == 1


async def test_an_editor_may_not_add_partners_to_the_directory_through_an_import(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.csv",
                                       csv_bytes([row(title="Action", pilot="Partenaire inconnu")]))
    assert "Créer le partenaire" not in page(preview)
    field = next(k for k in editor.form(preview.url.path, preview).fields if k.startswith("partenaire_"))
    before = await snapshot()
    refused = await confirm(editor, preview, {field: "nouveau", field.replace("partenaire", "forme"): "association"})
    assert refused.status_code == 422 and "seuls les référents du territoire" in page(refused)
    assert await snapshot() == before
    # Left empty, as the preview offers: the action is created without a pilot.
    assert (await confirm(editor, refused, {field: "aucun"})).status_code == 303
    assert (await actions_of(world.ga_roadmap, ["Action"]))["Action"]["pilot"] is None


async def test_a_new_partner_needs_its_legal_form(make_client, world):
    referent = await signed_in(make_client, "ga_referent")
    preview = await upload_and_preview(referent, world.ga_roadmap, "atelier.csv",
                                       csv_bytes([row(title="Action", pilot="Collectif des habitants")]))
    before = await snapshot()
    refused = await confirm(referent, preview)
    assert refused.status_code == 422 and "«\u00a0Collectif des habitants\u00a0»\u00a0: choisissez sa forme juridique" in page(refused)
    assert await snapshot() == before


# --- who may import -----------------------------------------------------------------------------------------


class _Stub:
    ga_roadmap = 0


def pages(w) -> dict[str, str]:
    return {
        "/feuilles-de-route/{roadmap_id:str}/import": f"/feuilles-de-route/{w.ga_roadmap}/import",
        "/feuilles-de-route/{roadmap_id:str}/modele-import.xlsx": f"/feuilles-de-route/{w.ga_roadmap}/modele-import.xlsx",
        "/feuilles-de-route/{roadmap_id:str}/modele-import.csv": f"/feuilles-de-route/{w.ga_roadmap}/modele-import.csv",
    }


ROUTES_COVERED = {("GET", p) for p in pages(_Stub)} | {
    ("POST", "/feuilles-de-route/{roadmap_id:str}/import"),
    ("GET", "/feuilles-de-route/{roadmap_id:str}/import/{token:str}"),
    ("POST", "/feuilles-de-route/{roadmap_id:str}/import/{token:str}"),
}
PEOPLE = ["admin", "reviewer", "ga_referent", "ga_editor", "ga_reader", "vr_editor", "nobody"]
# The import page and the upload: the territory's éditeurs and référents, and administrators (any territory).
MAY_IMPORT = dict(zip(PEOPLE, (200, 403, 200, 200, 403, 404, 404)))
# The templates: whoever reads the roadmap.
TEMPLATES = dict(zip(PEOPLE, (200, 200, 200, 200, 200, 404, 404)))


@pytest.mark.parametrize("person", PEOPLE)
async def test_who_may_open_the_import_and_upload_a_file(make_client, world, person):
    client = await signed_in(make_client, person)
    for template, path in pages(world).items():
        expected = MAY_IMPORT[person] if template.endswith("/import") else TEMPLATES[person]
        assert (await client.get(path)).status_code == expected, (person, path)
    before = await snapshot()
    response = await upload(client, world.ga_roadmap, "atelier.csv", csv_bytes([row(title="Action importée")]))
    assert response.status_code == (303 if MAY_IMPORT[person] == 200 else MAY_IMPORT[person])
    assert await snapshot() == before, "déposer n’écrit rien"


async def test_an_editor_of_another_territory_who_reads_this_one_gets_403(make_client, world):
    await user("editeur-vr-lecteur-ga@example.org", "Vera Voisine", roles={world.vr: "editeur", world.ga: "lecteur"})
    client = await make_client()
    await client.login("editeur-vr-lecteur-ga@example.org")
    response = await upload(client, world.ga_roadmap, "atelier.csv", csv_bytes([row(title="Action importée")]))
    assert response.status_code == 403 and "Votre rôle ne permet pas d’importer" in page(response)
    assert await PendingImport.count() == 0


async def test_an_administrator_imports_for_any_territory_and_the_history_names_them(make_client, world):
    admin = await signed_in(make_client, "admin")
    preview = await upload_and_preview(admin, world.vr_roadmap, "atelier.csv",
                                       csv_bytes([row(title="Observatoire des satellites", pilot="Nouvelle SPL",
                                                      status="En cours")]))
    assert (await confirm(admin, preview, {"forme_1": "spl"})).status_code == 303
    created = (await actions_of(world.vr_roadmap, ["Observatoire des satellites"]))["Observatoire des satellites"]
    entry = (await creation_entries([created["id"]]))[0]
    admin_id = await _user_id(EMAILS["admin"])
    assert (entry["actor"], entry["to_value"], entry["comment"]) == (admin_id, "en_cours", "import")
    assert await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == created["pilot"]) & (PartnerTerritory.territory == world.vr))


async def _user_id(email: str) -> int:
    from tracker.accounts.tables import User

    return (await User.select(User.id).where(User.email == email).first())["id"]


async def test_a_preview_belongs_to_whoever_uploaded_the_file(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.csv", csv_bytes([row(title="À moi")]))
    path = preview.url.path
    fields = dict(editor.form(path, preview).fields)
    for person, expected in (("ga_referent", 404), ("ga_reader", 403), ("vr_editor", 404), ("admin", 404)):
        other = await signed_in(make_client, person)
        assert (await other.get(path)).status_code == expected, person
        await other.get("/connexion")
        response = await other.post(path, {**fields, "_csrf_token": other.csrf})
        assert response.status_code == expected, person
    assert await Action.count() == 5
    wrong = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/import/{'x' * 43}")
    assert wrong.status_code == 404 and "déposez à nouveau le fichier" in page(wrong)
    assert (await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/import/pas-un-jeton")).status_code == 404


async def test_a_workbook_of_too_many_parts_is_refused_unopened(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    content = xlsx([row(title="Action")])
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a") as book:
        for n in range(200):
            book.writestr(f"xl/media/image{n}.png", b"")
    response = await upload(editor, world.ga_roadmap, "atelier.xlsx", buffer.getvalue())
    assert response.status_code == 422 and "éléments (200 au plus)" in page(response)
    assert await PendingImport.count() == 0


async def test_a_preview_left_for_more_than_six_hours_is_gone(make_client, world):
    from datetime import timedelta

    editor = await signed_in(make_client, "ga_editor")
    preview = await upload_and_preview(editor, world.ga_roadmap, "atelier.csv", csv_bytes([row(title="Plus tard")]))
    kept = await PendingImport.select(PendingImport.id, PendingImport.created_at).first()
    await PendingImport.update({PendingImport.created_at: kept["created_at"] - timedelta(hours=7)}).where(
        PendingImport.id == kept["id"])
    response = await confirm(editor, preview)
    assert response.status_code == 404 and "expire au bout de six heures" in page(response)
    assert await Action.count() == 5
