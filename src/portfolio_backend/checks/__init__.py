"""Checks before publishing: `portfolio-check checks.yaml` runs the owner's questions through the
same turn pipeline a visitor's go through, and says which of their assertions hold.

spec.py reads the file (with the line of each mistake), assertions.py judges an answer,
pipeline.py builds the service's turn pipeline outside HTTP, report.py prints the table and
writes JUnit XML, cli.py is the command.
"""
