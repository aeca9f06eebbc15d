"""Training throughput: viqa's pipeline against the notebook's configuration, one run.

Same model (a small encoder, hidden 256 x 4 layers, random weights), same questions (XQuAD-vi
from ../shared when present, else the bundled sample repeated), same optimizer steps of 16
windows each.

* notebook: every window padded to 512 tokens (stride 128), fp32, batch 4 x accumulation 4,
  random order, eager attention, unfused AdamW: what the original notebook ran.
* viqa: ``python -m train.finetune`` defaults (384-token windows, stride 128, padded per batch
  to its longest window, length-grouped batches, batch 16, fused AdamW, SDPA, bfloat16 autocast
  on CPUs that compute it natively (AVX512-BF16/AMX), else fp32).
* viqa, fp32: the same without bf16 (shown where the default is bf16).

Each configuration runs ``--steps`` optimizer steps, ``--rounds`` times, interleaved (the
machine may be shared); the first step of a round is warm-up and not timed; the best round
counts. "questions/s" divides windows/s by each windowing's windows per question, so it is
the speed at which the training set is covered, the number that matters.

    python benchmarks/bench_training.py [--steps 8] [--rounds 3] [--hidden 256 --layers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
XQUAD = ROOT.parent / "shared" / "data" / "xquad.vi.json"

from transformers import TrainerCallback  # noqa: E402 (after the path setup above)

from qa_core.model.tiny import SAMPLE_PATH  # noqa: E402


class CountingCollator:
    """Wraps a collator and counts real and padded tokens of the batches it builds."""

    def __init__(self, collator):
        self.collator = collator
        self.real = 0
        self.total = 0

    def __call__(self, features):
        batch = self.collator(features)
        self.real += int(batch["attention_mask"].sum())
        self.total += batch["attention_mask"].numel()
        return batch


class StepClock(TrainerCallback):
    """Trainer callback: wall time at the end of every optimizer step."""

    def __init__(self):
        self.times: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter())


def build_model_dir(out: Path, data_path: Path, hidden: int, layers: int) -> Path:
    """Tokenizer trained on the benchmark text + a random QA encoder of the given size.

    A WordPiece vocabulary over the Vietnamese text gives about 1.1 tokens per syllable, close
    to XLM-R's real tokenizer (a small SentencePiece vocabulary would double the lengths and
    misstate how much padding costs). BERT and XLM-R encoders of one size compute the same.
    """
    from qa_core.model.tiny import TinyModelConfig, build_tiny_checkpoint, sample_texts

    config = TinyModelConfig(
        family="wordpiece", vocab_size=30000, hidden_size=hidden, num_layers=layers,
        num_heads=max(1, hidden // 64), intermediate_size=4 * hidden, max_position_embeddings=512,
    )
    return build_tiny_checkpoint(out, config, sample_texts(data_path))


def features(questions, tokenizer, max_length: int, stride: int, cache: Path):
    from qa_core.windows import WindowConfig
    from train.data import tokenize

    return tokenize(
        "train", questions, tokenizer, WindowConfig(max_length, stride), cache_dir=str(cache)
    )


def run(
    name: str, model_dir: Path, train_features, collator, args_kwargs: dict, attn: str, steps: int
) -> dict:
    """Train ``steps`` optimizer steps; windows/s over steps 2..N and padding efficiency."""
    import torch
    from transformers import AutoModelForQuestionAnswering, Trainer, TrainingArguments

    from train.args import QATrainingArguments

    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir, attn_implementation=attn)
    clock, counting = StepClock(), CountingCollator(collator)
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(
            output_dir=tmp,
            max_steps=steps,
            eval_strategy="no",
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            use_cpu=True,
            seed=0,
            logging_steps=1000,
            dataloader_num_workers=0,
        )
        if name == "notebook":
            # transformers' TrainingArguments as the notebook used them.
            args = TrainingArguments(**common, **args_kwargs)
        else:
            args = QATrainingArguments(**common, **args_kwargs)
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train_features,
            data_collator=counting,
            callbacks=[clock],
        )
        trainer.train()
    windows_per_step = args.per_device_train_batch_size * args.gradient_accumulation_steps
    elapsed = clock.times[-1] - clock.times[0]
    return {
        "precision": "bf16 autocast" if args.bf16 else "fp32",
        "windows_per_s": windows_per_step * (len(clock.times) - 1) / elapsed,
        "padding_efficiency": counting.real / counting.total,
        "real_tokens_per_window": counting.real / (windows_per_step * len(clock.times)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repeats")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    import transformers
    from transformers import AutoTokenizer, DataCollatorWithPadding

    from qa_core.model.precision import cpu_has_native_bf16
    from train.data import load_questions

    transformers.utils.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_path = XQUAD if XQUAD.is_file() else SAMPLE_PATH
    work = Path(tempfile.mkdtemp(prefix="bench-training-"))
    model_dir = build_model_dir(work / "model", data_path, args.hidden, args.layers)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    questions = load_questions([str(data_path)], "train")
    if data_path == SAMPLE_PATH:  # 54 questions: repeat them so no run wraps around an epoch
        from datasets import concatenate_datasets

        questions = concatenate_datasets([questions] * 10)

    notebook_feats = features(questions, tokenizer, 512, 128, work)
    viqa_feats = features(questions, tokenizer, 384, 128, work)
    configs = {
        "notebook": dict(
            feats=notebook_feats,
            attn="eager",
            collator=DataCollatorWithPadding(tokenizer, padding="max_length", max_length=512),
            kwargs=dict(
                per_device_train_batch_size=4,
                gradient_accumulation_steps=4,
                optim="adamw_torch",
                train_sampling_strategy="random",
                bf16=False,
            ),
        ),
        # Everything from QATrainingArguments' defaults (bf16 on CPUs that compute it natively).
        "viqa": dict(
            feats=viqa_feats, attn="sdpa", collator=DataCollatorWithPadding(tokenizer), kwargs={}
        ),
    }
    if cpu_has_native_bf16():  # show what bf16 adds on top of the rest
        configs["viqa, fp32"] = dict(configs["viqa"], kwargs=dict(bf16=False))

    print(
        f"data: {data_path.name}, {len(questions)} questions; model: hidden {args.hidden}, "
        f"{args.layers} layers, vocab {len(tokenizer)}; torch threads "
        f"{torch.get_num_threads()}; {args.steps} steps x {args.rounds} rounds",
        flush=True,
    )
    best: dict[str, dict] = {}
    for round_ in range(args.rounds):
        for name, c in configs.items():
            r = run(name, model_dir, c["feats"], c["collator"], c["kwargs"], c["attn"], args.steps)
            print(
                f"  round {round_ + 1} {name:<11} {r['windows_per_s']:6.2f} windows/s", flush=True
            )
            if name not in best or r["windows_per_s"] > best[name]["windows_per_s"]:
                best[name] = r

    rows = []
    for name, r in best.items():
        feats = configs[name]["feats"]
        per_question = len(feats) / len(questions)
        r["windows_per_question"] = per_question
        r["questions_per_s"] = r["windows_per_s"] / per_question
        r["real_tokens_per_s"] = r["windows_per_s"] * r["real_tokens_per_window"]
        rows.append((name, r))
    base = best["notebook"]
    print(
        "\n| configuration | precision | windows/s | questions/s | real tokens/s "
        "| padding efficiency | speed-up (questions/s) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {r['precision']} | {r['windows_per_s']:.2f} | "
            f"{r['questions_per_s']:.2f} | "
            f"{r['real_tokens_per_s']:.0f} | {r['padding_efficiency']:.0%} | "
            f"{r['questions_per_s'] / base['questions_per_s']:.2f}x |"
        )
    if args.json:
        args.json.write_text(json.dumps(best, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
