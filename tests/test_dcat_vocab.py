"""The vocabularies in vocab/: free text from harvested sources to concept URIs, nothing
guessed; the folder found by path, from a checkout and from a regular installation."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT

from catalogue.dcat.vocab import Vocabularies
from catalogue.errors import ConfigError

EU = "http://publications.europa.eu/resource/authority/"
LICENCES = "http://dcat-ap.de/def/licenses/"


@pytest.fixture(scope="module")
def vocab() -> Vocabularies:
    return Vocabularies.load(ROOT / "vocab")


@pytest.mark.parametrize(
    ("vocabulary", "text", "uri"),
    [
        ("licence", "dl-de/by-2-0", LICENCES + "dl-by-de/2.0"),
        ("licence", "CC BY 4.0", LICENCES + "cc-by/4.0"),
        ("licence", "https://creativecommons.org/licenses/by/4.0/", LICENCES + "cc-by/4.0"),
        ("licence", "cc-by", LICENCES + "cc-by"),
        ("licence", "http://www.opendefinition.org/licenses/cc-by", LICENCES + "cc-by"),
        ("licence", "https://dcat-ap.de/def/licenses/cc-zero", LICENCES + "cc-zero"),
        ("licence", "Other (Open)", LICENCES + "other-open"),
        ("file_type", "GeoJSON", EU + "file-type/GEOJSON"),
        ("file_type", "geojson", EU + "file-type/GEOJSON"),
        ("file_type", "WFS", EU + "file-type/WFS_SRVC"),
        ("file_type", "OGC:WMS-1.3.0-http-get-map", EU + "file-type/WMS_SRVC"),
        ("file_type", "text/csv", EU + "file-type/CSV"),
        ("language", "deu", EU + "language/DEU"),
        ("language", "de", EU + "language/DEU"),
        ("language", "Deutsch", EU + "language/DEU"),
        ("theme", "ENVI", EU + "data-theme/ENVI"),
        ("theme", f"{EU}data-theme/TRAN", EU + "data-theme/TRAN"),
        ("theme", "Bevölkerung und Gesellschaft", EU + "data-theme/SOCI"),
        ("access_right", "PUBLIC", EU + "access-right/PUBLIC"),
        ("frequency", "monatlich", EU + "frequency/MONTHLY"),
    ],
)
def test_free_text_maps_to_its_concept(
    vocab: Vocabularies, vocabulary: str, text: str, uri: str
) -> None:
    assert str(vocab.concept(vocabulary, text)) == uri


@pytest.mark.parametrize(
    ("vocabulary", "text"),
    [
        ("licence", "Es gelten keine Bedingungen"),
        ("licence", "Creative Commons"),  # which one?
        ("file_type", "FILE"),
        ("language", "xx"),
        ("theme", "Umweltschutz"),
        ("theme", f"{EU}file-type/CSV"),  # a concept of another vocabulary
    ],
)
def test_unknown_values_stay_unmapped(vocab: Vocabularies, vocabulary: str, text: str) -> None:
    assert vocab.concept(vocabulary, text) is None


def test_every_concept_has_a_label_and_every_scheme_a_title(vocab: Vocabularies) -> None:
    from rdflib.namespace import DCTERMS, RDF, SKOS

    concepts = set(vocab.graph.subjects(SKOS.inScheme, None))
    assert len(concepts) > 80
    assert all(vocab.graph.value(c, SKOS.prefLabel) is not None for c in concepts)
    schemes = set(vocab.graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes >= set(vocab.graph.objects(None, SKOS.inScheme))
    assert all(vocab.graph.value(s, DCTERMS.title) is not None for s in schemes)


def test_a_missing_vocab_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no vocabulary files"):
        Vocabularies.load(tmp_path / "nowhere")


@pytest.mark.slow
def test_a_regular_installation_finds_its_vocabularies(tmp_path: Path) -> None:
    """``pip install .`` (not editable) puts vocab/ under the installation prefix, where the
    catalogue finds it without the source checkout."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=600,
    )
    target = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    # the dependencies come from this environment's site-packages (PYTHONPATH does not run
    # its .pth files, so the editable checkout stays out of sight)
    env = {**os.environ, "PYTHONPATH": sysconfig.get_path("purelib")}
    script = (
        "import catalogue.dcat.vocab as v, sys; "
        "folder = v.default_vocab_dir(); "
        "print(v.__file__); print(folder); "
        "print(v.Vocabularies.load().concept('licence', 'dl-de/by-2-0'))"
    )
    out = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    module, folder, concept = out.stdout.split()
    assert module.startswith(str(target)) and folder.startswith(str(target))
    assert not folder.startswith(str(ROOT))
    assert concept == LICENCES + "dl-by-de/2.0"


def test_every_dcat_setting_is_documented() -> None:
    from catalogue.settings import DCATSettings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in DCATSettings.model_fields if f"`{name}`" not in readme]
    assert not missing and "| `dcat` |" in readme, missing
