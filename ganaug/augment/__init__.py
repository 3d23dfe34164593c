"""Synthetic and classic data augmentation against class imbalance (Gao, the DCGAN study): mixing, post-processing,
classic augmentation, weighted sampling, and the strategies that combine them, by name."""

from ganaug.augment.strategies import STRATEGIES, Ingredients, Strategy, TrainingPlan, plan

__all__ = ["STRATEGIES", "Ingredients", "Strategy", "TrainingPlan", "plan"]
