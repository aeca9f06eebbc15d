"""Export the checkpoint to ONNX and optimise it for ONNX Runtime; prints one JSON line.

    python export_onnx.py --exporter dynamo|torchscript [--optimize] [--out DIR]

Writes DIR/model.onnx (+ model.onnx.data) and, with --optimize, DIR/model.opt.onnx made by
onnxruntime.transformers.optimizer (model_type "bert": attention, LayerNorm, GELU,
bias/skip fusions). Timings and the peak RSS of this process are reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import common
from backends import qa_module


class Wrapper:  # placeholder for type checkers
    pass


def export(model, path: Path, exporter: str, opset: int):
    import torch

    wrapped = qa_module(model)
    ids = torch.full((2, 64), 5, dtype=torch.long)
    ids[:, 0] = 0
    mask = torch.ones_like(ids)
    mask[1, 40:] = 0  # a padded row: the traced graph must not specialise on "no padding"
    path.parent.mkdir(parents=True, exist_ok=True)
    names = dict(input_names=["input_ids", "attention_mask"],
                 output_names=["start_logits", "end_logits"])
    if exporter == "dynamo":
        batch, seq = torch.export.Dim("batch", max=64), torch.export.Dim("seq", max=512)
        shapes = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}}
        prog = torch.onnx.export(wrapped, (ids, mask), dynamo=True, dynamic_shapes=shapes,
                                 opset_version=opset, external_data=True, **names)
        prog.save(str(path), external_data=True)
    else:
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                "start_logits": {0: "batch", 1: "seq"}, "end_logits": {0: "batch", 1: "seq"}}
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(wrapped, (ids, mask), str(path), dynamo=False,
                              dynamic_axes=axes, opset_version=opset,
                              do_constant_folding=True, external_data=True, **names)


def optimize(src: Path, dst: Path, opt_level: int = 0):
    """ORT's transformer optimizer (offline fusions); opt_level=0 leaves the remaining graph
    optimisations to the session (ORT_ENABLE_ALL)."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    opts = FusionOptions("bert")
    m = optimizer.optimize_model(str(src), model_type="bert", num_heads=12, hidden_size=768,
                                 optimization_options=opts, opt_level=opt_level,
                                 use_gpu=False, only_onnxruntime=False)
    stats = m.get_fused_operator_statistics()
    m.save_model_to_file(str(dst), use_external_data_format=True,
                         all_tensors_to_one_file=True)
    return {k: v for k, v in stats.items() if v}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", choices=("dynamo", "torchscript"), default="dynamo")
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--optimize", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--attn", default="sdpa", choices=("sdpa", "eager"))
    a = ap.parse_args()
    common.set_threads()
    out = Path(a.out or common.CACHE / f"onnx-{a.exporter}-{a.attn}")
    res = {"exporter": a.exporter, "attn": a.attn, "opset": a.opset, "versions": common.versions()}
    t0 = time.perf_counter()
    model = common.load_model(attn=a.attn)
    res["load_s"] = time.perf_counter() - t0
    res["rss_after_load_mb"] = common.rss()["VmRSS"]
    t = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export(model, out / "model.onnx", a.exporter, a.opset)
    except Exception as e:  # report, don't hide
        res["export_error"] = f"{type(e).__name__}: {str(e)[:2000]}"
        print(json.dumps(res))
        sys.exit(1)
    res["export_s"] = time.perf_counter() - t
    res["peak_after_export_mb"] = common.rss()["VmHWM"]
    del model
    if a.optimize:
        t = time.perf_counter()
        res["fusions"] = optimize(out / "model.onnx", out / "model.opt.onnx")
        res["optimize_s"] = time.perf_counter() - t
    res["peak_mb"] = common.rss()["VmHWM"]
    res["files_mb"] = {p.name: p.stat().st_size // 2**20 for p in sorted(out.iterdir())}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
