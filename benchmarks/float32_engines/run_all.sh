#!/bin/bash
# Usage: bash run_all.sh MODE REPEATS AGREE NAME...   (MODE speed|memory); JSON lines to results/
cd "$(dirname "$0")"; mkdir -p results  # results/ is ignored by git
mode=$1; rep=$2; agree=$3; shift 3
for n in "$@"; do
  echo "== $n $mode $(cat /proc/loadavg)" >&2
  "${PYTHON:-python}" bench_one.py "$n" "$mode" --repeats "$rep" --agree "$agree" 2>results/$n.$mode.err | tee -a results/$mode.jsonl
done
