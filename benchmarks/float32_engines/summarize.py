"""Print the speed / memory / agreement tables from results/*.jsonl."""
import json
from collections import defaultdict
from pathlib import Path

rows = defaultdict(dict)
for mode in ("speed", "memory", "agree"):
    try:
        for line in Path(f"results/{mode}.jsonl").read_text().splitlines():
            r = json.loads(line)
            rows[r["name"]].setdefault(mode, []).append(r)
    except FileNotFoundError:
        pass
def f(x, d=2):
    return "-" if x is None else f"{x:.{d}f}"
print("name | w1 base/cand ms | w1 x(median) x(min) x(quiet,n) | w5 base/cand ms | w5 x(median) x(min) x(quiet,n) | foreign w1,w5 | load")
for name, d in rows.items():
    for r in d.get("speed", []):
        w1, w5 = r["w1"], r["w5"]
        print(f"{name} | {w1['base_ms']:.0f}/{w1['cand_ms']:.0f} | {f(w1['speedup'])} {f(w1['speedup_min'])} {f(w1['speedup_quiet'])},{w1['quiet_n']} | "
              f"{w5['base_ms']:.0f}/{w5['cand_ms']:.0f} | {f(w5['speedup'])} {f(w5['speedup_min'])} {f(w5['speedup_quiet'])},{w5['quiet_n']} | "
              f"{max(w1['foreign']):.2f},{max(w5['foreign']):.2f} | {r['load_before'][0]}->{r['load_after'][0]} | {r['info'].get('compile_s', '')}")
print()
for name, d in rows.items():
    for r in d.get("memory", []):
        i = r["info"]
        print(f"MEM {name} | first answer {r['first_answer_s']:.1f}s | peak {r['peak_mb']} rss {r['rss_mb']} before {r['rss_before_mb']} child {r.get('export_child_peak_mb')} | "
              + " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in i.items() if k != 'name'))
print()
for name, d in rows.items():
    for r in d.get("agree", []):
        a = r["agreement"]
        print(f"AGREE {name} | same {a['same_argmax']:.3f} of {a['windows']} | max|dlogit| {a['max_abs_logit']:.2e} | max|dprob| {a['max_prob']:.2e} | ref gap med {a.get('ref_top2_gap_median', 0):.3f} min {a.get('ref_top2_gap_min', 0):.1e} std {a.get('ref_logit_std_median', 0):.3f}")
