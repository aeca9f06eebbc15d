"""Tiny, random-weight look-alikes of the public checkpoints users bring, laid out file by file.

Each builder writes, under the directory it is given, the files a real Hub checkpoint has (names,
config fields, tokenizer files, weights saved the old way) with a tiny model (hidden 32, 2 layers)
and a tokenizer trained on the bundled sample text. Weights are random: these test *loading*,
tokenization and error paths, not answers. The public facts each copies are in its docstring.

The SentencePiece models are trained with the ``sentencepiece`` package itself and its default
``nmt_nfkc`` normalization rule, as XLM-R's and mDeBERTa's were, so their ``precompiled_charsmap``
is the same built-in table the real files carry (U+200B and U+FEFF dropped, ``…`` to ``...``,
``½`` to ``1⁄2``).

Usage (a session-scoped fixture builds each once, in well under a second)::

    from real_layouts import vi_mrc_base  # tests/ is on sys.path under pytest
    path = vi_mrc_base(tmp_path / "vi-mrc-base")
"""

from __future__ import annotations

import base64
import functools
import io
import json
import string
import unicodedata
from collections.abc import Callable
from pathlib import Path

from qa_core.model.tiny import sample_texts

HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
SPM_VOCAB = 800

# The example on nguyenvulebinh/vi-mrc-base's model card (answer at characters 45-68).
VI_MRC_EXAMPLE = {
    "question": "Bình là chuyên gia về gì ?",
    "context": (
        "Bình Nguyễn là một người đam mê với lĩnh vực xử lý ngôn ngữ tự nhiên . "
        "Anh nhận chứng chỉ Google Developer Expert năm 2020"
    ),
    "answer": "xử lý ngôn ngữ tự nhiên",
    "start": 45,
    "end": 68,
}

# special_tokens_map.json of XLM-R and of BERT-style checkpoints, key by key.
_XLMR_SPECIALS = dict(
    bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>", pad_token="<pad>",
    cls_token="<s>", mask_token="<mask>",
)  # fmt: skip
_BERT_SPECIALS = dict(
    unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]"
)


# ---------------------------------------------------------------------------------------------
# Shared pieces: text, SentencePiece models, files


def _alphabet() -> str:
    """Every Vietnamese letter with every tone, both cases, plus ASCII: so the tiny vocabularies
    cover the characters of real Vietnamese text (XQuAD-vi) instead of mapping them to unknown."""
    vowels = "aăâeêioôơuưy"
    toned = [
        unicodedata.normalize("NFC", v + t)
        for v in vowels
        for t in "\u0300\u0301\u0309\u0303\u0323"
    ]
    letters = vowels + "đ" + "".join(toned) + string.ascii_lowercase
    # "⁄" (U+2044) is what nmt_nfkc makes of "½"
    return " ".join([letters, letters.upper(), string.digits, string.punctuation, "⁄"])


@functools.cache
def _texts() -> tuple[str, ...]:
    return (*sample_texts(), *[_alphabet()] * 3)


@functools.cache
def train_spm(pad_id: int, unk_id: int, bos_id: int, eos_id: int, **pieces: str) -> bytes:
    """A serialized SentencePiece unigram model trained on the sample text with ``nmt_nfkc``.

    The ids say where the control pieces sit: XLM-R's ``sentencepiece.bpe.model`` has
    ``<unk>=0, <s>=1, </s>=2`` and no pad (fairseq adds one); mDeBERTa's ``spm.model`` has
    ``[PAD]=0, [CLS]=1, [SEP]=2, [UNK]=3``.
    """
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_texts()),
        model_writer=out,
        vocab_size=SPM_VOCAB,
        model_type="unigram",
        normalization_rule_name="nmt_nfkc",
        character_coverage=1.0,
        pad_id=pad_id,
        unk_id=unk_id,
        bos_id=bos_id,
        eos_id=eos_id,
        num_threads=1,
        minloglevel=2,
        **pieces,
    )
    return out.getvalue()


def _xlmr_spm() -> bytes:
    return train_spm(pad_id=-1, unk_id=0, bos_id=1, eos_id=2)


def _mdeberta_spm() -> bytes:
    return train_spm(
        pad_id=0,
        unk_id=3,
        bos_id=1,
        eos_id=2,
        pad_piece="[PAD]",
        unk_piece="[UNK]",
        bos_piece="[CLS]",
        eos_piece="[SEP]",
    )


def spm_proto(model: bytes):
    """The ``ModelProto`` of a serialized SentencePiece model (pieces, scores, normalizer)."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model)
    return proto


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _added(content: str, idx: int, lstrip: bool = False) -> dict:
    return {
        "id": idx,
        "content": content,
        "single_word": False,
        "lstrip": lstrip,
        "rstrip": False,
        "normalized": False,
        "special": True,
    }


def _template(first: str, sep: str, ids: dict[str, int], pair_type: int, double_sep: bool) -> dict:
    """A ``TemplateProcessing`` in tokenizer.json form: ``first A sep [sep] B sep``."""

    def special(tok: str, type_id: int = 0) -> dict:
        return {"SpecialToken": {"id": tok, "type_id": type_id}}

    def seq(name: str, type_id: int = 0) -> dict:
        return {"Sequence": {"id": name, "type_id": type_id}}

    pair = [special(first), seq("A"), special(sep)]
    if double_sep:
        pair.append(special(sep))
    pair += [seq("B", pair_type), special(sep, pair_type)]
    return {
        "type": "TemplateProcessing",
        "single": [special(first), seq("A"), special(sep)],
        "pair": pair,
        "special_tokens": {
            tok: {"id": tok, "ids": [ids[tok]], "tokens": [tok]} for tok in (first, sep)
        },
    }


# ---------------------------------------------------------------------------------------------
# Tokenizer files


def xlmr_tokenizer_json(model: bytes) -> dict:
    """XLM-R's ``tokenizer.json`` as published with ``xlm-roberta-base`` and copied by its fine-tunes.

    Public facts: a Unigram model whose vocabulary is the SentencePiece one shifted by fairseq's
    offset (``<s>=0, <pad>=1, </s>=2, <unk>=3``, pieces from id 4, ``<mask>`` last); the normalizer
    is the SentencePiece ``Precompiled`` charsmap alone; the pre-tokenizer and decoder are
    ``Metaspace`` in the old serialization (``add_prefix_space: true``, which splits on ``▁``, so
    a double or trailing space gives a lone ``▁`` token); the template is
    ``<s> A </s></s> B </s>``; ``<mask>`` strips the space on its left.
    """
    proto = spm_proto(model)
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
    vocab += [[p.piece, p.score] for p in proto.pieces[3:]]
    vocab.append(["<mask>", 0.0])
    ids = {"<s>": 0, "</s>": 2}
    metaspace = {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            _added("<s>", 0),
            _added("<pad>", 1),
            _added("</s>", 2),
            _added("<unk>", 3),
            _added("<mask>", len(vocab) - 1, lstrip=True),
        ],
        "normalizer": {
            "type": "Precompiled",
            "precompiled_charsmap": base64.b64encode(
                proto.normalizer_spec.precompiled_charsmap
            ).decode("ascii"),
        },
        "pre_tokenizer": metaspace,
        "post_processor": _template("<s>", "</s>", ids, pair_type=0, double_sep=True),
        "decoder": dict(metaspace),
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab},
    }


def mdeberta_tokenizer_json(model: bytes) -> dict:
    """mDeBERTa-v3's ``tokenizer.json``, as transformers 4.x's ``DebertaV2Converter`` wrote it.

    Public facts: Unigram over ``spm.model``'s pieces in their own order (``[PAD]=0, [CLS]=1,
    [SEP]=2, [UNK]=3``), ``[MASK]`` added after the last piece; normalizer
    ``Strip, Precompiled (nmt_nfkc), Replace(" {2,}", " ")``; pre-tokenizer ``Metaspace``
    (``prepend_scheme: always``); template ``[CLS] A [SEP] B:1 [SEP]:1``.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    proto = spm_proto(model)
    vocab = [(p.piece, p.score) for p in proto.pieces]
    tok = Tokenizer(Unigram(vocab, unk_id=proto.trainer_spec.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Strip(),
            normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    data = json.loads(tok.to_str())
    ids = {"[CLS]": 1, "[SEP]": 2}
    data["post_processor"] = _template("[CLS]", "[SEP]", ids, pair_type=1, double_sep=False)
    data["added_tokens"] = [
        _added("[PAD]", 0),
        _added("[CLS]", 1),
        _added("[SEP]", 2),
        _added("[UNK]", 3),
        _added("[MASK]", len(vocab)),
    ]
    return data


@functools.cache
def _wordpiece_vocab() -> tuple[str, ...]:
    """A cased WordPiece vocabulary in mBERT's order: ``[PAD]``, ``[unused1..99]``, ``[UNK]``,
    ``[CLS]``, ``[SEP]``, ``[MASK]``, then the pieces."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    head = ["[PAD]"] + [f"[unused{i}]" for i in range(1, 100)]
    head += ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        _texts(),
        trainers.WordPieceTrainer(vocab_size=1500, special_tokens=head, show_progress=False),
    )
    learned = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    return tuple(head + [t for t, _ in learned if t not in head])


@functools.cache
def _phobert_files() -> tuple[str, str]:
    """``(vocab.txt, bpe.codes)`` in fastBPE's format: ``token count`` lines (subwords that do not
    end a word carry ``@@``) and ``left right count`` merges (``</w>`` ends a word)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(
        _texts(),
        trainers.BpeTrainer(vocab_size=1200, end_of_word_suffix="</w>", show_progress=False),
    )
    model = json.loads(tok.to_str())["model"]
    words = []
    for token in sorted(model["vocab"], key=model["vocab"].get):
        words.append(token[: -len("</w>")] if token.endswith("</w>") else token + "@@")
    vocab = "".join(f"{w} {1000 - i % 1000}\n" for i, w in enumerate(dict.fromkeys(words)))
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    codes = "".join(f"{m} {len(merges) - i}\n" for i, m in enumerate(merges))
    return vocab, codes


# ---------------------------------------------------------------------------------------------
# Models and weights


def _save_config(out: Path, config, **overrides) -> None:
    data = config.to_dict()
    data.pop("_name_or_path", None)
    data.update(overrides)
    _write_json(out / "config.json", data)


def _save_bin(out: Path, state_dict: dict, legacy_pickle: bool = False) -> None:
    """``torch.save`` of a plain state dict: how ``pytorch_model.bin`` was written before
    safetensors (``legacy_pickle``: the pre-1.6 non-zip format of 2019-2020 uploads)."""
    import torch

    state = {k: v.detach().clone().contiguous() for k, v in state_dict.items()}
    torch.save(state, out / "pytorch_model.bin", _use_new_zipfile_serialization=not legacy_pickle)


def _pooler(prefix: str) -> dict:
    """Leftover pooler weights, as checkpoints fine-tuned from a pre-trained ``*Model`` carry."""
    import torch

    gen = torch.Generator().manual_seed(1)
    return {
        f"{prefix}.pooler.dense.weight": torch.randn(HIDDEN, HIDDEN, generator=gen) * 0.02,
        f"{prefix}.pooler.dense.bias": torch.zeros(HIDDEN),
    }


def _sizes(vocab_size: int, positions: int = 514) -> dict:
    return dict(
        vocab_size=vocab_size,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE,
        max_position_embeddings=positions,
    )


def _xlmr_model(vocab_size: int, qa: bool = True):
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForQuestionAnswering, XLMRobertaModel

    torch.manual_seed(0)
    config = XLMRobertaConfig(pad_token_id=1, bos_token_id=0, eos_token_id=2, **_sizes(vocab_size))
    return (XLMRobertaForQuestionAnswering if qa else XLMRobertaModel)(config)


def _xlmr_tokenizer_files(out: Path, tokenizer_class: str | None, json_file: bool) -> int:
    """Write XLM-R's tokenizer files; return the vocabulary size."""
    model = _xlmr_spm()
    (out / "sentencepiece.bpe.model").write_bytes(model)
    tok_json = xlmr_tokenizer_json(model)
    if json_file:
        _write_json(out / "tokenizer.json", tok_json)
    specials = dict(_XLMR_SPECIALS)
    specials["mask_token"] = {
        "content": "<mask>",
        "single_word": False,
        "lstrip": True,
        "rstrip": False,
        "normalized": False,
    }
    _write_json(out / "special_tokens_map.json", specials)
    tok_config = {**_XLMR_SPECIALS, "model_max_length": 512}
    if tokenizer_class:
        tok_config["tokenizer_class"] = tokenizer_class
    _write_json(out / "tokenizer_config.json", tok_config)
    return len(tok_json["model"]["vocab"])


# ---------------------------------------------------------------------------------------------
# The layouts


def vi_mrc_base(out: str | Path, tokenizer_class: str | None = "XLMRobertaTokenizer") -> Path:
    """Look-alike of ``nguyenvulebinh/vi-mrc-base`` (and ``-large``).

    Public facts: ``config.json`` names ``XLMRobertaForQuestionAnswering`` but says
    ``model_type: roberta`` (no ``tokenizer_class``); weights only as ``pytorch_model.bin``
    (a pickled state dict, no safetensors) with ``roberta.*`` and ``qa_outputs.*`` keys; XLM-R's
    Unigram ``tokenizer.json`` (see ``xlmr_tokenizer_json``) beside ``sentencepiece.bpe.model``,
    ``tokenizer_config.json`` with ``tokenizer_class: XLMRobertaTokenizer`` and
    ``special_tokens_map.json``. ``tokenizer_class=None`` writes the variant without it, where
    transformers 5 falls back to ``model_type: roberta`` and a byte-level BPE tokenizer.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab_size = _xlmr_tokenizer_files(out, tokenizer_class, json_file=True)
    model = _xlmr_model(vocab_size)
    _save_config(
        out, model.config, model_type="roberta", architectures=["XLMRobertaForQuestionAnswering"]
    )
    _save_bin(out, model.state_dict())
    return out


def deepset_xlmr_squad2(out: str | Path) -> Path:
    """Look-alike of ``deepset/xlm-roberta-base-squad2``.

    Public facts: ``model_type: xlm-roberta``, ``XLMRobertaForQuestionAnswering``; the tokenizer
    is only ``sentencepiece.bpe.model`` (XLM-R's ids: ``<unk>=0, <s>=1, </s>=2``), no
    ``tokenizer.json`` and no ``tokenizer_class``; ``pytorch_model.bin`` carries leftover
    ``roberta.pooler.*`` weights the QA model does not use.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab_size = _xlmr_tokenizer_files(out, tokenizer_class=None, json_file=False)
    _write_json(out / "tokenizer_config.json", {"do_lower_case": False, "model_max_length": 512})
    model = _xlmr_model(vocab_size)
    _save_config(out, model.config, architectures=["XLMRobertaForQuestionAnswering"])
    _save_bin(out, {**model.state_dict(), **_pooler("roberta")})
    return out


def mdeberta_v3_squad2(out: str | Path) -> Path:
    """Look-alike of ``timpal0l/mdeberta-v3-base-squad2``.

    Public facts: ``model_type: deberta-v2`` (relative attention, ``position_buckets: 256``,
    ``norm_rel_ebd: layer_norm``, ``pos_att_type: [p2c, c2p]``, no absolute positions,
    ``type_vocab_size: 0``), ``DebertaV2ForQuestionAnswering``; ``spm.model`` and the
    ``tokenizer.json`` converted from it with the ``nmt_nfkc`` ``Precompiled`` normalizer (see
    ``mdeberta_tokenizer_json``); ``tokenizer_config.json`` with
    ``tokenizer_class: DebertaV2Tokenizer``, ``added_tokens.json`` with ``[MASK]``.
    """
    import torch
    from transformers import DebertaV2Config, DebertaV2ForQuestionAnswering

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spm_model = _mdeberta_spm()
    (out / "spm.model").write_bytes(spm_model)
    tok_json = mdeberta_tokenizer_json(spm_model)
    _write_json(out / "tokenizer.json", tok_json)
    mask_id = tok_json["added_tokens"][-1]["id"]
    _write_json(out / "added_tokens.json", {"[MASK]": mask_id})
    specials = {**_BERT_SPECIALS, "bos_token": "[CLS]", "eos_token": "[SEP]"}
    _write_json(out / "special_tokens_map.json", specials)
    _write_json(
        out / "tokenizer_config.json",
        {
            **specials,
            "do_lower_case": False,
            "split_by_punct": False,
            "vocab_type": "spm",
            "sp_model_kwargs": {},
            "model_max_length": 512,
            "tokenizer_class": "DebertaV2Tokenizer",
        },
    )
    torch.manual_seed(0)
    config = DebertaV2Config(
        **_sizes(mask_id + 1, positions=512),
        relative_attention=True,
        position_buckets=256,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pos_att_type=["p2c", "c2p"],
        position_biased_input=False,
        max_relative_positions=-1,
        type_vocab_size=0,
        pad_token_id=0,
    )
    model = DebertaV2ForQuestionAnswering(config)
    _save_config(out, model.config, architectures=["DebertaV2ForQuestionAnswering"])
    _save_bin(out, model.state_dict())
    return out


def mbert_qa(out: str | Path) -> Path:
    """Look-alike of a multilingual BERT QA fine-tune (``bert-base-multilingual-cased`` + SQuAD).

    Public facts: ``model_type: bert``, ``BertForQuestionAnswering``; the tokenizer is
    ``vocab.txt`` alone (cased, mBERT's order with ``[unused*]`` slots) with
    ``tokenizer_config.json`` = ``{"do_lower_case": false, "max_len": 512}`` (the pre-4.0 key);
    ``pytorch_model.bin`` in the legacy (non-zip) pickle format with ``bert.pooler.*`` leftovers.
    """
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = _wordpiece_vocab()
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    _write_json(out / "tokenizer_config.json", {"do_lower_case": False, "max_len": 512})
    torch.manual_seed(0)
    model = BertForQuestionAnswering(BertConfig(pad_token_id=0, **_sizes(len(vocab), 512)))
    _save_config(out, model.config, architectures=["BertForQuestionAnswering"])
    _save_bin(out, {**model.state_dict(), **_pooler("bert")}, legacy_pickle=True)
    return out


def phobert_qa(out: str | Path) -> Path:
    """Look-alike of a PhoBERT QA fine-tune (``vinai/phobert-base`` + a QA head).

    Public facts: ``model_type: roberta`` with ``tokenizer_class: PhobertTokenizer`` in
    ``config.json`` and ``max_position_embeddings: 258``; the tokenizer is fastBPE's
    ``vocab.txt`` + ``bpe.codes`` (slow only, no ``tokenizer.json``). Call it with a folder not
    named "phobert": PhoBERT must be recognised by its files.
    """
    import torch
    from transformers import RobertaConfig, RobertaForQuestionAnswering

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab, codes = _phobert_files()
    (out / "vocab.txt").write_text(vocab, encoding="utf-8")
    (out / "bpe.codes").write_text(codes, encoding="utf-8")
    torch.manual_seed(0)
    size = 4 + vocab.count("\n") + 1  # <s> <pad> </s> <unk>, the file, <mask>
    config = RobertaConfig(
        pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1, **_sizes(size, 258)
    )
    model = RobertaForQuestionAnswering(config)
    _save_config(
        out,
        model.config,
        architectures=["RobertaForQuestionAnswering"],
        tokenizer_class="PhobertTokenizer",
    )
    _save_bin(out, model.state_dict())
    return out


def plain_encoder(out: str | Path) -> Path:
    """Look-alike of a pre-trained XLM-R encoder without a QA head (``XLMRobertaModel``).

    Public facts: ``model_type: xlm-roberta``, ``architectures: [XLMRobertaModel]``; weights
    without ``qa_outputs.*``; XLM-R's ``tokenizer.json`` and ``sentencepiece.bpe.model``.
    Loading it for QA gives a randomly initialised head.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab_size = _xlmr_tokenizer_files(out, "XLMRobertaTokenizer", json_file=True)
    model = _xlmr_model(vocab_size, qa=False)
    _save_config(out, model.config, architectures=["XLMRobertaModel"])
    _save_bin(out, model.state_dict())
    return out


LAYOUTS: dict[str, Callable[[str | Path], Path]] = {
    "vi-mrc-base": vi_mrc_base,
    "xlm-roberta-base-squad2": deepset_xlmr_squad2,
    "mdeberta-v3-base-squad2": mdeberta_v3_squad2,
    "mbert-qa": mbert_qa,
    "qa-model-vi": phobert_qa,  # deliberately not named "phobert"
    "plain-encoder": plain_encoder,
}


def build_all(root: str | Path) -> dict[str, Path]:
    """Every layout under ``root/<name>``; the names are the keys of ``LAYOUTS``."""
    return {name: build(Path(root) / name) for name, build in LAYOUTS.items()}
