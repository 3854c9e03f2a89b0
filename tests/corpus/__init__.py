"""Hand-made office workbooks, built by code at test time (no binary files in git).

`builders` writes .xlsx (openpyxl), .ods (odfpy) and CSV bytes; `cases` holds the
corpus: every layout variation and every rule of forms.md, each file with what
the pipeline must make of it (canonical rows for a good file, the exact located
issues for a bad one, and text that must never be echoed in a report).
"""
