"""Evaluation: metrics (ROUGE …), LLM judges, role-play tasks, DialogSum, and reports."""

from personae.evaluation.cache import ResultCache
from personae.metrics.stats import Estimate, bootstrap_mean

__all__ = ["Estimate", "ResultCache", "bootstrap_mean"]
