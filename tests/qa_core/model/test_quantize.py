"""The int8 CPU mode (qa_core.model.quantize) on tiny offline checkpoints: exact offsets, heatmaps,
int8 weights only, thread safety, and the float32 fallback with one warning."""

from __future__ import annotations

import threading
import warnings

import pytest
import torch

from qa_core.model import precision
from qa_core.model.pages import release_mapped_pages
from qa_core.model.precision import cpu_has_native_bf16, dtype_name, resolve_dtype
from qa_core.model.quantize import (
    Int8FallbackWarning,
    PerTokenInt8Linear,
    QuantizationError,
    int8_activation_scales,
    int8_linear_count,
    quantize_int8,
)
from qa_core.reader import build_reader

CONTEXT = (
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam. Thành phố nằm bên sông Hồng "
    "và có lịch sử hơn một nghìn năm, từ khi vua Lý Thái Tổ dời đô về Thăng Long năm 1010. "
)
LONG_CONTEXT = CONTEXT * 12  # several windows
QUESTION = "Vua Lý Thái Tổ dời đô về Thăng Long năm nào?"


@pytest.fixture
def readers(tiny_checkpoint):
    """A float32 and an int8 reader of the same checkpoint."""
    return (
        build_reader(str(tiny_checkpoint), device="cpu", dtype="float32"),
        build_reader(str(tiny_checkpoint), device="cpu", dtype="int8"),
    )


def _linears(model) -> list[str]:
    return [n for n, m in model.named_modules() if type(m) is torch.nn.Linear]


def test_int8_answers_with_exact_offsets_and_heatmap(readers):
    fp32, int8 = readers
    assert int8.dtype is torch.qint8 and "int8" in int8.precision
    for context in (CONTEXT, LONG_CONTEXT):
        a = fp32.answer(QUESTION, context, top_n=5, include_tokens=True)
        b = int8.answer(QUESTION, context, top_n=5, include_tokens=True)
        assert b.n_windows == a.n_windows
        assert len(b.answers) == 5
        for ans in b.answers:
            assert context[ans.start : ans.end] == ans.text and ans.text == ans.text.strip()
        assert [t.start for t in b.tokens] == [t.start for t in a.tokens]
        for tok in b.tokens:
            assert context[tok.start : tok.end] == tok.text



@pytest.mark.slow
def test_int8_keeps_float32s_answers_on_the_smoke_model(smoke_model):
    """Random weights say nothing about agreement (every token about equally likely); the smoke
    model has learnt the sample. Per-token int8 gave float32's best span on all 54 questions in
    the runs that set this bound; one scale per batch, or a wrong scale, loses many."""
    from agreement import agreement

    same, gap = agreement(smoke_model, "int8")
    assert same >= 0.95 and gap < 0.02, (same, gap)


def test_int8_holds_int8_weights_and_no_float32_copy(readers):
    fp32, int8 = readers
    float_linears = _linears(fp32.model)
    # Only the 2-logit head stays a float32 Linear; every other one became int8.
    assert _linears(int8.model) == ["qa_outputs"]
    assert int8_linear_count(int8.model) == len(float_linears) - 1
    held = [m.weight_int8 for m in int8.model.modules() if isinstance(m, PerTokenInt8Linear)]
    assert len(held) == len(float_linears) - 1 and {w.dtype for w in held} == {torch.int8}
    # No float32 copy of them is left beside: the float parameters are exactly the
    # non-linear ones (embeddings, norms) and the head.
    quantized = [m for n, m in fp32.model.named_modules()
                 if type(m) is torch.nn.Linear and n != "qa_outputs"]
    linear_params = sum(p.numel() for m in quantized for p in m.parameters())
    total = sum(p.numel() for p in fp32.model.parameters())
    assert sum(p.numel() for p in int8.model.parameters()) == total - linear_params
    assert {p.dtype for p in int8.model.parameters()} == {torch.float32}


def test_int8_threads_answer_like_one_thread(readers):
    _, int8 = readers
    jobs = [(QUESTION, CONTEXT), ("Thành phố nằm bên sông nào?", LONG_CONTEXT)] * 4
    expected = [int8.answer(q, c, include_tokens=True).to_dict(include_tokens=True) for q, c in jobs]
    got: list = [None] * len(jobs)

    def work(i: int) -> None:
        q, c = jobs[i]
        got[i] = int8.answer(q, c, include_tokens=True).to_dict(include_tokens=True)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


def test_quantization_failure_falls_back_to_float32_with_one_warning(tiny_checkpoint, monkeypatch):
    def broken(_module):
        raise RuntimeError("no kernel for this layer")

    monkeypatch.setattr("qa_core.model.quantize._quantized_linear", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader = build_reader(str(tiny_checkpoint), device="cpu", dtype="int8")
    ours = [w for w in caught if issubclass(w.category, Int8FallbackWarning)]
    assert len(ours) == 1 and "float32" in str(ours[0].message)
    assert "no kernel for this layer" in str(ours[0].message)
    assert reader.dtype is torch.float32 and reader.precision == "float32"
    fp32 = build_reader(str(tiny_checkpoint), device="cpu", dtype="float32")
    a, b = fp32.answer(QUESTION, CONTEXT), reader.answer(QUESTION, CONTEXT)
    assert b.to_dict(include_tokens=True) == a.to_dict(include_tokens=True)


def test_quantize_int8_leaves_the_model_unchanged_when_it_fails(monkeypatch):
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    calls = []

    def fail_second(module):
        calls.append(module)
        if len(calls) == 2:
            raise AssertionError("unsupported layer")
        return torch.nn.Identity()

    monkeypatch.setattr("qa_core.model.quantize._quantized_linear", fail_second)
    with pytest.raises(QuantizationError, match="unsupported layer"):
        quantize_int8(model, keep=())
    assert [type(m) for m in model] == [torch.nn.Linear, torch.nn.ReLU, torch.nn.Linear]


def test_quantize_int8_refuses_a_model_without_linear_layers():
    with pytest.raises(QuantizationError, match="no linear layer"):
        quantize_int8(torch.nn.Sequential(torch.nn.ReLU()))


def test_release_mapped_pages_only_touchesfile_mappings(tmp_path):
    from qa_core.model.pages import file_mappings

    values = torch.arange(8192, dtype=torch.float32)  # 32 KiB: whole pages inside
    in_memory = values.clone()
    assert not release_mapped_pages(in_memory, file_mappings())
    assert torch.equal(in_memory, values)
    mapped = _mapped_tensor(tmp_path / "weights.bin")
    assert torch.equal(mapped, values)
    assert release_mapped_pages(mapped, file_mappings())
    assert torch.equal(mapped, values)  # read back from the file


@pytest.mark.parametrize("text", ["int8", "INT8", " qint8 "])
def test_int8_names(text):
    assert dtype_name(text) == "int8"
    assert resolve_dtype(text, "cpu") is torch.qint8


def test_int8_is_refused_off_the_cpu():
    with pytest.raises(ValueError, match="CPU only"):
        resolve_dtype("int8", "cuda")


@pytest.mark.parametrize(("native", "expected"), [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_on_a_cpu_follows_the_measured_choice(monkeypatch, native, expected):
    """bfloat16 matmuls where the CPU computes them natively; float32 elsewhere (int8 changes
    too many answers to be chosen for anyone)."""
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    assert resolve_dtype("auto", "cpu") is expected


def test_no_native_bf16_switch(monkeypatch):
    monkeypatch.setenv("VIQA_NO_NATIVE_BF16", "1")
    assert cpu_has_native_bf16() is False


def test_cli_ask_accepts_int8(tiny_checkpoints, capsys):
    import json

    from qa_core.__main__ import main

    code = main(["ask", "--checkpoint", str(tiny_checkpoints["wordpiece"]), "--question",
                 QUESTION, "--context", CONTEXT, "--dtype", "int8"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    best = out["answers"][0]
    assert CONTEXT[best["start"] : best["end"]] == best["text"]


def _mapped_tensor(path, n: int = 8192) -> torch.Tensor:
    """A float32 tensor memory-mapped from a file, as transformers loads safetensors."""
    path.write_bytes(torch.arange(n, dtype=torch.float32).numpy().tobytes())
    storage = torch.UntypedStorage.from_file(str(path), shared=False, nbytes=n * 4)
    return torch.tensor([], dtype=torch.float32).set_(storage)


def test_replaced_weights_keep_the_pages_of_a_tied_weight(tmp_path):
    from qa_core.model.pages import ReplacedWeights

    emb, lin, other = torch.nn.Embedding(128, 64), torch.nn.Linear(64, 128), torch.nn.Linear(64, 128)
    lin.weight = emb.weight = torch.nn.Parameter(_mapped_tensor(tmp_path / "tied.bin").view(128, 64))
    other.weight = torch.nn.Parameter(_mapped_tensor(tmp_path / "own.bin").view(128, 64))
    model = torch.nn.ModuleDict({"emb": emb, "lin": lin, "other": other})
    pages = ReplacedWeights(model, [lin, other])
    assert not pages.release(lin.weight)  # the embedding still uses it
    assert pages.release(other.weight)


def test_per_token_linear_matches_float32_for_any_input_shape():
    torch.manual_seed(0)
    for bias in (True, False):
        layer = torch.nn.Linear(64, 48, bias=bias)
        int8 = PerTokenInt8Linear(layer.weight, layer.bias)
        for shape in ((1, 64), (3, 5, 64), (17, 64)):
            x = torch.randn(*shape) * 3 + 0.5  # not centred: the zero point matters
            y = int8(x)
            assert y.shape == (*shape[:-1], 48) and y.dtype == torch.float32
            assert torch.allclose(y, layer(x), atol=0.06)


def test_per_token_scales_keep_one_outlier_token_from_coarsening_the_others():
    """The point of per-token scales: a token with huge activations (a real model has some)
    costs the other tokens nothing, where one scale per batch would coarsen them all."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(64, 32)
    int8 = PerTokenInt8Linear(layer.weight, layer.bias)
    x = torch.randn(8, 64)
    alone = (int8(x) - layer(x)).abs().max()
    with_outlier = torch.cat([x, torch.full((1, 64), 500.0)])
    assert torch.equal(int8(with_outlier)[:8], int8(x))
    assert (int8(with_outlier)[:8] - layer(x)).abs().max() == alone


def test_without_int_mm_int8_uses_torch_ao_dynamic_linear(monkeypatch):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    monkeypatch.setattr("qa_core.model.quantize.per_token_supported", lambda: False)
    model = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Linear(16, 2))
    quantize_int8(model, keep=())
    assert all(isinstance(m, DynamicLinear) for m in model) and int8_linear_count(model) == 2
    assert int8_activation_scales(model) == "batch"


@pytest.mark.parametrize("vnni", [True, False])
def test_activations_use_8_bits_only_where_vnni_adds_in_32_bits(monkeypatch, vnni):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    monkeypatch.setattr("qa_core.model.quantize.cpu_has_vnni", lambda: vnni)
    monkeypatch.setattr("qa_core.model.quantize.per_token_supported", lambda: False)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 2))
    x = torch.randn(8, 64)
    expected = model(x).detach()
    quantize_int8(model, keep=())
    assert (type(model[0]).__name__ == "FullRangeDynamicLinear") is vnni
    assert isinstance(model[0], DynamicLinear)
    assert torch.allclose(model(x), expected, atol=0.05)


def test_the_app_accepts_viqa_dtype_int8(monkeypatch):
    from ui.settings import Settings

    monkeypatch.setenv("VIQA_DTYPE", "INT8")
    assert Settings.from_env().dtype == "int8"
