"""Checkpoints as safetensors (tensors) + JSON (everything else), written atomically, never pickled.

A checkpoint ``NAME`` is two files: ``NAME.safetensors`` and ``NAME.json``. The JSON holds how to
rebuild each model (registry, name, kwargs), the optimizer hyper-parameters, the trainer's counters
and history, so that nothing needs unpickling to resume or sample. ``TrainingState`` is what every
trainer saves and resumes through: one place that knows everything a run must restore to continue exactly.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import random
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ganaug.errors import CheckpointError  # defined with the other user errors; importable from here
from ganaug.runtime import load_scaler_states, scaler_states

FORMAT_VERSION = 1


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename over ``path``: readers see the old file or the new one, never half.

    The file gets the permissions of any new file under the user's umask (mkstemp alone would make it 0600, so
    colleagues could not read a shared run's reports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


@contextmanager
def exclusive_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` while the block runs (None: no lock): one process at a time
    per run folder or shared checkpoint; the OS drops the lock when its holder dies, so a killed run never blocks
    its re-run."""
    if path is None:
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


def _optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state_dict into tensors (per-parameter state) and JSON (param groups)."""
    sd = opt.state_dict()
    tensors = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.state.{pid}.{key}"] = torch.as_tensor(value).clone()
    return tensors, {"param_groups": sd["param_groups"]}


def _optimizer_state(prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + ".state."):
            pid, key = name[len(prefix) + 7 :].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: Path,
    models: dict[str, tuple[nn.Module, dict[str, Any]]],
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    extra_tensors: dict[str, torch.Tensor] | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Save ``models`` ({role: (module, spec)} where spec = {registry, name, kwargs}), optimizers and metadata.

    The tensor file also carries the JSON in its header, and loading reads it from there: the two files are
    two atomic writes, and a process killed between them leaves new tensors beside the previous JSON, which
    must not be paired with them. The JSON file is the readable copy, written last.
    """
    tensors: dict[str, torch.Tensor] = {}
    info: dict[str, Any] = {"format_version": FORMAT_VERSION, "models": {}, "optimizers": {}, "meta": meta or {}}
    for role, (module, spec) in models.items():
        for key, value in module.state_dict().items():
            tensors[f"model.{role}.{key}"] = value.detach().cpu().contiguous()
        info["models"][role] = spec
    for role, opt in (optimizers or {}).items():
        opt_tensors, opt_meta = _optimizer_tensors(f"optim.{role}", opt)
        tensors.update({k: v.cpu().contiguous() for k, v in opt_tensors.items()})
        info["optimizers"][role] = opt_meta
    for key, value in (extra_tensors or {}).items():
        tensors[f"extra.{key}"] = value.cpu().contiguous()
    path = Path(path)
    header = {"ganaug": json.dumps(info)}
    atomic_write(path.with_suffix(".safetensors"), lambda tmp: save_file(tensors, str(tmp), metadata=header))
    write_json(path.with_suffix(".json"), info)


class Checkpoint:
    """A loaded checkpoint: ``info`` (the JSON) and ``tensors``; rebuild models with :meth:`build`."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        json_path, tensor_path = path.with_suffix(".json"), path.with_suffix(".safetensors")
        for file in (json_path, tensor_path):
            if not file.exists():
                raise CheckpointError(f"checkpoint {path}: {file} does not exist (a checkpoint is NAME.json + "
                                      "NAME.safetensors, e.g. runs/demo/checkpoints/gan/last)")
            if not os.access(file, os.R_OK):
                raise CheckpointError(f"checkpoint {path}: permission denied reading {file}")
        try:
            with safe_open(str(tensor_path), "pt") as f:
                header = (f.metadata() or {}).get("ganaug")
            info = json.loads(header if header is not None else json_path.read_text())  # older files: the JSON
            if not isinstance(info, dict):
                raise ValueError("its header is not a JSON object")
            self.tensors = load_file(str(tensor_path))
        except Exception as err:  # safetensors, JSON and OS errors alike: the file is damaged or not ours
            raise CheckpointError(f"{tensor_path}: not a readable ganaug checkpoint, it may be truncated or damaged "
                                  f"({type(err).__name__}: {err})") from err
        if info.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{json_path}: unsupported checkpoint format {info.get('format_version')!r}")
        if not isinstance(info.get("models"), dict) or not isinstance(info.get("meta"), dict):
            raise CheckpointError(f"{tensor_path}: not a ganaug checkpoint (no models / meta in its header)")
        self.info, self.path = info, path
        self.meta: dict[str, Any] = info["meta"]

    def state_dict(self, role: str) -> dict[str, torch.Tensor]:
        prefix = f"model.{role}."
        return {k[len(prefix) :]: v for k, v in self.tensors.items() if k.startswith(prefix)}

    def build(self, role: str) -> nn.Module:
        """Rebuild the model of ``role`` from its registry name and kwargs, and load its weights."""
        from ganaug.models import CLASSIFIERS, DISCRIMINATORS, GENERATORS, TRANSLATORS

        registries = {"generator": GENERATORS, "discriminator": DISCRIMINATORS, "classifier": CLASSIFIERS,
                      "translator": TRANSLATORS}
        try:
            spec = self.info["models"][role]
            model = registries[spec["registry"]].create(spec["name"], **spec["kwargs"])
            model.load_state_dict(self.state_dict(role))
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            raise CheckpointError(f"{self.path}: cannot rebuild its {role!r} model ({type(err).__name__}: {err}); "
                                  "the checkpoint is damaged or was written by another version") from None
        return model

    def load_into(self, role: str, module: nn.Module) -> None:
        module.load_state_dict(self.state_dict(role))

    def load_optimizer(self, role: str, opt: torch.optim.Optimizer) -> None:
        """Load the optimizer's state, each tensor in its parameter's memory layout.

        Tensors are saved contiguous; a channels_last parameter's moments must be channels_last again, since torch's
        fused Adam (CPU, torch 2.13) pairs elements by memory position, not by index (a wrong update, no error)."""
        opt.load_state_dict(_optimizer_state(f"optim.{role}", self.tensors, self.info["optimizers"][role]))
        for group in opt.param_groups:
            for param in group["params"]:
                state = opt.state.get(param, {})
                for key, value in state.items():
                    if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                        state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)

    def extra(self, key: str) -> torch.Tensor:
        return self.tensors[f"extra.{key}"]


class TrainingState:
    """Everything a trainer changes as it trains, saved and restored as one, so that a resumed run ends bit for bit
    where an unbroken one would.

    That is: the ``models`` ({role: (module, rebuild spec)}), their ``optimizers`` and grad ``scalers``; the
    ``generators`` the trainer owns (batches, DiffAugment, ...); every global random state (Python ``random``,
    numpy, torch's CPU generator, and CUDA's on a CUDA ``device``); and ``attributes``, state that lives on other
    objects ({key: (object, attribute name)}: tensors, e.g. a sampler's weights, or JSON values such as its
    per-class history, saved under ``key`` in ``meta``). Counters and history go in ``meta``.
    ``save``/``load`` use a checkpoint on disk; ``snapshot``/``restore`` an in-memory copy (PrecisionFallback's).
    """

    def __init__(self, models: Mapping[str, tuple[nn.Module, dict[str, Any]]],
                 optimizers: Mapping[str, torch.optim.Optimizer], device: torch.device,
                 scalers: Mapping[str, torch.amp.GradScaler] | None = None,
                 generators: Mapping[str, torch.Generator] | None = None,
                 attributes: Mapping[str, tuple[object, str]] | None = None) -> None:
        self.models, self.optimizers, self.device = dict(models), dict(optimizers), device
        self.scalers, self.generators = dict(scalers or {}), dict(generators or {})
        self.attributes = dict(attributes or {})

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the checkpoint ``path`` (atomically); ``meta`` holds the trainer's counters, history and settings."""
        tensors, random_meta = self._random_states()
        values = {key: getattr(obj, name) for key, (obj, name) in self.attributes.items()}
        tensors.update({key: value for key, value in values.items() if torch.is_tensor(value)})
        scalers = scaler_states(self.scalers)
        save_checkpoint(path, self.models, self.optimizers, tensors,
                        {**meta, **{key: value for key, value in values.items() if not torch.is_tensor(value)},
                         "random_state": random_meta, **({"grad_scalers": scalers} if scalers else {})})

    def load(self, path: Path) -> Checkpoint:
        """Restore everything from the checkpoint ``path``; returns it, for the trainer's counters in ``meta``."""
        ckpt = Checkpoint(path)
        for role, (module, _) in self.models.items():
            ckpt.load_into(role, module)
        for role, opt in self.optimizers.items():
            ckpt.load_optimizer(role, opt)
        load_scaler_states(self.scalers, ckpt.meta.get("grad_scalers", {}))
        extras = {k[len("extra.") :]: v for k, v in ckpt.tensors.items() if k.startswith("extra.")}
        self._set_random_states(extras, ckpt.meta.get("random_state", {}))
        for key, (obj, name) in self.attributes.items():
            if key in extras or key in ckpt.meta:  # an older checkpoint may lack it: the object keeps its own
                setattr(obj, name, extras[key] if key in extras else ckpt.meta[key])
        return ckpt

    def snapshot(self) -> dict[str, Any]:
        """The state now, by reference: deep-copy it to keep it (PrecisionFallback does)."""
        tensors, random_meta = self._random_states()
        return {"models": {role: module.state_dict() for role, (module, _) in self.models.items()},
                "optimizers": {role: opt.state_dict() for role, opt in self.optimizers.items()},
                "scalers": scaler_states(self.scalers), "random": (tensors, random_meta),
                "attributes": {key: getattr(obj, name) for key, (obj, name) in self.attributes.items()}}

    def restore(self, snapshot: dict[str, Any]) -> None:
        for role, (module, _) in self.models.items():
            module.load_state_dict(snapshot["models"][role])
        for role, opt in self.optimizers.items():
            opt.load_state_dict(snapshot["optimizers"][role])
        load_scaler_states(self.scalers, snapshot["scalers"])
        self._set_random_states(*snapshot["random"])
        for key, (obj, name) in self.attributes.items():
            setattr(obj, name, copy.deepcopy(snapshot["attributes"][key]))  # the snapshot stays reusable

    def _random_states(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Every random state: the long ones as tensors, the few scalars beside them as JSON."""
        version, python_key, gauss_next = random.getstate()
        kind, numpy_key, pos, has_gauss, cached_gaussian = np.random.get_state()
        tensors = {"python_rng_state": torch.tensor(python_key, dtype=torch.int64),
                   "numpy_rng_state": torch.from_numpy(numpy_key.astype(np.int64)),
                   "torch_rng_state": torch.get_rng_state(),
                   **{f"{name}_state": g.get_state() for name, g in self.generators.items()}}
        if self.device.type == "cuda":
            tensors["cuda_rng_state"] = torch.cuda.get_rng_state(self.device)
        meta = {"python": [version, gauss_next], "numpy": [kind, int(pos), int(has_gauss), float(cached_gaussian)]}
        return tensors, meta

    def _set_random_states(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Set each random state that ``tensors`` holds (an older checkpoint may lack some; those stay as seeded)."""
        if "python_rng_state" in tensors and "python" in meta:
            version, gauss_next = meta["python"]
            random.setstate((version, tuple(tensors["python_rng_state"].tolist()), gauss_next))
        if "numpy_rng_state" in tensors and "numpy" in meta:
            kind, pos, has_gauss, cached_gaussian = meta["numpy"]
            np.random.set_state((kind, tensors["numpy_rng_state"].numpy().astype(np.uint32), pos, has_gauss,
                                 cached_gaussian))
        if "torch_rng_state" in tensors:
            torch.set_rng_state(tensors["torch_rng_state"])
        if self.device.type == "cuda" and "cuda_rng_state" in tensors:
            torch.cuda.set_rng_state(tensors["cuda_rng_state"], self.device)
        for name, g in self.generators.items():
            if f"{name}_state" in tensors:
                g.set_state(tensors[f"{name}_state"])
