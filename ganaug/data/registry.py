"""The dataset registry. A loader is ``fn(root: Path, download: bool) -> DatasetSplits``."""

from ganaug.registry import Registry

DATASETS = Registry("dataset")
