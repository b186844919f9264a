"""Reads of the payments app, split like services/."""
