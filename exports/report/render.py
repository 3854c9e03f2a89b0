"""The whole report.html of one extract folder, and the revision note a new revision opens with."""

from __future__ import annotations

from exports.report.css import CSS
from exports.report.data import ReportData
from exports.report.labels import T, _parse_date, bi, bi_lines, esc, fmt_date, period_name
from exports.report.sections import _office_section, _summary


def render_report(d: ReportData) -> bytes:
    """The report as UTF-8 bytes: a pure function of ``d``."""
    pk, pr = period_name(d.period)
    prog_kk = d.program.get("name_kk", "")
    prog_ru = d.program.get("name_ru", "")
    profile_badge = (f'<span class="badge public">{bi("public")}</span>' if d.profile == "public"
                     else f'<span class="badge">{bi("ministry")}</span>')
    program = (f'<p class="subtitle"><span class="kk" lang="kk">{esc(prog_kk)}</span>'
               f'<span class="ru" lang="ru">{esc(prog_ru)}</span></p>') if prog_kk or prog_ru else ""
    memo: dict = {}  # rows indexed once for every office's section
    doc = (
        "<!DOCTYPE html>\n"
        '<html lang="kk"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(T['report'][0])} / {esc(T['report'][1])} — {esc(d.period.dhis2)}</title>"
        f'<meta name="pcve-period" content="{esc(d.period.dhis2)}">'
        f'<meta name="pcve-profile" content="{esc(d.profile)}">'
        f"<style>{CSS}</style></head><body>"
        '<header class="masthead">'
        f'<h1><span lang="kk">{esc(T["title"][0])}</span><span class="ru" lang="ru">{esc(T["title"][1])}</span></h1>'
        f"{program}"
        f'<div class="period" data-period="{esc(d.period.dhis2)}"><span lang="kk">{esc(pk)}</span> '
        f'<span class="sep">/</span> <span class="ru" lang="ru">{esc(pr)}</span></div>'
        f"{profile_badge}</header>"
        + (f'<div class="provisional-banner" data-status="provisional">{bi("provisional")}</div>'
           if d.status == "provisional" else "")
        + REVISION_SLOT
        + f'<main><section class="summary"><h2><span lang="kk">{esc(T["summary"][0])}</span>'
        f'<span class="ru" lang="ru">{esc(T["summary"][1])}</span></h2>{_summary(d)}</section>'
        + "".join(_office_section(o, d, memo) for o in d.offices)
        + f'</main><footer>{bi("footer")}</footer>'
        "</body></html>\n"
    )
    return doc.encode("utf-8")


#: Where the revision note goes (filled in once the revision number is known: :func:`with_revision`).
REVISION_SLOT = "<!--pcve:revision-->"


#: Changed values listed in the note (all of them are in CHANGES.csv).
NOTE_CHANGES = 40


def revision_note(note: dict, names: dict[tuple[str, str], tuple[str, str]] | None = None) -> str:
    """The note that opens the report: revision, date, reason, changed values.

    `note`: {revision, date, reasons: [{kind, submission_id, office_code, period, file_name}], changes:
    [(indicator, office, kato, old, new)]}; `names`: (indicator or kato, "i"|"t") -> (kk, ru)."""
    names = names or {}
    kinds = {"accepted": "accepted_sub", "superseded": "superseded_sub", "voided": "voided_sub",
             "office_added": "office_added", "office_removed": "office_removed", "reissued": "reissued", "format": "format"}
    items = []
    for r in note.get("reasons", []):
        kk, ru = T[kinds.get(r.get("kind"), "accepted_sub")]
        what = " ".join(esc(x) for x in (r.get("submission_id"), r.get("office_code"), r.get("period")) if x)
        file = f' <span class="file">{esc(r.get("file_name"))}</span>' if r.get("file_name") else ""
        items.append(f'<li data-reason="{esc(r.get("kind"))}" data-submission="{esc(r.get("submission_id") or "")}">'
                     f"{what}{file}: {esc(kk)} / {esc(ru)}</li>")
    if int(note.get("revision") or 1) == 1:
        reason = f'<p class="note">{bi("first_issue")}</p>'
    else:
        reason = f'<p><b>{bi("reason")}:</b></p><ul>{"".join(items)}</ul>'
    changes = note.get("changes") or []
    table = ""
    if changes:
        rows = []
        for ind, _office, kato, old, new in changes[:NOTE_CHANGES]:
            ik, ir = names.get((ind, "i"), (ind, ind))
            tk, tr = names.get((kato, "t"), (kato, kato))
            rows.append(f'<tr data-code="{esc(ind)}" data-kato="{esc(kato)}"><td>{bi_lines(ik, ir)}</td>'
                        f'<td>{bi_lines(tk, tr)}</td><td class="num" data-old="{esc(old)}">{esc(old or "—")}</td>'
                        f'<td class="num" data-new="{esc(new)}">{esc(new or "—")}</td></tr>')
        more = (f'<p class="note">… {bi("more")} {len(changes) - NOTE_CHANGES}</p>'
                if len(changes) > NOTE_CHANGES else "")
        table = (f'<p><b>{bi("changed_values")}:</b> {len(changes)}</p><table><thead><tr>'
                 f'<th>{bi_lines(*T["indicator"])}</th><th>{bi_lines(*T["territory"])}</th>'
                 f'<th class="num">{bi_lines(*T["old"])}</th><th class="num">{bi_lines(*T["new"])}</th></tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table>{more}')
    return (f'<section class="revision" data-revision="{int(note.get("revision") or 1)}" '
            f'data-date="{esc(note.get("date") or "")}"><b>{bi("revision")} {int(note.get("revision") or 1)}</b>'
            f' — {bi("issued")}: {esc(fmt_date(_parse_date(note.get("date"))))}{reason}{table}</section>')


def with_revision(report: bytes, note: dict, names: dict | None = None) -> bytes:
    """The report with its revision note in place of REVISION_SLOT (the rest byte for byte)."""
    return report.replace(REVISION_SLOT.encode(), revision_note(note, names).encode("utf-8"), 1)
