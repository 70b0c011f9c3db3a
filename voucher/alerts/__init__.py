"""Alerts to the operators: what a job or a check found that a person must look at."""
