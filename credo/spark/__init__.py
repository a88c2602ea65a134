"""Credo on Apache Spark: the lake both engines read, and the monthly run as a Spark job.

The lake (:mod:`credo.spark.lake`) and bringing a Spark run back into the store
(:mod:`credo.spark.runs`) need no Spark; :mod:`credo.spark.monthly` needs the ``spark`` extra
(``pip install 'credo[spark]'``) and a Java runtime, and is loaded only when asked for.
"""

from credo.spark.lake import LAKE_VERSION, Lake, Manifest, export_lake

__all__ = ["LAKE_VERSION", "Lake", "Manifest", "export_lake"]
