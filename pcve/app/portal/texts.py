"""The portal's own texts in Kazakh, Russian and English (the check's messages come from
ingest/messages.py). Pages show them in the office's language, or the one picked (?lang=)."""

from __future__ import annotations

UI: dict[str, dict[str, str]] = {
    # the check table
    "severity": {"kk": "Түрі", "ru": "Тип", "en": "Severity"},
    "cell": {"kk": "Ұяшық", "ru": "Ячейка", "en": "Cell"},
    "column": {"kk": "Баған", "ru": "Столбец", "en": "Column"},
    "value": {"kk": "Мән", "ru": "Значение", "en": "Value"},
    "message": {"kk": "Не істеу керек", "ru": "Что сделать", "en": "What to do"},
    "rule": {"kk": "Ереже", "ru": "Правило", "en": "Rule"},
    "error": {"kk": "қате", "ru": "ошибка", "en": "error"},
    "warning": {"kk": "ескерту", "ru": "предупреждение", "en": "warning"},
    "passed": {"kk": "Файл тексеруден өтті.", "ru": "Файл прошёл проверку.", "en": "The file passed the check."},
    "failed": {"kk": "Файлда қателер бар: қабылдау кезінде ол қайтарылады.",
               "ru": "В файле есть ошибки: при приёме он будет отклонён.",
               "en": "The file has errors: intake will reject it."},
    "check_of": {"kk": "Файлды тексеру:", "ru": "Проверка файла", "en": "Check of"},
    "counts": {"kk": "Кезең {period} · қате: {errors} · ескерту: {warnings} · жолдар: {rows}",
               "ru": "Период {period} · ошибок: {errors} · предупреждений: {warnings} · строк: {rows}",
               "en": "Period {period} · {errors} error(s) · {warnings} warning(s) · rows: {rows}"},
    "submit_anyway_note": {
        "kk": "Тексеру қате деп ойласаңыз да, файлды жібере аласыз: қабылдау оны осы қателермен қайтарады, "
              "ал маман оны қарайды.",
        "ru": "Если вы считаете проверку ошибочной, файл всё равно можно отправить: приём отклонит его с теми же "
              "ошибками, и специалист его посмотрит.",
        "en": "You may still submit it if you think the check is wrong: intake will reject it with the same errors, "
              "and an engineer can look at it."},
    "submit_anyway": {"kk": "Бәрібір жіберу", "ru": "Всё равно отправить", "en": "Submit anyway"},
    "submit": {"kk": "Жіберу", "ru": "Отправить", "en": "Submit"},
    "upload_another": {"kk": "Басқа файл жүктеу", "ru": "Загрузить другой файл", "en": "Upload another file"},
    # the upload form
    "upload": {"kk": "Есепті жүктеу", "ru": "Загрузить отчёт", "en": "Upload a workbook"},
    "upload_note": {
        "kk": "Файл қабылдау кезіндегідей бірден тексеріледі. «Жіберу» батырмасын баспайынша ештеңе жіберілмейді. "
              "Қабылданатын түрлер: {exts}, ең көбі {mb} МБ. Файл атауында кезең болуы тиіс (мысалы {example}).",
        "ru": "Файл сразу проверяется так же, как при приёме. Ничего не отправляется, пока вы не нажмёте «Отправить». "
              "Принимаются: {exts}, не более {mb} МБ. В имени файла должен быть период (например {example}).",
        "en": "The file is checked at once, exactly as intake will check it. Nothing is sent until you press Submit. "
              "Accepted: {exts}, at most {mb} MB. The file name must carry the period (e.g. {example})."},
    "check": {"kk": "Тексеру", "ru": "Проверить", "en": "Check"},
    "back": {"kk": "Кеңсе бетіне оралу", "ru": "Назад на страницу ведомства", "en": "Back to the office"},
    # the office page
    "reports_every": {"kk": "{every} тапсырады, мерзімі кезең аяқталғаннан кейін {days} күн",
                      "ru": "сдаёт {every}, срок — {days} дн. после окончания периода",
                      "en": "reports {every}, due {days} days after the period ends"},
    "month": {"kk": "ай сайын", "ru": "ежемесячно", "en": "monthly"},
    "quarter": {"kk": "тоқсан сайын", "ru": "ежеквартально", "en": "quarterly"},
    "waiting": {"kk": "Келесі қабылдауды күтуде", "ru": "Ожидают следующего приёма",
                "en": "Waiting for the next intake"},
    "submissions": {"kk": "Жіберілген есептер", "ru": "Отправленные отчёты", "en": "Submissions"},
    "id": {"kk": "Нөмірі", "ru": "Номер", "en": "Id"},
    "period": {"kk": "Кезең", "ru": "Период", "en": "Period"},
    "file": {"kk": "Файл", "ru": "Файл", "en": "File"},
    "received": {"kk": "Алынды", "ru": "Получен", "en": "Received"},
    "status": {"kk": "Күйі", "ru": "Статус", "en": "Status"},
    "why": {"kk": "Себебі", "ru": "Причина", "en": "Why"},
    "reports": {"kk": "Есептер", "ru": "Отчёты", "en": "Reports"},
    "no_submission": {"kk": "Әзірге есеп жоқ.", "ru": "Отчётов пока нет.", "en": "No submission yet."},
    "periods_due": {"kk": "Тапсыру мерзімдері", "ru": "Сроки сдачи", "en": "Periods due"},
    "open_period": {"kk": "Ағымдағы кезең: {period}, мерзімі {due}.", "ru": "Текущий период: {period}, срок {due}.",
                    "en": "Open period: {period}, due {due}."},
    "missing_summary": {"kk": "Қабылданған есебі жоқ кезеңдер: {n}, оның ішінде мерзімі өткен: {overdue}.",
                        "ru": "Периодов без принятого отчёта: {n}, из них просрочено: {overdue}.",
                        "en": "{n} period(s) without an accepted submission, {overdue} overdue."},
    "deadline": {"kk": "Мерзімі", "ru": "Срок", "en": "Deadline"},
    "state": {"kk": "Күйі", "ru": "Состояние", "en": "State"},
    "overdue": {"kk": "мерзімі өткен", "ru": "просрочен", "en": "overdue"},
    "due": {"kk": "күтілуде", "ru": "ожидается", "en": "due"},
    "earlier": {"kk": "тағы {n} ертерек кезең", "ru": "ещё более ранних периодов: {n}", "en": "{n} earlier period(s)"},
    "nothing_missing": {"kk": "Барлығы тапсырылған.", "ru": "Всё сдано.", "en": "Nothing missing."},
    "template": {"kk": "Бос үлгі", "ru": "Пустой шаблон", "en": "Blank template"},
    "download": {"kk": "Жүктеп алу", "ru": "Скачать", "en": "Download"},
    "accepted": {"kk": "қабылданды", "ru": "принят", "en": "accepted"},
    "rejected": {"kk": "қабылданбады", "ru": "отклонён", "en": "rejected"},
    "superseded": {"kk": "ауыстырылды", "ru": "заменён", "en": "superseded"},
    "duplicate": {"kk": "қайталама", "ru": "дубликат", "en": "duplicate"},
    "voided": {"kk": "күшін жойды", "ru": "аннулирован", "en": "voided"},
    "requeued": {"kk": "қайта өңделуде", "ru": "на повторной обработке", "en": "requeued"},
    # the receipt
    "submitted": {"kk": "Жіберілді", "ru": "Отправлено", "en": "Submitted"},
    "stored_as": {"kk": "Файл кеңсе қалтасында мына атаумен сақталды:", "ru": "Файл сохранён в папке ведомства как",
                  "en": "The file is in the office's source as"},
    "with_errors": {
        "kk": "Тексеру {n} қате тапқанына қарамастан жіберілді: ережелер өзгермесе, қабылдау оны қайтарады; "
              "маман оны карантинде көреді.",
        "ru": "Отправлено, хотя проверка нашла ошибок: {n}. Приём отклонит файл, если правила не изменятся; "
              "специалист увидит его в карантине.",
        "en": "It was submitted although the check found {n} error(s): intake will reject it unless the rules "
              "change; an engineer sees it in quarantine."},
    "triggered": {"kk": "Қабылдау қазір іске қосылды (Airflow {run}); нәтижесі бірнеше минуттан кейін кеңсе бетінде.",
                  "ru": "Приём запущен сейчас (Airflow {run}); результат появится на странице ведомства через "
                        "несколько минут.",
                  "en": "Intake was started now (Airflow run {run}); the result appears on the office page in a few "
                        "minutes."},
    "not_triggered": {"kk": "Қабылдауды қазір іске қосу мүмкін болмады ({why}).",
                      "ru": "Не удалось запустить приём сейчас ({why}).",
                      "en": "Intake could not be started now ({why})."},
    "next_intake": {"kk": "Келесі қабылдау: {when} (Алматы уақыты); шешімі мен есебі кеңсе бетінде шығады.",
                    "ru": "Следующий приём: {when} (время Алматы); решение и отчёт появятся на странице ведомства.",
                    "en": "The next intake runs at {when} (Asia/Almaty); its decision and report appear on the "
                          "office page."},
}

# Why an upload was refused before any check ({detail} names the limit).
REFUSED: dict[str, dict[str, str]] = {
    "bad_name": {"kk": "Файл атауын сақтау мүмкін емес ({detail}): атауын өзгертіп (ең көбі 255 байт, NUL жоқ), қайта "
                       "жүктеңіз.",
                 "ru": "Имя файла нельзя сохранить ({detail}): переименуйте файл (не более 255 байт, без NUL) и "
                       "загрузите снова.",
                 "en": "The file name cannot be stored ({detail}): rename the file (at most 255 bytes, no NUL) and "
                       "upload it again."},
    "empty_name": {"kk": "Файлдың атауы жоқ: файлды таңдап, қайта жүктеңіз.",
                   "ru": "У файла нет имени: выберите файл и загрузите снова.",
                   "en": "The upload has no file name: choose a file and upload it again."},
    "unsupported_file_type": {"kk": "Файл түрі ({detail}) қабылданбайды: .xlsx, .ods немесе UTF-8 .csv жіберіңіз.",
                              "ru": "Тип файла ({detail}) не принимается: отправьте .xlsx, .ods или .csv в UTF-8.",
                              "en": "File type {detail} is not accepted: send .xlsx, .ods or UTF-8 .csv."},
    "no_file": {"kk": "Файл таңдалмаған: есепті таңдап, жүктеңіз.", "ru": "Файл не выбран: выберите отчёт и загрузите.",
                "en": "No file was chosen: choose a workbook and upload it."},
}

TOO_LARGE = "Файл тым үлкен / Файл слишком большой / The file is larger than intake accepts."
