"""Trebuchet: a self-hosted programmable-voice platform speaking the Catapult v1 Voice API."""

__version__ = "0.1.0"
