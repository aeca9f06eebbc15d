"""The checkpoint's own tokenizer, on look-alikes of the real layouts (tests/real_layouts.py).

With ``tokenizer.json``: ids, offsets and type ids equal ``tokenizers.Tokenizer.from_file`` on
every XQuAD-vi question and passage and on hand-made whitespace/normalizer cases.

Without it: the pipeline equals what transformers 4.57.1 built for the same look-alike. The
``*_457`` constants below were captured once from ``AutoTokenizer.from_pretrained(...)
.backend_tokenizer`` in a throwaway venv (``pip install transformers==4.57.1 sentencepiece
protobuf``, tokenizers 0.22.2), where encoding all 1,190 XQuAD-vi questions, 240 passages and the
question/passage pairs also gave the same ids, type ids and offsets as ``load_tokenizer`` here
(0 differences in every layout). The SentencePiece layout is also checked against the
``sentencepiece`` library itself, which 4.57's slow XLM-R tokenizer wrapped.
"""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from real_layouts import (
    VI_MRC_EXAMPLE,
    deepset_xlmr_squad2,
    mbert_qa,
    mdeberta_v3_squad2,
    phobert_qa,
    plain_encoder,
    spm_proto,
    vi_mrc_base,
)

from qa_core.model.tokenizers import load_tokenizer, tokenizer_class_name

WITH_TOKENIZER_JSON = ["vi-mrc-base", "vi-mrc-base-no-class", "mdeberta-v3-base-squad2", "plain"]
# Whitespace runs, zero-width and byte-order marks, NFKC-folded characters, specials as text.
EDGE = [
    "a\u200bb",
    "Hà\u200b Nội",
    "\ufeffĐầu đoạn",
    "\u200b",
    "hai  dấu cách",
    "ba   dấu cách",
    "cuối câu ",
    "cuối câu  ",
    " đầu câu",
    "chờ đã… rồi đi",
    "½ cốc nước",
    "x\u00a0y",
    "tab\tvà\nxuống dòng",
    "  ",
    "",
    "Hà Nội  \u200b  ",
    "<mask> và <s> hay [CLS] [MASK]",
]

XLMR_PIPELINE_457 = {
    "normalizer": {
        "type": "Sequence",
        "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": "CHARSMAP"},
            {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "▁"},
        ],
    },
    "pre_tokenizer": {
        "type": "Metaspace",
        "replacement": "▁",
        "prepend_scheme": "always",
        "split": True,
    },
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [
            {"SpecialToken": {"id": "<s>", "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": "</s>", "type_id": 0}},
        ],
        "pair": [
            {"SpecialToken": {"id": "<s>", "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": "</s>", "type_id": 0}},
            {"SpecialToken": {"id": "</s>", "type_id": 0}},
            {"Sequence": {"id": "B", "type_id": 0}},
            {"SpecialToken": {"id": "</s>", "type_id": 0}},
        ],
        "special_tokens": {
            "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]},
            "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
        },
    },
    "added_tokens": [
        (0, "<s>", False),
        (1, "<pad>", False),
        (2, "</s>", False),
        (3, "<unk>", False),
        ("MASK_ID", "<mask>", True),  # (id, content, lstrip); all special, none normalized
    ],
    "model": {"type": "Unigram", "unk_id": 3, "byte_fallback": False},
}
BERT_PIPELINE_457 = {
    "normalizer": {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": True,
        "strip_accents": None,
        "lowercase": False,
    },
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [
            {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
        ],
        "pair": [
            {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            {"Sequence": {"id": "B", "type_id": 1}},
            {"SpecialToken": {"id": "[SEP]", "type_id": 1}},
        ],
        "special_tokens": {
            "[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
            "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]},
        },
    },
    "added_tokens": [
        (0, "[PAD]", False),
        (100, "[UNK]", False),
        (101, "[CLS]", False),
        (102, "[SEP]", False),
        (103, "[MASK]", False),
    ],
    "model": {
        "type": "WordPiece",
        "unk_token": "[UNK]",
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
    },
}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    root = tmp_path_factory.mktemp("layouts")
    return {
        "vi-mrc-base": vi_mrc_base(root / "vi-mrc-base"),
        "vi-mrc-base-no-class": vi_mrc_base(root / "vi-mrc-no-class", tokenizer_class=None),
        "mdeberta-v3-base-squad2": mdeberta_v3_squad2(root / "mdeberta-v3-base-squad2"),
        "plain": plain_encoder(root / "plain"),
        "xlm-roberta-base-squad2": deepset_xlmr_squad2(root / "xlm-roberta-base-squad2"),
        "mbert": mbert_qa(root / "mbert"),
        "phobert": phobert_qa(root / "qa-model-vi"),
    }


def _load(path, **hub):
    from transformers import AutoConfig

    return load_tokenizer(str(path), AutoConfig.from_pretrained(path, **hub), **hub)


@pytest.fixture(scope="module")
def xquad_texts(xquad_path):
    """Every XQuAD-vi passage and question, and every (question, passage) pair."""
    data = json.loads(xquad_path.read_text(encoding="utf-8"))
    paragraphs = [p for article in data["data"] for p in article["paragraphs"]]
    passages = [p["context"] for p in paragraphs]
    pairs = [(qa["question"], p["context"]) for p in paragraphs for qa in p["qas"]]
    return passages, [q for q, _ in pairs], pairs


def _file_tokenizer(path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path / "tokenizer.json"))


def _differences(tokenizer, reference, texts, pairs: bool = False) -> dict[str, int]:
    """How many of ``texts`` the two tokenize differently (ids, offsets, type ids)."""
    if pairs:
        enc = tokenizer([q for q, _ in texts], [c for _, c in texts], return_offsets_mapping=True)
    else:
        enc = tokenizer(list(texts), return_offsets_mapping=True)
    ref = reference.encode_batch(list(texts))
    counts = {"input_ids": 0, "offset_mapping": 0, "token_type_ids": 0}
    for i, r in enumerate(ref):
        counts["input_ids"] += enc["input_ids"][i] != r.ids
        counts["offset_mapping"] += [tuple(o) for o in enc["offset_mapping"][i]] != r.offsets
        if "token_type_ids" in enc:
            counts["token_type_ids"] += enc["token_type_ids"][i] != r.type_ids
    return counts


NONE = {"input_ids": 0, "offset_mapping": 0, "token_type_ids": 0}


@pytest.mark.parametrize("name", WITH_TOKENIZER_JSON)
def test_tokenizer_json_is_loaded_verbatim(layouts, name):
    tok = _load(layouts[name])
    loaded = json.loads(tok.backend_tokenizer.to_str())
    own = json.loads(_file_tokenizer(layouts[name]).to_str())
    for part in ("normalizer", "pre_tokenizer", "model", "post_processor", "decoder"):
        assert loaded[part] == own[part], part
    assert loaded["added_tokens"] == own["added_tokens"]
    assert (
        tok.is_fast and not tok.backend_tokenizer.truncation and not tok.backend_tokenizer.padding
    )


@pytest.mark.parametrize("name", WITH_TOKENIZER_JSON)
def test_same_ids_and_offsets_on_every_xquad_text(layouts, xquad_texts, name):
    passages, questions, pairs = xquad_texts
    tok, reference = _load(layouts[name]), _file_tokenizer(layouts[name])
    assert _differences(tok, reference, passages) == NONE
    assert _differences(tok, reference, questions) == NONE
    assert _differences(tok, reference, pairs, pairs=True) == NONE


@pytest.mark.parametrize("name", WITH_TOKENIZER_JSON)
def test_same_ids_and_offsets_on_whitespace_and_normalizer_cases(layouts, name):
    tok, reference = _load(layouts[name]), _file_tokenizer(layouts[name])
    assert _differences(tok, reference, EDGE) == NONE
    assert _differences(tok, reference, list(zip(EDGE, EDGE[::-1])), pairs=True) == NONE


def test_mdeberta_keeps_its_nmt_nfkc_normalizer(layouts):
    tok = _load(layouts["mdeberta-v3-base-squad2"])
    for text in ("a\u200bb", "\ufeffb", "chờ đã…", "½"):
        tokens = tok.convert_ids_to_tokens(tok(text)["input_ids"])
        assert "[UNK]" not in tokens, (text, tokens)
    assert "".join(tok.tokenize("½")).replace("▁", "") == "1⁄2"
    assert tok.tokenize("…").count(".") == 3


def test_xlmr_keeps_its_whitespace_tokens(layouts):
    # XLM-R's own tokenizer.json gives a lone "▁" for a double or trailing space.
    tok = _load(layouts["vi-mrc-base"])
    assert (
        tok.tokenize("hai  dấu")
        == _file_tokenizer(layouts["vi-mrc-base"])
        .encode("hai  dấu", add_special_tokens=False)
        .tokens
    )
    assert "▁" in tok.tokenize("hai  dấu") and tok.tokenize("cuối ")[-1] == "▁"


def test_the_look_alikes_reproduce_what_transformers_5_rebuilds(layouts):
    """Why ``load_tokenizer`` exists: ``AutoTokenizer`` in transformers 5 differs from each file."""
    from transformers import AutoTokenizer

    def auto(name):
        return AutoTokenizer.from_pretrained(layouts[name])

    xlmr, file_xlmr = auto("vi-mrc-base"), _file_tokenizer(layouts["vi-mrc-base"])
    assert xlmr("hai  dấu")["input_ids"] != file_xlmr.encode("hai  dấu").ids
    mdeberta = auto("mdeberta-v3-base-squad2")
    assert mdeberta.unk_token_id in mdeberta("chờ đã…")["input_ids"]
    no_class = auto("vi-mrc-base-no-class")
    assert type(no_class.backend_tokenizer.model).__name__ == "BPE"


def test_roberta_typed_checkpoint_without_tokenizer_class_keeps_its_unigram(layouts):
    tok = _load(layouts["vi-mrc-base-no-class"])
    assert type(tok.backend_tokenizer.model).__name__ == "Unigram"
    assert "ByteLevel" not in tok.backend_tokenizer.to_str()
    assert tok.tokenize("người") == ["▁người"]


def _pipeline(tok) -> dict:
    data = json.loads(tok.backend_tokenizer.to_str())
    data["added_tokens"] = [
        (t["id"], t["content"], t["lstrip"])
        for t in data["added_tokens"]
        if t["special"] and not t["normalized"] and not t["rstrip"] and not t["single_word"]
    ]
    data["model"] = {k: v for k, v in data["model"].items() if k != "vocab"}
    return {key: data[key] for key in XLMR_PIPELINE_457}


def test_sentencepiece_only_converts_as_transformers_457(layouts):
    path = layouts["xlm-roberta-base-squad2"]
    tok = _load(path)
    proto = spm_proto((path / "sentencepiece.bpe.model").read_bytes())
    expected = json.loads(
        json.dumps(XLMR_PIPELINE_457)
        .replace("CHARSMAP", base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode())
        .replace('"MASK_ID"', str(len(proto.pieces) + 1))
    )
    expected["added_tokens"] = [tuple(t) for t in expected["added_tokens"]]
    assert _pipeline(tok) == expected
    # fairseq's vocabulary: <s> <pad> </s> <unk>, the pieces after SentencePiece's three, <mask>.
    vocab = json.loads(tok.backend_tokenizer.to_str())["model"]["vocab"]
    assert [p for p, _ in vocab] == ["<s>", "<pad>", "</s>", "<unk>"] + [
        p.piece for p in proto.pieces[3:]
    ] + ["<mask>"]
    assert tok.model_input_names == ["input_ids", "attention_mask"]
    assert tok.model_max_length == 512 and tok.mask_token == "<mask>"


def _sentencepiece_ids(processor, text: str) -> list[int]:
    """What 4.57's slow XLMRobertaTokenizer gave: SentencePiece ids moved by fairseq's offset."""
    return [0] + [3 if i == 0 else i + 1 for i in processor.encode(text)] + [2]


def test_sentencepiece_only_gives_sentencepiece_ids(layouts, xquad_texts):
    import sentencepiece

    path = layouts["xlm-roberta-base-squad2"]
    tok = _load(path)
    processor = sentencepiece.SentencePieceProcessor(
        model_file=str(path / "sentencepiece.bpe.model")
    )
    passages, questions, _ = xquad_texts
    texts = passages + questions + [t for t in EDGE if "<" not in t]  # specials stay whole
    ids = tok(texts)["input_ids"]
    assert [i for i, t in enumerate(texts) if ids[i] != _sentencepiece_ids(processor, t)] == []


def test_vocab_txt_only_converts_as_transformers_457(layouts):
    path = layouts["mbert"]
    tok = _load(path)
    assert _pipeline(tok) == {
        **BERT_PIPELINE_457,
        "added_tokens": [tuple(t) for t in BERT_PIPELINE_457["added_tokens"]],
    }
    vocab = json.loads(tok.backend_tokenizer.to_str())["model"]["vocab"]
    assert list(vocab) == (path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert tok.model_max_length == 512  # from the pre-4.0 "max_len"
    enc = tok("Ai?", "Hà Nội")
    assert "token_type_ids" in tok.model_input_names
    tokens = tok.convert_ids_to_tokens(enc["input_ids"])
    first = tokens.index("[SEP]") + 1  # [CLS] question [SEP]
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and first < len(tokens) - 1
    assert enc["token_type_ids"] == [0] * first + [1] * (len(tokens) - first)


def test_token_type_ids_only_where_the_model_has_segments(layouts, tiny_checkpoints):
    assert "token_type_ids" not in _load(layouts["vi-mrc-base"]).model_input_names
    # A BERT saved by transformers 5 names only the generic class; its config has 2 segments.
    assert "token_type_ids" in _load(tiny_checkpoints["wordpiece"]).model_input_names
    # XLM-R's template gives every token segment 0, so a model with segment embeddings sees
    # what it sees without them.
    unigram = _load(tiny_checkpoints["unigram"])
    assert set(unigram("Ai?", "Hà Nội").get("token_type_ids", [0])) == {0}


def test_slow_only_phobert_stays_slow_for_the_loader_to_wrap(layouts):
    tok = _load(layouts["phobert"])
    assert not tok.is_fast  # qa_core.model.loading wraps it (qa_core.model.phobert)


def test_saved_and_reloaded_tokenizer_is_the_same(layouts, tmp_path):
    tok = _load(layouts["mdeberta-v3-base-squad2"])
    tok.save_pretrained(tmp_path)
    shutil.copy(layouts["mdeberta-v3-base-squad2"] / "config.json", tmp_path)
    again = _load(tmp_path)
    assert again.backend_tokenizer.to_str() == tok.backend_tokenizer.to_str()
    assert again.model_input_names == tok.model_input_names
    assert again.special_tokens_map == tok.special_tokens_map


def test_hub_ids_resolve_through_the_hub_cache(layouts, tmp_path):
    """A Hub id read from a download cache laid out as huggingface_hub writes it, offline."""
    source, commit = layouts["vi-mrc-base"], "0" * 40
    repo = tmp_path / "models--nguyenvulebinh--vi-mrc-base"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(source, repo / "snapshots" / commit)
    (repo / "snapshots" / commit / "pytorch_model.bin").unlink()
    tok = _load("nguyenvulebinh/vi-mrc-base", local_files_only=True, cache_dir=str(tmp_path))
    assert tok.backend_tokenizer.to_str() == _load(source).backend_tokenizer.to_str()


def test_tokenizer_class_name():
    from transformers import BertConfig, RobertaConfig

    assert tokenizer_class_name({"tokenizer_class": "XLMRobertaTokenizerFast"}) == (
        "XLMRobertaTokenizer"
    )
    assert tokenizer_class_name({}, RobertaConfig(tokenizer_class="PhobertTokenizer")) == (
        "PhobertTokenizer"
    )
    assert tokenizer_class_name({}, BertConfig()) == "BertTokenizer"
    assert tokenizer_class_name({}) is None


@pytest.mark.parametrize("variant", ["vi-mrc-base", "vi-mrc-base-no-class"])
def test_reader_on_vi_mrc_base_uses_its_unigram_tokenizer(layouts, variant):
    from qa_core import load_reader

    reader = load_reader(str(layouts[variant]), device="cpu", dtype="float32")
    assert type(reader.tokenizer.backend_tokenizer.model).__name__ == "Unigram"
    pred = reader.answer(VI_MRC_EXAMPLE["question"], VI_MRC_EXAMPLE["context"], include_tokens=True)
    context = VI_MRC_EXAMPLE["context"]
    assert pred.answers and all(context[a.start : a.end] == a.text for a in pred.answers)
    # Whole Vietnamese words, as the checkpoint's Unigram splits them, not bytes.
    assert any(t.text.strip() == "người" for t in pred.tokens)


def test_tokenizer_json_without_settings_names_its_own_special_tokens(layouts, tmp_path):
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(layouts["vi-mrc-base"] / name, tmp_path)
    tok = _load(tmp_path)
    assert (tok.cls_token, tok.sep_token, tok.pad_token, tok.mask_token) == (
        "<s>",
        "</s>",
        "<pad>",
        "<mask>",
    )
    assert tok.model_max_length == 512  # 514 positions less RoBERTa's padding offset


def test_a_hub_id_missing_from_an_offline_cache_raises(tmp_path):
    with pytest.raises(OSError):
        load_tokenizer("nobody/no-such-model", None, local_files_only=True, cache_dir=tmp_path)
