"""Synthetic and classic data augmentation against class imbalance (002, 003): mixing, post-processing,
classic augmentation, weighted sampling, and the strategies that combine them, by name."""

from ganaug.augment.strategies import STRATEGIES, Ingredients, Strategy, TrainingPlan, plan

__all__ = ["STRATEGIES", "Ingredients", "Strategy", "TrainingPlan", "plan"]
