"""Harvesting: the harvester contract, the registry of source types, runs and their reports."""

from catalogue.harvest.contract import Deleted, Harvester, HarvesterOptions, IncrementalHarvester
from catalogue.harvest.report import HarvestReport, SourceReport
from catalogue.harvest.runner import run_harvest
from catalogue.harvest.state import SourceState

__all__ = [
    "Deleted",
    "HarvestReport",
    "Harvester",
    "HarvesterOptions",
    "IncrementalHarvester",
    "SourceReport",
    "SourceState",
    "run_harvest",
]
