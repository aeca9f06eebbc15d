"""Loading a checkpoint for extractive QA: config, tokenizer and model, or one error that names
the cause and the fix.

A checkpoint is a local directory (what ``save_pretrained`` wrote) or a Hub id
(``qa_core.model.names``). Before anything is downloaded the name is checked, a local folder is
checked for a readable ``config.json`` and complete weights (``qa_core.model.folders``), and
the architecture for a question-answering head in transformers. Errors then say what is wrong
(``qa_core.model.load_errors``). transformers' load report and progress bars are silenced while
loading; callers log the one line of :meth:`LoadedCheckpoint.summary` instead.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from qa_core.answer_options import RECORD_FILE, TrainedSettings, read_trained_settings
from qa_core.errors import (
    NotAQAModelError,
    Phrase,
    QAError,
    SlowTokenizerError,
    UntrainedHeadWarning,
)
from qa_core.model.folders import check_local_checkpoint, check_tokenizer_files, is_phobert
from qa_core.model.hub import hub_reachable
from qa_core.model.load_errors import first_line, load_error
from qa_core.model.names import parse_checkpoint
from qa_core.model.phobert import PhobertOffsetTokenizer, check_token_ids
from qa_core.segmentation import check_segmenter
from qa_core.windows import gives_offsets

logger = logging.getLogger(__name__)

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep


# ---------------------------------------------------------------------------------------------
# Warnings and noise
# ---------------------------------------------------------------------------------------------
def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the calling function point at the first
    frame outside ``qa_core`` (the user's line), however deep the call came through
    ``load_reader``/``build_reader``/``ReaderCache``."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


_QUIET_LOCK = threading.Lock()
_quiet = {"depth": 0, "saved": None}


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings (the "LOAD REPORT" table of unexpected/missing keys)
    and its "Loading weights" progress bars while loading; Hub download bars stay.

    Both settings are process-wide, so nested and concurrent loads share one silence: the first
    to enter saves the settings, the last to leave restores them.
    """
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as hf_logging

    with _QUIET_LOCK:
        if _quiet["depth"] == 0:
            _quiet["saved"] = (
                hf_logging.get_verbosity(),
                hf_logging.is_progress_bar_enabled(),
                hub_utils.are_progress_bars_disabled(),
            )
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()  # also turns the Hub's bars off ...
            if not _quiet["saved"][2]:
                hub_utils.enable_progress_bars()  # ... which show a download's progress
        _quiet["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet["depth"] -= 1
            if _quiet["depth"] == 0:
                verbosity, bars, hub_disabled = _quiet["saved"]
                hf_logging.set_verbosity(verbosity)
                if bars:
                    hf_logging.enable_progress_bar()
                if hub_disabled:
                    hub_utils.disable_progress_bars()



# ---------------------------------------------------------------------------------------------
# Architecture
# ---------------------------------------------------------------------------------------------
def qa_model_class(config):
    """transformers' QA class for ``config`` or ``None`` when its type has no QA head."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_QUESTION_ANSWERING_MAPPING,
        MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES,
    )

    if config.model_type not in MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES:
        return None
    try:
        return MODEL_FOR_QUESTION_ANSWERING_MAPPING[type(config)]
    except (KeyError, ValueError):
        return None


_ATTENTION_FLAGS = {
    "sdpa": "_supports_sdpa",
    "flash_attention_2": "_supports_flash_attn",
    "flash_attention_3": "_supports_flash_attn",
    "flex_attention": "_supports_flex_attn",
}


def supported_attention(model_class, requested: str | None) -> str | None:
    """``requested`` when ``model_class`` supports it, else the best it does (sdpa, then eager).

    >>> class Eager: _supports_sdpa = False
    >>> supported_attention(Eager, "sdpa")
    'eager'
    """
    flag = _ATTENTION_FLAGS.get(requested or "")
    if model_class is None or flag is None or getattr(model_class, flag, False):
        return requested
    return "sdpa" if getattr(model_class, "_supports_sdpa", False) else "eager"



# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
@dataclass
class LoadedCheckpoint:
    """A checkpoint's parts plus what the one log line and the user need to know."""

    name: str
    config: object
    tokenizer: object
    model: object
    untrained_head: bool = False
    attention_note: str = ""  # set when the requested attention was replaced
    trained: TrainedSettings | None = None  # what its viqa_training.json says, if it has one
    # Said on every answer: why its trained settings could not be read, when they could not.
    notes: list[Phrase] = field(default_factory=list)

    @property
    def architecture(self) -> str:
        return type(self.model).__name__

    def summary(self, precision: str | None = None, device: str | None = None) -> str:
        """One line: what was loaded, how big, in which precision (on which device), and what
        to watch."""
        import torch

        n = sum(p.numel() for p in self.model.parameters())
        size = f"{n / 1e6:.1f}M" if n < 1e8 else f"{n / 1e6:.0f}M"
        if precision is None:
            dtypes = {p.dtype for p in self.model.parameters()} or {torch.float32}
            precision = "/".join(sorted(str(d).replace("torch.", "") for d in dtypes))
        where = f" on {device}" if device else ""
        line = f"Loaded {self.name}: {self.architecture}, {size} parameters{where}, {precision}"
        if self.attention_note:
            line += f"; {self.attention_note}"
        if self.untrained_head:
            line += "; QA head untrained (random)"
        return line

    def warnings(self) -> tuple[Phrase, ...]:
        """Messages every answer of this checkpoint should carry."""
        untrained = (untrained_head_message(self.name),) if self.untrained_head else ()
        return (*untrained, *self.notes)


def untrained_head_message(checkpoint: str) -> Phrase:
    """What an answer of a checkpoint without a trained QA head must say."""
    return Phrase(
        "'{name}' has no trained question-answering head: the head was initialised at random, "
        "so its answers are meaningless until it is fine-tuned (python -m train.finetune "
        "--model-name-or-path {name}).", name=checkpoint,
    )


def load_checkpoint(
    checkpoint: str | Path,
    dtype=None,
    cache_dir: str | None = None,
    config_overrides: dict | None = None,
    segmenter: str | None = None,
    **model_kwargs,
) -> LoadedCheckpoint:
    """Config, tokenizer (one that gives character offsets) and QA model of ``checkpoint`` on
    the CPU, or a clear error.

    ``dtype`` (a torch dtype) loads the weights straight into that precision. ``cache_dir`` is
    the Hub download cache (default: the Hub's own). ``config_overrides`` set those of their
    config fields that this architecture has (others are ignored: names differ between
    architectures) before the model is built. ``model_kwargs`` go to the model's
    ``from_pretrained``; an ``attn_implementation`` the architecture lacks is replaced by the
    best one it has (mDeBERTa has no SDPA). Warns ``UntrainedHeadWarning`` at the caller's line
    when the checkpoint has no trained QA head.

    PhoBERT checkpoints get its own BPE tokenizer (``vocab.txt`` and ``bpe.codes``, never a
    ``tokenizer.json``) behind an adapter that segments words and gives offsets in the original
    text (``qa_core.model.phobert``), with ``segmenter``, else the one the checkpoint was
    trained with (``viqa_training.json``, then its tokenizer config), else underthesea. A
    tokenizer that gives ids the model has no embedding for is refused.
    """
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    from qa_core.model.tokenizers import load_tokenizer

    parsed = parse_checkpoint(checkpoint)
    checkpoint, local = parsed.name, parsed.local
    if local is not None:
        check_local_checkpoint(local)
    # Offline: read the local cache only (fast), instead of retrying the network for ~25 s.
    offline = local is None and not hub_reachable()
    hub = {"local_files_only": True} if offline else {}
    if cache_dir:
        hub["cache_dir"] = cache_dir

    with quiet_transformers():
        try:
            config = AutoConfig.from_pretrained(checkpoint, **hub)
        except Exception as exc:  # the Hub raises many types; all mean "cannot get this"
            raise load_error(checkpoint, exc, local, offline, partial=False) from exc
        for key, value in (config_overrides or {}).items():
            if hasattr(config, key):
                setattr(config, key, value)
        model_class = qa_model_class(config)
        if model_class is None:
            raise NotAQAModelError(
                "'{name}' is a '{model_type}' model, which has no question-answering head in "
                "transformers. Pick an encoder such as XLM-R, BERT or mDeBERTa.",
                name=checkpoint, model_type=config.model_type,
            )
        phobert = is_phobert(local, config)
        if local is not None and not phobert:
            check_tokenizer_files(local)
        try:
            if phobert:
                tokenizer = PhobertOffsetTokenizer.from_pretrained(checkpoint, segmenter, **hub)
            else:  # the checkpoint's own tokenizer.json, not transformers 5's rebuild of it
                tokenizer = load_tokenizer(checkpoint, config, **hub)
        except QAError:
            raise
        except Exception as exc:
            raise load_error(checkpoint, exc, local, offline) from exc
        if not gives_offsets(tokenizer):
            raise SlowTokenizerError(
                "'{name}' has no fast tokenizer. Extractive QA needs a fast (Rust) tokenizer "
                "for character offsets; convert the tokenizer with `PreTrainedTokenizerFast` or "
                "pick a checkpoint that ships tokenizer.json.", name=checkpoint,
            )
        check_token_ids(tokenizer, config.vocab_size, name=checkpoint)

        note = ""
        requested = model_kwargs.get("attn_implementation")
        attention = supported_attention(model_class, requested)
        if attention != requested:
            model_kwargs["attn_implementation"] = attention
            # Said in the summary line, the one line callers log.
            note = f"attention {attention} ({model_class.__name__} does not support {requested})"
        try:
            model, info = AutoModelForQuestionAnswering.from_pretrained(
                checkpoint, config=config, output_loading_info=True, **hub, **model_kwargs,
                **({"dtype": dtype} if dtype is not None else {}),
            )
        except Exception as exc:
            raise load_error(checkpoint, exc, local, offline, weights=True) from exc

    missing = list(info.get("missing_keys", []))
    untrained = any("qa_outputs" in key for key in missing)
    encoder_missing = [k for k in missing if "qa_outputs" not in k]
    if encoder_missing:  # a partly random encoder matters as much as a random head
        logger.warning(
            "%s: %d weights were not in the checkpoint and are random (e.g. %s); its answers "
            "will be poor.", checkpoint, len(encoder_missing), ", ".join(encoder_missing[:3]),
        )
    record, notes = record_dir(checkpoint, local, hub)
    trained = read_trained_settings(record) if record is not None else None
    if phobert and segmenter is None and trained is not None and trained.word_segmenter:
        tokenizer.segmenter = check_segmenter(trained.word_segmenter)  # answer as it was trained
    loaded = LoadedCheckpoint(
        checkpoint, config, tokenizer, model, untrained, note, trained, notes
    )
    if untrained:
        warnings.warn(
            untrained_head_message(checkpoint), UntrainedHeadWarning, stacklevel=caller_stacklevel()
        )
    return loaded


def record_dir(checkpoint: str, local: Path | None, hub: dict) -> tuple[Path | None, list[Phrase]]:
    """The folder holding the checkpoint's ``viqa_training.json`` (a local checkpoint's own, or
    the Hub cache's for a model trained here and pushed: its settings travel with it), and what
    went wrong fetching it.

    A Hub model without the file was not trained here: no folder, nothing to say. One whose
    file could not be fetched (a network error, a refused request) would answer with the
    library's defaults instead of the settings it was trained with, so that is said loudly:
    logged as a warning, and returned to be shown with every answer. Offline, only the cache
    is read; a file not in it counts as absent.
    """
    if local is not None:
        return local, []
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RemoteEntryNotFoundError

    try:
        path = hf_hub_download(checkpoint, RECORD_FILE, **hub)
    except RemoteEntryNotFoundError:  # the Hub says there is no such file: not trained here
        return None, []
    except LocalEntryNotFoundError as exc:  # not in the cache, and not fetched
        if hub.get("local_files_only"):
            return None, []
        error = exc  # online, so the network failed (the Hub client says so in this type)
    except Exception as exc:  # a refused request, a server error: the model loaded, this not
        error = exc
    else:
        return Path(path).parent, []
    note = Phrase(
        "The settings '{name}' were trained with ({file}: windows, answer length and "
        "no-answer threshold) could not be fetched ({detail}), so it answers with the "
        "library's defaults, which may not match its training. Load it again when the Hub "
        "is reachable, or give those settings yourself.",
        name=checkpoint, file=RECORD_FILE, detail=first_line(error),
    )
    logger.warning("%s", note)
    return None, [note]


def load_components(
    checkpoint: str, dtype=None, cache_dir: str | None = None, config_overrides=None,
    **model_kwargs,
):
    """``(config, tokenizer, model)`` of :func:`load_checkpoint`, with its one log line."""
    loaded = load_checkpoint(checkpoint, dtype, cache_dir, config_overrides, **model_kwargs)
    logger.info(loaded.summary())
    return loaded.config, loaded.tokenizer, loaded.model
