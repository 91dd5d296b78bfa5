"""Stateful fakes of outside services, shared by tests and benchmarks."""

from tests.fakes.teams_connector import Delivery, FakeTeamsConnector

__all__ = ["Delivery", "FakeTeamsConnector"]
