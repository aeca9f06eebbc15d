"""The look-alikes in tests/real_layouts.py carry the public facts they claim to copy."""

from __future__ import annotations

import json
import zipfile

import pytest
from real_layouts import LAYOUTS, build_all


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("real"))


def _config(path) -> dict:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def _weights(path) -> dict:
    import torch

    return torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)


FILES = {
    "vi-mrc-base": {
        "config.json", "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "sentencepiece.bpe.model",
    },
    "xlm-roberta-base-squad2": {
        "config.json", "pytorch_model.bin", "sentencepiece.bpe.model", "tokenizer_config.json",
        "special_tokens_map.json",
    },
    "mdeberta-v3-base-squad2": {
        "config.json", "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "spm.model", "added_tokens.json",
    },
    "mbert-qa": {"config.json", "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"},
    "qa-model-vi": {"config.json", "pytorch_model.bin", "vocab.txt", "bpe.codes"},
    "plain-encoder": {
        "config.json", "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "sentencepiece.bpe.model",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_files_as_published_and_no_safetensors(built, name):
    assert {p.name for p in built[name].iterdir()} == FILES[name]


def test_vi_mrc_base(built):
    path = built["vi-mrc-base"]
    config = _config(path)
    assert config["model_type"] == "roberta" and "tokenizer_class" not in config
    assert config["architectures"] == ["XLMRobertaForQuestionAnswering"]
    tok_config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["tokenizer_class"] == "XLMRobertaTokenizer"
    tok = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
    assert tok["model"]["type"] == "Unigram" and tok["normalizer"]["type"] == "Precompiled"
    assert tok["pre_tokenizer"]["type"] == "Metaspace"
    keys = set(_weights(path))
    assert all(k.startswith(("roberta.", "qa_outputs.")) for k in keys)
    assert {"qa_outputs.weight", "qa_outputs.bias"} <= keys


def test_deepset_xlmr_squad2(built):
    path = built["xlm-roberta-base-squad2"]
    tok_config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert "tokenizer_class" not in tok_config and "tokenizer_class" not in _config(path)
    assert any(k.startswith("roberta.pooler.") for k in _weights(path))


def test_mdeberta_v3_squad2(built):
    path = built["mdeberta-v3-base-squad2"]
    assert _config(path)["model_type"] == "deberta-v2"
    tok = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
    kinds = [n["type"] for n in tok["normalizer"]["normalizers"]]
    assert kinds == ["Strip", "Precompiled", "Replace"]
    tok_config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["tokenizer_class"] == "DebertaV2Tokenizer"


def test_mbert_qa_is_a_legacy_pickle(built):
    path = built["mbert-qa"]
    tok_config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config == {"do_lower_case": False, "max_len": 512}
    assert not zipfile.is_zipfile(path / "pytorch_model.bin")  # torch < 1.6's format
    assert any(k.startswith("bert.pooler.") for k in _weights(path))


def test_phobert_qa_is_recognisable_only_by_its_files(built):
    path = built["qa-model-vi"]
    config = _config(path)
    assert "phobert" not in path.name.lower()
    assert config["model_type"] == "roberta" and config["tokenizer_class"] == "PhobertTokenizer"
    assert config["max_position_embeddings"] == 258
    first = (path / "bpe.codes").read_text(encoding="utf-8").splitlines()[0].split()
    assert len(first) == 3 and first[2].isdigit()  # fastBPE: "left right count"


def test_plain_encoder_has_no_qa_head(built):
    path = built["plain-encoder"]
    assert _config(path)["architectures"] == ["XLMRobertaModel"]
    assert not any("qa_outputs" in k for k in _weights(path))
