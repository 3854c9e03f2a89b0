"""dhis2_metadata.json: what a DHIS2 instance needs before it can take ``dhis2.json``.

A DHIS2 metadata-import payload (``POST /api/metadata``) with the data elements
(one per indicator, by code), the data set of the folder's period type with its
elements and organisation units, and the organisation units (KATO codes, names
in English with Kazakh and Russian translations, the hierarchy of
``config/territories.csv``). Value types fit the values: counts
``INTEGER_ZERO_OR_POSITIVE``, percentages ``NUMBER`` (a plan can be fulfilled
over 100 %, which DHIS2's ``PERCENTAGE`` rejects). Every element and the data set
use DHIS2's built-in default category combination.

Objects carry deterministic 11-character UIDs derived from their codes, so the
file is the same bytes on every run and re-importing it updates rather than
duplicates; ``dhis2.json`` refers to the same objects by code (``idScheme=CODE``).
Field names follow dhis2-core's classes (``DataElement``, ``DataSet``,
``DataSetElement``, ``OrganisationUnit``, ``Translation``); the test checks them.
"""

from __future__ import annotations

import hashlib
import json
import string

from exports.formats import DHIS2_DATASETS

#: The UID of DHIS2's built-in "default" category combination (present on every instance).
DEFAULT_CATEGORY_COMBO = "bjDvmb4bfuf"
#: Organisation units need an opening date; the territories have been in place since before any data.
OPENING_DATE = "2000-01-01"
_ALPHA = string.ascii_letters
_ALNUM = string.ascii_letters + string.digits


def uid(kind: str, code: str) -> str:
    """A DHIS2 UID (a letter, then 10 letters or digits) derived from the object's kind and code."""
    n = int.from_bytes(hashlib.sha256(f"pcve:{kind}:{code}".encode()).digest(), "big")
    out = [_ALPHA[n % len(_ALPHA)]]
    n //= len(_ALPHA)
    for _ in range(10):
        out.append(_ALNUM[n % len(_ALNUM)])
        n //= len(_ALNUM)
    return "".join(out)


def _translations(kk: str, ru: str) -> list[dict]:
    return [{"locale": loc, "property": "NAME", "value": v} for loc, v in (("kk", kk), ("ru", ru)) if v]


def value_type(unit: str) -> str:
    return "NUMBER" if unit == "percent" else "INTEGER_ZERO_OR_POSITIVE"


def render_metadata(period_kind: str, indicators: list[dict], territories: list[dict]) -> bytes:
    """`indicators`: {indicator_code, unit, name_en, name_kk, name_ru} in catalogue order; `territories`:
    {kato, parent_kato, name_en, name_kk, name_ru} of the folder's offices (parents before children
    is not required: DHIS2 resolves references within one payload)."""
    ds_code, period_type = DHIS2_DATASETS[period_kind]
    combo = {"id": DEFAULT_CATEGORY_COMBO}
    elements = []
    for i in indicators:
        code = i["indicator_code"]
        elements.append({
            "id": uid("dataElement", code), "code": code, "name": i.get("name_en") or code,
            "shortName": code, "formName": i.get("name_en") or code,
            "valueType": value_type(i["unit"]), "domainType": "AGGREGATE",
            # counts add up over territories and periods; a percentage does not (its parts do)
            "aggregationType": "NONE" if i["unit"] == "percent" else "SUM",
            "zeroIsSignificant": True, "categoryCombo": combo,
            "translations": _translations(i.get("name_kk") or "", i.get("name_ru") or ""),
        })
    katos = {str(t["kato"]) for t in territories}
    units = []
    for t in sorted(territories, key=lambda t: str(t["kato"])):
        kato = str(t["kato"])
        ou = {"id": uid("organisationUnit", kato), "code": kato, "name": t.get("name_en") or kato,
              "shortName": (t.get("name_en") or kato)[:50], "openingDate": OPENING_DATE,
              "translations": _translations(t.get("name_kk") or "", t.get("name_ru") or "")}
        parent = t.get("parent_kato")
        if parent and str(parent) in katos:
            ou["parent"] = {"id": uid("organisationUnit", str(parent))}
        units.append(ou)
    data_set = {
        "id": uid("dataSet", ds_code), "code": ds_code,
        "name": f"PCVE indicators ({period_type.lower()})", "shortName": ds_code,
        "periodType": period_type, "categoryCombo": combo,
        "dataSetElements": [{"dataElement": {"id": e["id"]}} for e in elements],
        "organisationUnits": [{"id": u["id"]} for u in units],
        "openFuturePeriods": 0, "expiryDays": 0,
    }
    payload = {"dataElements": elements, "dataSets": [data_set], "organisationUnits": units}
    return (json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
