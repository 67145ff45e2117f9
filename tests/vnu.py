"""The Nu HTML Checker (vnu.jar), pinned: fetched once from the npm registry (`npm pack vnu-jar@VERSION`) into a cache
folder outside the repository, and checked against its SHA-256. The jar weighs 32 MB, too much to vendor.

    python -m tests.vnu        # fetch it (make test does), prints its path

Then `check(paths)` runs it once over many files, in one Java process, and returns its messages by file."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VNU_VERSION = "26.9.27"
VNU_SHA256 = "22f15dd39a33bed929d2a5c0cddf5946849a647eca9272bf4d5d00bc7e7a4d47"  # build/dist/vnu.jar in the package


def jar_path() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "suivi-tests"
    return Path(os.environ.get("SUIVI_VNU_JAR") or cache / f"vnu-{VNU_VERSION}.jar")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Missing(RuntimeError):
    pass


def ensure_jar() -> Path:
    """The checked jar, fetched first if needed. Raises Missing with what to do when it cannot be had."""
    path = jar_path()
    if path.is_file() and _sha256(path) == VNU_SHA256:
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise Missing(f"vnu.jar {VNU_VERSION} absent ({path}) et npm introuvable pour le récupérer : "
                      "installez npm (apt-get install npm) ou posez le fichier à cet endroit.")
    with tempfile.TemporaryDirectory(prefix="vnu-") as work:
        packed = subprocess.run([npm, "pack", f"vnu-jar@{VNU_VERSION}", "--silent"], cwd=work,
                                capture_output=True, text=True)
        if packed.returncode != 0:
            raise Missing(f"npm pack vnu-jar@{VNU_VERSION} a échoué : {packed.stderr.strip()[-500:]}")
        with tarfile.open(Path(work) / f"vnu-jar-{VNU_VERSION}.tgz") as archive:
            member = archive.getmember("package/build/dist/vnu.jar")
            source = archive.extractfile(member)
            assert source is not None
            fetched = Path(work) / "vnu.jar"
            with fetched.open("wb") as target:
                shutil.copyfileobj(source, target)
        found = _sha256(fetched)
        if found != VNU_SHA256:
            raise Missing(f"vnu.jar {VNU_VERSION} : SHA-256 {found} au lieu de {VNU_SHA256} ; fichier refusé.")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(fetched), path)
    return path


def check(paths: list[Path]) -> dict[str, list[dict]]:
    """Every file through vnu in one Java process: {file name: [error messages]} (warnings and info left out)."""
    java = shutil.which("java")
    if java is None:
        raise Missing("java introuvable : le contrôle HTML (vnu) en a besoin (apt-get install default-jre-headless).")
    jar = ensure_jar()
    done = subprocess.run([java, "-Xss2m", "-jar", str(jar), "--format", "json", "--stdout", "--errors-only",
                           *map(str, paths)], capture_output=True, text=True, timeout=300)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"vnu a échoué ({done.returncode}) : {done.stderr[-2000:]}")
    found: dict[str, list[dict]] = {Path(p).name: [] for p in paths}
    for message in json.loads(done.stdout)["messages"]:
        if message.get("type") == "error" or message.get("subType") == "fatal":
            name = Path(message.get("url", "").removeprefix("file:")).name
            found.setdefault(name, []).append(message)
    return found


if __name__ == "__main__":
    try:
        print(ensure_jar())
    except Missing as error:
        print(error, file=sys.stderr)
        sys.exit(1)
