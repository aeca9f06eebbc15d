"""Which device and precision a reader runs in, and the CPU half-precision matmul mode.

``dtype`` is ``float32``, ``bfloat16``, ``float16``, ``int8`` (CPU only) or ``auto``: bfloat16
on GPUs that have it (float16 on older ones); on a CPU, :data:`AUTO_CPU_NATIVE_BF16` where the
CPU computes bfloat16 natively (AVX512-BF16 or AMX) and :data:`AUTO_CPU_OTHER` elsewhere. Both
are chosen by measurement: the fastest mode whose answers agree with float32's
(``docs/precision.md``; figures in ``benchmarks/README.md``).

On a CPU, bfloat16 and float16 round only the *matrix multiplies*
(:func:`half_precision_matmuls`): the linear layers take and give half precision, while the
embeddings, the residual stream, layer norms and the QA head stay float32.
"""

from __future__ import annotations

import os
from pathlib import Path

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "int8": "int8",
    "qint8": "int8",
}
# What ``auto`` picks on a CPU, by whether it computes bf16 natively (docs/precision.md).
AUTO_CPU_NATIVE_BF16 = "bfloat16"
AUTO_CPU_OTHER = "float32"


def default_device() -> str:
    """cuda, then Apple's mps, then cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX), where a bf16 forward
    takes about half the float32 time; elsewhere bf16 is emulated and slower than float32.
    ``VIQA_NO_NATIVE_BF16=1`` answers False, to stand in for CPUs without it (benchmarks)."""
    if os.environ.get("VIQA_NO_NATIVE_BF16", "").strip() not in ("", "0"):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def default_dtype(device: str):
    """The fastest precision the hardware runs natively at float32's answers: on a CPU,
    :data:`AUTO_CPU_NATIVE_BF16` or :data:`AUTO_CPU_OTHER`."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "cpu":
        name = AUTO_CPU_NATIVE_BF16 if cpu_has_native_bf16() else AUTO_CPU_OTHER
        return torch.qint8 if name == "int8" else getattr(torch, name)
    return torch.float32


def dtype_name(dtype: str | None) -> str:
    """The canonical name of a precision given as text (``"bf16"`` → ``"bfloat16"``;
    ``None``/``""``/``"auto"`` → ``"auto"``), checked without importing torch, so that a
    setting can be refused at start-up rather than at the first question."""
    from qa_core.errors import InputError

    key = (dtype or "auto").strip().lower()
    if key == "auto":
        return "auto"
    name = _DTYPES.get(key)
    if name is None:
        raise InputError(
            "Unknown dtype {dtype!r}; use one of float32, bfloat16, float16, int8 or auto.",
            dtype=dtype,
        )
    return name


def resolve_dtype(dtype, device: str):
    """``None`` → hardware default; strings like ``"bf16"`` or ``"float32"`` → torch dtypes
    (``"int8"`` → ``torch.qint8``: dynamic int8 linear layers, CPU only)."""
    import torch

    from qa_core.errors import InputError

    if dtype is None or isinstance(dtype, str):
        name = dtype_name(dtype)
        if name == "auto":
            return default_dtype(device)
        dtype = torch.qint8 if name == "int8" else getattr(torch, name)
    if dtype == torch.qint8 and device != "cpu":
        raise InputError(
            "dtype int8 runs on the CPU only, not on {device!r}; pass device='cpu', or "
            "dtype='auto' for the device's own fastest precision.", device=device,
        )
    return dtype


def inputs_to(dtype):
    """A forward pre-hook casting a module's tensor inputs to ``dtype``."""

    def hook(_module, args):
        return tuple(a.to(dtype) if hasattr(a, "to") else a for a in args)

    return hook


def half_precision_matmuls(model, dtype):
    """Run ``model``'s linear layers in ``dtype`` and everything else in float32 (CPU mode).

    The matrix multiplies are where a CPU with AVX512-BF16/AMX gains; the residual stream,
    layer norms, embeddings and the QA head stay float32, which PyTorch's type promotion does
    by itself once a half-precision layer output meets a float32 residual. Rounding only the
    matmul inputs keeps the best span the float32 one far more often than a model cast whole,
    and holds no float32 copy of the linear weights.
    """
    import torch

    from qa_core.model.pages import ReplacedWeights

    head = getattr(model, "qa_outputs", None)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head]
    pages = ReplacedWeights(model, linears)
    for module in linears:
        weight = module.weight.detach()  # the float32 storage, which .to() replaces
        module.to(dtype)
        pages.release(weight)  # no float32 copy left as mapped file pages beside the bf16 one
        module.register_forward_pre_hook(inputs_to(dtype))
    return model


def matmuls_only(device: str, dtype) -> bool:
    """Whether a reader in ``dtype`` on ``device`` keeps float32 weights and runs only its
    matrix multiplies in half precision (the CPU mode, see :func:`half_precision_matmuls`)."""
    import torch

    return device == "cpu" and dtype in (torch.bfloat16, torch.float16)
