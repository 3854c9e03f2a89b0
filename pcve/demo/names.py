"""Places: territory names as offices type them (full, short, or Kazakh typed on a Russian keyboard)."""

from __future__ import annotations

from pcve.config import Territory

_KEYBOARD = str.maketrans("әғқңөұүһіё", "агкноуухие")
_KEYBOARD_CASED = str.maketrans("әғқңөұүһіёӘҒҚҢӨҰҮҺІЁ", "агкноуухиеАГКНОУУХИЕ")


def _fold(text: str) -> str:
    return text.casefold().translate(_KEYBOARD)


def _strip_words(name: str, words: tuple[str, ...]) -> str:
    ws = [w for w in name.split() if w.casefold() not in {x.casefold() for x in words}]
    return " ".join(ws)


class Geo:
    """One office's territories and the names a clerk would type for them."""

    def __init__(self, office: dict, territories: list[Territory], suffixes: tuple[str, ...]):
        self.office = office
        self.root = office["root_kato"]
        self.by_kato = {t.kato: t for t in territories}
        self.districts = [t.kato for t in territories if t.kato != self.root]
        self.root_level = self.by_kato[self.root].level
        stripped: dict[str, set[str]] = {}
        for t in territories:
            for n in (t.name_kk, t.name_ru):
                stripped.setdefault(_strip_words(n, suffixes).casefold(), set()).add(t.kato)
        # A short name is used only where it names one territory and does not look like the root's
        # own name (a bare `Түркістан`/`Туркестан` reads as the region to a person).
        root_t = self.by_kato[self.root]
        root_stems = {_fold(_strip_words(n, suffixes))[:6] for n in (root_t.name_kk, root_t.name_ru)}
        folded: dict[str, set[str]] = {}
        for t in territories:
            for n in (t.name_kk, t.name_ru):
                folded.setdefault(_fold(_strip_words(n, suffixes)), set()).add(t.kato)
        # Short forms per language: Kazakh without `ауданы`; Russian without `район`, or the Kazakh
        # name typed on a Russian keyboard (`Сарыагаш`).
        self.short: dict[tuple[str, str], list[str]] = {}
        for t in territories:
            if t.kato == self.root:
                continue
            kk = _strip_words(t.name_kk, suffixes)
            ru = _strip_words(t.name_ru, suffixes)
            kk_typed = kk.translate(_KEYBOARD_CASED)
            for lang, s, n in (("kk", kk, t.name_kk), ("ru", ru, t.name_ru), ("ru", kk_typed, t.name_ru)):
                if (s and s != n and _fold(s)[:6] not in root_stems
                        and stripped.get(s.casefold(), {t.kato}) == {t.kato}
                        and folded.get(_fold(s)) == {t.kato}):
                    self.short.setdefault((t.kato, lang), [])
                    if s not in self.short[(t.kato, lang)]:
                        self.short[(t.kato, lang)].append(s)

    def root_labels(self, lang: str) -> list[str]:
        t = self.by_kato[self.root]
        city = self.root_level == "city"
        if lang == "kk":
            return [t.name_kk, "қала бойынша" if city else "облыс бойынша"]
        return [t.name_ru, "по городу" if city else "по области"]

    def name(self, kato: str, lang: str, style: dict, i: int) -> str:
        if kato == self.root:
            labels = self.root_labels(lang)
            return labels[style.get("root_label", 0) % len(labels)]
        t = self.by_kato[kato]
        full = t.name_kk if lang == "kk" else t.name_ru
        mode = style.get("terr", "full")
        short = self.short.get((kato, lang))
        if not short or mode == "full":
            return full
        if mode == "short":
            return short[(i + int(kato[2:5])) % len(short)]
        options = [full] + short
        return options[(i + int(kato[2:5])) % len(options)]
