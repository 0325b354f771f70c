"""publication.toml is data: a broken one is refused with the file and the problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ggk.definitions import Definition
from ggk.definitions.loader import load_definition
from ggk.definitions.registry import SHIPPED
from ggk.publication import PublicationError
from ggk.publication.services import load_settings


def copy_of_gmsd(tmp_path: Path) -> Definition:
    folder = tmp_path / "gmsd" / "2026"
    shutil.copytree(SHIPPED / "gmsd" / "2026", folder)
    return load_definition(folder)


def test_shipped_settings() -> None:
    settings = load_settings(load_definition(SHIPPED / "gmsd" / "2026"))
    assert (settings.agency, settings.dataflow, settings.version) == ("CBS", "DF_GMSD_WMO", "1.0")
    assert {r.kind for r in settings.relations} == {"som", "dekkend", "deel"}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('"clienten_overig_per_1000"]', '"clienten_elders"]'),
     "unknown indicator(s) clienten_elders"),
    (lambda t: t.replace('soort = "deel"', 'soort = "soms"'), "soort 'soms' is not one of"),
    (lambda t: t.replace('agency = "CBS"', ''), "[sdmx] misses agency"),
    (lambda t: t + "[[relatie\n", "invalid TOML"),
])
def test_broken_publication_toml_is_refused(tmp_path: Path, edit, message: str) -> None:  # noqa: ANN001
    definition = copy_of_gmsd(tmp_path)
    path = definition.root / "publication.toml"
    path.write_text(edit(path.read_text("utf-8")), "utf-8")
    with pytest.raises(PublicationError) as refused:
        load_settings(definition)
    assert str(path) in str(refused.value) and message in str(refused.value)


def test_a_statistic_without_publication_toml_is_not_published(tmp_path: Path) -> None:
    definition = copy_of_gmsd(tmp_path)
    (definition.root / "publication.toml").unlink()
    with pytest.raises(PublicationError, match="file is missing"):
        load_settings(definition)
