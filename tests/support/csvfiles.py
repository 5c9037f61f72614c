"""Client-master CSV files for tests, with passwords easy to search for in any output."""

from __future__ import annotations

from pathlib import Path

HEADER = "name,tan,pan,traces_user,traces_password,itportal_user,itportal_password"
SECRET_MARK = "Pw-SECRET"  # every password below contains it


def write_csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


MIXED_ROWS = (
    f"Acme Traders,DELA12345B,ABCCA1234F,DELA12345B,{SECRET_MARK}-1,DELA12345B,{SECRET_MARK}-2",
    "Bad Pan,DELB12345B,ABCXB1234F,DELB12345B,Pw-SECRET-3,,",
    f"No Pass,DELN12345B,ABCPN1234F,DELN12345B,,itp-user,{SECRET_MARK}-4",
    f"Dup Acme,DELA12345B,ABCCA1234F,DELA12345B,{SECRET_MARK}-5,,",
    "Bharat Exports,MUMB54321C,ABCFB4321Z,,,,",
)
