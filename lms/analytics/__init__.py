"""Analytics: the event lake (every typed event, once, as Parquet partitioned by day), the report
SQL run by Athena in AWS and by DuckDB locally, and the stored results the API serves.

* :mod:`lms.analytics.results`: the report names, their row columns, ``store`` and ``latest``.
"""
