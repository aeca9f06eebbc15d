"""PhoBERT's slow tokenizer with offsets: pieces land on the original text, ids are
PhobertTokenizer's, windows are the Rust tokenizers' windows, gold spans survive segmentation."""

from __future__ import annotations

import json
import pickle
import sys
import types
import unicodedata
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phobert_layout import awkward_texts, build_phobert_lookalike

from qa_core.errors import BrokenCheckpointError, InputError
from qa_core.model.phobert import (
    MAX_WINDOW_TOKENS,
    PhobertOffsetTokenizer,
    check_token_ids,
    is_phobert,
    window_ranges,
)
from qa_core.segmentation import move_tones, segment
from qa_core.textnorm import is_space
from qa_core.windows import (
    WindowConfig,
    label_window,
    mask_offsets,
    prepare_eval_features,
    prepare_train_features,
    tokenize_windows,
    truncate_questions,
)

QUESTION = "Thủ đô của Việt Nam là thành phố nào?"
CONTEXT = (
    "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam. Thủy điện Hòa Bình ở "
    "tỉnh Hòa Bình. Thành phố Hồ Chí Minh là thành phố lớn nhất cả nước."
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return build_phobert_lookalike(tmp_path_factory.mktemp("qa-model"))


@pytest.fixture(scope="module")
def slow(checkpoint):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def tok(slow):
    return PhobertOffsetTokenizer(slow, segmenter="underthesea")


# ---- the oracle: what each piece must read, from the original text alone ------------------------
def reading(text: str) -> list[tuple[str | None, int, int]]:
    """``text`` as PhoBERT should read it, independently of the adapter: per cluster (a letter
    and its marks) its NFC characters, each from its own position where NFC keeps the cluster
    as it is, else from the whole cluster; tone marks moved over the whole text; each
    whitespace run one joiner (``None``). With the span of ``text`` each came from."""
    chars = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]) and not is_space(text[i]):
            j += 1
        nfc = unicodedata.normalize("NFC", text[i:j])
        own = nfc == text[i:j]
        chars += [(c, i + n, i + n + 1) if own else (c, i, j) for n, c in enumerate(nfc)]
        i = j
    moved = move_tones("".join(c for c, _, _ in chars))
    out = []
    for (_, start, end), char in zip(chars, moved):
        if not is_space(char):
            out.append((char, start, end))
        elif out and out[-1][0] is None:
            out[-1] = (None, out[-1][1], end)
        else:
            out.append((None, start, end))
    return out


def piece_groups(encoded):
    """``(text, start, end)`` per piece ("@@" added by bpe removed: every piece of a word but
    its last carries it), pieces with overlapping spans merged: BPE can cut inside a composed
    character, whose parts then share its span."""
    groups = []
    for i, (piece, (start, end)) in enumerate(zip(encoded.pieces, encoded.offsets)):
        last = i == len(encoded.pieces) - 1 or not piece.endswith("@@")
        text = piece if last else piece[:-2]
        if groups and start < groups[-1][2]:
            groups[-1] = (groups[-1][0] + text, groups[-1][1], max(end, groups[-1][2]))
        else:
            groups.append((text, start, end))
    return groups


def check_pieces(text, encoded):
    """Every piece reads what its offsets cover (unknown pieces like any other: their text is
    bpe's, only their id is <unk>); offsets are ordered and cover every visible character."""
    chars = reading(text)
    starts = [s for _, s, _ in chars]
    prev_end = 0
    for piece_text, start, end in piece_groups(encoded):
        first, stop = bisect_left(starts, start), bisect_left(starts, end)
        inside = [k for k in range(first, stop) if chars[k][2] <= end]
        assert inside, (piece_text, start, end)
        read = "".join(chars[k][0] or "_" for k in inside)
        before = inside[0] > 0 and chars[inside[0] - 1][0] is None
        after = inside[-1] + 1 < len(chars) and chars[inside[-1] + 1][0] is None
        allowed = {read, "_" + read if before else read, read + "_" if after else read,
                   "_" + read + "_" if before and after else read}
        assert piece_text in allowed, (piece_text, text[start:end])
        assert start >= prev_end
        assert read == "_" or not (is_space(text[start]) or is_space(text[end - 1]))
        prev_end = end
    covered = {i for s, e in encoded.offsets for i in range(s, e)}
    assert all(i in covered for i, c in enumerate(text) if not is_space(c))


def slow_ids(slow, model_text):
    return slow.convert_tokens_to_ids(slow.tokenize(model_text, split_special_tokens=True))


# ---- one text -------------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(awkward_texts(), st.sampled_from(["underthesea", "none"]), st.booleans())
def test_pieces_land_on_the_original_text(slow, text, segmenter, tones):
    tok = PhobertOffsetTokenizer(slow, segmenter=segmenter, tones=tones)
    encoded = tok.encode_text(text)
    assert list(encoded.ids) == slow_ids(slow, tok.model_text(text))
    if tones:
        check_pieces(text, encoded)


@settings(deadline=None)
@given(st.text(max_size=40))
def test_any_text_gets_exact_offsets(tok, slow, text):
    encoded = tok.encode_text(text)
    assert list(encoded.ids) == slow_ids(slow, tok.model_text(text))
    check_pieces(text, encoded)


def test_a_worked_example(tok):
    text = unicodedata.normalize("NFD", "😀 Thủy điện Hòa Bình  ở\nđâu?")
    encoded = tok.encode_text(text)
    assert tok.model_text(text) == "😀 Thuỷ_điện Hoà_Bình ở đâu ?"  # NFC, tones moved
    pieces = [p.removesuffix("@@") for p in encoded.pieces]
    spans = [unicodedata.normalize("NFC", text[s:e]) for s, e in encoded.offsets]
    assert pieces[:2] == ["😀", "Thu"] and spans[:2] == ["😀", "Thủ"]  # "ủy" read as "uỷ"
    assert ("_", " ") in zip(pieces, spans)  # a piece of nothing but a joiner spans the space
    assert encoded.ids[0] == tok.unk_token_id  # the emoji is outside the vocabulary
    assert encoded.fallbacks == 0


def test_both_tone_placements_give_the_vocabularys_pieces(slow):
    # segmenter "none": underthesea may segment the two spellings differently
    tok = PhobertOffsetTokenizer(slow, segmenter="none")
    old, new = tok.encode_text("hòa bình thủy"), tok.encode_text("hoà bình thuỷ")
    assert old.ids == new.ids and old.offsets == new.offsets
    kept = PhobertOffsetTokenizer(slow, segmenter="none", tones=False)
    assert kept.encode_text("hòa bình thủy").ids != old.ids
    assert kept.encode_text("hoà bình thuỷ").ids == old.ids


def test_a_segmenter_that_loses_characters_costs_words_not_offsets(slow, monkeypatch):
    # pyvi, stubbed: it drops the "!" and rewrites "hòa" (the alignment folds tone marks away)
    text = "Hà Nội hòa bình! quá đẹp"
    pyvi = types.SimpleNamespace(tokenize={text: "Hà_Nội hoà_bình quá_đẹp"}.get)
    monkeypatch.setitem(sys.modules, "pyvi", types.SimpleNamespace(ViTokenizer=pyvi))
    tok = PhobertOffsetTokenizer(slow, segmenter="pyvi")
    enc = tok([text], [text], return_offsets_mapping=True)
    assert enc.alignment_fallbacks == [2]  # the stretch around "!", in each of the pair
    assert tok.model_text(text) == "Hà_Nội hoà_bình! quá_đẹp"  # plain syllables there
    check_pieces(text, tok.encode_text(text))


def test_markup_in_user_text_stays_text(tok):
    encoded = tok.encode_text("<s> <mask> </s>")
    specials = {tok.cls_token_id, tok.sep_token_id, tok.mask_token_id, tok.pad_token_id}
    assert not specials & set(encoded.ids)


# ---- windows --------------------------------------------------------------------------------------
def rust_twin(tok):
    """A fast tokenizer that reads the adapter's pieces (space-separated) as words, with
    PhoBERT's pair template: its windows are the reference for ours."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel(vocab=tok.get_vocab(), unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B:1 </s>:1",
        special_tokens=[("<s>", tok.cls_token_id), ("</s>", tok.sep_token_id)],
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(awkward_texts(max_words=8), awkward_texts(20, 120)),
                min_size=1, max_size=3),
       st.sampled_from([24, 32, 48, 64, MAX_WINDOW_TOKENS]), st.integers(0, 12))
def test_windows_are_the_rust_tokenizers_windows(tok, pairs, max_length, stride):
    questions = [q for q, _ in pairs]
    contexts = [c for _, c in pairs]
    longest = max(len(tok.encode_text(q).ids) for q in questions)
    if max_length - longest - 4 <= stride:
        return  # windows.py never asks for this (WindowConfig refuses it)
    kwargs = dict(truncation="only_second", max_length=max_length, stride=stride,
                  return_overflowing_tokens=True, return_offsets_mapping=True)
    ours = tok(questions, contexts, **kwargs)
    twin = rust_twin(tok)(
        [" ".join(tok.encode_text(q).pieces) for q in questions],
        [" ".join(tok.encode_text(c).pieces) for c in contexts], **kwargs,
    )
    assert ours["input_ids"] == twin["input_ids"]
    assert ours["overflow_to_sample_mapping"] == twin["overflow_to_sample_mapping"]
    for i, ids in enumerate(ours["input_ids"]):
        assert len(ids) <= max_length <= MAX_WINDOW_TOKENS
        assert ours.sequence_ids(i) == twin.sequence_ids(i)
        sample = ours["overflow_to_sample_mapping"][i]
        encoded = {0: tok.encode_text(questions[sample]), 1: tok.encode_text(contexts[sample])}
        seq = ours.sequence_ids(i)
        for offsets, s in zip(ours["offset_mapping"][i], seq):
            assert offsets == (0, 0) if s is None else offsets in encoded[s].offsets


def test_window_ranges_overlap_by_the_stride():
    ranges = window_ranges(100, 30, 7)
    assert ranges[0] == (0, 30) and ranges[-1][1] == 100
    for (a, b), (c, _) in pairwise(ranges):
        assert b - c == 7 and b - a == 30


def test_padding_and_tensors(tok):
    enc = tok([QUESTION, "Ai?"], [CONTEXT * 4, "Hà Nội"], truncation="only_second",
              max_length=64, stride=16, return_overflowing_tokens=True,
              return_offsets_mapping=True, padding="longest", return_tensors="np")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    assert ids.shape == mask.shape and enc["offset_mapping"].shape == (*ids.shape, 2)
    assert ids.shape[1] == 64 and (enc["overflow_to_sample_mapping"] == 1).sum() == 1
    last = len(ids) - 1  # the short pair, padded
    n_real = int(mask[last].sum())
    assert (ids[last, n_real:] == tok.pad_token_id).all() and mask[last, :n_real].all()
    assert enc.sequence_ids(last)[n_real:] == [None] * (64 - n_real)
    assert (enc["offset_mapping"][last, n_real:] == 0).all()
    assert (ids[:, 0] == tok.cls_token_id).all()


def test_windows_too_long_for_phobert_or_with_no_room_are_refused(tok):
    with pytest.raises(InputError, match="max_length=384 is longer than PhoBERT's windows of 256"):
        tok([QUESTION], [CONTEXT], truncation="only_second", max_length=384)
    with pytest.raises(InputError, match="doc_stride=30 must be smaller"):
        tok([QUESTION], [CONTEXT * 5], truncation="only_second", max_length=40, stride=30,
            return_overflowing_tokens=True)
    with pytest.raises(ValueError, match="only_second"):
        tok([QUESTION], [CONTEXT], truncation="longest_first", max_length=64)


# ---- what windows.py, the model and training do with it ------------------------------------------
def test_windows_py_uses_it_end_to_end(tok, checkpoint, monkeypatch):
    import torch
    from transformers import AutoModelForQuestionAnswering

    # windows.py still checks is_fast; the integration swaps that for gives_offsets.
    monkeypatch.setattr(tok, "is_fast", True, raising=False)
    config = WindowConfig(max_length=64, doc_stride=16, max_question_length=16)
    questions, cut = truncate_questions(tok, [QUESTION * 3], 16)
    assert cut == [True] and len(tok.encode_text(questions[0]).ids) <= 16
    enc = tokenize_windows(tok, [QUESTION], [CONTEXT * 3], config, padding="longest",
                           return_tensors="np")
    assert enc["offset_mapping"].shape[:2] == enc["input_ids"].shape
    model = AutoModelForQuestionAnswering.from_pretrained(checkpoint).eval()
    with torch.no_grad():
        out = model(input_ids=torch.as_tensor(enc["input_ids"]),
                    attention_mask=torch.as_tensor(enc["attention_mask"]))
    assert out.start_logits.shape == enc["input_ids"].shape
    examples = {"id": ["q"], "question": [QUESTION], "context": [CONTEXT * 3]}
    assert len(prepare_eval_features(examples, tok, config)["input_ids"]) == len(enc["input_ids"])


@settings(max_examples=60, deadline=None)
@given(awkward_texts(max_words=40), st.data())
def test_gold_spans_round_trip_through_forced_boundaries(tok, context, data):
    bounds = sorted({0, len(context)} | {
        i for i in range(1, len(context)) if not unicodedata.combining(context[i])
        or is_space(context[i - 1])})
    start = data.draw(st.sampled_from(bounds))
    end = data.draw(st.sampled_from([b for b in bounds if b > start] or [start]))
    while start < end and is_space(context[start]):
        start += 1
    while end > start and is_space(context[end - 1]):
        end -= 1
    if start == end:
        return
    enc = tok(["Ở đâu?"], [context], word_boundaries=[[start, end]],
              return_offsets_mapping=True)
    offsets = mask_offsets(enc, 1)[0]
    s, e = label_window(offsets, start, end, 0)
    assert (offsets[s][0], offsets[e][1]) == (start, end)
    words = segment(context, "underthesea").spans
    inside = sum(any(a < p < b for a, b in words) for p in {start, end})
    assert enc.forced_splits == [inside]


def test_training_labels_cover_exactly_the_answer(tok, monkeypatch):
    monkeypatch.setattr(tok, "is_fast", True, raising=False)
    start = CONTEXT.index("Chí Minh")  # inside the segmented word "Hồ_Chí_Minh"
    examples = {"question": ["Thành phố nào lớn nhất?"], "context": [CONTEXT],
                "answers": [{"text": ["Chí Minh"], "answer_start": [start]}]}
    config = WindowConfig(max_length=128, doc_stride=32, max_question_length=32)
    plain = prepare_train_features(examples, tok, config)
    enc = tok(examples["question"], examples["context"], word_boundaries=[[start, start + 8]],
              truncation="only_second", max_length=128, stride=32,
              return_overflowing_tokens=True, return_offsets_mapping=True)
    assert enc.forced_splits == [1]
    offsets = mask_offsets(enc, 1)[0]
    s, e = label_window(offsets, start, start + 8, 0)
    assert CONTEXT[offsets[s][0] : offsets[e][1]] == "Chí Minh"
    # prepare_train_features forces the same boundary: its label is the one above, and the
    # split it made is counted on the example's first window.
    assert (plain["start_positions"][0], plain["end_positions"][0]) == (s, e)
    assert plain["split_words"] == [1] + [0] * (len(plain["split_words"]) - 1)
    # Without the forced boundary the label could only hold the whole word.
    whole = tok(examples["question"], examples["context"], return_offsets_mapping=True)
    whole_offsets = mask_offsets(whole, 1)[0]
    ws, we = label_window(whole_offsets, start, start + 8, 0)
    assert CONTEXT[whole_offsets[ws][0] : whole_offsets[we][1]] == "Hồ Chí Minh"


def test_data_collator_pads_through_it(tok):
    from transformers import DataCollatorWithPadding

    features = [{"input_ids": tok([QUESTION], [c])["input_ids"][0], "start_positions": 0}
                for c in (CONTEXT, "Hà Nội")]
    batch = DataCollatorWithPadding(tok)(features)
    assert batch["input_ids"].shape[0] == 2 and batch["input_ids"][1, -1] == tok.pad_token_id
    assert batch["attention_mask"][1, -1] == 0


def test_saved_and_reloaded_with_its_segmenter(tok, tmp_path):
    from transformers import AutoTokenizer

    PhobertOffsetTokenizer(tok.tokenizer, segmenter="none", tones=False).save_pretrained(tmp_path)
    again = PhobertOffsetTokenizer.from_pretrained(tmp_path)
    assert (again.segmenter, again.tones) == ("none", False)
    assert type(AutoTokenizer.from_pretrained(tmp_path)).__name__ == "PhobertTokenizer"
    assert again.encode_text(CONTEXT).ids == PhobertOffsetTokenizer(
        tok.tokenizer, "none", False).encode_text(CONTEXT).ids
    assert again.cache_state() != tok.cache_state()
    assert tok.cache_state() == PhobertOffsetTokenizer(tok.tokenizer).cache_state()


def test_pickles_and_serves_threads(tok):
    again = pickle.loads(pickle.dumps(tok))
    assert again.encode_text(CONTEXT) == tok.encode_text(CONTEXT)
    enc = tok([QUESTION], [CONTEXT], return_offsets_mapping=True)
    assert pickle.loads(pickle.dumps(enc)).sequence_ids(0) == enc.sequence_ids(0)
    texts = [f"{CONTEXT} Câu {i}." for i in range(24)]
    serial = [tok([QUESTION], [t], return_offsets_mapping=True).data for t in texts]
    with ThreadPoolExecutor(6) as pool:
        threaded = list(pool.map(
            lambda t: tok([QUESTION], [t], return_offsets_mapping=True).data, texts))
    assert threaded == serial


# ---- which tokenizer, and whether it fits the model ---------------------------------------------
def test_is_phobert(tok, slow, checkpoint, tmp_path):
    assert is_phobert(tok) and is_phobert(slow) and is_phobert(checkpoint)
    assert is_phobert(str(checkpoint))
    assert not is_phobert(rust_twin(tok)) and not is_phobert(tmp_path)


def test_tokenizer_json_with_ids_past_the_model_is_refused(checkpoint, slow, tmp_path):
    vocab_size = json.loads((checkpoint / "config.json").read_text())["vocab_size"]
    check_token_ids(slow, vocab_size)  # the slow tokenizer fits its model
    check_token_ids(checkpoint, vocab_size)  # no tokenizer.json: nothing to refuse
    with pytest.raises(BrokenCheckpointError, match="ids up to") as info:
        check_token_ids(slow, vocab_size - 1, name="org/phobert-qa")
    assert info.value.params == {"name": "org/phobert-qa", "highest": vocab_size - 1,
                                 "last": vocab_size - 2}

    def added(i, content):
        return {"id": i, "content": content, "special": True}

    # The fork's layout: specials renumbered past the vocabulary.
    forked = {"added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(64000, "<mask>")],
              "model": {"type": "BPE", "vocab": {"a": 4}, "merges": []}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(forked))
    with pytest.raises(BrokenCheckpointError, match="64000") as info:
        check_token_ids(tmp_path, 64000)
    assert "Delete tokenizer.json" in str(info.value) and info.value.params["last"] == 63999
    check_token_ids(tmp_path / "tokenizer.json", 64001)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(BrokenCheckpointError, match="unreadable"):
        check_token_ids(tmp_path, 64001)


def test_the_lookalike_has_the_real_layout(checkpoint, slow):
    vocab = (checkpoint / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert all(len(line.rsplit(" ", 1)) == 2 and line.rsplit(" ", 1)[1].isdigit() for line in vocab)
    pieces = [line.rsplit(" ", 1)[0] for line in vocab]
    assert any(p.endswith("@@") for p in pieces) and any("_" in p.strip("_@") for p in pieces)
    assert not {"<s>", "<pad>", "</s>", "<unk>", "<mask>"} & set(pieces)
    assert (checkpoint / "bpe.codes").read_text(encoding="utf-8").endswith("\n")
    config = json.loads((checkpoint / "config.json").read_text())
    assert (config["max_position_embeddings"], config["pad_token_id"], config["type_vocab_size"],
            config["tokenizer_class"]) == (258, 1, 1, "PhobertTokenizer")
    assert config["vocab_size"] == len(slow) == 4 + len(pieces) + 1
    assert slow.mask_token_id == len(slow) - 1


# ---- real text ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_xquad_offsets_ids_and_answers(tok, slow, xquad_path):
    """Every XQuAD-vi passage: exact offsets, PhobertTokenizer's ids, no fallback; every gold
    answer labelled exactly through its forced boundaries."""
    data = json.loads(xquad_path.read_text(encoding="utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            encoded = tok.encode_text(context)
            assert encoded.fallbacks == 0
            assert list(encoded.ids) == slow_ids(slow, tok.model_text(context))
            check_pieces(context, encoded)
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = answer["answer_start"]
                end = start + len(answer["text"].rstrip())
                enc = tok([qa["question"]], [context], word_boundaries=[[start, end]],
                          return_offsets_mapping=True)
                offsets = mask_offsets(enc, 1)[0]
                s, e = label_window(offsets, start, end, 0)
                assert context[offsets[s][0] : offsets[e][1]] == answer["text"].strip()
