"""Dynamic int8 quantization of a reader's model for CPUs (the ``dtype="int8"`` mode).

The encoder's linear layers, where nearly all of the time goes, get int8 weights with one
scale per output channel; their inputs are quantized to int8 at run time, **one scale and zero
point per token** (``PerTokenInt8Linear``), and multiplied by ``torch._int_mm`` (oneDNN's int8
GEMM: AVX512-VNNI, AVX-VNNI or AVX2). Where that is missing, ``torch.ao``'s dynamic ``Linear``
(one activation scale per batch, fbgemm on x86, qnnpack on ARM) takes its place. The
embeddings, layer norms and the 2-logit QA head stay float32. The embedding table is left as
loaded: memory-mapped from the checkpoint, only the rows a question uses are ever read, so
quantizing it (reading all 250,002 rows of XLM-R's) would cost memory rather than save it.

Why per-token scales, why PyTorch's own int8 kernels rather than another runtime, and why
``auto`` never picks int8 (its answers differ from float32's too often): ``docs/precision.md``,
with the figures in ``benchmarks/README.md`` (``bench_reader.py``, ``bench_agreement.py``)."""

from __future__ import annotations

import copy
import functools
import threading
import warnings
from pathlib import Path

import torch
from torch import nn

from qa_core.model.pages import ReplacedWeights

# The quantized engine is process-wide state; packing under a lock keeps two loads from
# switching it under each other.
_ENGINE_LOCK = threading.Lock()


class QuantizationError(RuntimeError):
    """The int8 path cannot handle this model (the reader then falls back to float32)."""


def _engine() -> str:
    """fbgemm (x86, VNNI-aware) where built in, else the default (qnnpack on ARM)."""
    engines = torch.backends.quantized.supported_engines
    for name in ("fbgemm", "qnnpack"):
        if name in engines:
            return name
    raise QuantizationError(f"this PyTorch build has no int8 CPU engine (supported: {engines})")


def cpu_has_vnni() -> bool:
    """True on x86 CPUs with VNNI (AVX512-VNNI or AVX-VNNI), whose int8 dot products add up
    in 32 bits, so activations may use all 8 bits. Plain AVX2 adds pairs in 16 bits, which
    full-range activations can overflow: PyTorch's default keeps them to 7 bits everywhere."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


class PerTokenInt8Linear(nn.Module):
    """A linear layer with int8 weights (one scale per output channel) whose input is
    quantized to int8 **per token** (one scale and zero point per row) at run time, and
    multiplied by ``torch._int_mm`` (oneDNN's s8s8 GEMM: AVX512-VNNI, AVX-VNNI or AVX2).

    Per-token scales are what keep int8's answers close to float32's: one scale for the
    whole batch (``torch.ao``'s dynamic ``Linear``) lets a single outlier token coarsen
    every other token (``benchmarks/bench_agreement.py`` measures how often).
    Holds no float copy of the weight; thread-safe (``forward`` keeps no state).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        w = weight.detach()
        lo, hi = torch.aminmax(w, dim=1)  # no |w| temporary
        scale = torch.maximum(-lo, hi).float().clamp(min=1e-12) / 127.0
        # A few rows at a time: whole-matrix float temporaries, freed at once, leave the
        # allocator holding hundreds of MB after a base-size model is quantized.
        q = torch.empty(w.shape, dtype=torch.int8)
        for i in range(0, w.shape[0], 64):
            rows = w[i : i + 64].float() / scale[i : i + 64, None]
            q[i : i + 64] = rows.round_().clamp_(-127, 127)
        self.in_features, self.out_features = w.shape[1], w.shape[0]
        self.register_buffer("weight_int8", q)  # out × in, like nn.Linear's weight
        self.register_buffer("weight_scale", scale)
        # each output channel's int8 weights summed over the input, times its scale: the
        # zero-point correction
        self.register_buffer("weight_sum_scaled", q.sum(dim=1, dtype=torch.int32) * scale)
        self.register_buffer("bias", None if bias is None else bias.detach().float().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).float()
        # Each row's range [lo, hi] (always holding 0) onto -128..127. In-place steps and a
        # multiply by the reciprocal: on 2 cores these elementwise passes cost as much as
        # the int8 product itself.
        lo, hi = torch.aminmax(x2, dim=1, keepdim=True)
        scale = (hi.clamp_(min=0) - lo.clamp_(max=0)).clamp_(min=1e-12).div_(255.0)
        inverse = scale.reciprocal()
        zero = torch.round(lo * inverse).neg_().sub_(128.0)  # lo → -128
        q = torch.addcmul(zero, x2, inverse).round_().clamp_(-128, 127).to(torch.int8)
        out = torch._int_mm(q, self.weight_int8.t()).float()
        # (q - zero) @ w = q @ w - zero * (sum of w over the input), in float, scaled
        out.mul_(self.weight_scale).addr_(zero.view(-1), self.weight_sum_scaled, alpha=-1.0)
        out.mul_(scale)
        if self.bias is not None:
            out.add_(self.bias)
        return out.view(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, per-token int8"


@functools.cache
def per_token_supported() -> bool:
    """Whether this PyTorch multiplies int8 matrices on the CPU (``torch._int_mm``) and gets
    the right answer; where not, int8 uses ``torch.ao``'s per-batch dynamic ``Linear``."""
    try:
        a = torch.arange(-64, 64, dtype=torch.int8).repeat(24, 1)[:, :64]
        b = torch.ones(64, 8, dtype=torch.int8)
        return bool(torch.equal(torch._int_mm(a, b), a.int() @ b.int()))
    except Exception:  # any failure means "not here"
        return False


@functools.cache
def _full_range_linear() -> type:
    """PyTorch's dynamic int8 ``Linear`` quantizing activations to 8 bits instead of 7, which
    keeps far more of float32's answers at the same speed (``benchmarks/bench_agreement.py``).
    It reads the layer's packed weights (``_packed_params``, not public in ``torch.ao``);
    ``tests`` run this layer on every supported torch, so a change there fails loudly."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    class FullRangeDynamicLinear(DynamicLinear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            packed = self._packed_params._packed_params
            return torch.ops.quantized.linear_dynamic(x, packed, reduce_range=False).to(x.dtype)

    return FullRangeDynamicLinear


def _quantized_linear(module: nn.Linear) -> nn.Module:
    """The int8 twin of ``module``, which is left as it was: per-token where
    ``torch._int_mm`` runs, else ``torch.ao``'s dynamic ``Linear``."""
    if per_token_supported():
        return PerTokenInt8Linear(module.weight, module.bias)
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    if module.weight.dtype == torch.float32 and (
        module.bias is None or module.bias.is_floating_point()
    ):
        layer = copy.copy(module)  # shares the weight: no float32 copy
    else:  # a half-precision model: a float32 copy of one layer at a time, never of the model
        layer = nn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
        with torch.no_grad():
            layer.weight.copy_(module.weight)
            if module.bias is not None:
                layer.bias.copy_(module.bias)
    layer.qconfig = per_channel_dynamic_qconfig
    new = (_full_range_linear() if cpu_has_vnni() else DynamicLinear).from_float(layer)
    if layer.bias is not None and layer.bias.dtype != torch.float32:
        new.set_weight_bias(new.weight(), layer.bias.float())
    return new


class Int8FallbackWarning(UserWarning):
    """A reader asked for int8 runs in float32 because its model could not be quantized."""


def quantize_int8(model: nn.Module, keep: tuple[str, ...] = ("qa_outputs",)) -> nn.Module:
    """Quantize ``model`` in place: its linear layers (except those named in ``keep``) to
    dynamic int8, every other parameter to float32. Returns ``model`` in eval mode.

    Raises ``QuantizationError`` when the model cannot be quantized (no int8 engine in this
    PyTorch, no linear layer, a layer the quantizer rejects). Every new layer is built before
    the first one is swapped in, so on an error ``model`` is unchanged and still usable.
    """
    linears = list(_linears(model, keep))
    pages = ReplacedWeights(model, [child for _, _, child in linears])
    try:
        with _ENGINE_LOCK, warnings.catch_warnings():
            # torch.ao.quantization warns about its future move to torchao on every use.
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
            previous = torch.backends.quantized.engine
            torch.backends.quantized.engine = _engine()
            try:
                swaps = []
                for parent, name, child in linears:
                    swaps.append((parent, name, _quantized_linear(child)))
                    pages.release(child.weight)  # read just now: give them back at once
            finally:
                torch.backends.quantized.engine = previous
    except QuantizationError:
        raise
    except Exception as exc:  # the quantizer raises AssertionError, RuntimeError, ImportError…
        raise QuantizationError(f"{type(exc).__name__}: {exc}") from exc
    if not swaps:
        raise QuantizationError(f"{type(model).__name__} has no linear layer to quantize")
    for parent, name, new in swaps:
        setattr(parent, name, new)
    return model.float().eval()


def _linears(model: nn.Module, keep: tuple[str, ...]):
    """``(parent, attribute, layer)`` of each ``nn.Linear`` below ``model`` not in ``keep``."""
    for parent_name, parent in model.named_modules():
        for name, child in parent.named_children():
            full = f"{parent_name}.{name}" if parent_name else name
            if type(child) is nn.Linear and full not in keep and name not in keep:
                yield parent, name, child



def int8_linear_count(model: nn.Module) -> int:
    """How many int8 linear layers ``model`` holds (0 for a float model)."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    return sum(isinstance(m, (PerTokenInt8Linear, DynamicLinear)) for m in model.modules())


def int8_activation_scales(model: nn.Module) -> str:
    """``"token"`` when ``model``'s int8 layers quantize activations per token, else
    ``"batch"`` (``torch.ao``'s dynamic ``Linear``, where ``torch._int_mm`` is missing)."""
    per_token = any(isinstance(m, PerTokenInt8Linear) for m in model.modules())
    return "token" if per_token else "batch"


def int8_or_float32(model: nn.Module, checkpoint: str = "") -> tuple[nn.Module, torch.dtype]:
    """``(quantize_int8(model), torch.qint8)``, or ``(model in float32, torch.float32)`` with
    one ``Int8FallbackWarning`` when the model cannot be quantized: a checkpoint the int8
    path does not handle still answers, at float32's speed."""
    try:
        return quantize_int8(model), torch.qint8
    except QuantizationError as exc:
        warnings.warn(
            f"int8 is not available for '{checkpoint or type(model).__name__}' ({exc}); "
            "it runs in float32 instead (same answers as dtype='float32', without the int8 "
            "speed-up). Pass dtype='float32' to silence this.",
            Int8FallbackWarning,
            stacklevel=3,
        )
        return model.float().eval(), torch.float32
