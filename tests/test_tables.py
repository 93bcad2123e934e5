"""Loaders: bad input is reported clearly and writes nothing; good loads are idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.errors import InputError, ValidationError
from ingestion.tables import load_table
from ingestion.warehouse import Warehouse

PRICES_OK = """ticker,date,open,high,low,close,adj_close,volume
AAA,2024-01-02,10,11,9.5,10.5,10.4,1000
AAA,2024-01-03,10.5,11.2,10.1,11,10.9,1200
BBB,2024-01-02,20,21,19,20.5,20.5,500
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(wh: Warehouse, table: str) -> int:
    with wh.reader() as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


@pytest.fixture
def wh(runtime) -> Warehouse:  # noqa: ANN001
    return runtime.warehouse


def test_good_load_then_reload_is_a_no_op(wh: Warehouse, tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", PRICES_OK)
    first = load_table(wh, "prices", path, loaded_by="t")
    again = load_table(wh, "prices", path, loaded_by="t")
    assert (first.rows, first.skipped) == (3, False)
    assert again.skipped
    assert rows(wh, "prices") == 3
    with wh.reader() as con:
        lineage = con.execute(
            "SELECT table_name, file_sha256, rows, loaded_by FROM loads"
        ).fetchall()
    assert lineage == [("prices", first.sha256, 3, "t")]


def test_optional_columns_get_defaults_and_overlapping_keys_are_replaced(
    wh: Warehouse, tmp_path: Path
) -> None:
    load_table(wh, "prices", write(tmp_path, "a.csv", PRICES_OK), loaded_by="t")
    update = "ticker,date,adj_close\nAAA,2024-01-03,99\nCCC,2024-01-02,5\n"
    load_table(wh, "prices", write(tmp_path, "b.csv", update), loaded_by="t")
    with wh.reader() as con:
        got = con.execute(
            "SELECT ticker, adj_close, close, currency FROM prices ORDER BY ticker, date"
        ).fetchall()
    assert got == [
        ("AAA", 10.4, 10.5, "USD"),
        ("AAA", 99.0, None, "USD"),
        ("BBB", 20.5, 20.5, "USD"),
        ("CCC", 5.0, None, "USD"),
    ]


BAD_PRICES = [
    ("missing column", "ticker,date,open\nAAA,2024-01-02,1\n", "missing column(s): adj_close"),
    (
        "extra column",
        PRICES_OK.replace("volume\n", "volume,colour\n", 1).replace("1000\n", "1000,red\n"),
        "unexpected column(s): colour",
    ),
    ("wrong type", "ticker,date,adj_close\nAAA,2024-01-02,ten\n", "line 2, column 'adj_close'"),
    ("bad date", "ticker,date,adj_close\nAAA,02/30/2024,1\n", "is not a date"),
    (
        "duplicate key",
        "ticker,date,adj_close\nAAA,2024-01-02,1\nAAA,2024-01-02,2\n",
        "duplicate key (ticker=AAA, date=2024-01-02)",
    ),
    ("negative price", "ticker,date,adj_close\nAAA,2024-01-02,-3\n", "must be greater than 0"),
    ("empty value", "ticker,date,adj_close\nAAA,,1\n", "line 2, column 'date': value is required"),
    ("bad ticker", "ticker,date,adj_close\naaa;drop,2024-01-02,1\n", "not a valid ticker"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_PRICES, ids=[c[0] for c in BAD_PRICES])
def test_bad_prices_are_rejected_and_nothing_is_written(
    wh: Warehouse, tmp_path: Path, case: str, text: str, expected: str
) -> None:
    load_table(wh, "prices", write(tmp_path, "good.csv", PRICES_OK), loaded_by="t")
    with pytest.raises(ValidationError) as err:
        load_table(wh, "prices", write(tmp_path, "bad.csv", text), loaded_by="t")
    assert expected in str(err.value)
    assert "nothing was written" in str(err.value)
    assert rows(wh, "prices") == 3  # the earlier good load is intact


def test_every_problem_is_listed_with_its_line(wh: Warehouse, tmp_path: Path) -> None:
    text = "ticker,date,adj_close\nAAA,2024-01-02,x\nAAA,2024-13-01,1\nBBB,2024-01-02,-1\n"
    with pytest.raises(ValidationError) as err:
        load_table(wh, "prices", write(tmp_path, "bad.csv", text), loaded_by="t")
    lines = [(p.row, p.column) for p in err.value.problems]
    assert lines == [(2, "adj_close"), (3, "date"), (4, "adj_close")]


@pytest.mark.parametrize(
    ("case", "payload", "expected"),
    [
        ("empty file", b"", "is empty"),
        ("header only", b"ticker,date,adj_close\n", "no data rows"),
        (
            "latin-1",
            "ticker,date,adj_close,source\nAAA,2024-01-02,1,Soci\xe9t\xe9\n".encode("latin-1"),
            "not valid UTF-8",
        ),
        ("utf-16", PRICES_OK.encode("utf-16"), "UTF-16"),
        ("binary", b"\x00\x01\x02PK\x03\x04" * 50, "binary file"),
    ],
)
def test_unreadable_files_are_refused(
    wh: Warehouse, tmp_path: Path, case: str, payload: bytes, expected: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(payload)
    with pytest.raises(InputError) as err:
        load_table(wh, "prices", path, loaded_by="t")
    assert expected in str(err.value)
    assert not wh.exists() or rows(wh, "prices") == 0


def test_parquet_is_accepted(wh: Warehouse, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "series": ["vix", "vix"],
            "date": ["2020-01-02", "2020-01-03"],
            "value": [12.5, 13.0],
            "unit": ["index", "index"],
            "frequency": ["D", "D"],
        }
    )
    path = tmp_path / "m.parquet"
    frame.to_parquet(path)
    report = load_table(wh, "macro", path, loaded_by="t")
    assert report.rows == 2
    assert rows(wh, "macro") == 2


def test_positions_must_refer_to_known_tickers(wh: Warehouse, tmp_path: Path) -> None:
    load_table(wh, "prices", write(tmp_path, "p.csv", PRICES_OK), loaded_by="t")
    bad = "portfolio,ticker,quantity,as_of\nDEMO,AAA,10,2024-01-02\nDEMO,ZZZ,5,2024-01-02\n"
    with pytest.raises(ValidationError) as err:
        load_table(wh, "positions", write(tmp_path, "pos.csv", bad), loaded_by="t")
    assert "unknown ticker 'ZZZ'" in str(err.value)
    assert "line 3" in str(err.value)
    assert rows(wh, "positions") == 0
    good = "portfolio,ticker,quantity,as_of\nDEMO,AAA,10,2024-01-02\n"
    assert load_table(wh, "positions", write(tmp_path, "ok.csv", good), loaded_by="t").rows == 1


def test_fundamentals_loans_and_macro_validate_their_own_rules(
    wh: Warehouse, tmp_path: Path
) -> None:
    fundamentals = (
        "ticker,fiscal_year,period_end,filing_date,item,value,unit,source_doc,source_page\n"
        "MSFT,2023,2023-06-30,2023-07-27,total_assets,411976,USD millions,MSFT_10K,0\n"
    )
    with pytest.raises(ValidationError, match="source_page"):
        load_table(wh, "fundamentals", write(tmp_path, "f.csv", fundamentals), loaded_by="t")
    macro = "series,date,value,unit,frequency\nvix,2020-01-02,12,index,W\n"
    with pytest.raises(ValidationError, match="not one of"):
        load_table(wh, "macro", write(tmp_path, "m.csv", macro), loaded_by="t")
    with pytest.raises(InputError, match="unknown table"):
        load_table(wh, "clients", write(tmp_path, "c.csv", macro), loaded_by="t")
