"""Feature extractors for the generative metrics: images -> features (N, D) and class logits (N, K).

Every generative number (FID, KID, precision/recall, IS) is only as meaningful as the features it
was computed on, so every extractor carries a ``name`` that goes into each result and report line.
Two kinds ship:

- :class:`ClassifierFeatures`: a ganaug classifier trained on the real training split; features are
  its penultimate (pooled) vector, logits its head. Works offline for any dataset; report e.g.
  "FID (digits small-cnn features)". Such a number is *not* comparable with published FIDs.
- :class:`InceptionV3Features`: the standard FID Inception-v3 (pool3, 2048-d; 1008 logits) with
  pytorch-fid's or torch-fidelity's exact preprocessing, from a weights file the user supplies.
  Only its numbers may be called FID / IS without qualification, and only when the weights are the
  published ones (checked by hash; otherwise the name says "unverified weights").

Inputs are uint8 images (N, C, H, W) or float images in [-1, 1]; extraction is batched, without
gradients and with the network in eval mode, so results do not depend on the batch size.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.data.dataset import to_float
from ganaug.data.download import fetch
from ganaug.metrics.inception_net import FIDInceptionV3

# pytorch-fid's port of TensorFlow's inception-2015-12-05 (torch-fidelity ships the same file under another name).
INCEPTION_WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
INCEPTION_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_WEIGHTS_SHA256_PREFIX = "6726825d"  # torch.hub convention: the file name carries the start of its sha256
INCEPTION_WEIGHTS_SHA1 = "bd836944fd6db519dfd8d924aa457f5b3c8357ff"  # as pinned by MLCommons' stable-diffusion scripts
INCEPTION_SIZE = 299


class Extracted(NamedTuple):
    features: torch.Tensor  # (N, D) float32, on the CPU
    logits: torch.Tensor | None  # (N, K) float32, or None if the extractor has no class head


@runtime_checkable
class FeatureExtractor(Protocol):
    """What the metrics need: a name for reports and ``extract(images) -> Extracted``."""

    name: str

    def extract(self, images: torch.Tensor) -> Extracted: ...


class BatchedExtractor(ABC):
    """Batching, device placement, no-grad and eval mode around ``_forward`` (float [-1, 1] in)."""

    def __init__(self, network: nn.Module, name: str, batch_size: int = 64, device: str | torch.device = "cpu") -> None:
        self.network = network.eval().to(device)
        self.name = name
        self.batch_size = batch_size
        self.device = torch.device(device)

    @abstractmethod
    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    @torch.no_grad()
    def extract(self, images: torch.Tensor) -> Extracted:
        if images.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        self.network.eval()
        feats, logits = [], []
        for start in range(0, len(images), self.batch_size):
            x = images[start : start + self.batch_size]
            x = to_float(x) if x.dtype == torch.uint8 else x.float()
            f, l = self._forward(x.to(self.device))
            feats.append(f.float().cpu())
            if l is not None:
                logits.append(l.float().cpu())
        if not feats:
            raise ValueError("no images to extract features from")
        return Extracted(torch.cat(feats), torch.cat(logits) if logits else None)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.extract(images).features

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        out = self.extract(images).logits
        if out is None:
            raise ValueError(f"{self.name} has no class logits")
        return out


class ClassifierFeatures(BatchedExtractor):
    """A ganaug classifier's penultimate features (``model.features``) and logits (``model.head``).

    ``name`` should say which data the classifier learned, e.g. "digits small-cnn features"; it may
    not mention Inception, so that no number computed on it is mistaken for an Inception FID.
    """

    def __init__(self, model: nn.Module, name: str, batch_size: int = 256, device: str | torch.device = "cpu") -> None:
        if not (hasattr(model, "features") and hasattr(model, "head")):
            raise TypeError(f"{type(model).__name__} needs .features (image -> penultimate vector) and .head (vector -> logits)")
        if "inception" in name.lower():
            raise ValueError(f"feature name {name!r} mentions Inception but these are classifier features")
        super().__init__(model, name, batch_size, device)

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.network.features(x)
        return f.flatten(1), self.network.head(f)


def tf1_bilinear_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear(align_corners=False)``: output pixel i samples input i * in/out
    (no half-pixel offset), clamped at the last pixel; the resize of TTUR's FID graph and torch-fidelity."""

    def weights(n_in: int) -> torch.Tensor:
        src = torch.arange(size, dtype=torch.float64) * (n_in / size)
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        frac = src - lo
        w = torch.zeros(size, n_in, dtype=torch.float64)
        w[torch.arange(size), lo] += 1 - frac
        w[torch.arange(size), hi] += frac
        return w.to(x.dtype).to(x.device)

    return weights(x.shape[-2]) @ x @ weights(x.shape[-1]).T


Preprocessing = Literal["pytorch-fid", "torch-fidelity"]


class InceptionV3Features(BatchedExtractor):
    """The FID Inception-v3: pool3 features (2048-d) and 1008-class logits without the fc bias (for IS).

    Preprocessing, chosen by ``preprocessing``, reproduces one of the two standard implementations:

    - ``"pytorch-fid"``: pixels / 255, ``F.interpolate`` bilinear (align_corners=False) to 299x299,
      then 2x - 1;
    - ``"torch-fidelity"``: pixels 0..255, TensorFlow-1 bilinear resize to 299x299 (as in TTUR's
      original graph), then (x - 128) / 128.

    Gray images are repeated to three channels, as both do after PIL's RGB conversion.
    """

    def __init__(
        self,
        network: FIDInceptionV3,
        name: str,
        preprocessing: Preprocessing = "pytorch-fid",
        batch_size: int = 32,
        device: str | torch.device = "cpu",
    ) -> None:
        if preprocessing not in ("pytorch-fid", "torch-fidelity"):
            raise ValueError(f"preprocessing must be 'pytorch-fid' or 'torch-fidelity', got {preprocessing!r}")
        super().__init__(network, name, batch_size, device)
        self.preprocessing = preprocessing

    @classmethod
    def from_file(
        cls, path: str | Path, preprocessing: Preprocessing = "pytorch-fid", batch_size: int = 32, device: str | torch.device = "cpu"
    ) -> InceptionV3Features:
        """Load weights from a ``.pth`` state dict (``torch.load(weights_only=True)``) or ``.safetensors``.

        The name says "inception-v3 pool3" only when the file is the published one (its sha256 starts
        with :data:`INCEPTION_WEIGHTS_SHA256_PREFIX`, or a safetensors file made by
        :func:`inception_weights_to_safetensors` records that); otherwise it says "unverified weights".
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"Inception weights not found at {path}. Download {INCEPTION_WEIGHTS_URL} "
                f"(sha1 {INCEPTION_WEIGHTS_SHA1}) there, or call ganaug.metrics.features.download_inception_weights."
            )
        state, source_sha256 = _read_state_dict(path)
        network = FIDInceptionV3()
        _check_keys(network, state, path)
        network.load_state_dict(state, strict=False)  # only num_batches_tracked may be absent; checked above
        verified = source_sha256.startswith(INCEPTION_WEIGHTS_SHA256_PREFIX)
        weights = "pt_inception-2015-12-05" if verified else f"unverified weights {path.name}"
        return cls(network, f"inception-v3 pool3 ({weights}, {preprocessing} preprocessing)", preprocessing, batch_size, device)

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] != 3:
            raise ValueError(f"Inception needs 1 or 3 channels, got {x.shape[1]}")
        if self.preprocessing == "pytorch-fid":
            x = F.interpolate((x + 1) / 2, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
            x = 2 * x - 1
        else:
            x = tf1_bilinear_resize((x + 1) * 127.5, INCEPTION_SIZE)
            x = (x - 128) / 128
        return self.network(x)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_state_dict(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The tensors, and the sha256 of the published file they came from (the file's own, for .pth)."""
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            source = (f.metadata() or {}).get("source_sha256", "")
            return {k: f.get_tensor(k) for k in f.keys()}, source
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, zip errors, truncated files
        raise ValueError(f"{path}: not a readable torch state dict ({err})") from err
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    return state, _sha256(path)


def _check_keys(network: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Fail listing a few missing/unexpected/mis-shaped keys; BatchNorm step counters may be absent."""
    expected = network.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}" for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        lines = [f"{path} does not hold FID Inception-v3 weights in pytorch-fid's layout:"]
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
            if items:
                more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
                lines.append(f"  {len(items)} {label}: {', '.join(items[:5])}{more}")
        raise ValueError("\n".join(lines))


def inception_weights_to_safetensors(src: str | Path, dest: str | Path) -> Path:
    """Convert a ``.pth`` weights file to ``.safetensors``, recording the source's sha256 in its metadata."""
    from safetensors.torch import save_file

    src, dest = Path(src), Path(dest)
    state, sha = _read_state_dict(src)
    save_file({k: v.contiguous() for k, v in state.items()}, str(dest), metadata={"source_sha256": sha, "source": src.name})
    return dest


def download_inception_weights(dest: str | Path, url: str = INCEPTION_WEIGHTS_URL, timeout: float = 30.0) -> Path:
    """Download the FID Inception weights to ``dest`` (a folder or a file path), checked by sha1 and sha256 prefix
    (no official md5 is published for this file). An existing file with the right hash is kept. Errors are
    :class:`ganaug.data.DataError`.
    """
    dest = Path(dest)
    if dest.is_dir() or not dest.suffix:
        dest = dest / INCEPTION_WEIGHTS_FILE
    if dest.is_file() and _sha256(dest).startswith(INCEPTION_WEIGHTS_SHA256_PREFIX):
        return dest
    return fetch(url, dest, timeout=timeout, sha1=INCEPTION_WEIGHTS_SHA1, sha256_prefix=INCEPTION_WEIGHTS_SHA256_PREFIX)
