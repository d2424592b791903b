"""Lose nothing: atomic outputs that replace only what ektp-opt wrote, signal handling, CSV a clerk
can open safely, and terminal output that shows file contents as text."""
