"""hello_nequi: the smallest useful DAG, and a template for the next ones.

A daily run logs a greeting stamped with the run's logical date, then a
second task reads that greeting (through XCom, as the first task's return
value) and logs its length. Nothing happens at import time: the scheduler
parses this file every 30 seconds or so, so all work lives inside tasks.

Imports work on the Airflow versions Amazon MWAA runs, 2.10/2.11 and 3.x,
and use nothing outside Airflow and the Python standard library.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

try:  # Airflow 3: the Task SDK is the public interface for writing DAGs.
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.x
    from airflow.decorators import dag, task

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}


@dag(
    dag_id="hello_nequi",
    description="Says hello once a day and passes the greeting on.",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["nequi", "example"],
)
def hello_nequi():
    @task
    def say_hello(logical_date=None) -> str:
        # Airflow fills logical_date from the run's context; a manual run
        # in Airflow 3 may have none.
        when = logical_date.isoformat() if logical_date else "an unscheduled run"
        greeting = f"Hello, Nequi! Run for {when}."
        log.info(greeting)
        return greeting

    @task
    def pass_it_on(greeting: str) -> int:
        log.info("Received %r (%d characters)", greeting, len(greeting))
        return len(greeting)

    pass_it_on(say_hello())


hello_nequi()
