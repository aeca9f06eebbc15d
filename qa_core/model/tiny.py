"""Tiny, randomly initialised QA checkpoints built offline.

Tests, the training smoke preset and benchmarks need real checkpoints on disk that load through
exactly the path users take (``AutoTokenizer`` + ``AutoModelForQuestionAnswering``), without the
Hub. We train a tokenizer with ``tokenizers`` on text we ship and pair it with a small model made
from a config. Two families cover the tokenizers met in practice:

* ``"wordpiece"``: BERT-style (``[CLS] q [SEP] c [SEP]``, offsets never include spaces);
* ``"unigram"``: XLM-R/SentencePiece-style (``<s> q </s></s> c </s>``, ``▁`` word markers, offsets
  that may include the leading space).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

from qa_core.data.sources import SAMPLE_PATH

FAMILIES = ("wordpiece", "unigram")


@dataclass
class TinyModelConfig:
    """Size of a tiny checkpoint; the defaults train on a CPU in seconds."""

    family: str = "unigram"
    vocab_size: int = 2000
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 128
    max_position_embeddings: int = 514
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(
                f"Unknown tokenizer family {self.family!r}; expected one of {FAMILIES}."
            )


def sample_texts(path: Path = SAMPLE_PATH) -> Iterator[str]:
    """Contexts and questions of a SQuAD-format file: the text the tiny tokenizers learn from."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            yield paragraph["context"]
            for qa in paragraph["qas"]:
                yield qa["question"]


def _wordpiece_tokenizer(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special)
    tok.train_from_iterator(texts, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece()
    return tok


def _unigram_tokenizer(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFC()
    # Metaspace as in XLM-R (offsets keep the leading space); punctuation isolated, as XLM-R's
    # large vocabulary effectively does, so "1990." is "▁1990" + ".".
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
            pre_tokenizers.Punctuation(behavior="isolated"),
        ]
    )
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=special, unk_token="<unk>", max_piece_length=12
    )
    tok.train_from_iterator(texts, trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    # XLM-R's template: <s> A </s></s> B </s>.
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return tok


def build_tokenizer(family: str, texts: Iterable[str], vocab_size: int = 2000):
    """Train a fast tokenizer of ``family`` on ``texts`` and wrap it for transformers."""
    from transformers import PreTrainedTokenizerFast

    if family == "wordpiece":
        tok = _wordpiece_tokenizer(texts, vocab_size)
        specials = dict(
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
        )
    elif family == "unigram":
        tok = _unigram_tokenizer(texts, vocab_size)
        specials = dict(
            bos_token="<s>",
            eos_token="</s>",
            unk_token="<unk>",
            pad_token="<pad>",
            cls_token="<s>",
            sep_token="</s>",
            mask_token="<mask>",
        )
    else:
        raise ValueError(f"Unknown tokenizer family {family!r}; expected one of {FAMILIES}.")
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=512, **specials)


def build_model(config: TinyModelConfig, vocab_size: int):
    """A randomly initialised QA model whose shape follows ``config``."""
    import torch
    from transformers import AutoModelForQuestionAnswering, BertConfig, XLMRobertaConfig

    torch.manual_seed(config.seed)
    common = dict(
        vocab_size=vocab_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings,
    )
    if config.family == "wordpiece":
        model_config = BertConfig(pad_token_id=0, **common)
    else:
        model_config = XLMRobertaConfig(pad_token_id=1, bos_token_id=0, eos_token_id=2, **common)
    return AutoModelForQuestionAnswering.from_config(model_config)


def build_tiny_checkpoint(
    out_dir: str | Path,
    config: TinyModelConfig | None = None,
    texts: Iterable[str] | None = None,
) -> Path:
    """Write a tiny random QA checkpoint (tokenizer + model) to ``out_dir`` and return the path.

    ``texts`` defaults to the bundled Vietnamese sample data.
    """
    config = config or TinyModelConfig()
    texts = list(texts) if texts is not None else list(sample_texts())
    tokenizer = build_tokenizer(config.family, texts, config.vocab_size)
    model = build_model(config, len(tokenizer))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, tokenizer, model)
    return out


def save_checkpoint(out: Path, tokenizer, model) -> None:
    """``save_pretrained`` both, naming the tokenizer class so transformers 4.x loads it too."""
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False), encoding="utf-8")
