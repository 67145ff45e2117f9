"""The themes stored before issue 13 (split on commas, shown in alphabetical order) are migrated sensibly: each
stored piece stays a theme, in the order it was stored, without the quotation mark a split left at one end."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.test_migrations import ROOT, walk_environment  # noqa: F401 (the fixture: a fresh database of the run's kind)



def test_existing_themes_keep_their_stored_order_and_lose_stray_quotes(walk_environment, tmp_path):  # noqa: F811
    out = tmp_path / "themes.json"
    done = subprocess.run([sys.executable, "-m", "tests.theme_migration_run", str(out)], cwd=ROOT,
                          env=walk_environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert json.loads(out.read_text()) == [
        [1, "Mobilités", 1, ""], [1, "Habitat et services", 2, ""], [1, "Santé", 3, ""],
        [2, "Culture", 1, ""], [2, "« Culture", 2, ""], [2, "Énergie", 3, ""], [2, '"Sport', 4, ""],
        [2, 'Sport"', 5, ""],
    ]
