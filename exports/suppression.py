"""Statistical disclosure control for the `public` profile.

What is protected
-----------------
A *person count* is a value of an indicator whose unit is ``persons``. A person
count from 1 to 4 is **primary** suppressed: ``conf_status`` ``A``, value,
numerator and denominator empty. Everything else is published (``F``) unless
**secondary** suppression (``D``) has to hide it so that no suppressed cell
can be recomputed from what remains.

The relations a reader can use (derived from the configuration, not hard-coded)
--------------------------------------------------------------------------------
Each published number is a sum of unpublished *base cells*. For a *family* of
indicators that sum the same measure of the same form (``(form, measure)``,
e.g. ``outreach.adherents_new`` gives ``OUT_ADHERENTS`` and
``OUT_ADHERENTS_ISLAMIC``; ``events.participants`` gives ``EVT_PARTICIPANTS``,
``EVT_SPORTS_PARTICIPANTS`` and ``EVT_PENITENTIARY_REACHED``) the base cells
of one office are::

    time       × territory                              × category
    (quarters)   (each district / city, + office-wide)    (each filter value used, + "other")

- territory: the office row (root KATO) = its territories + office-wide activity;
- category: the unfiltered indicator = its filtered parts + "other"
  (``OUT_ADHERENTS_ISLAMIC`` + other = ``OUT_ADHERENTS``);
- time: a year = its four quarters, and the quarters are published in their own
  folders (months are never published).
The office-wide activity and the "other" categories are never published. They
are usually zero (all adherents of 2017 are of the Islamic direction; outreach
is reported by district), and "zero" is what a reader guesses, so wherever such
a remainder **is** zero the reader is assumed to know it: a zero remainder gives
no protection. A remainder that is not zero is itself unpublished data, so the
reader only knows that it is a non-negative integer (assuming it known would
mean it is already disclosed). A reader also knows that every base cell is a
non-negative integer, that an ``A`` cell lies in 1..4 and that a ``D`` person
cell does not (it is 0 or at least 5).

A percentage whose numerator or denominator is a protected family's quantity
(``REH_RATE_PCT`` = ``REH_REHABILITATED`` / ``OUT_ADHERENTS``) publishes that
quantity again (and its ratio), so it is suppressed (``D``) whenever one of
those cells is; a percentage built on a person quantity that is not itself an
indicator is always suppressed in this profile.

The algorithm (per office and family; deterministic)
-----------------------------------------------------
1. Primary: person counts 1..4 → ``A``.
2. Audit: a suppressed cell is protected when an assignment of the base cells
   consistent with all the facts above gives it a value other than its true one
   (an integer program, scipy's HiGHS: one with the cell ≥ truth + 1, else one
   with the cell ≤ truth − 1), i.e. when it is not uniquely determined. A cell
   found protected stays so when more cells are hidden, and one consistent
   assignment proves every cell it moves, so most cells cost one or two solves.
3. While some suppressed cell is exposed, suppress (``D``) one more published
   cell of the period being written: among the cells that share an equation with
   it (same territory row, same category column, same territory across time),
   districts before the office total, the smallest non-zero value first, then
   zeros, leaving out cells that published cells of other periods already
   determine (a year cell whose quarters are all published); the first candidate
   that protects the exposed cell is taken, otherwise the first candidate, and
   the audit runs again. Each round hides one more cell, so it ends; if nothing
   is left to hide, the period is not published (:class:`SuppressionFailed`,
   reported as skipped).
4. A quarter is protected on its own. A year is protected with its quarters'
   patterns fixed as published (the quarter folders are out already): only year
   cells are added, and the audit covers the quarters' suppressed cells too, so
   ``year − published quarters`` recovers nothing.
5. Percentages follow their numerator/denominator cells (see above). Counts
   outside protected families are always ``F``.

Known limits: inequalities between different measures (a district's
conversations bound its adherents, participants of all events bound those of
sports events) are not modelled; earlier revisions of a public folder stay on
disk, and a reader comparing revisions sees what a correction changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import product

from exports.formats import Row
from pcve.core.errors import PermanentError

PRIMARY_LOW, PRIMARY_HIGH = 1, 4
OFFICE_WIDE = "_office_wide"
OTHER = "_other"

Term = tuple[str, str, str | None, str | None]  # form, measure, filter_column, filter_value


class SuppressionFailed(PermanentError, RuntimeError):
    """No further cell can be hidden and a suppressed cell is still exposed."""


@dataclass(frozen=True)
class Structure:
    """What a reader knows about how the published numbers add up."""

    terms: dict[str, dict[str, Term]]  # indicator -> role (value|numerator|denominator) -> term
    units: dict[str, str]  # indicator -> persons | count | percent
    children: dict[str, tuple[str, ...]]  # office -> its non-root territories
    roots: dict[str, str]  # office -> root KATO

    def value_term(self, indicator: str) -> Term | None:
        return self.terms.get(indicator, {}).get("value")

    def protected_families(self) -> dict[tuple[str, str], list[str]]:
        """(form, measure) -> indicators summing it, for families holding a person count."""
        fams: dict[tuple[str, str], list[str]] = {}
        for ind in sorted(self.terms):
            t = self.value_term(ind)
            if t is not None:
                fams.setdefault((t[0], t[1]), []).append(ind)
        return {k: v for k, v in fams.items() if any(self.units.get(i) == "persons" for i in v)}


Cell = tuple[str, str, str]  # period, indicator, kato


def _is_primary(unit: str, value) -> bool:
    return unit == "persons" and value is not None and PRIMARY_LOW <= int(value) <= PRIMARY_HIGH


class _Family:
    """The integer program of one office × family over a set of periods."""

    def __init__(self, st: Structure, office: str, indicators: list[str], cells: dict[Cell, int],
                 year: str | None, quarters: list[str]):
        self.st, self.office, self.cells = st, office, cells
        self.root = st.roots[office]
        filters: dict[str, set[str]] = {}
        self.filter_of: dict[str, tuple[str, str] | None] = {}
        for ind in indicators:
            _, _, fc, fv = st.value_term(ind)
            self.filter_of[ind] = (fc, fv) if fc else None
            if fc:
                filters.setdefault(fc, set()).add(fv)
        self.filter_cols = sorted(filters)
        cats = [sorted(filters[c]) + [OTHER] for c in self.filter_cols]
        self.categories = list(product(*cats)) if cats else [()]
        self.territories = list(st.children.get(office, ())) + [OFFICE_WIDE]
        self.year, self.quarters = year, quarters
        times = quarters if year else sorted({p for p, _, _ in cells})
        self.base = list(product(times, self.territories, range(len(self.categories))))
        self.index = {b: n for n, b in enumerate(self.base)}
        top = max([abs(int(v)) for v in cells.values()] + [0])
        self.big = 2 * top + 10
        self._rows: dict[Cell, list[int]] = {}
        self.known = self._remainders(indicators, times)

    def _remainders(self, indicators: list[str], times: list[str]) -> dict[Cell, int]:
        """Office-wide activity and "other" remainders that are zero: assumed known (see module doc)."""
        known: dict[Cell, int] = {}
        children = [k for k in self.territories if k != OFFICE_WIDE]
        for t in times:
            for ind in indicators:
                parts = [self.cells.get((t, ind, k)) for k in children]
                root = self.cells.get((t, ind, self.root))
                if root is not None and None not in parts and root - sum(parts) == 0:
                    known[(t, ind, OFFICE_WIDE)] = 0
            totals = [i for i in indicators if self.filter_of[i] is None]
            for fc in self.filter_cols:
                self.filter_of[f"{OTHER}:{fc}"] = (fc, OTHER)
                members = [i for i in indicators if self.filter_of[i] and self.filter_of[i][0] == fc]
                for total in totals:
                    rest: dict[str, int] = {}
                    for k in [self.root, *children]:
                        tv = self.cells.get((t, total, k))
                        pv = [self.cells.get((t, i, k)) for i in members]
                        if tv is not None and None not in pv:
                            rest[k] = tv - sum(pv)
                    if len(rest) == len(children) + 1:
                        # the "other" category of the office-wide activity
                        rest[OFFICE_WIDE] = rest[self.root] - sum(rest[k] for k in children)
                    for k, v in rest.items():
                        if v == 0:
                            known[(t, f"{OTHER}:{fc}", k)] = 0
        return known

    def row(self, cell: Cell) -> list[int]:
        if cell in self._rows:
            return self._rows[cell]
        period, ind, kato = cell
        times = self.quarters if (self.year and period == self.year) else [period]
        terrs = self.territories if kato == self.root else [kato]
        flt = self.filter_of[ind]
        if flt is None:
            cats = range(len(self.categories))
        else:
            pos = self.filter_cols.index(flt[0])
            cats = [n for n, c in enumerate(self.categories) if c[pos] == flt[1]]
        idx = [self.index[(t, k, c)] for t in times for k in terrs for c in cats if (t, k, c) in self.index]
        self._rows[cell] = idx
        return idx

    def _program(self, status: dict[Cell, str]):
        """Constraints of everything a reader knows, given the statuses (scipy milp pieces)."""
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint
        from scipy.sparse import coo_matrix

        nb = len(self.base)
        d_cells = [c for c in sorted(self.cells) if status.get(c) == "D"
                   and self.st.units.get(c[1]) == "persons"]
        nv = nb + len(d_cells)
        ri, ci, vals, lo, hi = [], [], [], [], []

        def add(cols: list[int], coefs: list[float], low: float, high: float) -> None:
            r = len(lo)
            ri.extend([r] * len(cols)), ci.extend(cols), vals.extend(coefs)
            lo.append(low), hi.append(high)

        facts = [(c, status.get(c, "F"), v) for c, v in sorted(self.cells.items())]
        facts += [(c, "F", v) for c, v in sorted(self.known.items())]
        for cell, s, value in facts:
            cols = self.row(cell)
            if s == "F":
                add(cols, [1.0] * len(cols), float(value), float(value))
            elif s == "A":
                add(cols, [1.0] * len(cols), PRIMARY_LOW, PRIMARY_HIGH)
        for n, cell in enumerate(d_cells):
            # 0, or above the primary range: x - (high+1)·b >= 0 and x - big·b <= 0
            cols = self.row(cell)
            add([*cols, nb + n], [1.0] * len(cols) + [-(PRIMARY_HIGH + 1.0)], 0.0, np.inf)
            add([*cols, nb + n], [1.0] * len(cols) + [-float(self.big)], -np.inf, 0.0)
        cons = []
        if lo:
            a = coo_matrix((vals, (ri, ci)), shape=(len(lo), nv)).tocsr()
            cons = [LinearConstraint(a, lo, hi)]
        ub = np.concatenate([np.full(nb, float(self.big)), np.ones(len(d_cells))])
        return nv, cons, Bounds(np.zeros(nv), ub)

    def _solve(self, program, target: Cell, sign: float) -> float:
        import numpy as np
        from scipy.optimize import milp

        nv, cons, bnds = program
        obj = np.zeros(nv)
        obj[self.row(target)] = sign
        res = milp(obj, constraints=cons, integrality=np.ones(nv), bounds=bnds)
        if res.status != 0:
            raise RuntimeError(f"suppression audit: integer program failed ({res.message})")
        return sign * res.fun

    def bounds(self, target: Cell, status: dict[Cell, str]) -> tuple[float, float]:
        """Min and max of the target cell that a reader can deduce from the published facts."""
        program = self._program(status)
        return self._solve(program, target, 1.0), self._solve(program, target, -1.0)

    def _find(self, program, objective=None, target: Cell | None = None, low: float = 0.0,
              high: float = 0.0):
        """An assignment consistent with everything known (target within [low, high]), or None."""
        import numpy as np
        from scipy.optimize import LinearConstraint, milp

        nv, cons, bnds = program
        cons = list(cons)
        if target is not None:
            vec = np.zeros(nv)
            vec[self.row(target)] = 1.0
            cons.append(LinearConstraint(vec[None, :], low, high))
        c = np.zeros(nv) if objective is None else objective
        res = milp(c, constraints=cons, integrality=np.ones(nv), bounds=bnds)
        if res.status == 0:
            return np.round(res.x)
        if res.status == 2:  # infeasible
            return None
        raise RuntimeError(f"suppression audit: integer program failed ({res.message})")

    def _witness(self, x, suppressed: list[Cell], verified: set[Cell]) -> None:
        """Every suppressed cell whose value in the consistent assignment x differs from the truth is safe."""
        for cell in suppressed:
            if cell not in verified and abs(x[self.row(cell)].sum() - self.cells[cell]) >= 0.5:
                verified.add(cell)

    def is_protected(self, target: Cell, status: dict[Cell, str], verified: set[Cell] | None = None,
                     program=None) -> bool:
        """True when a reader cannot pin the cell down: some other value is consistent too.

        The true value is always consistent, so it is enough to find one consistent
        assignment with a larger value, or else one with a smaller value.
        """
        import numpy as np

        program = program or self._program(status)
        truth = float(self.cells[target])
        suppressed = [c for c in self.cells if status.get(c, "F") in ("A", "D")]
        for low, high in ((truth + 1, np.inf), (-np.inf, truth - 1)):
            x = self._find(program, target=target, low=low, high=high)
            if x is not None:
                if verified is not None:
                    self._witness(x, suppressed, verified)
                return True
        return False

    def exposed(self, status: dict[Cell, str], verified: set[Cell]) -> Cell | None:
        """The first suppressed cell a reader can pin down (cells found safe are added to `verified`).

        Hiding one more cell only widens what a reader must consider possible (its true
        value is 0 or above the primary range, so "0 or ≥ 5" contains it), so a cell
        once found safe stays safe and is not audited again. Any consistent assignment
        that moves several suppressed cells away from their true values proves all of
        them safe at once; two sweeps (all suppressed cells as high, then as low, as
        possible) settle most cells before they are audited one by one.
        """
        import numpy as np

        suppressed = sorted(c for c in self.cells if status.get(c, "F") in ("A", "D"))
        pending = [c for c in suppressed if c not in verified]
        if not pending:
            return None
        program = self._program(status)
        nv = program[0]
        for sign in (-1.0, 1.0):
            obj = np.zeros(nv)
            for cell in pending:
                obj[self.row(cell)] += sign
            x = self._find(program, objective=obj)
            if x is not None:
                self._witness(x, suppressed, verified)
        for cell in pending:
            if cell in verified:
                continue
            if not self.is_protected(cell, status, verified, program):
                return cell
            verified.add(cell)
        return None


def _candidates(fam: _Family, exposed: Cell, status: dict[Cell, str], target_period: str,
                sort_order: dict[str, int]) -> list[Cell]:
    p, ind, kato = exposed
    out = []
    for cell in fam.cells:
        cp, ci, ck = cell
        if cp != target_period or status.get(cell, "F") != "F":
            continue
        related = ((cp == p and ci == ind) or (cp == p and ck == kato)
                   or (ci == ind and ck == kato))
        v = int(fam.cells[cell])
        out.append(((0 if related else 1), (1 if ck == fam.root else 0), (1 if v == 0 else 0), v,
                    sort_order.get(ci, 0), ci, ck, cell))
    return [c[-1] for c in sorted(out)]


def _hopeless(fam: _Family, cell: Cell, status: dict[Cell, str], target_period: str,
              cache: dict[Cell, bool]) -> bool:
    """A cell that stays recoverable even with every other cell of the period hidden.

    A year's cell whose four quarters are all published is their sum: hiding it
    protects nothing and it could never be protected itself.
    """
    if cell not in cache:
        trial = {c: (status.get(c, "F") if c[0] != target_period or status.get(c) == "A" else "D")
                 for c in fam.cells}
        cache[cell] = not fam.is_protected(cell, trial)
    return cache[cell]


def _protect_family(fam: _Family, status: dict[Cell, str], target_period: str,
                    sort_order: dict[str, int]) -> None:
    verified: set[Cell] = set()
    hopeless: dict[Cell, bool] = {}
    while (cell := fam.exposed(status, verified)) is not None:
        cands = [c for c in _candidates(fam, cell, status, target_period, sort_order)
                 if not _hopeless(fam, c, status, target_period, hopeless)]
        if not cands:
            raise SuppressionFailed(
                f"office {fam.office}: {cell[1]} at {cell[2]} ({cell[0]}) stays recoverable "
                "with every other cell of the period hidden")
        chosen = cands[0]
        for cand in cands:
            trial = dict(status)
            trial[cand] = "D"
            if fam.is_protected(cell, trial):
                chosen = cand
                break
        status[chosen] = "D"


def _office_status(st: Structure, office: str, target_period: str, rows_by_period: dict[str, list[Row]],
                   fixed: dict[Cell, str], year: str | None, quarters: list[str]) -> dict[Cell, str]:
    """Statuses of the office's cells in the protected families (fixed cells kept as given)."""
    status: dict[Cell, str] = dict(fixed)
    sort_order: dict[str, int] = {}
    for rows in rows_by_period.values():
        for r in rows:
            sort_order[r.indicator_code] = r.sort_order
    for r in rows_by_period.get(target_period, []):
        if _is_primary(st.units.get(r.indicator_code, r.unit), r.value):
            status[(r.period, r.indicator_code, r.kato)] = "A"
    for (_, _), inds in sorted(st.protected_families().items()):
        cells: dict[Cell, int] = {}
        for p, rows in rows_by_period.items():
            for r in rows:
                if r.indicator_code in inds and r.value is not None:
                    cells[(p, r.indicator_code, r.kato)] = int(r.value)
        if not any(c[0] == target_period for c in cells):
            continue
        qs = [q for q in quarters if any(c[0] == q for c in cells)] if year else []
        fam = _Family(st, office, inds, cells, year if qs else None, qs)
        _protect_family(fam, status, target_period, sort_order)
    return status


def _apply(rows: list[Row], st: Structure, status: dict[Cell, str]) -> list[Row]:
    protected_terms: dict[Term, str] = {}
    for _, inds in st.protected_families().items():
        for ind in inds:
            protected_terms[st.value_term(ind)] = ind
    families = {(t[0], t[1]) for t in protected_terms}
    out = []
    for r in rows:
        s = status.get((r.period, r.indicator_code, r.kato), "F")
        if s == "F" and r.is_percent:
            for role in ("numerator", "denominator"):
                t = st.terms.get(r.indicator_code, {}).get(role)
                if t is None or (t[0], t[1]) not in families:
                    continue
                linked = protected_terms.get(t)
                if linked is None or status.get((r.period, linked, r.kato), "F") != "F":
                    s = "D"
        if s == "F":
            out.append(replace(r, conf_status="F"))
        else:
            out.append(replace(r, conf_status=s, value=None, numerator=None, denominator=None))
    return out


def _by_office(rows: Iterable[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(r.office_code, []).append(r)
    return out


def _quarter_status(st: Structure, office: str, period: str, orows: list[Row],
                    cache: dict | None) -> dict[Cell, str]:
    """One office's quarter on its own (memoised per run: the year needs its quarters again)."""
    key = (office, period, tuple(orows))
    if cache is not None and key in cache:
        return cache[key]
    status = _office_status(st, office, period, {period: orows}, {}, None, [])
    if cache is not None:
        cache[key] = status
    return status


def protect_quarter(rows: list[Row], st: Structure, cache: dict | None = None) -> dict[Cell, str]:
    """Statuses (A/D; F when absent) of a quarter's cells, every office on its own."""
    status: dict[Cell, str] = {}
    for office, orows in sorted(_by_office(rows).items()):
        status.update(_quarter_status(st, office, orows[0].period, orows, cache))
    return status


def protect_year(rows: list[Row], quarter_rows: dict[str, list[Row]], st: Structure,
                 cache: dict | None = None) -> dict[Cell, str]:
    """Statuses of a year's cells, with each office's quarters protected first and then fixed."""
    status: dict[Cell, str] = {}
    quarters = sorted(quarter_rows)
    for office, orows in sorted(_by_office(rows).items()):
        year = orows[0].period
        by_period: dict[str, list[Row]] = {year: orows}
        fixed: dict[Cell, str] = {}
        for q in quarters:
            qrows = [r for r in quarter_rows[q] if r.office_code == office]
            if qrows:
                by_period[q] = qrows
                fixed.update(_quarter_status(st, office, q, qrows, cache))
        full = _office_status(st, office, year, by_period, fixed, year, quarters)
        status.update({c: s for c, s in full.items() if c[0] == year})
    return status


def apply_public(rows: list[Row], st: Structure, quarter_rows: dict[str, list[Row]] | None = None,
                 cache: dict | None = None) -> tuple[list[Row], dict]:
    """The public rows of one period (quarter, or year with its quarters' rows) and a summary.

    ``cache`` (a dict kept for one run) saves protecting a quarter twice.
    """
    if not rows:
        return [], {"primary": 0, "secondary": 0}
    if rows[0].freq == "A":
        status = protect_year(rows, quarter_rows or {}, st, cache)
    else:
        status = protect_quarter(rows, st, cache)
    out = _apply(rows, st, status)
    return out, {
        "primary": sum(r.conf_status == "A" for r in out),
        "secondary": sum(r.conf_status == "D" for r in out),
    }
