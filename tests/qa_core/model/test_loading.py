"""qa_core.model.loading on look-alikes of real checkpoint layouts: what loads, and what each broken
folder, impossible name, gated or half-cached Hub model says."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import warnings
from pathlib import Path

import pytest
import real_layouts

from qa_core.errors import (
    BrokenCheckpointError,
    CheckpointError,
    CheckpointNotFoundError,
    GatedCheckpointError,
    HubUnreachableError,
    InputError,
    InvalidHubIdError,
    NotAQAModelError,
    UntrainedHeadWarning,
)
from qa_core.model import folders, load_errors, loading
from qa_core.model.loading import load_components
from qa_core.reader import build_reader, load_reader

WRONG_ADVICE = "neither a local model directory nor a model on the Hub"


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, Path]:
    return real_layouts.build_all(tmp_path_factory.mktemp("layouts"))


@pytest.fixture
def copy_of(layouts, tmp_path):
    """A fresh copy of a layout, to break."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(layouts[name], tmp_path / name))

    return copy


# ---- the layouts load and answer --------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["vi-mrc-base", "xlm-roberta-base-squad2", "mdeberta-v3-base-squad2", "mbert-qa"]
)
def test_real_layouts_load_and_answer_with_exact_offsets(layouts, name):
    reader = build_reader(layouts[name], device="cpu", dtype="float32")
    example = real_layouts.VI_MRC_EXAMPLE
    pred = reader.answer(example["question"], example["context"], top_n=3)
    assert pred.answers and not pred.warnings
    for a in pred.answers:
        assert example["context"][a.start : a.end] == a.text == a.text.strip() != ""


def test_mdeberta_under_sdpa_falls_back_to_eager_and_says_so(layouts, caplog):
    with caplog.at_level(logging.INFO, logger="qa_core"):
        _, _, model = load_components(
            str(layouts["mdeberta-v3-base-squad2"]), attn_implementation="sdpa"
        )
    assert model.config._attn_implementation == "eager"
    assert any("does not support sdpa" in r.getMessage() for r in caplog.records)


def test_supported_attention_keeps_what_the_model_supports():
    class Both:
        _supports_sdpa = True

    class EagerOnly:
        _supports_sdpa = False

    assert loading.supported_attention(Both, "sdpa") == "sdpa"
    assert loading.supported_attention(EagerOnly, "sdpa") == "eager"
    assert loading.supported_attention(EagerOnly, "flash_attention_2") == "eager"
    assert loading.supported_attention(EagerOnly, None) is None


def test_phobert_is_known_by_its_files_and_answers_at_exact_offsets(layouts):
    from qa_core.model.phobert import PhobertOffsetTokenizer

    path = layouts["qa-model-vi"]
    assert "phobert" not in str(path).lower()
    assert folders.is_phobert(path)
    reader = load_reader(str(path), device="cpu", dtype="float32")
    assert isinstance(reader.tokenizer, PhobertOffsetTokenizer)
    assert reader.tokenizer.segmenter == "underthesea"
    assert reader.defaults.max_length == 256  # its 258 positions hold 256 tokens
    context = "Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa.  Thành Cổ Loa ở Đông Anh."
    pred = reader.answer("Ngô Quyền đóng đô ở đâu?", context, top_n=5, include_tokens=True)
    assert pred.answers and all(context[a.start:a.end] == a.text for a in pred.answers)
    assert all(context[t.start:t.end] == t.text for t in pred.tokens)
    with pytest.raises(InputError, match="256"):
        reader.answer("Ngô Quyền đóng đô ở đâu?", context, max_length=384)


def test_phobert_by_tokenizer_config_alone(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PhobertTokenizer"}))
    assert folders.is_phobert(tmp_path)
    assert not folders.is_phobert(tmp_path / "missing")


# ---- loading noise and the one line ----------------------------------------------------------
def test_loading_prints_no_report_or_bars_and_logs_one_line(layouts, capfd, caplog):
    from transformers.utils import logging as hf_logging

    before = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
    with caplog.at_level(logging.INFO, logger="qa_core"):
        # deepset's layout carries unused roberta.pooler.* weights: transformers 5 reports them.
        build_reader(layouts["xlm-roberta-base-squad2"], device="cpu", dtype="float32")
    err = capfd.readouterr().err
    assert "LOAD REPORT" not in err and "UNEXPECTED" not in err and "Loading weights" not in err
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("qa_core")]
    assert len(lines) == 1
    assert lines[0].startswith(f"Loaded {layouts['xlm-roberta-base-squad2']}: XLMRoberta")
    assert "parameters on cpu, float32;" in lines[0] and "library defaults" in lines[0]
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before


def test_quiet_transformers_restores_settings_after_concurrent_loads():
    from transformers.utils import logging as hf_logging

    before = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
    inside = threading.Barrier(4)

    def load():
        with loading.quiet_transformers():
            inside.wait(timeout=10)  # all four inside at once
            assert hf_logging.get_verbosity() == hf_logging.ERROR

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before


# ---- the untrained head ----------------------------------------------------------------------
@pytest.mark.parametrize("load", [build_reader, load_reader, load_components])
def test_untrained_head_warning_points_at_the_callers_line(layouts, load):
    kwargs = {} if load is load_components else {"device": "cpu", "dtype": "float32"}
    with pytest.warns(UntrainedHeadWarning, match="no trained question-answering head") as caught:
        load(str(layouts["plain-encoder"]), **kwargs)
    assert [w.filename for w in caught if w.category is UntrainedHeadWarning] == [__file__]


def test_untrained_head_warning_is_on_every_prediction(layouts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        reader = build_reader(layouts["plain-encoder"], device="cpu", dtype="float32")
    pred = reader.answer("Ai?", "Bình Nguyễn là chuyên gia.")
    assert len(pred.warnings) == 1 and "fine-tuned" in pred.warnings[0]
    assert pred.to_dict()["warnings"] == pred.warnings
    batch = reader.answer_batch(["Ai?"], ["Bình Nguyễn là chuyên gia."])
    assert batch[0].warnings == pred.warnings


# ---- not a QA model, and transformers' other ValueErrors ----------------------------------------
def test_an_architecture_without_a_qa_head_is_named(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "vit", "architectures": ["ViTModel"]})
    )
    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(NotAQAModelError, match="'vit' model, which has no question-answering"):
        load_components(str(tmp_path))


def test_other_value_errors_are_not_blamed_on_a_missing_qa_head(layouts, monkeypatch):
    from transformers import AutoModelForQuestionAnswering

    def fail(*args, **kwargs):
        raise ValueError("something else went wrong")

    monkeypatch.setattr(AutoModelForQuestionAnswering, "from_pretrained", fail)
    with pytest.raises(CheckpointError, match="something else went wrong") as err:
        load_components(str(layouts["mbert-qa"]))
    assert not isinstance(err.value, NotAQAModelError)


# ---- broken local folders --------------------------------------------------------------------
def _no_weights(path: Path) -> None:
    (path / "pytorch_model.bin").unlink()


def _empty_weights(path: Path) -> None:
    (path / "pytorch_model.bin").write_bytes(b"")


def _truncated_zip(path: Path) -> None:
    data = (path / "pytorch_model.bin").read_bytes()
    (path / "pytorch_model.bin").write_bytes(data[: len(data) // 2])


def _no_tokenizer(path: Path) -> None:
    for name in ("tokenizer.json", "sentencepiece.bpe.model"):
        (path / name).unlink()


def _malformed_config(path: Path) -> None:
    text = (path / "config.json").read_text()
    (path / "config.json").write_text(text[: len(text) // 2])


@pytest.mark.parametrize(
    ("breaking", "message"),
    [
        (_no_weights, r"has a config.json but no weights \(model.safetensors or pytorch_model.bin\)"),
        (_empty_weights, r"pytorch_model.bin is empty \(0 bytes\)"),
        (_truncated_zip, r"pytorch_model.bin is truncated"),
        (_malformed_config, r"config.json is not valid JSON"),
        (_no_tokenizer, r"it has no tokenizer files \(tokenizer.json, "),
    ],
)
def test_broken_folders_say_exactly_what_is_wrong(copy_of, breaking, message):
    path = copy_of("vi-mrc-base")
    breaking(path)
    with pytest.raises(BrokenCheckpointError, match=message) as err:
        load_reader(str(path), device="cpu")
    assert WRONG_ADVICE not in str(err.value)


def test_truncated_safetensors_is_named(copy_of):
    from transformers import AutoModelForQuestionAnswering

    path = copy_of("vi-mrc-base")
    model = AutoModelForQuestionAnswering.from_pretrained(path)
    (path / "pytorch_model.bin").unlink()
    model.save_pretrained(path)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[:-100])
    with pytest.raises(BrokenCheckpointError, match=r"model.safetensors is truncated"):
        load_components(str(path))


def test_truncated_legacy_pickle_is_named(copy_of):
    path = copy_of("mbert-qa")  # the pre-1.6 non-zip format: only loading can tell
    data = (path / "pytorch_model.bin").read_bytes()
    (path / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(BrokenCheckpointError, match="truncated or corrupt") as err:
        load_components(str(path))
    assert WRONG_ADVICE not in str(err.value)


def test_a_missing_shard_is_named(copy_of):
    path = copy_of("vi-mrc-base")
    index = {"metadata": {}, "weight_map": {"qa_outputs.weight": "model-00002-of-00002.safetensors"}}
    (path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(BrokenCheckpointError, match="model-00002-of-00002.safetensors .*is missing"):
        load_components(str(path))


# ---- names that are no checkpoint, gated and half-cached Hub models ----------------------------
@pytest.mark.parametrize("name", ["my model", "org/x<y>", "a&b", "tiny:unigram"])
def test_impossible_hub_ids_are_refused_as_such(name, monkeypatch):
    monkeypatch.setattr(loading, "hub_reachable", lambda: pytest.fail("the network was asked"))
    with pytest.raises(InvalidHubIdError, match="not a valid Hugging Face Hub id") as err:
        load_components(name)
    assert "reach" not in str(err.value)


def test_a_one_slash_path_under_an_existing_folder_is_a_path(tmp_path, monkeypatch):
    (tmp_path / "ckpt").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(loading, "hub_reachable", lambda: pytest.fail("the network was asked"))
    with pytest.raises(CheckpointNotFoundError, match="directory 'ckpt/does-not-exist' does not"):
        load_components("ckpt/does-not-exist")


def _fake_cache(cache: Path, hub_id: str, files: dict[str, bytes]) -> None:
    """The Hub cache's layout for ``hub_id`` holding only ``files`` (an interrupted download)."""
    repo = cache / f"models--{hub_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)


def test_a_half_cached_hub_model_offline_is_unreachable_not_missing(layouts, tmp_path):
    config = (layouts["vi-mrc-base"] / "config.json").read_bytes()
    _fake_cache(tmp_path, "someone/half-cached", {"config.json": config})
    with pytest.raises(HubUnreachableError, match="holds only part of 'someone/half-cached'") as err:
        load_components("someone/half-cached", cache_dir=str(tmp_path))
    assert "does not exist" not in str(err.value) and WRONG_ADVICE not in str(err.value)


def test_a_gated_model_says_where_to_accept_and_how_to_log_in(monkeypatch, tmp_path):
    import httpx2
    import huggingface_hub.constants
    import transformers.utils.hub
    from huggingface_hub.errors import GatedRepoError

    url = "https://huggingface.co/nguyenvulebinh/vi-mrc-base/resolve/main/config.json"

    def gated(*args, **kwargs):
        response = httpx2.Response(403, request=httpx2.Request("GET", url))
        raise GatedRepoError(f"403 Client Error. Cannot access gated repo for url {url}.",
                             response=response)

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(loading, "hub_reachable", lambda: True)
    monkeypatch.setattr(transformers.utils.hub, "hf_hub_download", gated)
    monkeypatch.setattr(transformers.utils.hub, "snapshot_download", gated)
    with pytest.raises(GatedCheckpointError) as err:
        load_components("nguyenvulebinh/vi-mrc-base", cache_dir=str(tmp_path))
    message = str(err.value)
    assert "gated" in message and "https://huggingface.co/nguyenvulebinh/vi-mrc-base" in message
    assert "hf auth login" in message and "HF_TOKEN" in message and "secret" in message
    assert WRONG_ADVICE not in message and "neither" not in message


def test_gated_errors_are_recognised_in_transformers_wrapping():
    wrapped = OSError("You are trying to access a gated repo.\nMake sure to have access to it at "
                      "https://huggingface.co/org/model.")
    assert isinstance(load_errors.hub_load_error("org/model", wrapped), GatedCheckpointError)


# ---- what counts as "could not reach the Hub" ------------------------------------------------
def _raised_from(cause: BaseException, message: str = "Could not load config.json") -> OSError:
    """``OSError(message)`` raised from ``cause``, as transformers re-raises the Hub's errors."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise OSError(message) from inner
    except OSError as outer:
        return outer


def _network_errors() -> list:
    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    return [
        # By type, under a message that names no network problem at all.
        _raised_from(httpx2.ConnectError("[Errno -3] nope")),
        _raised_from(httpx2.ConnectTimeout("slow")),
        _raised_from(LocalEntryNotFoundError("not in the cache")),
        _raised_from(OfflineModeIsEnabled("HF_HUB_OFFLINE=1")),
        _raised_from(ConnectionRefusedError(111, "refused")),
        # transformers' own wording, cause dropped.
        OSError("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't "
                "find them in the cached files."),
        OSError("HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded"),
        OSError("[Errno -2] Name or service not known"),
    ]


@pytest.mark.parametrize("exc", _network_errors(), ids=lambda e: str(e)[:30])
@pytest.mark.parametrize("partial", [False, True])
def test_network_errors_say_the_hub_is_unreachable(exc, partial):
    assert load_errors.is_network_error(exc)
    assert isinstance(load_errors.hub_load_error("org/model", exc, partial), HubUnreachableError)


def test_a_requests_connection_error_says_the_hub_is_unreachable():
    # huggingface_hub 0.x downloads with requests; later versions with httpx2.
    requests = pytest.importorskip("requests")
    exc = _raised_from(requests.exceptions.ConnectionError("boom"))
    assert isinstance(load_errors.hub_load_error("org/model", exc), HubUnreachableError)


@pytest.mark.parametrize(
    "exc",
    [
        OSError("config has no 'connection_type' field"),
        ValueError("Unrecognized value for 'connection_type': 'ring'"),
        _raised_from(KeyError("connection"), "Can't load the configuration of 'org/model'"),
        OSError("org/model is not a local folder and is not a valid model identifier"),
    ],
)
@pytest.mark.parametrize("partial", [False, True])
def test_errors_that_merely_mention_a_connection_are_not_blamed_on_the_network(exc, partial):
    assert not load_errors.is_network_error(exc)
    result = load_errors.hub_load_error("org/model", exc, partial)
    assert not isinstance(result, HubUnreachableError)
    assert "Could not reach" not in str(result)
    assert isinstance(result, CheckpointError)


@pytest.mark.parametrize("where", ["reachable Hub id", "local folder"])
def test_a_config_error_mentioning_a_connection_is_not_the_network(where, layouts, monkeypatch):
    from transformers import AutoConfig

    def fail(*args, **kwargs):
        raise OSError("config has no 'connection_type' field")

    monkeypatch.setattr(loading, "hub_reachable", lambda: True)
    monkeypatch.setattr(AutoConfig, "from_pretrained", fail)
    name = "someone/odd-config" if where.endswith("id") else str(layouts["mbert-qa"])
    with pytest.raises(CheckpointError, match="connection_type") as err:
        load_components(name)
    assert not isinstance(err.value, HubUnreachableError)


def test_the_cli_says_an_untrained_head_once_in_plain_words(layouts, capsys):
    from qa_core.__main__ import main

    args = ["ask", "--checkpoint", str(layouts["plain-encoder"]), "--question", "Ai?",
            "--context", "Bình Nguyễn là chuyên gia.", "--dtype", "float32"]
    assert main(args) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["warnings"][0].startswith(f"'{layouts['plain-encoder']}' has no")
    assert out.err.count("no trained question-answering head") == 1
    assert "warning: '" in out.err and "UntrainedHeadWarning" not in out.err


# ---- the settings a model trained here carries to the Hub (viqa_training.json) ---------------
def hub_cache_with_record(cache: Path, repo: str = "tester/vi-qa") -> Path:
    """The Hub cache's layout (``models--owner--name/snapshots/<commit>/``, ``refs/main``) holding
    the record file, as a download leaves it."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    (snapshot / "viqa_training.json").write_text('{"settings": {"max_length": 256}}')
    return snapshot


def test_settings_that_cannot_be_fetched_are_said_loudly(hub, tmp_path, caplog):
    from qa_core.model.loading import record_dir

    hub.routes["/tester/vi-qa/resolve/main/viqa_training.json"] = 403  # a refused request
    with caplog.at_level("WARNING", logger="qa_core.model.loading"):
        folder, notes = record_dir("tester/vi-qa", None, {"cache_dir": str(tmp_path)})
    assert folder is None and len(notes) == 1
    assert "could not be fetched" in notes[0] and "library's defaults" in notes[0]
    assert str(notes[0]) in caplog.text  # logged as a warning, not at DEBUG


def test_settings_lost_to_the_network_are_said_too(hub, tmp_path, monkeypatch):
    import httpx2
    from huggingface_hub.utils import _http

    from qa_core.model.loading import record_dir

    monkeypatch.setattr(_http.time, "sleep", lambda s: None)  # the client's retries, at once
    hub.routes["/tester/vi-qa/resolve/main/viqa_training.json"] = httpx2.ConnectError("down")
    folder, notes = record_dir("tester/vi-qa", None, {"cache_dir": str(tmp_path)})
    assert folder is None and len(notes) == 1 and "could not be fetched" in notes[0]


def test_a_hub_model_without_settings_was_not_trained_here(hub, tmp_path, caplog):
    import httpx2

    from qa_core.model.loading import record_dir

    path = "/tester/plain-qa/resolve/main/viqa_training.json"
    hub.routes[path] = httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"})  # the Hub's
    folder, notes = record_dir("tester/plain-qa", None, {"cache_dir": str(tmp_path)})
    assert (folder, notes) == (None, []) and hub.seen == [path]


def test_offline_the_cached_settings_are_read(tmp_path):
    from qa_core.model.loading import record_dir

    snapshot = hub_cache_with_record(tmp_path)
    offline = {"cache_dir": str(tmp_path), "local_files_only": True}
    assert record_dir("tester/vi-qa", None, offline) == (snapshot, [])
    assert record_dir("tester/other", None, offline) == (None, [])  # not cached: nothing to say


def test_a_note_about_the_settings_reaches_every_answer(tiny_checkpoints, monkeypatch):
    from qa_core.errors import Phrase
    from qa_core.model import loading
    from qa_core.reader import build_reader

    note = Phrase("The settings '{name}' was trained with could not be fetched.", name="x")
    monkeypatch.setattr(loading, "record_dir", lambda checkpoint, local, hub: (None, [note]))
    reader = build_reader(tiny_checkpoints["unigram"], device="cpu", dtype="float32")
    assert note in reader.warnings
    assert note in reader.answer("Ai?", "Ngô Quyền.").warnings


def test_a_tokenizer_with_ids_past_the_embeddings_is_refused(tiny_checkpoints, tmp_path):
    """Some PhoBERT copies carry a tokenizer.json from a fork that renumbers ids past the
    vocabulary; any tokenizer that gives ids the model has no embedding for is refused."""
    import shutil

    path = tmp_path / "mismatched"
    shutil.copytree(tiny_checkpoints["unigram"], path)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    config["vocab_size"] = 100  # the tokenizer gives ids up to about 2,000
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(BrokenCheckpointError, match="token ids up to .* ids 0 to 99"):
        load_components(str(path))


def test_phobert_ignores_a_forks_tokenizer_json(layouts, tmp_path):
    import shutil

    from qa_core.model.phobert import check_token_ids

    path = tmp_path / "with-fork-json"
    shutil.copytree(layouts["qa-model-vi"], path)
    fork = {"model": {"vocab": {"<s>": 0, "Hà_Nội": 64000}}, "added_tokens": []}
    (path / "tokenizer.json").write_text(json.dumps(fork), encoding="utf-8")
    with pytest.raises(BrokenCheckpointError, match="renumbers ids"):
        check_token_ids(path, 1000)
    _, tokenizer, _ = load_components(str(path))  # vocab.txt and bpe.codes, never that file
    assert max(tokenizer.get_vocab().values()) < 64000
