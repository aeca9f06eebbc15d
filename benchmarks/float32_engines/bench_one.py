"""One candidate in a fresh process.

    python bench_one.py NAME memory    # time to first answer + peak RSS of this candidate alone
    python bench_one.py NAME speed [--repeats N] [--agree N]
        # eager float32 and NAME interleaved on the 1- and 5-window inputs (medians) and
        # agreement with eager on real XQuAD-vi windows; prints one JSON line.
"""
import argparse
import json
import time
import warnings

import common

warnings.filterwarnings("ignore")

ap = argparse.ArgumentParser()
ap.add_argument("name")
ap.add_argument("mode", choices=("memory", "speed", "agree"))
ap.add_argument("--repeats", type=int, default=15)
ap.add_argument("--agree", type=int, default=60)
ap.add_argument("--baseline", default="eager")
a = ap.parse_args()
common.set_threads()
tok = common.load_tokenizer()
inputs = common.bench_inputs(tok)
import backends  # noqa: E402 - imports the engines, after the inputs are built

res = {"name": a.name, "mode": a.mode, "load_before": common.loadavg()}
if a.mode == "memory":
    before = common.rss()["VmRSS"]
    t = time.perf_counter()
    fn, info = backends.make(a.name)
    fn(inputs[1])
    res["first_answer_s"] = time.perf_counter() - t
    fn(inputs[5])
    r = common.rss()
    res.update(info=info, rss_before_mb=before, peak_mb=r["VmHWM"], rss_mb=r["VmRSS"],
               export_child_peak_mb=common.children_peak_mb())
elif a.mode == "agree":
    ref, _ = backends.make(a.baseline)
    fn, info = backends.make(a.name)
    cases = common.agreement_inputs(tok, n_questions=a.agree)
    t = time.perf_counter()
    res["agreement"] = common.agreement(ref, fn, cases)
    res["agreement"]["s"] = time.perf_counter() - t
    res["info"] = info
else:
    ref, rinfo = backends.make(a.baseline)
    fn, info = backends.make(a.name)
    for n in (1, 5):  # warm-up (compiles the bench shapes)
        for _ in range(2):
            ref(inputs[n])
            fn(inputs[n])
    res["info"] = info
    for n in (1, 5):
        st, raw = common.interleaved({"base": ref, "cand": fn}, inputs[n], a.repeats)
        b, c = st["base"], st["cand"]
        q = (b["quiet_median_s"] / c["quiet_median_s"]) if b["quiet_n"] else None
        res[f"w{n}"] = {"shape": list(inputs[n]["input_ids"].shape),
                        "base_ms": b["median_s"] * 1e3, "cand_ms": c["median_s"] * 1e3,
                        "speedup": b["median_s"] / c["median_s"],
                        "speedup_min": b["min_s"] / c["min_s"],
                        "speedup_quiet": q, "quiet_n": b["quiet_n"],
                        "base_min_ms": b["min_s"] * 1e3, "cand_min_ms": c["min_s"] * 1e3,
                        "foreign": [b["foreign_median"], c["foreign_median"]],
                        "cpu_ratio": b["cpu_median_s"] / c["cpu_median_s"]}
    res["info_after"] = info
res["load_after"] = common.loadavg()
print(json.dumps(res))
