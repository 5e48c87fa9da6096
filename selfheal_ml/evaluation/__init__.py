"""Evaluation shared by pipelines, tests and notebooks: NAB scoring, forecast accuracy metrics."""
