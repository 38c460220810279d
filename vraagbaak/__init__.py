"""Vraagbaak: cited answers from Dutch policy documents."""

__version__ = "0.1.0"
