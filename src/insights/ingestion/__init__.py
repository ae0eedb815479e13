"""Ingestion: validate input logs against the contract, protect personal data, load idempotently."""

from insights.ingestion.loader import ingest
from insights.ingestion.mapping import Mapping, load_mapping
from insights.ingestion.report import FileReport, LoadReport
from insights.ingestion.sniff import SourceFile, sniff

__all__ = ["FileReport", "LoadReport", "Mapping", "SourceFile", "ingest", "load_mapping", "sniff"]
