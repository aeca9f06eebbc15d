#!/bin/bash
# Time to first answer + peak RSS, each candidate alone in a fresh process.
#   cold: empty export cache (FASTCPU_CACHE) and empty Inductor cache; warm: the shared ones.
cd "$(dirname "$0")"; mkdir -p results  # results/ is ignored by git
run() {  # label env... -- name
  local label=$1; shift
  echo "== $label $(cat /proc/loadavg)" >&2
  local name=${@: -1}; env "${@:1:$#-1}" "${PYTHON:-python}" bench_one.py "$name" memory 2>>results/memory.err \
    | "${PYTHON:-python}" -c "import json,sys; r=json.loads(sys.stdin.read()); r['name']='$label'; print(json.dumps(r))" >> results/memory.jsonl
}
for n in eager eager-bf16mm; do run $n FASTCPU_CACHE=$PWD/../../.bench/float32-engines/cache $n; done
for n in ort-osfuse ort-tsfuse ort-raw ov-f32 ov-onnx-f32 inductor-b64 inductor-dyn jit; do
  d=$(mktemp -d /tmp/fastcpu-cold.XXXX)
  run "$n(cold)" FASTCPU_CACHE=$d TORCHINDUCTOR_CACHE_DIR=$d/inductor $n
  run "$n(cached)" FASTCPU_CACHE=$d TORCHINDUCTOR_CACHE_DIR=$d/inductor $n
  rm -rf "$d"
done
run "ov-bf16(cached)" FASTCPU_CACHE=$PWD/../../.bench/float32-engines/cache ov-bf16
