"""Harvesting: the harvester contract, the registry of source types, runs and their reports."""

from catalogue.harvest.contract import Harvester, HarvesterOptions
from catalogue.harvest.report import HarvestReport, SourceReport
from catalogue.harvest.runner import run_harvest

__all__ = ["HarvestReport", "Harvester", "HarvesterOptions", "SourceReport", "run_harvest"]
