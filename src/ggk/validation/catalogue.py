"""The catalogue of check types: every finding the validator can report, frictionless-style.

Generic check types (file level and field level) are defined here; cross-field rules come from the
definition's rules.toml and are turned into check types by `rule_check`. Each check type carries a
Dutch title, description (what it means), message and fix hint (how to repair it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from ggk.definitions import Definition, Rule

Level = Literal["file", "field", "row"]


@dataclass(frozen=True, slots=True)
class CheckType:
    code: str
    severity: Literal["error", "warning"]
    level: Level
    title: str
    description: str
    message: str  # may use {column}
    fix: str  # may use {column}
    has_column: bool  # whether findings of this type name a column in the report

    def message_for(self, column: str | None) -> str:
        return self.message.format(column=column or "")

    def fix_for(self, column: str | None) -> str:
        return self.fix.format(column=column or "")


def _file(code: str, title: str, description: str, message: str, fix: str, has_column: bool = False
          ) -> CheckType:
    return CheckType(code, "error", "file", title, description, message, fix, has_column)


FILE_CHECKS: tuple[CheckType, ...] = (
    _file("bestand-leeg", "Bestand is leeg",
          "Het bestand bevat geen kopregel met kolomnamen (het is leeg of bevat alleen lege "
          "regels).",
          "Het bestand bevat geen kopregel.",
          "Exporteer het bestand opnieuw: de eerste regel moet de kolomnamen bevatten, gevolgd "
          "door de gegevensregels."),
    _file("codering", "Bestand is geen UTF-8",
          "Het bestand bevat tekens die geen geldige UTF-8 zijn, bijvoorbeeld omdat het als "
          "Windows-1252 of Latin-1 is opgeslagen.",
          "Het bestand is niet in UTF-8 gecodeerd.",
          "Sla het bestand op met tekenset UTF-8 (in Excel: 'CSV UTF-8'); het voorbeeld hieronder "
          "zegt waar het eerste ongeldige teken staat."),
    _file("scheidingsteken", "Verkeerd scheidingsteken",
          "De kopregel is gescheiden met een ander teken; de specificatie schrijft een "
          "{scheidingsteken_teken} voor.",
          "De kolommen zijn niet gescheiden door een {scheidingsteken_teken}.",
          "Exporteer het bestand met de {scheidingsteken} als scheidingsteken."),
    _file("kolom-ontbreekt", "Kolom ontbreekt",
          "Een kolom uit de specificatie staat niet in de kopregel. Alle kolommen moeten aanwezig "
          "zijn, ook als de waarden leeg mogen zijn.",
          "De kolom {column} ontbreekt in de kopregel.",
          "Voeg de kolom {column} toe aan de export (laat de waarden leeg als ze niet bekend zijn "
          "en dat is toegestaan).", True),
    _file("kolom-onbekend", "Onbekende kolom",
          "De kopregel bevat een kolom die niet in de specificatie staat.",
          "De kolom '{column}' komt niet voor in de specificatie.",
          "Verwijder de kolom '{column}' of corrigeer de spelling van de kolomnaam.", True),
    _file("kolom-dubbel", "Kolom komt dubbel voor",
          "Dezelfde kolomnaam staat meer dan eens in de kopregel.",
          "De kolom {column} komt meer dan eens voor in de kopregel.",
          "Laat elke kolom precies één keer in de export voorkomen.", True),
    _file("kolommen-onbekend", "Veel onbekende kolommen",
          "De kopregel bevat meer dan 20 verschillende kolomnamen die niet in de specificatie "
          "staan. Ze worden samen gemeld: de waarde noemt hun aantal en de eerste namen. "
          "Waarschijnlijk is dit niet de juiste export, of ontbreekt de kopregel.",
          "De kopregel bevat veel kolommen die niet in de specificatie staan.",
          "Controleer of u het juiste bestand aanlevert: de eerste regel moet precies de kolommen "
          "uit de specificatie bevatten."),
    _file("kopregel-te-lang", "Kopregel is te lang",
          "De eerste regel van het bestand is langer dan 64 KiB en is daarom niet als kopregel "
          "gelezen; de rest van het bestand is niet gecontroleerd. Een echte kopregel is enkele "
          "honderden tekens lang. Mogelijk is het geen CSV-bestand, gebruikt het alleen CR als "
          "regeleinde (oude Mac-indeling) of opent de kopregel een aanhalingsteken dat niet wordt "
          "gesloten.",
          "De kopregel is te lang om te lezen.",
          "Exporteer het bestand opnieuw als CSV (UTF-8, {scheidingsteken} als scheidingsteken, "
          "LF of CRLF als regeleinde) met de kolomnamen op de eerste regel."),
)

# Codes whose finding value the validator writes itself (where the problem is, how many columns):
# it is already masked where it quotes the file, and must not be masked as a whole again.
DESCRIBED_VALUES = frozenset({"codering", "kolommen-onbekend", "kopregel-te-lang",
                              "aanhalingsteken-open"})


def _field(code: str, title: str, description: str, message: str, fix: str) -> CheckType:
    return CheckType(code, "error", "field", title, description, message, fix, True)


FIELD_CHECKS: tuple[CheckType, ...] = (
    _field("verplicht", "Verplicht veld is leeg",
           "Dit veld moet op elke regel een waarde hebben.",
           "Het verplichte veld {column} is leeg.",
           "Vul {column} in op de genoemde regels; controleer in uw bronsysteem waarom de waarde "
           "ontbreekt."),
    _field("type", "Waarde heeft het verkeerde type",
           "Een datum of getal is niet te lezen. Datums schrijft u als {datumformaat} (bestaande "
           "datum), getallen met een {decimaalteken} als decimaalteken en zonder scheidingsteken "
           "voor duizendtallen.",
           "De waarde in {column} is geen geldige datum of geen geldig getal.",
           "Schrijf datums als {datumformaat} (bijvoorbeeld {datumvoorbeeld}) en getallen als "
           "{getalvoorbeeld} ({decimaalteken}, geen {ander_decimaalteken})."),
    _field("bereik", "Waarde buiten het bereik",
           "Het getal of de datum is goed geschreven, maar valt buiten wat ggk kan vastleggen: "
           "getallen moeten (zonder teken) kleiner zijn dan 1.000.000.000.000.000 (10^15), "
           "datums liggen in het jaar 0001 of later (het jaar 0000 bestaat niet).",
           "De waarde in {column} valt buiten het bereik dat ggk kan vastleggen.",
           "Controleer {column} in uw bronsysteem: zo'n groot getal of zo'n vroege datum is "
           "vrijwel altijd een fout in de export (bijvoorbeeld een veld dat is volgelopen)."),
    _field("patroon", "Waarde heeft niet het juiste patroon",
           "De waarde voldoet niet aan het voorgeschreven patroon, bijvoorbeeld een BSN van "
           "precies 9 cijfers of een gemeentecode GM gevolgd door 4 cijfers.",
           "De waarde in {column} heeft niet het voorgeschreven patroon.",
           "Controleer het formaat van {column}: let op voorloopnullen die bij het exporteren "
           "(bijv. via Excel) zijn weggevallen."),
    _field("codelijst", "Waarde staat niet in de codelijst",
           "De waarde komt niet voor in de codelijst van dit veld.",
           "De waarde in {column} staat niet in de codelijst.",
           "Gebruik alleen codes uit de codelijst van {column} (zie de specificatie), met "
           "voorloopnul waar de code die heeft."),
    _field("minimum", "Waarde is te klein",
           "Het getal is kleiner dan de toegestane ondergrens.",
           "De waarde in {column} is kleiner dan het toegestane minimum.",
           "Controleer {column}: negatieve waarden zijn niet toegestaan."),
    _field("elfproef", "BSN doorstaat de elfproef niet",
           "Het burgerservicenummer heeft 9 cijfers maar is geen geldig BSN volgens de elfproef; "
           "waarschijnlijk een tikfout of een intern nummer in plaats van het BSN.",
           "Het BSN in {column} doorstaat de elfproef niet.",
           "Neem het BSN over uit de BRP-gegevens in uw bronsysteem; gebruik geen intern "
           "cliëntnummer."),
)

ROW_CHECKS: tuple[CheckType, ...] = (
    CheckType("aantal-velden", "error", "row", "Verkeerd aantal velden",
              "Deze regel is verder niet gecontroleerd, omdat niet vast te stellen is welke waarde "
              "bij welke kolom hoort.",
              "De regel heeft een ander aantal velden dan de kopregel.",
              "Controleer of er een {scheidingsteken} in een waarde staat (zet die waarde dan "
              "tussen aanhalingstekens) of dat er een veld ontbreekt.", False),
    CheckType("aanhalingsteken-open", "error", "row", "Aanhalingsteken niet gesloten",
              "Een waarde op deze regel begint met een aanhalingsteken dat tot het einde van het "
              "bestand niet wordt gesloten. Alles vanaf deze regel is daardoor als één regel "
              "gelezen: die regels zijn niet gecontroleerd. De waarde noemt hoeveel regels het "
              "zijn.",
              "Op deze regel opent een aanhalingsteken dat niet wordt gesloten; de rest van het "
              "bestand is niet gecontroleerd.",
              "Sluit het aanhalingsteken in de genoemde regel, of verwijder het (een waarde "
              "zonder {scheidingsteken} of regeleinde hoeft niet tussen aanhalingstekens).", False),
    CheckType("gemeentecode-afzender", "error", "row", "Gemeentecode is niet de afzender",
              "De gemeentecode is geldig, maar hoort niet bij de gemeente die aanlevert.",
              "De gemeentecode in {column} is niet die van de aanleverende gemeente.",
              "Lever alleen records van uw eigen gemeente aan, met uw eigen gemeentecode.", True),
    CheckType("dubbel-record", "error", "row", "Dubbel record",
              "Dezelfde combinatie van sleutelvelden staat al op een eerdere regel. De eerste "
              "regel telt niet als fout, de herhalingen wel.",
              "Dit record komt al eerder in het bestand voor (zelfde sleutel).",
              "Verwijder de dubbele regels of controleer of {sleutel} moet verschillen.", False),
    CheckType("geen-basisrecord", "warning", "row", "Geen bijbehorend basisrecord",
              "Er is geen record met dezelfde sleutel in de laatst goedgekeurde basisaanlevering "
              "van deze periode.",
              "Bij dit record hoort geen record in de basisaanlevering.",
              "Controleer of het record in de basisaanlevering staat, met dezelfde {verwijzing}; "
              "lever zo nodig eerst een gecorrigeerde {verwezen} aan.",
              False),
)

# Report order: file level, then an open quote and the field count of a line, then field checks,
# then row rules.
GENERIC_CHECKS: dict[str, CheckType] = {
    c.code: c for c in (*FILE_CHECKS, *ROW_CHECKS[:2], *FIELD_CHECKS, *ROW_CHECKS[2:])
}
FIELD_CHECK_ORDER: tuple[str, ...] = tuple(c.code for c in FIELD_CHECKS)


def rule_check(rule: Rule) -> CheckType:
    """The check type of a cross-field rule from the definition."""
    return CheckType(rule.code, rule.severity, "row", rule.title, rule.description, rule.message,
                     rule.fix, rule.column is not None)


DELIMITER_NAMES = {";": "puntkomma", ",": "komma", "\t": "tab", "|": "verticale streep"}
DECIMAL_NAMES = {",": "komma", ".": "punt"}
STRFTIME_DUTCH = {"%Y": "JJJJ", "%m": "MM", "%d": "DD"}


def _listed(names: list[str], fallback: str, last: str = "en") -> str:
    """`a`, `a en b`, `a, b en c` (or the fallback for none)."""
    if not names:
        return fallback
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def wording(definition: Definition, dataset: str) -> dict[str, str]:
    """The words the generic checks' texts take from the definition: its delimiter, date and
    number format, the key of the dataset and the dataset its foreign key refers to."""
    spec = definition.dataset(dataset)
    delimiter = spec.dialect.delimiter
    name = DELIMITER_NAMES.get(delimiter, f"'{delimiter}'")
    dates = [f for f in spec.fields if f.type == "date"]
    date_format = dates[0].date_format if dates else "%Y-%m-%d"
    shown = date_format
    for code, text in STRFTIME_DUTCH.items():
        shown = shown.replace(code, text)
    numbers = [f for f in spec.fields if f.type == "number"]
    decimal = numbers[0].decimal_char if numbers else ","
    other = "." if decimal == "," else ","
    plain = {f.name for f in spec.fields if not (f.is_sender or f.personal)}
    fk = next(iter(spec.foreign_keys), None)
    return {
        "scheidingsteken": name,
        "scheidingsteken_teken": name if delimiter == "\t" else f"{name} ({delimiter})",
        "datumformaat": shown,
        "datumvoorbeeld": dt.date(2026, 3, 1).strftime(date_format),
        "decimaalteken": DECIMAL_NAMES.get(decimal, f"'{decimal}'"),
        "ander_decimaalteken": DECIMAL_NAMES.get(other, f"'{other}'"),
        "getalvoorbeeld": f"12{decimal}5",
        "sleutel": _listed([k for k in spec.primary_key if k in plain], "de sleutel", "of"),
        "verwijzing": _listed(list(fk.fields) if fk else [], "sleutel"),
        "verwezen": fk.resource if fk else "aanlevering",
    }


def _filled(check: CheckType, words: dict[str, str]) -> CheckType:
    """The check with the definition's words in its texts ({column} stays for each finding)."""
    def fill(text: str) -> str:
        for key, value in words.items():
            text = text.replace("{" + key + "}", value)
        return text
    return replace(check, description=fill(check.description), message=fill(check.message),
                   fix=fill(check.fix))


def checks_for(definition: Definition, dataset: str) -> dict[str, CheckType]:
    """Every check type that can occur for this dataset, generic ones first; the generic texts
    speak the definition's words (delimiter, date format, key: see `wording`)."""
    words = wording(definition, dataset)
    checks = {code: _filled(check, words) for code, check in GENERIC_CHECKS.items()}
    for rule in definition.rules_for(dataset):
        checks[rule.code] = rule_check(rule)
    return checks
