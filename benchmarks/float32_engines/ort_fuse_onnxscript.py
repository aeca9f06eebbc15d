"""Fuse a dynamo-exported model for ORT with onnxscript's rewriter (optimize_for_ort).

    python ort_fuse_onnxscript.py SRC.onnx DST.onnx
"""
import json
import sys
import time

import common
import onnx_ir as ir
from onnxscript.rewriter.ort_fusions import optimize_for_ort

t = time.perf_counter()
model = ir.load(sys.argv[1])
model, counts = optimize_for_ort(model)
ir.save(model, sys.argv[2], external_data=sys.argv[2].rsplit("/", 1)[-1] + ".data")
ops = {}
for n in model.graph:
    ops[n.op_type] = ops.get(n.op_type, 0) + 1
print(json.dumps({"fusions": {k: v for k, v in counts.items() if v}, "ops": ops,
                  "s": time.perf_counter() - t, "peak_mb": common.rss()["VmHWM"]}))
