"""Evaluation: fixed question/answer pairs and annotated pages -> named metrics."""

from .qa import Evaluation, QAPair, format_report, load_pairs, normalise

__all__ = ["Evaluation", "QAPair", "format_report", "load_pairs", "normalise"]
