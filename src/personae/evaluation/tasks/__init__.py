"""Evaluation tasks: each module runs one evaluation and returns a
:class:`~personae.evaluation.report.Report`; ``personae eval`` (:mod:`personae.cli.evaluate`)
calls them.
"""
