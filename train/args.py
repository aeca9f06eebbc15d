"""Command-line and config-file arguments of ``python -m train.finetune``.

Five dataclasses, parsed together by ``HfArgumentParser``: the model, the data, the QA options,
the run (config file, resume) and ``QATrainingArguments`` (transformers' ``TrainingArguments``
with defaults for extractive QA). Every field has help text, so ``--help`` documents them all.

Values come, lowest priority first, from the field defaults, a config file (``--config FILE``
or ``--preset NAME`` for ``train/configs/NAME.yaml``; JSON or YAML, keys are field names) and
the command line.
"""

import dataclasses
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser, TrainingArguments
from transformers.trainer_utils import IntervalStrategy

from qa_core.checkpoints import DEFAULT_MODELS_DIR
from qa_core.model.precision import cpu_has_native_bf16
from qa_core.model.tiny import FAMILIES
from qa_core.windows import WindowConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
TINY_PREFIX = "tiny:"


class TrainConfigError(ValueError):
    """A setting, file or directory that cannot work as given; the message says the fix."""


@dataclass
class ModelArguments:
    """Which checkpoint to fine-tune and how to load it."""

    _argument_group_name = "model"

    model_name_or_path: str = field(
        default="xlm-roberta-base",
        metadata={
            "help": "Checkpoint to start from: a Hub id, a local directory, or 'tiny:unigram' / "
            "'tiny:wordpiece' for a tiny random model built offline (smoke tests). The default "
            "is multilingual; an English-only model such as roberta-base is a poor start for "
            "Vietnamese."
        },
    )
    attn_implementation: str = field(
        default="sdpa",
        metadata={
            "help": "Attention kernel: 'sdpa' (PyTorch scaled_dot_product_attention, fused on "
            "GPUs), 'eager', or 'flash_attention_2' when installed."
        },
    )
    attention_dropout: float | None = field(
        default=None,
        metadata={
            "help": "Dropout on the attention probabilities while training (BERT's "
            "attention_probs_dropout_prob, DistilBERT's attention_dropout). Default: the "
            "checkpoint's own (0.1 for BERT, RoBERTa, XLM-R). 0 lets SDPA use its fused CPU "
            "kernel, which has no dropout, so steps on a CPU are faster (benchmarks/README.md)."
        },
    )
    model_cache_dir: str | None = field(
        default=None, metadata={"help": "Where Hub checkpoints are cached (default: HF_HOME)."}
    )

    def __post_init__(self) -> None:
        if not self.model_name_or_path.strip():
            raise TrainConfigError(
                "model_name_or_path is empty: pass a Hub id, a directory or tiny:unigram."
            )
        if self.attention_dropout is not None and not 0.0 <= self.attention_dropout < 1.0:
            raise TrainConfigError(
                f"attention_dropout={self.attention_dropout} must be in [0, 1): e.g. 0, or "
                "leave it out for the checkpoint's own."
            )
        if self.model_name_or_path.startswith(TINY_PREFIX):
            family = self.model_name_or_path[len(TINY_PREFIX) :]
            if family not in FAMILIES:
                raise TrainConfigError(
                    f"Unknown tiny model {self.model_name_or_path!r}; use 'tiny:unigram' "
                    "(XLM-R-like) or 'tiny:wordpiece' (BERT-like)."
                )


@dataclass
class DataArguments:
    """Where the questions come from (any ``qa_core.data.sources`` source) and how many to use."""

    _argument_group_name = "data"

    train_dataset: list[str] = field(
        default_factory=lambda: ["mlqa-translate-train.vi"],
        metadata={
            "help": "Training sources, mixed in order: named datasets (mlqa-translate-train.vi, "
            "uit-viquad2, sample, ...), local .json/.jsonl/.csv/.parquet files or Hub dataset "
            "ids. 'SOURCE:SPLIT' picks a split for one source, e.g. "
            "'mlqa-translate-train.vi:train[:20%%]'."
        },
    )
    train_split: str = field(
        default="train",
        metadata={"help": "Split of the training sources, with optional slice: 'train[:20%%]'."},
    )
    eval_dataset: list[str] | None = field(
        default=None,
        metadata={
            "help": "Evaluation sources (same syntax as --train-dataset). Default: the training "
            "sources, read at --eval-split."
        },
    )
    eval_split: str = field(
        default="validation",
        metadata={"help": "Split of the evaluation sources, e.g. 'validation[:20%%]'."},
    )
    max_train_samples: int | None = field(
        default=None,
        metadata={"help": "Use only the first N training questions (quick runs, debugging)."},
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N evaluation questions."}
    )
    dataset_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where downloads and tokenized features are cached (default: $VIQA_CACHE or "
            "~/.cache/viqa)."
        },
    )
    preprocessing_num_workers: int | None = field(
        default=None, metadata={"help": "Processes used to tokenize the data (default: 1)."}
    )
    overwrite_cache: bool = field(
        default=False, metadata={"help": "Tokenize again instead of reusing cached features."}
    )
    threshold_split: float = field(
        default=0.05,
        metadata={
            "help": "Share of the training questions held out, whole passages at a time, to tune "
            "the no-answer threshold on (never the evaluation set, whose scores would then be "
            "optimistic). 0: no slice; the threshold is then tuned on the evaluation set and "
            "labelled so."
        },
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold_split < 0.5:
            raise TrainConfigError(
                f"threshold_split={self.threshold_split} must be a share in [0, 0.5), e.g. 0.05 "
                "(5% of the training questions), or 0 to hold nothing out."
            )
        if not self.train_dataset:
            raise TrainConfigError(
                "train_dataset is empty: name at least one source, e.g. 'sample'."
            )
        for name in ("max_train_samples", "max_eval_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise TrainConfigError(
                    f"{name}={value} must be at least 1 (or left unset for all)."
                )


@dataclass
class QAArguments:
    """Windows, labels and answer search: handed to ``qa_core``'s shared engine."""

    _argument_group_name = "question answering"

    max_length: int = field(
        default=384,
        metadata={
            "help": "Tokens per window (question + context + special tokens). Windows are padded "
            "per batch, never to this length."
        },
    )
    doc_stride: int = field(
        default=128, metadata={"help": "Tokens shared by consecutive windows of a long context."}
    )
    max_question_length: int = field(
        default=64, metadata={"help": "Questions longer than this many tokens are truncated."}
    )
    max_answer_length: int = field(
        default=30, metadata={"help": "Longest answer span considered, in tokens."}
    )
    n_best_size: int = field(
        default=20, metadata={"help": "Candidate answers kept per question (n-best lists)."}
    )
    word_segmenter: str = field(
        default="underthesea",
        metadata={
            "help": "How PhoBERT's input is cut into words: 'underthesea', 'pyvi' (pip install "
            "pyvi) or 'none' (syllables). Saved with the model, which then answers with it; "
            "other models ignore it.",
            "choices": ["underthesea", "pyvi", "none"],
        },
    )
    allow_no_answer: bool | None = field(
        default=None,
        metadata={
            "help": "Train and evaluate with 'no answer' (SQuAD v2 / UIT-ViQuAD 2.0). Default: on "
            "when the training data has unanswerable questions.",
            "nargs": "?",
            "const": True,
        },
    )
    null_threshold: float | None = field(
        default=None,
        metadata={
            "help": "Predict 'no answer' when null score - best span score > this. Default: tuned "
            "for the best F1 on the held-out slice of the training data (--threshold-split)."
        },
    )
    null_window_rate: float = field(
        default=1.0,
        metadata={
            "help": "Share kept for training of the windows of answerable questions whose "
            "answer lies in another window (labelled CLS), drawn with --seed; every window of an "
            "unanswerable question is kept. Long passages make most windows answerless; keeping "
            "fewer trains on more answers per second, but with a fixed number of epochs it "
            "also takes fewer optimizer steps (benchmarks/README.md)."
        },
    )

    unanswerable_window_rate: float = field(
        default=1.0,
        metadata={
            "help": "Share kept for training of the windows of unanswerable questions (labelled "
            "CLS), drawn with --seed. They are what teaches the model to say 'no answer'; "
            "fewer of them trade that for more steps on answers (benchmarks/README.md)."
        },
    )

    def __post_init__(self) -> None:
        self.windows()  # WindowConfig validates the three lengths with messages naming the fix
        if self.max_answer_length < 1 or self.n_best_size < 1:
            raise TrainConfigError("max_answer_length and n_best_size must be at least 1.")
        for name in ("null_window_rate", "unanswerable_window_rate"):
            rate = getattr(self, name)
            if not 0.0 < rate <= 1.0:
                raise TrainConfigError(
                    f"{name}={rate} must be in (0, 1]: the share of those windows kept "
                    "(1 keeps them all)."
                )

    def windows(self) -> WindowConfig:
        """The window settings in ``qa_core``'s form."""
        return WindowConfig(self.max_length, self.doc_stride, self.max_question_length)


@dataclass
class RunArguments:
    """Config files and how a run starts."""

    _argument_group_name = "run"

    config: str | None = field(
        default=None,
        metadata={
            "help": "JSON or YAML file of arguments (keys are the field names shown here); the "
            "command line overrides it."
        },
    )
    preset: str | None = field(
        default=None,
        metadata={
            "help": "Named config from train/configs/ (e.g. 'smoke': a tiny model on the bundled "
            "sample, on CPU, in about a minute)."
        },
    )
    resume: bool = field(
        default=False,
        metadata={
            "help": "Continue from the last complete checkpoint in --output-dir (model, "
            "optimizer, scheduler, data order and step)."
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "Start afresh even if --output-dir already holds checkpoints."},
    )


def _auto_cuda() -> tuple[bool, bool]:
    """(cuda available, cuda bf16 supported) without failing where torch has no CUDA."""
    import torch

    if not torch.cuda.is_available():
        return False, False
    return True, torch.cuda.is_bf16_supported()


@dataclass
class QATrainingArguments(TrainingArguments):
    """``TrainingArguments`` with defaults for extractive QA (the other fields are unchanged)."""

    _argument_group_name = "training (transformers TrainingArguments; QA defaults)"

    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where checkpoints and the final model go. Default: models/<run name> "
            "(the app lists models/)."
        },
    )
    learning_rate: float = field(default=3e-5, metadata={"help": "Peak learning rate of AdamW."})
    num_train_epochs: float = field(
        default=2.0, metadata={"help": "Epochs over the training data."}
    )
    warmup_steps: float = field(
        default=0.1,
        metadata={"help": "Linear warm-up: a step count, or a fraction of all steps if < 1."},
    )
    weight_decay: float = field(
        default=0.01, metadata={"help": "AdamW weight decay (not applied to biases and LayerNorm)."}
    )
    per_device_train_batch_size: int = field(
        default=16, metadata={"help": "Windows per device per step."}
    )
    per_device_eval_batch_size: int = field(
        default=64, metadata={"help": "Windows per device per evaluation batch."}
    )
    eval_strategy: str = field(
        default="epoch",
        metadata={"help": "When to evaluate (EM/F1 after span search): 'epoch', 'steps' or 'no'."},
    )
    save_strategy: str | None = field(
        default=None,
        metadata={
            "help": "When to save a checkpoint: 'epoch', 'steps', 'best' or 'no'. Default: with "
            "every evaluation (every epoch when there is none)."
        },
    )
    save_steps: float | None = field(
        default=None,
        metadata={"help": "Save every N steps with --save-strategy steps (default: --eval-steps)."},
    )
    save_total_limit: int | None = field(
        default=2,
        metadata={"help": "Checkpoints kept (the best one is always kept as well)."},
    )
    load_best_model_at_end: bool = field(
        default=True,
        metadata={
            "help": "Keep the best checkpoint by --metric-for-best-model as the final model."
        },
    )
    metric_for_best_model: str | None = field(
        default="mlqa_vi_f1",
        metadata={
            "help": "Metric that picks the best checkpoint: mlqa_vi_f1, squad_f1, "
            "mlqa_vi_exact_match, squad_exact_match or loss."
        },
    )
    train_sampling_strategy: str = field(
        default="group_by_length",
        metadata={
            "help": "'group_by_length' batches windows of similar length (less padding), or "
            "'random', 'sequential', 'batch_rebalance'.",
            "choices": ["random", "sequential", "group_by_length", "batch_rebalance"],
        },
    )
    logging_steps: float = field(default=50, metadata={"help": "Log the loss every N steps."})
    logging_first_step: bool = field(default=True, metadata={"help": "Log the first step too."})
    report_to: None | str | list[str] = field(  # noqa: RUF036 (HfArgumentParser needs this order)
        default="none",
        metadata={"help": "Experiment trackers: 'none', 'tensorboard', 'wandb', ... or 'all'."},
    )
    bf16: bool | None = field(
        default=None,
        metadata={
            "help": "bfloat16 mixed precision. Default: on where the hardware computes bf16 "
            "natively (Ampere+ GPUs; CPUs with AVX512-BF16 or AMX), off elsewhere.",
            "nargs": "?",
            "const": True,
        },
    )
    fp16: bool | None = field(
        default=None,
        metadata={
            "help": "float16 mixed precision. Default: on for GPUs without bfloat16.",
            "nargs": "?",
            "const": True,
        },
    )
    ddp_find_unused_parameters: bool | None = field(
        default=False,
        metadata={"help": "QA models use every parameter, so DDP need not search for unused ones."},
    )

    def __post_init__(self) -> None:
        if self.hub_token is not None:
            raise TrainConfigError(
                "--hub-token is not accepted: a token given as an argument ends up in logs and in "
                "the saved training_args.bin. Set HF_TOKEN in the environment or run "
                "`hf auth login` instead."
            )
        evaluates = IntervalStrategy(self.eval_strategy) != IntervalStrategy.NO
        if self.save_strategy is None:
            self.save_strategy = self.eval_strategy if evaluates else "epoch"
        if self.save_steps is None:
            self.save_steps = self.eval_steps or self.logging_steps
        if not evaluates or str(self.save_strategy) in ("no", "SaveStrategy.NO"):
            self.load_best_model_at_end = False  # nothing to pick from, or nowhere to keep it
        cuda, cuda_bf16 = _auto_cuda() if not self.use_cpu else (False, False)
        if self.bf16 is None:
            # bf16 where the hardware computes it natively: recent GPUs, and CPUs with
            # AVX512-BF16/AMX (faster training there: benchmarks/README.md).
            native = cuda_bf16 if cuda else cpu_has_native_bf16()
            self.bf16 = bool(self.fp16 is not True and native)
        if self.fp16 is None:
            self.fp16 = bool(cuda and not self.bf16)
        if self.tf32 is None and cuda:
            from transformers.utils import is_torch_tf32_available

            self.tf32 = is_torch_tf32_available() or None
        if self.bf16 and not cuda:
            self.use_cpu = True  # transformers asks for use_cpu before allowing CPU autocast
        reporters = [self.report_to] if isinstance(self.report_to, str) else self.report_to or []
        if "tensorboard" in reporters and importlib.util.find_spec("tensorboard") is None:
            raise TrainConfigError(
                "--report-to tensorboard needs the tensorboard package: `pip install tensorboard`"
                " (then `tensorboard --logdir OUTPUT_DIR/runs`)."
            )
        if self.push_to_hub and not self.hub_model_id:
            raise TrainConfigError(
                "--push-to-hub needs --hub-model-id USER/NAME (the Hub repository to create or "
                "update)."
            )
        super().__post_init__()


ARGUMENT_CLASSES = (ModelArguments, DataArguments, QAArguments, RunArguments, QATrainingArguments)


@dataclass
class FinetuneConfig:
    """Everything ``train.finetune.train`` needs, parsed and validated."""

    model: ModelArguments
    data: DataArguments
    qa: QAArguments
    run: RunArguments
    training: QATrainingArguments


# TrainingArguments options --help shows besides viqa's own (every one redeclared above);
# --help-all lists the rest.
COMMON_TRAINING_OPTIONS = (
    "max_steps", "gradient_accumulation_steps", "lr_scheduler_type", "eval_steps", "bf16",
    "fp16", "use_cpu", "seed", "run_name", "disable_tqdm", "push_to_hub", "hub_model_id",
    "hub_private_repo",
)


def presets() -> dict[str, str]:
    """The named configs of ``train/configs/``: name → what it is (its first comment, up to
    the first colon or period)."""
    out = {}
    for path in sorted(CONFIG_DIR.glob("*.y*ml")) + sorted(CONFIG_DIR.glob("*.json")):
        first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        out[path.stem] = re.split(r"[:.]\s", first + " ", maxsplit=1)[0].strip()
    return out


def build_parser() -> HfArgumentParser:
    """The parser behind ``python -m train.finetune --help``: viqa's options and the common
    training ones, grouped; ``--help-all`` adds every other ``TrainingArguments`` option."""
    from train.cli import HelpFormatter, dashed, focus

    listed = "; ".join(f"'{name}' ({what})" for name, what in presets().items())
    parser = HfArgumentParser(
        ARGUMENT_CLASSES,
        prog="python -m train.finetune",
        usage="python -m train.finetune [--preset NAME | --config FILE] [options]",
        description="Fine-tune a Vietnamese extractive QA model (docs/training.md).",
        epilog="Presets (train/configs/): " + listed + ".",
        formatter_class=HelpFormatter,
    )
    for action in parser._actions:
        if action.dest == "preset":
            action.help = f"Named config from train/configs/: {', '.join(presets())}."
    ours = {f.name for cls in ARGUMENT_CLASSES[:-1] for f in dataclasses.fields(cls)}
    ours |= set(QATrainingArguments.__annotations__) | set(COMMON_TRAINING_OPTIONS)
    return focus(dashed(parser), ours)


def resolve_preset(name: str) -> Path:
    """``train/configs/<name>.yaml`` (or .json), with a message listing the presets otherwise."""
    for suffix in (".yaml", ".yml", ".json"):
        path = CONFIG_DIR / f"{name}{suffix}"
        if path.is_file():
            return path
    known = sorted(p.stem for p in CONFIG_DIR.glob("*.*"))
    raise TrainConfigError(f"Unknown preset {name!r}; available: {', '.join(known)}.")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Arguments from a JSON or YAML file, keys as field names (dashes allowed)."""
    path = Path(path)
    if not path.is_file():
        raise TrainConfigError(f"Config file {str(path)!r} not found.")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        values = json.loads(text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        values = yaml.safe_load(text) or {}
    else:
        raise TrainConfigError(f"Config file {path.name}: use a .json, .yaml or .yml file.")
    if not isinstance(values, dict):
        raise TrainConfigError(f"Config file {path.name} must hold a mapping of argument: value.")
    return {str(k).replace("-", "_"): v for k, v in values.items()}


def default_run_name(model_name_or_path: str, train_dataset: list[str]) -> str:
    """``<model>_<dataset>[+<dataset>...]`` as a safe directory name.

    >>> default_run_name("xlm-roberta-base", ["mlqa-translate-train.vi"])
    'xlm-roberta-base_mlqa-translate-train.vi'
    >>> default_run_name("tiny:unigram", ["sample", "data/my file.json"])
    'tiny-unigram_sample+my-file'
    """

    def short(name: str) -> str:
        name = name.split(":", 1)[0] if not name.startswith(TINY_PREFIX) else name
        base = Path(name.rstrip("/")).name if "/" in name else name
        base = re.sub(r"\.(json|jsonl|csv|parquet)$", "", base)
        return re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-") or "run"

    return f"{short(model_name_or_path)}_{'+'.join(short(d) for d in train_dataset)}"


def _file_defaults(parser: HfArgumentParser, values: dict[str, Any], where: str) -> dict:
    """Config-file values checked against the parser's fields and shaped like argparse's."""
    dests = {action.dest: action for action in parser._actions}
    unknown = sorted(k for k in values if k not in dests or k == "help")
    if unknown:
        raise TrainConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. Keys are the argument names of "
            "`python -m train.finetune --help` with underscores, e.g. model_name_or_path."
        )
    out = {}
    for key, value in values.items():
        if dests[key].nargs == "+" and isinstance(value, str):
            value = [value]  # a single source written as a string
        out[key] = value
    return out


def parse_args(argv: list[str] | None = None) -> FinetuneConfig:
    """Parse the command line (and any config file it names) into a ``FinetuneConfig``."""
    parser = build_parser()
    first, _ = parser.parse_known_args(argv)
    if first.config and first.preset:
        raise TrainConfigError("Pass --config FILE or --preset NAME, not both.")
    config_file = first.config or (resolve_preset(first.preset) if first.preset else None)
    if config_file:
        values = load_config_file(config_file)
        values.pop("config", None)
        values.pop("preset", None)
        parser.set_defaults(**_file_defaults(parser, values, str(config_file)))
    namespace, remaining = parser.parse_known_args(argv)
    if remaining:
        raise TrainConfigError(
            f"Unknown argument(s): {' '.join(remaining)}. See `python -m train.finetune --help`."
        )
    values = vars(namespace)
    run_name = values.get("run_name") or default_run_name(
        values["model_name_or_path"], values["train_dataset"]
    )
    values["run_name"] = run_name
    if values.get("output_dir") is None:
        values["output_dir"] = str(DEFAULT_MODELS_DIR / run_name)
    parts = []
    for cls in ARGUMENT_CLASSES:
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        parts.append(cls(**{k: v for k, v in values.items() if k in names}))
    return FinetuneConfig(*parts)
