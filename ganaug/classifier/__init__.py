"""Classifier training and prediction."""
