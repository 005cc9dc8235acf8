"""Synthetic data the project makes itself: annotated datasets with simulated users, and test videos."""
