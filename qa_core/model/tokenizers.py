"""Load a checkpoint's own tokenizer: exactly what its files say, as transformers 4.x did.

transformers 5 does not load ``tokenizer.json`` verbatim for every class. It rebuilds some
tokenizers from their vocabulary with its own idea of the pipeline, so the ids differ from the
ones the model was trained on, silently:

* ``XLMRobertaTokenizer`` keeps only the ``Precompiled`` normalizer and puts ``WhitespaceSplit``
  before ``Metaspace``: double spaces, trailing spaces and zero-width spaces lose the ``▁``
  tokens XLM-R's own ``tokenizer.json`` gives them.
* ``DebertaV2Tokenizer`` replaces the ``nmt_nfkc`` charsmap with ``NFC``: U+200B, U+FEFF, ``…``
  and ``½`` become ``[UNK]`` instead of nothing, ``...`` and ``1⁄2``.
* A ``model_type: roberta`` checkpoint without ``tokenizer_class`` (``vi-mrc-base`` with
  XLM-R's Unigram ``tokenizer.json``) gets a byte-level BPE built from the Unigram vocabulary,
  which splits every Vietnamese word into bytes.

``load_tokenizer`` therefore reads ``tokenizer.json`` with ``tokenizers.Tokenizer.from_file``
and only wraps it (special tokens, input names, lengths from the checkpoint's settings). A
checkpoint without ``tokenizer.json`` is converted from ``sentencepiece.bpe.model``,
``spm.model`` or ``vocab.txt`` with the converters transformers 4.57 used (the same classes ship
in 5.x, fed the settings 4.57's slow tokenizers gave them). Anything else (PhoBERT's slow BPE,
byte-level ``vocab.json`` + ``merges.txt``) goes to ``AutoTokenizer`` as before.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKENIZER_JSON = "tokenizer.json"
SETTINGS_FILES = ("tokenizer_config.json", "special_tokens_map.json")
SPECIAL_KEYS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)
# Settings of tokenizer_config.json that the wrapper takes over; the rest describe a slow
# tokenizer or a pipeline that tokenizer.json already holds.
_WRAPPER_KEYS = ("padding_side", "truncation_side", "clean_up_tokenization_spaces")
# Class names that say nothing about the model (what transformers itself saves).
_GENERIC_CLASSES = {"PreTrainedTokenizer", "TokenizersBackend", "PythonBackend"}
_FALLBACK_MAX_LENGTH = 10**6  # above this, a "model_max_length" is transformers' "unset" value
# Models whose position ids start after the padding index (fairseq's RoBERTa layout).
_POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2, "camembert": 2, "xlm-roberta-xl": 2}


@dataclass
class _Converted:
    """How transformers 4.57 built a fast tokenizer for a class that has no tokenizer.json."""

    vocab_file: str
    converter: str  # a class name in transformers.convert_slow_tokenizer
    specials: dict[str, Any]  # the slow tokenizer's special-token defaults
    attributes: dict[str, Any] = field(default_factory=dict)  # the slow tokenizer's settings


def _xlmr_mask() -> Any:
    from tokenizers import AddedToken

    # 4.57's XLMRobertaTokenizer: "The mask token behaves like a normal word, i.e. include the
    # space before it".
    return AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)


def _deberta_unk() -> Any:
    from tokenizers import AddedToken

    return AddedToken("[UNK]", normalized=True, special=True)


_XLMR_SPECIALS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": _xlmr_mask,
}
_BERT_SPECIALS = {
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}
_CONVERTIBLE = {
    "XLMRobertaTokenizer": _Converted(
        "sentencepiece.bpe.model", "XLMRobertaConverter", _XLMR_SPECIALS
    ),
    "DebertaV2Tokenizer": _Converted(
        "spm.model",
        "DebertaV2Converter",
        {**_BERT_SPECIALS, "bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": _deberta_unk},
        {"do_lower_case": False, "split_by_punct": False},
    ),
    "BertTokenizer": _Converted(
        "vocab.txt",
        "BertConverter",
        _BERT_SPECIALS,
        {"do_lower_case": True, "tokenize_chinese_chars": True, "strip_accents": None},
    ),
}


def load_tokenizer(checkpoint: str, config=None, **hub_kwargs):
    """The fast tokenizer of ``checkpoint`` (a local directory or Hub id), tokenizing exactly as
    the checkpoint's ``tokenizer.json`` does, or as transformers 4.57 converted its vocabulary.

    ``config`` is the checkpoint's ``PretrainedConfig`` (its ``tokenizer_class``, model type
    and position count fill gaps in the tokenizer's own settings). ``hub_kwargs``
    (``cache_dir``, ``local_files_only``, ``revision``, ``token``) are those of
    ``from_pretrained``. Layouts it cannot rebuild faithfully are left to ``AutoTokenizer``, so
    a slow-only tokenizer (PhoBERT) still comes back slow, for the caller to refuse.
    """
    checkpoint = str(checkpoint)
    settings = read_settings(checkpoint, **hub_kwargs)
    class_name = tokenizer_class_name(settings, config)
    json_path = _resolve(checkpoint, TOKENIZER_JSON, hub_kwargs)
    recipe = _CONVERTIBLE.get(class_name)
    if json_path is not None:
        backend = json_path  # read by Tokenizer.from_file, as is
    else:
        vocab_path = recipe and _resolve(checkpoint, recipe.vocab_file, hub_kwargs)
        if not vocab_path:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(checkpoint, **hub_kwargs)
        backend = convert_like_transformers_4(vocab_path, recipe, settings)
    return wrap_backend(backend, settings, class_name, config, checkpoint, recipe)


def _resolve(checkpoint: str, filename: str, hub_kwargs: dict) -> str | None:
    """Path of ``filename`` in a local checkpoint or the Hub cache (downloading it), or None
    when the checkpoint has no such file. Network and access errors propagate."""
    local = Path(checkpoint).expanduser()
    if local.is_dir():
        path = local / filename
        return str(path) if path.is_file() else None
    from transformers.utils.hub import cached_file

    return cached_file(
        checkpoint, filename, _raise_exceptions_for_missing_entries=False, **hub_kwargs
    )


def read_settings(checkpoint: str, **hub_kwargs) -> dict[str, Any]:
    """``tokenizer_config.json`` with ``special_tokens_map.json`` filling its gaps, as
    ``from_pretrained`` merges them (either file may be absent)."""
    settings: dict[str, Any] = {}
    for name in SETTINGS_FILES:
        path = _resolve(checkpoint, name, hub_kwargs)
        if path is None:
            continue
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            for key, value in data.items():
                settings.setdefault(key, value)
    return settings


def tokenizer_class_name(settings: dict[str, Any], config=None) -> str | None:
    """The tokenizer class ``AutoTokenizer`` would pick, without a ``Fast`` suffix: the
    tokenizer's own ``tokenizer_class``, then the config's, then the model type's default."""
    name = settings.get("tokenizer_class") or getattr(config, "tokenizer_class", None)
    if not name and config is not None:
        from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES

        name = TOKENIZER_MAPPING_NAMES.get(getattr(config, "model_type", None))
        if isinstance(name, tuple):  # older releases map to (slow, fast)
            name = name[-1] or name[0]
    if not name:
        return None
    return name[: -len("Fast")] if name.endswith("Fast") else name


def _special_token(value: Any) -> Any:
    """A special-token setting as saved (a string or an ``AddedToken`` dict) made usable."""
    from tokenizers import AddedToken

    if isinstance(value, dict) and "content" in value:
        fields = {k: v for k, v in value.items() if k not in ("__type", "content")}
        fields.setdefault("special", True)
        return AddedToken(value["content"], **fields)
    return value


class _SlowStandIn:
    """The few attributes of a 4.57 slow tokenizer that its converter reads."""

    def __init__(self, vocab_file: str, attributes: dict[str, Any], specials: dict[str, Any]):
        self.vocab_file = vocab_file
        self.vocab: dict[str, int] = {}
        self.__dict__.update(attributes)
        for key, value in specials.items():
            setattr(self, key, str(value))
        # BertConverter reads the settings from the slow tokenizer's BasicTokenizer.
        self.basic_tokenizer = self

    def convert_tokens_to_ids(self, token: str) -> int:
        return self.vocab[token]

    @property
    def cls_token_id(self) -> int:
        return self.vocab[self.cls_token]

    @property
    def sep_token_id(self) -> int:
        return self.vocab[self.sep_token]


def _read_wordpiece_vocab(path: str) -> dict[str, int]:
    """``vocab.txt`` as 4.57's ``load_vocab`` read it: one token a line, ids by line number."""
    vocab: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            vocab[line.rstrip("\n")] = index
    return vocab


def convert_like_transformers_4(vocab_path: str, recipe: _Converted, settings: dict[str, Any]):
    """Build the ``tokenizers.Tokenizer`` transformers 4.57 built from ``vocab_path``.

    The converter classes are transformers' own (unchanged since 4.57); the stand-in gives them
    the slow tokenizer's settings: its defaults overridden by ``tokenizer_config.json``. The
    wrapper's copy puts Unigram scores through one JSON round trip, as saving to tokenizer.json
    does: they may differ from 4.57's in-memory ones in the last bit (ids on XQuAD-vi: none).
    """
    # The module, by path: the package exports a function of the same name.
    converters = importlib.import_module("transformers.convert_slow_tokenizer")

    attributes = {key: settings.get(key, default) for key, default in recipe.attributes.items()}
    specials = _specials(recipe, settings)
    slow = _SlowStandIn(vocab_path, attributes, specials)
    converter_class = getattr(converters, recipe.converter)
    if recipe.vocab_file.endswith(".model"):
        converter = converter_class(slow)
        # The slow tokenizer's ids are the converter's vocabulary order (fairseq's offset for
        # XLM-R included), which the post-processor asks for by token.
        slow.vocab = {
            piece: i for i, (piece, _score) in enumerate(converter.vocab(converter.proto))
        }
    else:
        slow.vocab = _read_wordpiece_vocab(vocab_path)
        converter = converter_class(slow)
    return converter.converted()


def _specials(recipe: _Converted | None, settings: dict[str, Any]) -> dict[str, Any]:
    """Named special tokens: the checkpoint's settings over the class's defaults."""
    defaults = recipe.specials if recipe else {}
    specials = {}
    for key in SPECIAL_KEYS:
        value = settings.get(key)
        if value is None:
            value = defaults.get(key)
            value = value() if callable(value) else value
        if value is not None:
            specials[key] = _special_token(value)
    return specials


def _guess_specials(backend) -> dict[str, Any]:
    """Special tokens of a ``tokenizer.json`` that came without settings: the XLM-R or BERT
    names that its vocabulary holds."""
    vocab = backend.get_vocab()
    for marker, family in (("<s>", _XLMR_SPECIALS), ("[CLS]", _BERT_SPECIALS)):
        if marker in vocab:
            tokens = {k: (v() if callable(v) else v) for k, v in family.items()}
            return {k: v for k, v in tokens.items() if str(v) in vocab}
    return {}


def _model_input_names(settings: dict[str, Any], class_name: str | None, config=None) -> list[str]:
    """The encodings the model takes: the checkpoint's own list, else its tokenizer class's
    (``token_type_ids`` for BERT and DeBERTa-v2, not for (XLM-)RoBERTa). A generic class
    (``PreTrainedTokenizerFast``, as checkpoints saved by transformers 5 name it) gets
    ``token_type_ids`` exactly when the model has segment embeddings (``type_vocab_size`` ≥ 2):
    a BERT saved that way was trained with them."""
    if settings.get("model_input_names"):
        return list(settings["model_input_names"])
    cls = None
    if class_name and class_name not in _GENERIC_CLASSES:
        from transformers.models.auto.tokenization_auto import tokenizer_class_from_name

        try:
            cls = tokenizer_class_from_name(class_name)
        except Exception:  # an unknown or remote-code class name: decide from the model
            cls = None
    if cls is not None:
        return list(cls.model_input_names)
    segments = getattr(config, "type_vocab_size", 2 if config is None else 0) or 0
    if segments >= 2:
        return ["input_ids", "token_type_ids", "attention_mask"]
    return ["input_ids", "attention_mask"]


def _model_max_length(settings: dict[str, Any], config) -> int | None:
    """``model_max_length`` (or the pre-4.0 ``max_len``); else the model's position count."""
    for key in ("model_max_length", "max_len"):
        value = settings.get(key)
        if isinstance(value, int) and 0 < value < _FALLBACK_MAX_LENGTH:
            return value
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        return positions - _POSITION_OFFSET.get(getattr(config, "model_type", ""), 0)
    return None


def wrap_backend(backend, settings, class_name, config=None, checkpoint="", recipe=None):
    """A ``PreTrainedTokenizerFast`` around ``backend`` (a ``tokenizers.Tokenizer`` or the path
    of a tokenizer.json), which it leaves as it is: only the named special tokens, input names
    and lengths come from the checkpoint's settings."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    # A path is read once by from_file; an object is deep-copied (a JSON round trip: ~1 s for
    # XLM-R's 250k pieces).
    is_file = isinstance(backend, (str, Path))
    source = {"tokenizer_file": str(backend)} if is_file else {"tokenizer_object": backend}
    specials = _specials(recipe, settings)
    if recipe is None and not specials:
        specials = _guess_specials(Tokenizer.from_file(str(backend)) if is_file else backend)
    extra = settings.get("additional_special_tokens") or settings.get("extra_special_tokens") or []
    if isinstance(extra, dict):  # transformers 5 saves {name: token}
        extra = list(extra.values())
    kwargs = {key: settings[key] for key in _WRAPPER_KEYS if key in settings}
    max_length = _model_max_length(settings, config)
    if max_length is not None:
        kwargs["model_max_length"] = max_length
    tokenizer = PreTrainedTokenizerFast(
        **source,
        name_or_path=checkpoint,
        model_input_names=_model_input_names(settings, class_name, config),
        **({"additional_special_tokens": [_special_token(t) for t in extra]} if extra else {}),
        **specials,
        **kwargs,
    )
    return tokenizer
