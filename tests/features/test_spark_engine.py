"""The spark engine writes the SQL and arrays engines' rows (Spark in local[2] mode)."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import cli
from features.batch import materialize
from features.engines import engine_for
from features.engines.spark import SparkEngine
from ingestion.errors import InputError
from tests.features.test_arrays_engine import assert_same, stored
from tests.features.test_batch_windows import (
    ROW,
    _batch,
    _definitions,
    _expected,
    _mismatches,
    _quotes_table,
)


def _spark_rows(engine: SparkEngine, con: duckdb.DuckDBPyConnection) -> dict:
    query = engine.materialize(con, "quotes", _definitions(), None)
    return {(e, f, ts): v for e, ts, f, v in con.execute(query).fetchall()}


@pytest.mark.slow
def test_spark_equals_sql_and_arrays_on_the_demo(demo_runtime, spark_engine) -> None:  # noqa: ANN001
    """Every feature of every source, same keys (missing cells) and values within 1e-9."""
    materialize(demo_runtime.warehouse, engine=spark_engine)
    spark_values = stored(demo_runtime)
    with demo_runtime.warehouse.reader() as con:
        lineage = con.execute("SELECT DISTINCT engine, engine_version FROM feature_runs").fetchall()
        features = {
            f for (f,) in con.execute("SELECT DISTINCT feature FROM feature_values").fetchall()
        }
    assert len(lineage) == 1 and lineage[0][0] == "spark"
    assert lineage[0][1].startswith("spark 4.") and "local[2]" in lineage[0][1]
    from features.definitions import all_features

    assert features == {d.name for d in all_features() if d.source != "quotes"}  # no demo quotes
    materialize(demo_runtime.warehouse, engine="sql")
    assert_same(spark_values, stored(demo_runtime))
    materialize(demo_runtime.warehouse, engine="arrays")
    assert_same(spark_values, stored(demo_runtime))


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.dictionaries(
        st.sampled_from(["A", "BB", "^IX"]),
        st.lists(ROW, min_size=1, max_size=12),
        min_size=1,
        max_size=3,
    )
)
def test_spark_windows_match_the_reference_on_random_sources(data: dict, spark_engine) -> None:  # noqa: ANN001
    """Random quotes with missing values and repeats: Spark == the reference == the SQL."""
    con = _quotes_table(data)
    got = _spark_rows(spark_engine, con)
    assert _mismatches(got, _expected(data)) == []
    assert _mismatches(got, _batch(con)) == []


@pytest.mark.slow
def test_spark_since_keeps_older_rows(spark_engine) -> None:  # noqa: ANN001
    """--since evaluates the whole history and writes only rows dated >= since."""
    from datetime import date

    from tests.features.test_batch_windows import T0

    data = {"A": [{"bid": float(i), "ask": i + 1.0, "bid_size": 1.0} for i in range(1, 9)]}
    con = _quotes_table(data)
    query = spark_engine.materialize(con, "quotes", _definitions(), date(2030, 1, 1))
    assert con.execute(query).fetchall() == []  # nothing that late; and no error on no rows
    full = _spark_rows(spark_engine, con)
    assert {ts for _, _, ts in full} == {T0.replace(second=i) for i in range(8)}


def test_engine_table_errors_name_the_choices(runtime) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as err:
        engine_for("gpu")
    assert "arrays, spark, sql" in str(err.value)
    with pytest.raises(InputError, match="--master applies to the spark engine"):
        engine_for("arrays", master="local[2]")
    result = CliRunner().invoke(cli, ["features", "materialize", "--engine", "gpu"])
    assert result.exit_code == 1
    assert "unknown batch engine 'gpu'" in result.output and "arrays, spark, sql" in result.output
    assert "Traceback" not in result.output
