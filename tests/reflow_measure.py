"""Measure, in a real browser, how wide each page type is at a phone's width (WCAG 1.4.10 reflow: at 320 CSS px no
page may scroll sideways). A developer's tool, not part of the suite (the browser tests of issue 14 part A are):

    SUIVI_VAR_DIR=/tmp/reflow .venv/bin/python -m tracker migrate && SUIVI_VAR_DIR=/tmp/reflow .venv/bin/python -m tracker load-demo
    SUIVI_VAR_DIR=/tmp/reflow .venv/bin/python -m tracker serve --port 8011 &
    .venv/bin/python -m tests.reflow_measure --width 320 [--base http://127.0.0.1:8011] [--details]

Needs the `playwright` Python package and Chromium (/usr/bin/chromium). Prints, per page, the HTTP status and
document.documentElement.scrollWidth; with --details, the elements that stick out of the viewport (outside the
scrollable table regions). Exits 1 when a page is wider than the viewport. The paths are those of the demo data.
"""
from __future__ import annotations

import argparse
import sys

PASSWORD = "suivi-demo-2026"
PAGES = {
    None: ["/connexion", "/accessibilite", "/donnees-personnelles", "/mentions-legales", "/introuvable"],
    "codir@grandangouleme.example.org": [
        "/territoires", "/territoires/200071827", "/feuilles-de-route/1", "/feuilles-de-route/1?statut=en_cours",
        "/actions/1", "/actions/2", "/actions/1/modifier", "/feuilles-de-route/1/actions/nouvelle",
        "/actions/1/engagements/nouveau", "/contrats", "/contrats/1", "/contrats/2", "/contrats/3", "/obligations/1",
        "/contrats/2/avenants/1", "/partenaires", "/partenaires/13", "/echeances", "/territoires/200071827/echeances",
        "/compte/echeances", "/compte/jetons", "/feuilles-de-route/1/import", "/territoires/200071827/point-codir",
    ],
    "codir@charentelimousine.example.org": ["/territoires/200072049/rappels", "/contrats/1/obligations/nouvelle",
                                            "/contrats/1/parties", "/contrats/1/modifier", "/partenaires/nouveau"],
    "revue@adgcf.example.org": ["/pilotage", "/pilotage/actions", "/pilotage/relances"],
    "admin@adgcf.example.org": ["/rappels", "/territoires/nouveau", "/ateliers/nouveau", "/contrats/nouveau",
                                "/contrats/3/enregistrer"],
    "contact@solidarite-angoumois.example.org": ["/engagements"],
    "dgs@grandangouleme.example.org": ["/contrats/nouveau", "/partenaires/13/modifier", "/contacts/1/modifier",
                                       "/contacts/1/effacer", "/partenaires/13/contacts/nouveau",
                                       "/engagements/1/modifier", "/engagements/1/envoyer",
                                       "/territoires/200071827/rappels"],
    "revue@adgcf.example.org ": ["/contrats/2", "/contrats/2/avenants/1", "/obligations/4", "/pilotage?tri=retard",
                                 "/pilotage/actions?en_retard=1"],
}

STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0 && !(el.parentElement && el.parentElement.closest('.table-scroll')))
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + Math.round(box.left) + '–' + Math.round(box.right));
  }
  return out.slice(0, 12);
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--base", default="http://127.0.0.1:8011")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    too_wide = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        for who, paths in PAGES.items():
            context = browser.new_context(viewport={"width": args.width, "height": 800})
            page = context.new_page()
            if who:
                page.goto(args.base + "/connexion")
                page.fill("#email", who.strip())
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
            for path in paths:
                response = page.goto(args.base + path)
                width = page.evaluate("document.documentElement.scrollWidth")
                too_wide += width > args.width
                print(f"{response.status} {width:5d}  {path}{'  <-- défile horizontalement' if width > args.width else ''}")
                if args.details and width > args.width:
                    for element in page.evaluate(STICKING_OUT):
                        print("          ", element)
            context.close()
        browser.close()
    return 1 if too_wide else 0


if __name__ == "__main__":
    sys.exit(main())
