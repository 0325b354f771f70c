"""No code outside src/ggk/definitions/data names a statistic, a dataset or a column (issue 11).

The test loads every statistic shipped in src/ggk/definitions/data and collects its distinctive
names: statistic ids, dataset names and column names. Each of them may not occur as a whole word
(any case; `_` separates words, so `CS_GMSD` and `basis_frame` count) in a .py file under src/ggk,
outside definitions/data.

Not every column name is distinctive. Some are the framework's own vocabulary, and those come
from the framework, not from a hand-kept list:
- a column with the sender role (`is_sender`, e.g. `gemeentecode`): every delivery has one and the
  station, mirror and publication speak of it;
- a word of the definition format itself: the text keys of an [[indicator]] (`eenheid` is the
  unit of an indicator, as well as a GMSD column) and the draw kinds of the test-file recipe
  (`bsn` draws a synthetic burgerservicenummer; the elfproef and the BSN masking in logs are
  framework checks a field opts into with `elfproef`/`personal`).
- an everyday Dutch word that a statistic happens to use as a column name, in COMMON_WORDS
  (`soort`, the kind of a message or a flag; `categorie`): the framework uses the word, not the
  column. This is the one hand-kept list; keep it to words like these.
A name in these groups is not checked; all others are.

"""

from __future__ import annotations

import re
from pathlib import Path

from ggk.definitions.registry import SHIPPED, FolderRegistry
from ggk.mirror.indicators import TEXT_KEYS
from ggk.testdata.recipe import DRAWS

SRC = Path(__file__).resolve().parents[2] / "src" / "ggk"

# Everyday Dutch words that are also a column of a shipped statistic (iv3); see the docstring.
COMMON_WORDS = {"soort", "categorie"}

def distinctive_names() -> set[str]:
    framework = set(TEXT_KEYS) | set(DRAWS) | COMMON_WORDS
    names: set[str] = set()
    for definition in FolderRegistry(SHIPPED).all():
        names.add(definition.statistic)
        for dataset in definition.datasets:
            names.add(dataset.name)
            names |= {f.name for f in dataset.fields if not f.is_sender}
    return {n.lower() for n in names} - framework


def offenders() -> dict[str, list[str]]:
    names = distinctive_names()
    # a whole word, where `_` also separates words: `CS_GMSD` and `basis_frame` count
    alternatives = "|".join(sorted(map(re.escape, names)))
    pattern = re.compile(r"(?<![^\W_])(" + alternatives + r")(?![^\W_])", re.I)
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("definitions/data/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in pattern.finditer(line):
                found.setdefault(rel, []).append(f"{rel}:{n}: {match.group(0)}: {line.strip()}")
    return found


def test_the_names_are_the_distinctive_ones() -> None:
    names = distinctive_names()
    # the shipped statistics, their datasets and typical columns are checked ...
    assert {"gmsd", "iv3", "basis", "facultatief", "productcategorie", "taakveld"} <= names
    # ... the sender column and the words of the definition format are not
    assert not {"gemeentecode", "bsn", "eenheid"} & names


def test_no_code_outside_the_definitions_names_a_statistic_dataset_or_column() -> None:
    found = offenders()
    unexpected = [line for lines in found.values() for line in lines]
    assert not unexpected, "names from a definition in code:\n" + "\n".join(unexpected)

