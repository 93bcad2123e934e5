"""A minimal Airflow DAG for Sightline's overnight batch and morning report (docs/batch.md).

Not imported by Sightline (Airflow is not a dependency): copy it into your Airflow ``dags/``
folder and set SIGHTLINE_HOME in the worker's environment. ``ds`` is Airflow's logical date: the
02:00 run on Tuesday has ``ds`` = Monday, which is the business date the batch reports (T+1).
Exit status 3 (a step failed) and 4 (another run holds the lock) fail the task, so Airflow's
retries apply; 0 covers an identical rerun, so clearing a task is safe.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="sightline_overnight",
    schedule="0 2 * * 2-6",  # 02:00 UTC Tuesday-Saturday, reporting Monday-Friday
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=10)},
) as dag:
    batch = BashOperator(
        task_id="batch_run",
        bash_command="sightline batch run --as-of {{ ds }} --user batch-operator",
    )
    report = BashOperator(
        task_id="morning_report",
        bash_command=(
            "sightline report morning --as-of {{ ds }} --out /srv/sightline/reports/{{ ds }} "
            "--user batch-operator"
        ),
    )
    batch >> report
