"""Figures: seaborn lives here only; every function reads results and draws."""
