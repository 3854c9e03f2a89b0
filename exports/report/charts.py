"""Inline SVG: the quarterly trend chart, the plan bar and the lateness bar (no script, no fonts)."""

from __future__ import annotations

from exports.formats import Row
from exports.report.labels import ROMAN, _suppressed, esc, num
from pcve.core.periods import Period


def _f(x: float) -> str:
    """Coordinates with one decimal, no ``-0.0``: the same input gives the same bytes."""
    s = f"{x:.1f}"
    return "0.0" if s == "-0.0" else s


def trend_chart(points: list[tuple[Period, Row | None]], is_percent: bool, current: frozenset[str] | set[str],
                label: str, ref100: bool = False, width: int = 230, height: int = 128) -> str:
    """Bars (counts) or a line with dots (percentages) of the office total over quarters.

    The axis runs from 0 to the largest *published* value (to 100 at least with ``ref100``, the
    plan line): a suppressed value never sets the scale."""
    top, bottom, side = 15.0, 26.0, 4.0
    ph = height - top - bottom
    n = max(len(points), 1)
    slot = (width - 2 * side) / n
    visible = [float(r.value) for _, r in points if r is not None and not _suppressed(r) and r.value is not None]
    vmax = max(visible, default=0.0)
    if ref100:
        vmax = max(vmax, 100.0)
    vmax = vmax or 1.0
    fs = 8.5 if n > 6 else 9.5
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{esc(label)}"><title>{esc(label)}</title>',
           f'<line class="axis" x1="{_f(side)}" y1="{_f(top + ph)}" x2="{_f(width - side)}" y2="{_f(top + ph)}"/>']
    if ref100:
        y100 = top + ph - ph * 100.0 / vmax
        out.append(f'<line class="ref" x1="{_f(side)}" y1="{_f(y100)}" x2="{_f(width - side)}" y2="{_f(y100)}"/>')
    line: list[tuple[float, float]] = []
    prev_year = None
    for i, (q, r) in enumerate(points):
        cx = side + slot * (i + 0.5)
        cur = q.dhis2 in current
        if r is None or (not _suppressed(r) and r.value is None):
            out.append(f'<text class="na" x="{_f(cx)}" y="{_f(top + ph - 3)}" font-size="{fs}">—</text>')
        elif _suppressed(r):
            out.append(f'<text class="na supp" x="{_f(cx)}" y="{_f(top + ph - 3)}" font-size="{fs}">к</text>')
        else:
            v = float(r.value)
            h = ph * v / vmax
            y = top + ph - h
            if is_percent:
                line.append((cx, y))
                out.append(f'<circle class="dot{" cur" if cur else ""}" cx="{_f(cx)}" cy="{_f(y)}" r="2.6"/>')
            else:
                bw = slot * 0.64
                out.append(f'<rect class="bar{" cur" if cur else ""}" x="{_f(cx - bw / 2)}" y="{_f(y)}" '
                           f'width="{_f(bw)}" height="{_f(max(h, 0.0))}"/>')
            out.append(f'<text class="val" x="{_f(cx)}" y="{_f(y - 3)}" font-size="{fs}">'
                       f'{esc(num(r.value, is_percent))}</text>')
        out.append(f'<text class="tick{" cur" if cur else ""}" x="{_f(cx)}" y="{_f(top + ph + 10)}">'
                   f'{ROMAN[q.number]}</text>')
        if q.year != prev_year:
            out.append(f'<text class="year" x="{_f(cx)}" y="{_f(top + ph + 21)}">{q.year}</text>')
            prev_year = q.year
    if len(line) > 1:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in line)
        out.insert(2, f'<polyline class="trend" points="{pts}"/>')
    out.append("</svg>")
    return "".join(out)


def plan_bar(row: Row | None, width: int = 210, height: int = 16) -> str:
    """Fulfilment against the 100 % line (scale 0-150 %, longer bars clipped with an arrow)."""
    scale = 150.0
    out = [f'<svg class="pbar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="plan">',
           f'<rect class="track" x="0" y="3" width="{width}" height="{height - 6}"/>']
    if row is not None and not _suppressed(row) and row.value is not None:
        v = float(row.value)
        w = width * min(v, scale) / scale
        cls = "ok" if v >= 100 else "under"
        out.append(f'<rect class="{cls}" x="0" y="3" width="{_f(w)}" height="{height - 6}"/>')
        if v > scale:
            out.append(f'<path class="over" d="M{width - 7} 3 L{width} {height / 2} L{width - 7} {height - 3} Z"/>')
    x100 = width * 100.0 / scale
    out.append(f'<line class="ref100" x1="{_f(x100)}" y1="0" x2="{_f(x100)}" y2="{height}"/>')
    out.append("</svg>")
    return "".join(out)


def lateness_bar(days: int | None, span: int = 20, width: int = 110, height: int = 16) -> str:
    """Days before (left, green) or after (right, red) the due date, the due date in the middle."""
    mid = width / 2
    out = [f'<svg class="lbar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="lateness">',
           f'<line class="axis" x1="0" y1="{height / 2}" x2="{width}" y2="{height / 2}"/>']
    if days is not None:
        w = (mid - 2) * min(abs(days), span) / span
        if days > 0:
            out.append(f'<rect class="late" x="{_f(mid)}" y="3" width="{_f(w)}" height="{height - 6}"/>')
        elif days < 0:
            out.append(f'<rect class="early" x="{_f(mid - w)}" y="3" width="{_f(w)}" height="{height - 6}"/>')
    out.append(f'<line class="due" x1="{_f(mid)}" y1="0" x2="{_f(mid)}" y2="{height}"/>')
    out.append("</svg>")
    return "".join(out)
