"""Cells of CSV files that people open in a spreadsheet program.

Excel and LibreOffice Calc run a cell that starts with ``=``, ``+``, ``-``
or ``@`` as a formula, and some skip a leading tab, carriage return or
NUL first. A name or comment in an export could so run a formula on the
reader's computer (OWASP, "CSV Injection"). :func:`spreadsheet_safe` puts
an apostrophe before such text, which makes the program show it as text.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def spreadsheet_safe(text: str) -> str:
    """Return ``text`` with an apostrophe before it when a spreadsheet
    program would read it as a formula, and unchanged otherwise."""
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def spreadsheet_row(cells: list[object]) -> list[object]:
    """Return a CSV row with :func:`spreadsheet_safe` applied to every text
    cell; numbers and other values pass unchanged."""
    return [spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in cells]
