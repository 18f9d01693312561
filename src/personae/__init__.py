"""personae: role-playing language agents, offline first."""

__version__ = "0.1.0"
