"""The report's sections per office: indicators against the previous period and plan, plan
fulfilment per territory, the trend, the heat table, completeness and lateness; the summary."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from exports.formats import Row, format_value
from exports.report.charts import lateness_bar, plan_bar, trend_chart
from exports.report.css import BLUES, heat_class
from exports.report.data import Office, ReportData
from exports.report.labels import (
    HEAT_COLUMNS,
    T,
    _data_attrs,
    _parse_date,
    _parse_ts,
    _suppressed,
    bi,
    bi_lines,
    cell_text,
    esc,
    fmt_date,
    fmt_time,
    num,
    period_name,
    previous_period,
    trend_quarters,
)
from pcve.core.periods import Period


# Re-points the Data Docs links when the file is opened through its real path
# <home>/exports/.revisions/<period>/r<N>/report.html (four levels below the home, not two).
def _by_key(rows: Iterable[Row]) -> dict[tuple[str, str, str], Row]:
    return {r.key: r for r in rows}


def _catalogue(rows: Iterable[Row]) -> list[Row]:
    """One row per indicator (first seen), in catalogue order: names and units."""
    seen: dict[str, Row] = {}
    for r in rows:
        seen.setdefault(r.indicator_code, r)
    return sorted(seen.values(), key=lambda r: (r.sort_order, r.indicator_code))


def _change(cur: Row | None, prev: Row | None) -> tuple[str, str]:
    """(text, data-change) of cur − prev; ``к`` when either is suppressed, ``—`` when either is absent."""
    if _suppressed(cur) or _suppressed(prev):
        return '<span class="supp">к</span>', ""
    if cur is None or prev is None or cur.value is None or prev.value is None:
        return "—", ""
    d = cur.value - prev.value
    text = num(d, cur.is_percent, signed=True)
    arrow = "▲" if d > 0 else ("▼" if d < 0 else "")
    rel = ""
    if not cur.is_percent and prev.value:
        pct = (Decimal(100) * d / prev.value).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        rel = f'<span class="rel">{num(pct, False, signed=True)}\u00a0%</span>'
    arrow_html = f'<span class="arrow">{arrow}</span> ' if arrow else ""
    return f"{arrow_html}{esc(text)}{rel}", format_value(d, cur.is_percent)


def _value_cell(r: Row | None, extra_cls: str = "") -> str:
    cls = f"num{(' ' + extra_cls) if extra_cls else ''}"
    if r is None:
        return f'<td class="{cls}" data-value="">—</td>'
    if _suppressed(r):
        return f'<td class="{cls}"{_data_attrs(r)}><span class="supp">к</span></td>'
    parts = ""
    if r.is_percent and r.numerator is not None and r.denominator is not None:
        parts = f'<span class="pct-parts">{esc(num(r.numerator))} / {esc(num(r.denominator))}</span>'
    return f'<td class="{cls}"{_data_attrs(r)}>{esc(num(r.value, r.is_percent))}{parts}</td>'


def _indicator_table(office: Office, d: ReportData, cur: dict, prev: dict | None, prev_p: Period,
                     orows: list[Row]) -> str:
    root = office.root_kato
    rows = _catalogue(orows)  # this office's indicators (a catalogue of every office's rows would list
    # only those the office happened to report first)
    pk, pr = period_name(d.period)
    qk, qr = period_name(prev_p)
    head = (
        "<thead><tr>"
        f'<th class="c">{esc(T["no"][0])}</th>'
        f'<th>{bi_lines(*T["indicator"])}</th>'
        f'<th>{bi_lines(*T["unit"])}</th>'
        f'<th class="num">{bi_lines(pk, pr)}</th>'
        f'<th class="num">{bi_lines(*T["plan"])}</th>'
        f'<th class="num">{bi_lines(*T["plan_pct"])}</th>'
        f'<th class="num">{bi_lines(qk, qr)}</th>'
        f'<th class="num">{bi_lines(*T["change"])}</th>'
        "</tr></thead>"
    )
    cols = ('<colgroup><col style="width:6mm"><col><col style="width:13mm"><col style="width:20mm">'
            '<col style="width:15mm"><col style="width:19mm"><col style="width:20mm"><col style="width:24mm">'
            '</colgroup>')
    body = []
    for i, meta in enumerate(rows, start=1):
        code = meta.indicator_code
        c = cur.get((code, office.code, root))
        p = None if prev is None else prev.get((code, office.code, root))
        plan_cell = '<td class="num">—</td>'
        pct_cell = '<td class="num">—</td>'
        pct_code = d.plans.get(code)
        if pct_code is not None:
            pr_row = cur.get((pct_code, office.code, root))
            if pr_row is not None:
                if _suppressed(pr_row):
                    plan_cell = '<td class="num"><span class="supp">к</span></td>'
                else:
                    plan_cell = (f'<td class="num" data-plan="{esc(pr_row.denominator if pr_row.denominator is not None else "")}">'
                                 f'{esc(num(pr_row.denominator))}</td>')
                pct_cell = _value_cell(pr_row)
        ch, ch_raw = _change(c, p)
        body.append(
            f'<tr data-row="{esc(code)}">'
            f'<td class="c">{i}</td>'
            f'<td>{bi_lines(meta.indicator_name_kk, meta.indicator_name_ru)}<span class="code">{esc(code)}</span></td>'
            f'<td>{bi_lines(meta.unit_name_kk, meta.unit_name_ru)}</td>'
            f'{_value_cell(c, "cur")}{plan_cell}{pct_cell}{_value_cell(p, "prev")}'
            f'<td class="num" data-change="{esc(ch_raw)}">{ch}</td></tr>'
        )
    return f'<table class="indicators">{cols}{head}<tbody>{"".join(body)}</tbody></table>'


def _territories(office: Office, rows: list[Row]) -> list[Row]:
    """Territory rows (one per KATO) with the office total first, then by KATO."""
    seen: dict[str, Row] = {}
    for r in rows:
        if r.office_code == office.code:
            seen.setdefault(r.kato, r)
    return sorted(seen.values(), key=lambda r: (r.kato != office.root_kato, r.kato))


def _plan_section(office: Office, d: ReportData, cur: dict, orows: list[Row]) -> str:
    parts = []
    for pct_code in sorted(set(d.plans.values())):
        prow = [r for r in orows if r.indicator_code == pct_code]
        if not prow:
            continue
        meta = prow[0]
        if not any(r.denominator or _suppressed(r) for r in prow):
            continue  # no plan figures at all in this period
        body = []
        for t in _territories(office, prow):
            r = cur.get((pct_code, office.code, t.kato))
            held = num(r.numerator) if r is not None and not _suppressed(r) else ("к" if _suppressed(r) else "—")
            plan = num(r.denominator) if r is not None and not _suppressed(r) else ("к" if _suppressed(r) else "—")
            total = ' class="total"' if t.kato == office.root_kato else ""
            body.append(
                f"<tr{total}><td>{bi_lines(t.territory_name_kk, t.territory_name_ru)}</td>"
                f'<td class="num">{esc(held)}</td><td class="num">{esc(plan)}</td>{_value_cell(r)}'
                f"<td>{plan_bar(r)}</td></tr>")
        parts.append(
            f'<p class="note">{bi_lines(meta.indicator_name_kk, meta.indicator_name_ru)}</p>'
            '<table class="plan"><colgroup><col><col style="width:20mm"><col style="width:20mm">'
            '<col style="width:24mm"><col style="width:60mm"></colgroup><thead><tr>'
            f'<th>{bi_lines(*T["territory"])}</th><th class="num">{bi_lines(*T["held"])}</th>'
            f'<th class="num">{bi_lines(*T["plan"])}</th><th class="num">{bi_lines(*T["plan_pct"])}</th>'
            '<th>0 — 100 — 150 %</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')
    if not parts:
        return f'<p class="note">{bi("no_plan")}</p>'
    return "".join(parts)


def _office_totals(rows: list[Row], memo: dict | None) -> dict[tuple[str, str], dict[str, Row]]:
    """(office, kato) -> indicator -> row (the last one, as a dict comprehension keeps); `memo` (one
    render) indexes each period's rows once, not once per office."""
    if memo is not None and id(rows) in memo:
        return memo[id(rows)][1]
    index: dict[tuple[str, str], dict[str, Row]] = {}
    for r in rows:
        index.setdefault((r.office_code, r.kato), {})[r.indicator_code] = r
    if memo is not None:
        memo[id(rows)] = (rows, index)  # holds `rows`: its id stays its own while the memo lives
    return index


def _trend_section(office: Office, d: ReportData, memo: dict | None = None) -> str:
    quarters = trend_quarters(d.period)
    by_period: dict[str, dict] = {}
    for q in quarters:
        src = d.rows if q.dhis2 == d.period.dhis2 else d.history.get(q.dhis2, [])
        by_period[q.dhis2] = _office_totals(src, memo).get((office.code, office.root_kato), {})
    # from the first quarter with data (an office that started later has no empty years in front)
    first = next((i for i, q in enumerate(quarters) if by_period[q.dhis2]), None)
    if first is None:
        return f'<p class="note">{bi("no_trend")}</p>'
    quarters = quarters[first:]
    current = frozenset(q.dhis2 for q in quarters if q.start >= d.period.start and q.end <= d.period.end)
    plan_pcts = set(d.plans.values())
    cards = []
    all_rows = [r for q in quarters for r in by_period[q.dhis2].values()]
    for meta in _catalogue(all_rows):
        code = meta.indicator_code
        points = [(q, by_period[q.dhis2].get(code)) for q in quarters]
        if not any(r is not None and (r.value or _suppressed(r)) for _, r in points):
            continue  # nothing but zeros and gaps: no chart
        label = f"{meta.indicator_name_kk} / {meta.indicator_name_ru}"
        cards.append(
            f'<div class="card" data-chart="{esc(code)}">{bi_lines(meta.indicator_name_kk, meta.indicator_name_ru)}'
            f'<span class="unit">{esc(meta.unit_name_kk)} / {esc(meta.unit_name_ru)}</span>'
            f"{trend_chart(points, meta.is_percent, current, label, ref100=code in plan_pcts)}</div>")
    if not cards:
        return f'<p class="note">{bi("no_trend")}</p>'
    return (f'<div class="charts">{"".join(cards)}</div>'
            f'<p class="note">{bi("trends_note")}</p>')


def _heat_section(office: Office, d: ReportData, cur: dict, orows: list[Row]) -> str:
    terrs = _territories(office, orows)
    districts = [t for t in terrs if t.kato != office.root_kato]
    if not districts:
        return ""
    catalogue = _catalogue(orows)
    numbers = {m.indicator_code: i for i, m in enumerate(catalogue, start=1)}
    cols, office_only = [], []
    for m in catalogue:
        cells = [cur.get((m.indicator_code, office.code, t.kato)) for t in districts]
        if any(_suppressed(c) or (c is not None and c.value) for c in cells):
            cols.append(m)
        else:
            office_only.append(m)
    tables = []
    n_tables = -(-len(cols) // HEAT_COLUMNS)
    size = -(-len(cols) // max(n_tables, 1))
    for start in range(0, len(cols), max(size, 1)):
        chunk = cols[start:start + size]
        vmax = {}
        for m in chunk:
            vis = [float(c.value) for t in districts
                   if (c := cur.get((m.indicator_code, office.code, t.kato))) is not None
                   and not _suppressed(c) and c.value is not None]
            vmax[m.indicator_code] = max(vis, default=0.0)
        head = "".join(f'<th class="ind" title="{esc(m.indicator_name_kk)} / {esc(m.indicator_name_ru)}">'
                       f'{numbers[m.indicator_code]}</th>' for m in chunk)
        body = []
        for t in terrs:
            is_root = t.kato == office.root_kato
            tds = []
            for m in chunk:
                c = cur.get((m.indicator_code, office.code, t.kato))
                if _suppressed(c):
                    tds.append(f'<td class="num hs"{_data_attrs(c)}><span class="supp">к</span></td>')
                elif is_root:
                    tds.append(f'<td class="num"{_data_attrs(c)}>{esc(cell_text(c))}</td>')
                else:
                    h = heat_class(None if c is None else c.value, vmax[m.indicator_code])
                    tds.append(f'<td class="num h{h}"{_data_attrs(c)}>{esc(cell_text(c))}</td>')
            body.append(f'<tr{" class=total" if is_root else ""}><td class="terr">'
                        f"{bi_lines(t.territory_name_kk, t.territory_name_ru)}</td>{''.join(tds)}</tr>")
        legend_cols = "".join(
            f"<div><b>{numbers[m.indicator_code]}</b> — {esc(m.indicator_name_kk)} / {esc(m.indicator_name_ru)}, "
            f"{esc(m.unit_name_kk)}</div>" for m in chunk)
        tables.append(
            f'<table class="heat"><colgroup><col class="terr">{"<col>" * len(chunk)}</colgroup>'
            f'<thead><tr><th>{bi_lines(*T["territory"])}</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table><div class="cols">{legend_cols}</div>')
    scale = "".join(f'<i style="background:{c}"></i>' for c in BLUES[1:])
    out = "".join(tables) + (f'<div class="heat-legend"><span>0</span>{scale}<span>max</span>'
                             f'&nbsp;<span class="bi">{bi("heat_note")}</span></div>')
    if office_only:
        names = "; ".join(f"{numbers[m.indicator_code]}. {esc(m.indicator_name_kk)} / {esc(m.indicator_name_ru)}"
                          for m in office_only)
        out += f'<p class="note"><b>{bi("office_only")}:</b> {names}</p>'
    return out


def _sub_periods(office: Office, p: Period) -> list[Period]:
    try:
        return p.sub_periods(office.periodicity)
    except ValueError:
        return [p]


def _completeness_section(office: Office, d: ReportData) -> str:
    used = [s for s in d.submissions if s.get("office_code") == office.code]
    versions: dict[str, list[dict]] = {}
    for v in list(d.versions) + used:
        if v.get("office_code") == office.code:
            versions.setdefault(str(v.get("period")), []).append(v)
    current: dict[str, list[dict]] = {}
    for s in used:
        current.setdefault(str(s.get("period")), []).append(s)
    subs = _sub_periods(office, d.period)
    rows = []
    accepted = 0
    for sp in subs:
        token = sp.token
        vs = versions.get(token, [])
        ids = {v.get("submission_id") for v in vs}
        due = next((_parse_date(v.get("due_date")) for v in vs if v.get("due_date")), None)
        if due is None:
            due = date.fromordinal(sp.end.toordinal() + int(office.due_days or 0))
        times = sorted(t for v in vs if (t := _parse_ts(v.get("received_at"))) is not None)
        first = times[0] if times else None
        days = None if first is None else (first.date() - due).days
        cur = sorted(current.get(token, []), key=lambda s: str(s.get("submission_id")))
        if cur:
            accepted += 1
        files = "<br>".join(esc(s.get("file_name", "")) for s in cur) or "—"
        checks = sum(int(s.get("expectations", 0) or 0) for s in cur)
        failed = sum(int(s.get("expectations_failed", 0) or 0) for s in cur)
        if days is None:
            status = ""
        elif days > 0:
            status = f'<span class="status islate">{bi_lines(*T["late"])}</span>'
        else:
            status = f'<span class="status ontime">{bi_lines(*T["on_time"])}</span>'
        kk, ru = period_name(sp)
        rows.append(
            f'<tr data-period="{esc(token)}"><td>{bi_lines(kk, ru)}</td><td class="num">{fmt_date(due)}</td>'
            f'<td class="num" data-received="{esc(first.isoformat() if first else "")}">{fmt_time(first)}</td>'
            f'<td class="num" data-days="{"" if days is None else days}">'
            f'{"—" if days is None else esc(num(days, signed=True))}{status}</td>'
            f"<td>{lateness_bar(days)}</td>"
            f'<td class="num">{len(ids)}</td><td class="file">{files}</td>'
            f'<td class="num">{checks} ({failed})</td></tr>')
    summary = (f'<p class="meta"><b>{bi("accepted_of")}:</b> {accepted} / {len(subs)}'
               f'{" — " + bi("complete") if accepted == len(subs) else ""}</p>')
    head = (
        "<thead><tr>"
        f'<th>{bi_lines(*T["sub_period"])}</th><th class="num">{bi_lines(*T["due"])}</th>'
        f'<th class="num">{bi_lines(*T["received"])}</th><th class="num">{bi_lines(*T["days"])}</th>'
        f'<th class="c">−20 … 0 … +20</th><th class="num">{bi_lines(*T["versions"])}</th>'
        f'<th>{bi_lines(*T["file"])}</th><th class="num">{bi_lines(*T["checks"])}</th>'
        "</tr></thead>")
    cols = ('<colgroup><col style="width:24mm"><col style="width:19mm"><col style="width:21mm">'
            '<col style="width:20mm"><col style="width:31mm"><col style="width:19mm"><col>'
            '<col style="width:27mm"></colgroup>')
    return (summary + f'<table class="lateness">{cols}{head}<tbody>{"".join(rows)}</tbody></table>'
            f'<p class="note">{bi("late_note")}</p>')


def _docs_links(d: ReportData) -> str:
    if d.profile == "public":
        return f'<p class="note">{bi("docs_public")}</p>'
    if not d.docs:
        return f'<p class="note">{bi("docs_where")}</p>'
    out = []
    for key, rel in (("data_docs", "validation/index.html"), ("dbt_docs", "dbt/index.html")):
        href = f"{d.docs}/{rel}"
        out.append(f'<li><a href="{esc(href)}" data-docs="{esc(rel)}">{bi(key)}</a></li>')
    return (f'<ul class="links">{"".join(out)}</ul><p class="note">{bi("docs_where")}</p>')


def _summary(d: ReportData) -> str:
    v = d.validation or {}
    toc = "".join(
        f'<li><a href="#office-{esc(o.code)}">{esc(o.name_kk)}</a> <span class="sep">/</span> '
        f'<span lang="ru">{esc(o.name_ru)}</span></li>' for o in d.offices)
    out_rows = []
    for lo in d.left_out:
        code = lo.get("office_code", "")
        kk, ru = d.office_names.get(code, (code, code))
        missing = ", ".join(lo.get("missing") or [])
        why = (f'{bi("incomplete")}: {esc(missing)}' if lo.get("reason") == "incomplete" else bi("not_due"))
        out_rows.append(f'<li data-left-out="{esc(code)}"><b lang="kk">{esc(kk)}</b> <span class="sep">/</span> '
                        f'<span lang="ru">{esc(ru)}</span><br><span class="note">{why}</span></li>')
    left = f'<ul>{"".join(out_rows)}</ul>' if out_rows else f'<p class="note">{bi("none_out")}</p>'
    times = sorted(t for s in d.submissions if (t := _parse_ts(s.get("received_at"))) is not None)
    as_of = fmt_time(times[-1]) if times else "—"
    return (
        f'<h3>{bi("offices_in")}</h3><ol class="toc">{toc}</ol>'
        f'<h3>{bi("offices_out")}</h3>{left}'
        f'<h3>{bi("validation")}</h3>'
        '<table class="vsum"><tbody>'
        f'<tr><td>{bi_lines(*T["submissions_used"])}</td><td class="num" data-summary="submissions">'
        f'{int(v.get("submissions", 0) or 0)}</td></tr>'
        f'<tr><td>{bi_lines(*T["checks"])}</td><td class="num" data-summary="expectations">'
        f'{int(v.get("expectations", 0) or 0)} ({int(v.get("failed", 0) or 0)})</td></tr>'
        f'<tr><td>{bi_lines(*T["errors_warnings"])}</td><td class="num">'
        f'{int(v.get("errors", 0) or 0)} / {int(v.get("warnings", 0) or 0)}</td></tr>'
        f'<tr><td>{bi_lines(*T["as_of"])}</td><td class="num" data-summary="as-of">{esc(as_of)}</td></tr>'
        "</tbody></table>"
        f"{_docs_links(d)}"
        f'<div class="legend-box"><b>{bi("legend")}</b><br><span class="supp">к</span> — {bi("sym_supp")}<br>'
        f'<b>—</b> — {bi("sym_none")}</div>'
    )


def _by_office(rows: list[Row], memo: dict | None) -> dict[str, list[Row]]:
    """office -> its rows in order, indexed once per render (`memo`), not once per office."""
    key = ("by_office", id(rows))
    if memo is not None and key in memo:
        return memo[key][1]
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.office_code, []).append(r)
    if memo is not None:
        memo[key] = (rows, groups)  # holds `rows`: its id stays its own while the memo lives
    return groups


def _office_section(office: Office, d: ReportData, memo: dict | None = None) -> str:
    memo = {} if memo is None else memo
    if ("by_key", id(d.rows)) not in memo:
        memo[("by_key", id(d.rows))] = (d.rows, _by_key(d.rows))
    cur = memo[("by_key", id(d.rows))][1]
    orows = _by_office(d.rows, memo).get(office.code, [])
    prev_p = previous_period(d.period)
    prev_rows = d.history.get(prev_p.dhis2)
    prev = None if prev_rows is None else _by_key(_by_office(prev_rows, memo).get(office.code, []))
    n_terr = len({r.kato for r in orows})
    return (
        f'<section class="office" id="office-{esc(office.code)}" data-office="{esc(office.code)}">'
        f'<div class="office-head"><h2><span lang="kk">{esc(office.name_kk)}</span>'
        f'<span class="ru" lang="ru">{esc(office.name_ru)}</span></h2>'
        f'<div class="facts">КАТО {esc(office.root_kato)} · {bi("n_terr")}: {n_terr}</div></div>'
        f'<h3>{bi("indicators")}</h3>{_indicator_table(office, d, cur, prev, prev_p, orows)}'
        f'<p class="note">{bi("change_note")}</p>'
        f'<h3>{bi("plan_title")}</h3>{_plan_section(office, d, cur, orows)}'
        f'<h3>{bi("trends")}</h3>{_trend_section(office, d, memo)}'
        f'<h3>{bi("territories")}</h3>{_heat_section(office, d, cur, orows)}'
        f'<h3>{bi("completeness")}</h3>{_completeness_section(office, d)}'
        "</section>"
    )
