"""Experiment 1: single-item revenue, rediscovering Myerson's virtual valuation."""
