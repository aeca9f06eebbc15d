"""Candidates for the forward pass: make(name) -> (fn, info).

fn(inputs) takes {"input_ids", "attention_mask"} int64 numpy arrays (one question's windows,
right-padded to the longest) and returns (start_logits, end_logits) float32 numpy arrays of the
same (batch, seq) shape. info holds setup timings. Names:

  eager                 torch float32, sdpa attention (viqa's float32 path)
  eager-bf16mm          viqa's CPU bf16 mode: Linear layers in bf16, rest float32, head float32
  ort-raw               dynamo export (sdpa), ORT_ENABLE_ALL only
  ort-osfuse            dynamo export (sdpa) + onnxscript optimize_for_ort fusions, ORT_ENABLE_ALL
  ort-tsfuse            TorchScript export (eager attention) + onnxruntime.transformers.optimizer
                        (model_type bert), ORT_ENABLE_ALL
  ov-f32 / ov-bf16      OpenVINO from the torch model (ov.convert_model), precision hint f32 /
                        default (bf16 on AVX512-BF16/AMX CPUs)
  ov-onnx-f32           OpenVINO from the dynamo ONNX file, f32
  inductor-b64          torch.compile(dynamic=False), freezing, seq padded to a multiple of 64
  inductor-b32          same, multiple of 32
  inductor-dyn          torch.compile(dynamic=True), freezing
  jit                   torch.jit.trace + torch.jit.freeze (+ optimize_for_inference)

Candidates that convert from torch export/convert on the fly unless the file is in the cache
(cache.py keys); ``info`` says which.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import common
import numpy as np

HERE = Path(__file__).resolve().parent


def qa_module(model):
    """``model`` with (start, end) logits as a tuple, from input_ids and attention_mask only."""
    import torch

    class QA(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            out = self.m(input_ids=input_ids, attention_mask=attention_mask)
            return out.start_logits, out.end_logits

    return QA(model).eval()


def _eager(info, bf16=False):
    import torch

    t = time.perf_counter()
    model = common.load_model()
    if bf16:
        head = model.qa_outputs

        def cast_in(_m, args):
            return tuple(a.to(torch.bfloat16) for a in args)

        for m in model.modules():
            if isinstance(m, torch.nn.Linear) and m is not head:
                m.to(torch.bfloat16)
                m.register_forward_pre_hook(cast_in)
    info["load_s"] = time.perf_counter() - t
    return common.torch_forward(model)


def _onnx_file(kind: str, info) -> Path:
    """Path of an exported (and fused) ONNX file, made in a child process when missing so
    that the export's memory does not count in this process's peak (reported in info)."""
    d = common.CACHE
    if kind == "raw":
        path = d / "onnx-dynamo-sdpa" / "model.onnx"
        info = info if info is not None else {}
        cmd = [sys.executable, str(HERE / "export_onnx.py"), "--exporter", "dynamo"]
    elif kind == "osfuse":
        path = d / "onnx-dynamo-sdpa" / "model.osfused.onnx"
        cmd = None
    else:
        path = d / "onnx-torchscript-eager" / "model.opt.onnx"
        cmd = [sys.executable, str(HERE / "export_onnx.py"), "--exporter", "torchscript",
               "--attn", "eager", "--optimize"]
    info["cached"] = path.exists()
    t = time.perf_counter()
    if not path.exists():
        if kind == "osfuse":
            _onnx_file("raw", info.setdefault("raw", {}))
            _child([sys.executable, str(HERE / "ort_fuse_onnxscript.py"),
                    str(d / "onnx-dynamo-sdpa" / "model.onnx"), str(path)], info, "fuse")
        else:
            _child(cmd, info, "export")
    info["export_s"] = time.perf_counter() - t
    return path


def _child(cmd, info, key):
    """Run an export step in a child process; its JSON report goes into info[key]."""
    import json

    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if lines:
        rep = json.loads(lines[-1])
        info[key] = {k: rep[k] for k in rep if k in ("export_s", "optimize_s", "load_s", "s",
                                                    "peak_mb", "peak_after_export_mb")}


def _ort(kind, info, spinning=False):
    import onnxruntime as ort

    path = _onnx_file(kind, info)
    so = ort.SessionOptions()
    so.intra_op_num_threads = common.THREADS
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Worker threads spin after a run by default; off, so that they do not steal the cores
    # from the next forward of another engine in the interleaved timings (and from the app).
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    t = time.perf_counter()
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    info["load_s"] = time.perf_counter() - t

    def fn(inp):
        s, e = sess.run(["start_logits", "end_logits"],
                        {"input_ids": inp["input_ids"], "attention_mask": inp["attention_mask"]})
        return s, e

    return fn


def _ov(info, precision, source="torch"):
    import openvino as ov

    core = ov.Core()
    xml = common.CACHE / f"ov-{source}" / "model.xml"
    info["cached"] = xml.exists()
    t = time.perf_counter()
    if not xml.exists():
        if source == "torch":
            import torch

            model = qa_module(common.load_model())
            ids = torch.full((2, 64), 5, dtype=torch.long)
            mask = torch.ones_like(ids)
            mask[1, 40:] = 0
            with torch.no_grad():
                ovm = ov.convert_model(model, example_input=(ids, mask),
                                       input=[("input_ids", [-1, -1], ov.Type.i64),
                                              ("attention_mask", [-1, -1], ov.Type.i64)])
            del model
        else:
            ovm = ov.convert_model(str(_onnx_file("raw", info.setdefault("onnx", {}))))
        for out, name in zip(ovm.outputs, ("start_logits", "end_logits")):
            out.get_tensor().set_names({name})  # torch-converted outputs have no names
        xml.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(ovm, str(xml), compress_to_fp16=False)  # weights stay f32 on disk
        del ovm
    info["convert_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cfg = {"INFERENCE_NUM_THREADS": common.THREADS, "PERFORMANCE_HINT": "LATENCY",
           "NUM_STREAMS": 1}
    if precision:
        cfg["INFERENCE_PRECISION_HINT"] = precision
    compiled = core.compile_model(str(xml), "CPU", cfg)
    info["load_s"] = time.perf_counter() - t
    info["ov_precision"] = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
    info["ov_threads"] = compiled.get_property("INFERENCE_NUM_THREADS")
    req = compiled.create_infer_request()
    start_out, end_out = compiled.output("start_logits"), compiled.output("end_logits")

    def fn(inp):
        res = req.infer({"input_ids": inp["input_ids"], "attention_mask": inp["attention_mask"]})
        return (np.array(res[start_out], dtype=np.float32),
                np.array(res[end_out], dtype=np.float32))

    return fn


def _inductor(info, bucket=None, dynamic=False):
    import torch
    import torch._inductor.config as icfg

    icfg.freezing = True
    t = time.perf_counter()
    model = qa_module(common.load_model())
    info["load_s"] = time.perf_counter() - t
    compiled = torch.compile(model, dynamic=dynamic, fullgraph=False)
    info["compile_s"] = {}  # per new (batch, length): first-call seconds

    def fn(inp):
        ids, mask = inp["input_ids"], inp["attention_mask"]
        b, n = ids.shape
        if bucket:
            m = -(-n // bucket) * bucket
            m = min(m, common.MAX_LEN) if n <= common.MAX_LEN else m
            if m != n:  # right-pad with <pad>=1 and mask 0: masked positions change nothing
                ids = np.pad(ids, ((0, 0), (0, m - n)), constant_values=1)
                mask = np.pad(mask, ((0, 0), (0, m - n)), constant_values=0)
        key = f"{b}x{ids.shape[1]}"
        t = time.perf_counter()
        with torch.inference_mode():
            s, e = compiled(torch.from_numpy(np.ascontiguousarray(ids)),
                            torch.from_numpy(np.ascontiguousarray(mask)))
        if key not in info["compile_s"]:  # first call of a shape: compile (or a cache hit)
            info["compile_s"][key] = round(time.perf_counter() - t, 2)
        return s[:, :n].float().numpy(), e[:, :n].float().numpy()

    return fn


def _jit(info):
    import torch

    t = time.perf_counter()
    model = qa_module(common.load_model())
    info["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ids = torch.full((2, 64), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 40:] = 0
    with torch.no_grad():
        traced = torch.jit.trace(model, (ids, mask), check_trace=False, strict=False)
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    info["trace_s"] = time.perf_counter() - t

    def fn(inp):
        with torch.no_grad():  # jit-frozen modules and inference_mode: no_grad is the safe one
            s, e = frozen(torch.from_numpy(np.ascontiguousarray(inp["input_ids"])),
                          torch.from_numpy(np.ascontiguousarray(inp["attention_mask"])))
        return s.numpy(), e.numpy()

    return fn


def make(name: str):
    common.set_threads()
    info = {"name": name}
    t = time.perf_counter()
    fn = {
        "eager": lambda: _eager(info),
        "eager-bf16mm": lambda: _eager(info, bf16=True),
        "ort-raw": lambda: _ort("raw", info),
        "ort-raw-spin": lambda: _ort("raw", info, spinning=True),
        "ort-osfuse": lambda: _ort("osfuse", info),
        "ort-osfuse-spin": lambda: _ort("osfuse", info, spinning=True),
        "ort-tsfuse": lambda: _ort("tsfuse", info),
        "ov-f32": lambda: _ov(info, "f32"),
        "ov-bf16": lambda: _ov(info, None),
        "ov-onnx-f32": lambda: _ov(info, "f32", source="onnx"),
        "inductor-b64": lambda: _inductor(info, bucket=64),
        "inductor-b32": lambda: _inductor(info, bucket=32),
        "inductor-dyn": lambda: _inductor(info, dynamic=True),
        "jit": lambda: _jit(info),
    }[name]()
    info["setup_s"] = time.perf_counter() - t
    return fn, info
