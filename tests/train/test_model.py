"""train.model: the checkpoint to fine-tune loads through qa_core's loader and its errors."""

from __future__ import annotations

import warnings

import pytest

from qa_core.errors import UntrainedHeadWarning
from train.args import ModelArguments, TrainConfigError
from train.model import load_model_and_tokenizer


def test_a_base_encoder_loads_for_training_without_the_untrained_head_warning(
    tiny_checkpoints, tmp_path
):
    import torch
    from transformers import AutoModel, AutoTokenizer

    src = tiny_checkpoints["wordpiece"]
    AutoModel.from_pretrained(src).save_pretrained(tmp_path)  # encoder only, no qa_outputs
    AutoTokenizer.from_pretrained(src).save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrainedHeadWarning)
        model, tokenizer = load_model_and_tokenizer(
            ModelArguments(model_name_or_path=str(tmp_path)), str(tmp_path)
        )
    assert tokenizer.is_fast
    assert model.qa_outputs.weight.dtype == torch.float32


def test_a_missing_checkpoint_says_what_to_do(tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(TrainConfigError, match=r"does not exist.*tiny:unigram"):
        load_model_and_tokenizer(ModelArguments(model_name_or_path=missing), missing)


def test_mdeberta_trains_under_the_default_sdpa_setting(tmp_path, caplog):
    import logging

    import real_layouts

    path = str(real_layouts.mdeberta_v3_squad2(tmp_path / "mdeberta"))
    args = ModelArguments(model_name_or_path=path)
    assert args.attn_implementation == "sdpa"  # training's default
    with caplog.at_level(logging.INFO, logger="qa_core"):
        model, _ = load_model_and_tokenizer(args, path)
    assert model.config._attn_implementation == "eager"
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Loaded")]
    assert len(summary) == 1 and "DebertaV2ForQuestionAnswering" in summary[0]
    assert "does not support sdpa" in summary[0]


def test_a_broken_folder_is_not_sent_to_the_smoke_test(tmp_path):
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(TrainConfigError, match="config.json is not valid JSON"):
        load_model_and_tokenizer(ModelArguments(model_name_or_path=str(tmp_path)), str(tmp_path))


@pytest.mark.parametrize("family", ["unigram", "wordpiece"])
def test_attention_dropout_is_set_in_the_built_model_or_left_as_the_checkpoint_has_it(
    tiny_checkpoints, family
):
    from torch import nn

    path = str(tiny_checkpoints[family])

    def attention_dropouts(model) -> set[float]:
        return {
            module.dropout.p for module in model.modules()
            if type(module).__name__.endswith("SelfAttention")
            and isinstance(getattr(module, "dropout", None), nn.Dropout)
        }

    own, _ = load_model_and_tokenizer(ModelArguments(model_name_or_path=path), path)
    rate = own.config.attention_probs_dropout_prob
    assert attention_dropouts(own) == {rate} and rate > 0
    off, _ = load_model_and_tokenizer(
        ModelArguments(model_name_or_path=path, attention_dropout=0.0), path
    )
    assert attention_dropouts(off) == {0.0}
    assert off.config.attention_probs_dropout_prob == 0.0  # saved with the model: as trained
    assert off.config.hidden_dropout_prob == own.config.hidden_dropout_prob  # only attention's


def test_an_attention_dropout_out_of_range_is_refused():
    with pytest.raises(TrainConfigError, match=r"attention_dropout=1.5 must be in \[0, 1\)"):
        ModelArguments(model_name_or_path="tiny:unigram", attention_dropout=1.5)
