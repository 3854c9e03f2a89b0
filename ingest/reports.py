"""What the office reads: a located error report (CSV + HTML, Kazakh and
Russian) for a rejected file, a receipt listing warnings for an accepted one.

Values of cells caught by the privacy rule are never written; every other
text is written so that a spreadsheet shows it as text, never as a formula.
"""

from __future__ import annotations

import csv
import html
import io

from ingest.messages import render
from pcve.core.config import Config
from pcve.core.model import Issue, ParsedFile
from pcve.core.privacy import mask
from pcve.core.safe_text import safe_cell

CSV_COLUMNS = ["severity", "sheet", "row", "column", "header", "cell", "rule", "value", "message_kk", "message_ru"]


def _header(cfg: Config, pf: ParsedFile, issue: Issue, lang: str) -> str:
    """The column's header as the office wrote it (in their language), or the raw header text."""
    if issue.column:
        for form in cfg.forms.values():
            for c in form.columns:
                if c.name == issue.column:
                    return c.labels.get(lang, c.name)
        return issue.column
    return ""


def _params(cfg: Config, pf: ParsedFile, issue: Issue, lang: str) -> dict:
    p = dict(issue.params)
    p["column"] = _header(cfg, pf, issue, lang)
    if issue.value is not None and not issue.rule.startswith("privacy"):
        p["value"] = issue.value
    for prefix in ("gte_", "lte_"):
        if issue.rule.startswith(prefix):
            p["other"] = _label(cfg, issue.rule[len(prefix):], lang)
    if issue.rule.startswith("sum_with_"):
        other, limit = issue.rule[len("sum_with_"):].split("_lte_")
        p["other"], p["limit"] = _label(cfg, other, lang), _label(cfg, limit, lang)
    p.setdefault("period", pf.period.token if pf.period else "")
    return p


def issue_message(cfg: Config, pf: ParsedFile, issue: Issue, lang: str) -> str:
    """One issue's message in `lang` (kk, ru or en), privacy-masked like every report text."""
    return mask(render(issue.rule, lang, _params(cfg, pf, issue, lang)))


def _label(cfg: Config, name: str, lang: str) -> str:
    for form in cfg.forms.values():
        for c in form.columns:
            if c.name == name:
                return c.labels.get(lang, name)
    return name


def issue_rows(cfg: Config, pf: ParsedFile, issues: list[Issue]) -> list[dict]:
    """One row per issue. Every text passes privacy.mask() as a last guard: an IIN-shaped
    number or a phone never reaches a report, whatever field it might hide in."""
    return [{k: mask(v) if isinstance(v, str) else v for k, v in r.items()} for r in _issue_rows(cfg, pf, issues)]


def _issue_rows(cfg: Config, pf: ParsedFile, issues: list[Issue]) -> list[dict]:
    rows = []
    for i in issues:
        rows.append({
            "severity": i.severity,
            "sheet": i.sheet or "",
            "row": i.row or "",
            "column": i.col or "",
            "header": _header(cfg, pf, i, "ru" if cfg.offices[pf.office].language == "ru" else "kk"),
            "cell": i.cell,
            "rule": i.rule,
            # The privacy rule forbids repeating the value; everything else is quoted back.
            "value": "" if i.rule.startswith("privacy") or i.value is None else i.value,
            "message_kk": render(i.rule, "kk", _params(cfg, pf, i, "kk")),
            "message_ru": render(i.rule, "ru", _params(cfg, pf, i, "ru")),
        })
    return rows


def sort_issues(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.severity != "error", i.sheet or "", i.row or 0, i.col or "", i.rule))


def errors_csv(cfg: Config, pf: ParsedFile) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in issue_rows(cfg, pf, sort_issues(pf.issues)):
        w.writerow({k: safe_cell(str(v)) for k, v in row.items()})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Kazakh text correctly


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:.3em .5em;vertical-align:top}
th{background:#eee}.error td:first-child{color:#a00;font-weight:bold}.warning td:first-child{color:#a60}
code{background:#f4f4f4;padding:0 .2em}"""


def _html(cfg: Config, pf: ParsedFile, title_kk: str, title_ru: str, issues: list[Issue]) -> bytes:
    office = cfg.offices[pf.office]
    rows = issue_rows(cfg, pf, sort_issues(issues))
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(mask(pf.file_name))}</title><style>{_CSS}</style></head><body>",
        f"<h1 lang='kk'>{esc(title_kk)}</h1><h2 lang='ru'>{esc(title_ru)}</h2>",
        f"<p><b>{esc(office.name_kk)}</b> / {esc(office.name_ru)}<br>",
        f"Файл: <code>{esc(mask(pf.file_name))}</code> · Кезең / Период: {esc(pf.period.token if pf.period else '—')}</p>",
    ]
    if rows:
        parts.append("<table><tr><th>!</th><th>Ұяшық / Ячейка</th><th>Баған / Столбец</th>"
                     "<th>Мән / Значение</th><th>Қазақша</th><th>По-русски</th></tr>")
        for r in rows:
            parts.append(
                f"<tr class='{esc(r['severity'])}'><td>{'✖' if r['severity'] == 'error' else '⚠'}</td>"
                f"<td><code>{esc(r['cell'])}</code></td><td>{esc(str(r['header']))}</td>"
                f"<td>{esc(str(r['value']))}</td><td lang='kk'>{esc(r['message_kk'])}</td>"
                f"<td lang='ru'>{esc(r['message_ru'])}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>Ескертулер жоқ. / Замечаний нет.</p>")
    parts.append("</body></html>\n")
    return "".join(parts).encode("utf-8")


def errors_html(cfg: Config, pf: ParsedFile) -> bytes:
    n = len(pf.errors)
    return _html(cfg, pf, f"Есеп қабылданбады: {n} қате", f"Отчёт отклонён: ошибок — {n}", pf.issues)


def receipt_html(cfg: Config, pf: ParsedFile, submission_id: str, status: str) -> bytes:
    if status == "duplicate":
        kk, ru = "Есеп бұрын қабылданған (өзгеріс жоқ)", "Отчёт уже принят ранее (без изменений)"
    else:
        kk, ru = "Есеп қабылданды", "Отчёт принят"
    rows = sum(len(r) for r in pf.rows.values())
    return _html(cfg, pf, f"{kk} · {submission_id} · {rows} жол", f"{ru} · {submission_id} · строк: {rows}",
                 pf.warnings)

