"""Fixtures of the feature tests: one local Spark session for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from features.engines.spark import SparkEngine


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """The spark engine on a ``local[2]`` session started once (JVM start-up is seconds).

    Two shuffle partitions (the default 200 would cost a task each per stage on tiny data),
    no UI, the driver on loopback only.
    """
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sightline-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield SparkEngine()
    spark.stop()
