"""The report's inline stylesheet (screen and A4 print) and the heat table's colour classes."""

from __future__ import annotations

from decimal import Decimal

BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")


def heat_class(value: Decimal | None, vmax: float) -> int:
    """0 for zero, 1-8 by share of the column's largest published territory value."""
    if value is None or vmax <= 0 or float(value) <= 0:
        return 0
    share = float(value) / vmax
    return max(1, min(8, int((share * 8) + 0.999999)))


CSS = """
@page { size: A4 portrait; margin: 14mm 12mm 16mm 12mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt "Liberation Sans", Arial, sans-serif;
    color: #555; }
  @bottom-left { content: "PCVE · report.html"; font: 8pt "Liberation Sans", Arial, sans-serif; color: #777; } }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "PT Sans", "Liberation Sans", Arial, "DejaVu Sans", sans-serif; font-size: 10.5pt;
  color: #1b1f24; margin: 0 auto; max-width: 190mm; padding: 8mm 0 12mm; line-height: 1.35; background: #fff; }
h1 { font-size: 17pt; margin: 0 0 2mm; color: #0b2e4f; line-height: 1.2; }
h1 .ru, .subtitle .ru { display: block; color: #3d5570; font-weight: normal; }
h1 .ru { font-size: 13pt; margin-top: 1mm; }
h2 { font-size: 13.5pt; color: #0b2e4f; margin: 0 0 1mm; }
h2 .ru { display: block; font-size: 11pt; font-weight: normal; color: #3d5570; }
h3 { font-size: 11pt; color: #0b2e4f; margin: 6mm 0 2mm; padding-bottom: 1mm; border-bottom: 1.5px solid #00a3c4;
  break-after: avoid; page-break-after: avoid; }
h3 .sep, .bi .sep { color: #8a9bb0; font-weight: normal; }
h3 span[lang=ru] { font-weight: normal; color: #3d5570; }
.kk, .ru { display: block; }
.ru { color: #4a5a6a; }
.masthead { border-top: 6px solid #00a3c4; border-bottom: 1px solid #c9d3de; padding: 5mm 0 4mm; margin-bottom: 4mm; }
.subtitle { font-size: 11pt; margin: 2mm 0 0; }
.period { font-size: 14pt; font-weight: bold; color: #0b2e4f; margin-top: 3mm; }
.period .ru { display: inline; color: #0b2e4f; }
.badge { display: inline-block; font-size: 8.5pt; padding: 0.5mm 2mm; border-radius: 2mm; background: #e8f3f7;
  color: #0b4f6c; border: 1px solid #b7dbe6; margin-top: 2mm; }
.badge.public { background: #fff4d6; color: #6b4e00; border-color: #f1d27a; }
.meta { color: #4a5a6a; font-size: 9pt; margin-top: 2mm; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; table-layout: fixed; }
th, td { border: 1px solid #c9d3de; padding: 1.2mm 1.5mm; vertical-align: top; }
th { background: #eef3f8; color: #0b2e4f; font-weight: bold; text-align: left; font-size: 8.5pt; }
th .ru, td .ru { font-weight: normal; font-size: 8pt; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.c { text-align: center; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.total td { font-weight: bold; background: #f6f8fb; }
.code { display: block; font-size: 6.5pt; color: #8a9bb0; letter-spacing: 0.2px; margin-top: 0.5mm; }
.rel { display: block; font-size: 7.5pt; color: #6b7b8c; }
th.num { white-space: normal; }
td.file { font-size: 7.5pt; word-break: break-all; }
.status { display: block; font-size: 7.5pt; text-align: right; }
.status .kk, .status .ru { color: inherit; font-size: 7.5pt; }
.pct-parts { display: block; font-size: 7.5pt; color: #6b7b8c; font-weight: normal; }
.arrow { font-size: 7pt; color: #6b7b8c; }
.supp { color: #8a5a00; font-weight: bold; }
.note { font-size: 8pt; color: #4a5a6a; margin: 1.5mm 0 0; }
.note .ru { display: inline; }
section.office { break-before: page; page-break-before: always; }
.office-head { background: #0b2e4f; color: #fff; padding: 3mm 4mm; margin-bottom: 2mm; }
.office-head h2, .office-head h2 .ru { color: #fff; }
.office-head .ru { color: #cfe3f2; }
.office-head .facts { font-size: 8.5pt; color: #cfe3f2; margin-top: 1mm; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; }
.card { border: 1px solid #d6dee7; padding: 1.5mm 2mm 1mm; break-inside: avoid; page-break-inside: avoid; }
.card .kk { font-weight: bold; font-size: 8pt; line-height: 1.2; }
.card .ru { font-size: 7.5pt; line-height: 1.2; }
.card .unit { font-size: 7pt; color: #6b7b8c; }
svg.chart { display: block; width: 100%; height: auto; margin-top: 1mm; }
svg text { font-family: "PT Sans", "Liberation Sans", Arial, "DejaVu Sans", sans-serif; text-anchor: middle; }
svg .axis { stroke: #7b8a99; stroke-width: 1; }
svg .ref, svg .ref100 { stroke: #c0392b; stroke-width: 1; stroke-dasharray: 3 2; }
svg .bar { fill: #9cc3e0; } svg .bar.cur { fill: #17609e; }
svg .trend { fill: none; stroke: #4a7fb0; stroke-width: 1.5; }
svg .dot { fill: #4a7fb0; } svg .dot.cur { fill: #0b2e4f; }
svg .val { fill: #1b1f24; } svg .na { fill: #8a9bb0; } svg .na.supp { fill: #8a5a00; font-weight: bold; }
svg .tick { fill: #4a5a6a; font-size: 8px; } svg .tick.cur { fill: #0b2e4f; font-weight: bold; }
svg .year { fill: #6b7b8c; font-size: 7.5px; }
svg .track { fill: #eef2f6; } svg .ok { fill: #2e8b57; } svg .under { fill: #d98c1f; } svg .over { fill: #1d5e3a; }
svg .late { fill: #c0392b; } svg .early { fill: #2e8b57; } svg .due { stroke: #1b1f24; stroke-width: 1.2; }
table.heat { width: auto; } table.heat col { width: 17mm; } table.heat col.terr { width: 46mm; }
table.heat td.num { padding-right: 2mm; }
table.heat th.ind { text-align: center; font-size: 7.5pt; vertical-align: bottom; }
table.heat td.terr .ru { font-size: 7.5pt; }
""" + "".join(
    f"table.heat td.h{i} {{ background: {c}; {'color: #fff;' if i >= 6 else ''} }}\n" for i, c in enumerate(BLUES)
) + """
table.heat td.hs { background: repeating-linear-gradient(135deg, #f3ead6 0 3px, #fff 3px 6px); text-align: center; }
.heat-legend { display: flex; align-items: center; gap: 1mm; font-size: 7.5pt; color: #4a5a6a; margin-top: 1.5mm; }
.heat-legend i { display: inline-block; width: 6mm; height: 3mm; border: 1px solid #c9d3de; }
.cols { font-size: 7.5pt; color: #4a5a6a; margin: 1mm 0 3mm; columns: 2; column-gap: 6mm; }
.cols div { break-inside: avoid; }
.ontime { color: #1d6b40; } .islate { color: #a3281c; font-weight: bold; }
.links a { color: #0b4f8c; }
.links li { margin-bottom: 1mm; }
a { color: #0b4f8c; }
.toc a { text-decoration: none; }
.revision { border: 1px solid #b7dbe6; background: #f2f9fb; padding: 2mm 3mm; margin: 0 0 4mm; font-size: 9pt; }
.revision table { margin-top: 1.5mm; }
.provisional-banner { border: 2px solid #c0392b; background: #fdecea; color: #7b1d13; font-weight: bold;
  padding: 2.5mm 3mm; margin: 0 0 4mm; font-size: 10.5pt; }
.legend-box { border: 1px solid #d6dee7; background: #fafbfc; padding: 2mm 3mm; font-size: 8.5pt; margin-top: 3mm; }
footer { margin-top: 8mm; border-top: 1px solid #c9d3de; padding-top: 2mm; font-size: 8pt; color: #6b7b8c; }
.screen-only { }
@media print {
  body { padding: 0; max-width: none; }
  .screen-only { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""
