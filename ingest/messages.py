"""Messages for the offices, in Kazakh, Russian and English, per rule.

Templates take the issue's params plus {column} (the column's header in the
office's language) and {value}. Privacy messages never take {value}.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "period_missing": {
        "kk": "Файл атауында кезең жоқ және ол мазмұнынан анықталмады: атауға 2017-03 (ай) немесе 2025-Q3 (тоқсан) түрінде кезең қосыңыз.",
        "ru": "В имени файла нет периода, и по содержимому он не определяется: добавьте период вида 2017-03 (месяц) или 2025-Q3 (квартал).",
        "en": "The file name has no period and the content does not tell one: add a token such as 2017-03 (month) or 2025-Q3 (quarter).",
    },
    "period_from_content": {
        "kk": "Файл атауында кезең жоқ: кезең {period} мазмұнынан алынды (барлық күндер мен айлар осы кезеңде).",
        "ru": "В имени файла нет периода: период {period} определён по содержимому (все даты и месяцы в нём).",
        "en": "The file name has no period: {period} was read from the content (every date and month falls in it).",
    },
    "period_mismatch": {
        "kk": "Файл атауындағы кезең {named}, ал кестедегі барлық күндер мен айлар {found} кезеңінде: атауын не деректерді түзетіңіз.",
        "ru": "В имени файла период {named}, а все даты и месяцы в таблицах относятся к {found}: исправьте имя или данные.",
        "en": "The file name says {named} but every date and month in the tables falls in {found}: fix the name or the data.",
    },
    "period_wrong_kind": {
        "kk": "Кезең {found} кеңсе кезеңділігіне сай емес ({expected}): файл атауын түзетіңіз.",
        "ru": "Период {found} не соответствует периодичности отчёта ({expected}): исправьте имя файла.",
        "en": "Period {found} does not match the office's periodicity ({expected}): rename the file.",
    },
    "csv_form_unknown": {
        "kk": "CSV файлының атауы <атау>__<форма>.csv болуы тиіс, форма: {forms}.",
        "ru": "Имя CSV-файла должно быть <имя>__<форма>.csv, форма одна из: {forms}.",
        "en": "A CSV file must be named <name>__<form>.csv with form one of: {forms}.",
    },
    "csv_not_utf8": {
        "kk": "CSV файлы UTF-8 емес: Excel-де «CSV UTF-8 (үтірмен бөлінген)» ретінде сақтаңыз, әйтпесе қазақ әріптері жоғалады.",
        "ru": "CSV-файл не в UTF-8: сохраните в Excel как «CSV UTF-8 (разделитель — запятая)», иначе казахские буквы теряются.",
        "en": "The CSV file is not UTF-8: save it from Excel as \"CSV UTF-8\" (plain CSV destroys Kazakh letters).",
    },
    "empty_file": {"kk": "Файл бос.", "ru": "Файл пустой.", "en": "The file is empty."},
    "not_a_spreadsheet": {
        "kk": "Файл электрондық кесте емес немесе бүлінген: .xlsx немесе .ods ретінде қайта сақтаңыз.",
        "ru": "Файл не является таблицей или повреждён: пересохраните как .xlsx или .ods.",
        "en": "The file is not a spreadsheet or is damaged: save it again as .xlsx or .ods.",
    },
    "cannot_open": {
        "kk": "Файлды ашу мүмкін емес (бүлінген не толық емес): қайта сақтап, қайта жіберіңіз.",
        "ru": "Файл не открывается (повреждён или обрезан): пересохраните и отправьте снова.",
        "en": "The file cannot be opened (damaged or truncated): save it again and resend.",
    },
    "password_protected": {
        "kk": "Файл құпиясөзбен қорғалған: қорғауды алып, қайта жіберіңіз.",
        "ru": "Файл защищён паролем: снимите защиту и отправьте снова.",
        "en": "The file is password-protected: remove the protection and resend.",
    },
    "password_protected_or_xls": {
        "kk": "Файл құпиясөзбен қорғалған немесе ескі .xls пішімінде: қорғаусыз .xlsx ретінде сақтаңыз.",
        "ru": "Файл защищён паролем или в старом формате .xls: сохраните без защиты как .xlsx.",
        "en": "The file is password-protected or an old .xls: save it unprotected as .xlsx.",
    },
    "old_xls": {
        "kk": "Файл ескі .xls пішімінде: Excel-де «Excel жұмыс кітабы (.xlsx)» ретінде сақтап, қайта жіберіңіз.",
        "ru": "Файл в старом формате .xls: сохраните в Excel как «Книга Excel (.xlsx)» и отправьте снова.",
        "en": "The file is an old .xls workbook: save it from Excel as .xlsx and resend.",
    },
    "too_large": {
        "kk": "Файл тым үлкен ({detail}): тек есеп кестелерін қалдырыңыз.",
        "ru": "Файл слишком большой ({detail}): оставьте только таблицы отчёта.",
        "en": "The file is too large ({detail}): keep only the report's tables.",
    },
    "unsupported_file_type": {
        "kk": "Файл түрі ({detail}) қабылданбайды: .xlsx, .ods немесе UTF-8 .csv жіберіңіз (макростары бар .xlsm емес).",
        "ru": "Тип файла ({detail}) не принимается: отправьте .xlsx, .ods или .csv в UTF-8 (не .xlsm с макросами).",
        "en": "File type {detail} is not accepted: send .xlsx, .ods or UTF-8 .csv (not macro-enabled .xlsm).",
    },
    "no_recognised_sheet": {
        "kk": "Бірде-бір парақ танылмады: парақ атаулары {sheets} болуы тиіс.",
        "ru": "Не найдено ни одного листа отчёта: названия листов должны быть {sheets}.",
        "en": "No sheet was recognised: sheet names must be among {sheets}.",
    },
    "duplicate_form_sheet": {
        "kk": "Бір форма екі парақта берілген ({other} де): біреуін қалдырыңыз.",
        "ru": "Одна форма на двух листах (также {other}): оставьте один.",
        "en": "The same form is on two sheets (also {other}): keep one.",
    },
    "unknown_sheet": {
        "kk": "Парақ танылмады және еленбеді.", "ru": "Лист не распознан и пропущен.",
        "en": "Sheet not recognised; ignored.",
    },
    "header_not_found": {
        "kk": "Алғашқы {rows} жолда тақырып жолы табылмады; жоқ бағандар: {missing}.",
        "ru": "В первых {rows} строках не найдена строка заголовка; нет столбцов: {missing}.",
        "en": "No header row in the first {rows} rows; missing columns: {missing}.",
    },
    "header_below_limit": {
        "kk": "Тақырып жолы {found}-жолда: ол алғашқы {rows} жолдың ішінде болуы тиіс. Жоғарыдағы бос не атау жолдарын алып тастаңыз.",
        "ru": "Строка заголовка находится в строке {found}: она должна быть в первых {rows} строках. Удалите лишние строки над таблицей.",
        "en": "The header is on row {found}: it must be within the first {rows} rows. Remove the extra rows above the table.",
    },
    "duplicate_column": {
        "kk": "«{column}» бағаны екі рет берілген.", "ru": "Столбец «{column}» указан дважды.",
        "en": "Column {column} appears twice.",
    },
    "unknown_column": {
        "kk": "Белгісіз «{column}» бағаны еленбеді.", "ru": "Неизвестный столбец «{column}» пропущен.",
        "en": "Unknown column \"{column}\" ignored.",
    },
    "empty_form": {"kk": "Парақта деректер жоқ.", "ru": "На листе нет данных.", "en": "The sheet has no data rows."},
    "text_after_table": {
        "kk": "Кестеден кейінгі {count} мәтін жолы (қолтаңба, ескерту) еленбеді.",
        "ru": "{count} строк(и) текста после таблицы (подписи, примечания) пропущены.",
        "en": "{count} text row(s) after the table (signatures, notes) ignored.",
    },
    "data_after_table": {
        "kk": "Кестеден кейін сан бар: бос жолды алып тастаңыз немесе деректерді кестеге енгізіңіз.",
        "ru": "После конца таблицы есть число: уберите пустую строку или перенесите данные в таблицу.",
        "en": "A number after the end of the table: remove the empty row or move the data into the table.",
    },
    "totals_mismatch": {
        "kk": "«Барлығы» жолы {value}, ал жолдардың қосындысы {sum}.",
        "ru": "Итоговая строка содержит {value}, а сумма строк — {sum}.",
        "en": "The totals row says {value} but the rows sum to {sum}.",
    },
    "formula_not_calculated": {
        "kk": "Ұяшықта есептелмеген формула бар (мәні сақталмаған): файлды Excel-де ашып, сақтап, қайта жіберіңіз.",
        "ru": "В ячейке формула без вычисленного значения: откройте файл в Excel, сохраните и отправьте снова.",
        "en": "The cell holds a formula without a calculated value: open the file in Excel, save it and resend.",
    },
    "merged_number_cells": {
        "kk": "Сан бар ұяшықтар біріктірілген ({range}): біріктіруді алып, әр жолға өз санын жазыңыз.",
        "ru": "Ячейки с числом объединены ({range}): отмените объединение и укажите число в каждой строке.",
        "en": "Cells holding a number are merged ({range}): unmerge them and write a figure in each row.",
    },
    "internal_error": {
        "kk": "Файлды өңдеу кезінде ({stage}) ішкі қате болды: деректер тобы оны қарап, қайта өңдейді.",
        "ru": "Внутренняя ошибка при обработке файла (этап: {stage}): специалисты проверят и обработают его заново.",
        "en": "Internal error while processing the file (stage: {stage}): the data team will reprocess it.",
    },
    "too_slow": {
        "kk": "Файлды оқу тым ұзаққа созылды ({detail}): файлда тек есеп кестелерін қалдырып, қайта жіберіңіз.",
        "ru": "Чтение файла заняло слишком много времени ({detail}): оставьте в файле только таблицы отчёта и отправьте снова.",
        "en": "Reading the file took too long ({detail}): keep only the report's tables and resend.",
    },
    "cell_too_long": {
        "kk": "Ұяшықта тым көп таңба бар ({detail}): мәтінді қысқартыңыз.",
        "ru": "В ячейке слишком много символов ({detail}): сократите текст.",
        "en": "The cell holds too many characters ({detail}): shorten the text.",
    },
    "not_finite": {
        "kk": "Ұяшықтағы сан шексіз немесе анықталмаған (NaN, ∞): нақты санды жазыңыз.",
        "ru": "В ячейке бесконечное или неопределённое число (NaN, ∞): укажите точное значение.",
        "en": "The cell holds an infinite or undefined number (NaN, ∞): write the exact figure.",
    },
    "excel_error": {
        "kk": "Ұяшықта формула қатесі бар ({value}): формуланы түзетіңіз немесе санды жазыңыз.",
        "ru": "В ячейке ошибка формулы ({value}): исправьте формулу или впишите число.",
        "en": "The cell shows a formula error ({value}): fix the formula or type the figure.",
    },
    "number_out_of_range": {
        "kk": "«{value}» рұқсат етілген аралықтан тыс ({min}…{max}).",
        "ru": "«{value}» вне допустимого диапазона ({min}…{max}).",
        "en": "\"{value}\" is outside the allowed range ({min}…{max}).",
    },
    "validation_error": {
        "kk": "Тексеру кезінде ішкі қате болды: файлды қайта жібермеңіз, деректер тобы оны қайта өңдейді.",
        "ru": "Внутренняя ошибка проверки: не отправляйте файл повторно, его обработают заново.",
        "en": "Internal validation error ({expectation}): the data team will reprocess the file.",
    },
    "qualified_number": {
        "kk": "«{value}» нақты сан емес: министрлікке тек нақты сандар беріледі (мысалы 2501).",
        "ru": "«{value}» — не точное число: министерству передаются только точные значения (например 2501).",
        "en": "\"{value}\" is not an exact figure: the ministry receives exact figures only (e.g. 2501).",
    },
    "not_a_number": {
        "kk": "«{value}» сан емес.", "ru": "«{value}» — не число.", "en": "\"{value}\" is not a number.",
    },
    "not_whole_number": {
        "kk": "«{value}» бүтін сан болуы тиіс.", "ru": "«{value}» должно быть целым числом.",
        "en": "\"{value}\" must be a whole number.",
    },
    "bad_date": {
        "kk": "«{value}» күн емес: 05.03.2017 немесе 2017-03-05 түрінде жазыңыз.",
        "ru": "«{value}» — не дата: пишите 05.03.2017 или 2017-03-05.",
        "en": "\"{value}\" is not a date: write 05.03.2017 or 2017-03-05.",
    },
    "bad_month": {
        "kk": "«{value}» ай емес: «наурыз 2017» немесе 2017-03 түрінде жазыңыз.",
        "ru": "«{value}» — не месяц: пишите «март 2017» или 2017-03.",
        "en": "\"{value}\" is not a month: write 2017-03 or a month name with the year.",
    },
    "bad_quarter": {
        "kk": "«{value}» тоқсан емес: «3 тоқсан 2025» немесе 2025-Q3 түрінде жазыңыз.",
        "ru": "«{value}» — не квартал: пишите «3 квартал 2025» или 2025-Q3.",
        "en": "\"{value}\" is not a quarter: write 2025-Q3.",
    },
    "unknown_territory": {
        "kk": "«{value}» аумағы танылмады: territories анықтамалығындағы атауды немесе КАТО кодын жазыңыз.",
        "ru": "Территория «{value}» не распознана: укажите название из справочника или код КАТО.",
        "en": "Territory \"{value}\" not recognised: use a name from the list or a KATO code.",
    },
    "ambiguous_territory": {
        "kk": "«{value}» бірнеше аумаққа сәйкес келеді: толық атауын жазыңыз (мысалы «... қаласы» не «... облысы»).",
        "ru": "«{value}» подходит к нескольким территориям: укажите полное название (например «город …» или «… область»).",
        "en": "\"{value}\" matches several territories: write the full name.",
    },
    "territory_outside_office": {
        "kk": "«{value}» аумағы сіздің өңіріңізге жатпайды.",
        "ru": "Территория «{value}» не относится к вашему региону.",
        "en": "Territory \"{value}\" is outside the submitting office.",
    },
    "required": {
        "kk": "«{column}» бағаны толтырылуы тиіс.", "ru": "Столбец «{column}» обязателен для заполнения.",
        "en": "Column {column} is required.",
    },
    "non_negative": {
        "kk": "«{value}» теріс болмауы тиіс.", "ru": "Значение «{value}» не может быть отрицательным.",
        "en": "\"{value}\" must not be negative.",
    },
    "allowed_code": {
        "kk": "«{value}» рұқсат етілген мәндердің бірі емес.", "ru": "«{value}» — недопустимое значение.",
        "en": "\"{value}\" is not an allowed value.",
    },
    "kato_code": {
        "kk": "Аумақ коды дұрыс емес.", "ru": "Неверный код территории.", "en": "Invalid territory code.",
    },
    "in_period": {
        "kk": "{value} есеп кезеңінен ({period}) тыс.", "ru": "{value} вне отчётного периода ({period}).",
        "en": "{value} is outside the reporting period ({period}).",
    },
    "not_future": {
        "kk": "{value} — болашақ күн.", "ru": "{value} — дата в будущем.", "en": "{value} is in the future.",
    },
    "privacy_iin": {
        "kk": "Ұяшықта ЖСН тәрізді сан бар: жеке деректер қабылданбайды. Мәнді алып тастаңыз.",
        "ru": "В ячейке число, похожее на ИИН: персональные данные не принимаются. Удалите значение.",
        "en": "The cell holds an IIN-shaped number: personal data is not accepted. Remove it.",
    },
    "privacy_phone": {
        "kk": "Ұяшықта телефон нөмірі бар: жеке деректер қабылданбайды. Мәнді алып тастаңыз.",
        "ru": "В ячейке номер телефона: персональные данные не принимаются. Удалите значение.",
        "en": "The cell holds a phone number: personal data is not accepted. Remove it.",
    },
    "privacy_person_column": {
        "kk": "Бағанда адамның аты-жөні не ЖСН бар: мұндай бағандар қабылданбайды. Бағанды жойыңыз.",
        "ru": "Столбец с ФИО или ИИН: такие столбцы не принимаются. Удалите столбец.",
        "en": "A column naming persons (name, IIN): not accepted. Delete the column.",
    },
    "duplicate_submission": {
        "kk": "Бұл файл осы кезеңнің қолданыстағы есебімен бірдей: ештеңе өзгерген жоқ.",
        "ru": "Файл совпадает с действующим отчётом за период: ничего не изменилось.",
        "en": "Identical to the current submission for the period: nothing changed.",
    },
}

_RULE_PREFIX = {
    "gte_": {"kk": "«{column}» мәні «{other}» мәнінен кем болмауы тиіс.",
             "ru": "Значение «{column}» не может быть меньше «{other}».",
             "en": "{column} must be at least {other}."},
    "lte_": {"kk": "«{column}» мәні «{other}» мәнінен аспауы тиіс.",
             "ru": "Значение «{column}» не может превышать «{other}».",
             "en": "{column} must not exceed {other}."},
    "sum_with_": {"kk": "«{column}» мен «{other}» қосындысы «{limit}» мәнінен аспауы тиіс.",
                  "ru": "Сумма «{column}» и «{other}» не может превышать «{limit}».",
                  "en": "{column} plus {other} must not exceed {limit}."},
}


class _Safe(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def render(rule: str, lang: str, params: dict) -> str:
    tpl = MESSAGES.get(rule, {}).get(lang)
    if tpl is None:
        for prefix, by_lang in _RULE_PREFIX.items():
            if rule.startswith(prefix):
                tpl = by_lang[lang]
                break
    if tpl is None:
        return rule
    if rule.startswith("privacy"):
        params = {k: v for k, v in params.items() if k != "value"}
    return tpl.format_map(_Safe(params))
