"""Evaluation: fixed question/answer pairs and annotated pages -> named metrics."""

from .qa import Evaluation, QAPair, calibrate, format_report, load_pairs, normalise

__all__ = ["Evaluation", "QAPair", "calibrate", "format_report", "load_pairs", "normalise"]
