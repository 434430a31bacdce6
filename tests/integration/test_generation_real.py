"""Generation through the real packaged SmolLM2 (transformers backend) on the sample."""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.conftest import EXAMPLES
from tests.helpers.openai_server import serve

from ragtune.cli.main import cli
from ragtune.errors import GenerationError
from ragtune.generate.base import GenerationOptions
from ragtune.generate.openai_compat import OpenAIGenerator
from ragtune.generate.prompts import PromptBuilder
from ragtune.project import Project
from ragtune.strategies import AnswerSystem

pytestmark = pytest.mark.slow
HELLO = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
SHORT = GenerationOptions(max_new_tokens=24)


def test_stream_equals_generate_and_limits_hold(smollm2: Any) -> None:
    whole = smollm2.generate([HELLO], SHORT)[0]
    assert "Paris" in whole.text and 0 < whole.tokens_out <= 24 and whole.tokens_in > 10
    assert "".join(smollm2.stream(HELLO, SHORT)).strip() == whole.text
    capped = smollm2.generate([HELLO], GenerationOptions(max_new_tokens=3))[0]
    assert capped.tokens_out == 3 and capped.finish_reason == "length"
    stopped = smollm2.generate([HELLO], GenerationOptions(max_new_tokens=24, stop=("Paris",)))[0]
    assert "Paris" not in stopped.text and stopped.finish_reason == "stop"


def test_batched_results_keep_input_order(smollm2: Any) -> None:
    prompts = [
        [{"role": "user", "content": "What is the capital of Italy? Answer in one word."}],
        [{"role": "user", "content": "What is 2 plus 2?"}],
        HELLO,
    ]
    batched = smollm2.generate(prompts, SHORT)
    single = [smollm2.generate([p], SHORT)[0] for p in prompts]
    assert [g.text for g in batched] == [g.text for g in single]
    assert len({g.text for g in batched}) == 3 and "Paris" in batched[2].text


def one_chunk_questions(project: Project) -> list[tuple[dict[str, Any], str]]:
    """(question, the id of the single chunk holding its gold answer)."""
    out = []
    with open(EXAMPLES / "eval.jsonl", encoding="utf-8") as fh:
        for q in map(json.loads, fh):
            if q["unanswerable"] or len(q["source_docs"]) != 1:
                continue
            holders = [c.id for c in project.store.chunks_of(q["source_docs"][0])
                       if q["answer"].lower() in c.text.lower()]  # fmt: skip
            if len(holders) == 1:
                out.append((q, holders[0]))
    return out


def test_rag_on_the_sample_cites_the_right_source(sample_project: Project, smollm2: Any) -> None:
    cases = one_chunk_questions(sample_project)[:8]
    assert len(cases) == 8
    builder = PromptBuilder(smollm2.count_tokens, smollm2.context_window, 64,
                            sample_project.settings.prompt.system, "", 768)  # fmt: skip
    system = AnswerSystem("rag", smollm2, builder, GenerationOptions(max_new_tokens=64),
                          sample_project.retriever, k=3)  # fmt: skip
    answers = system.answer_many([q["question"] for q, _ in cases])
    in_prompt = right_doc = 0
    for (q, chunk_id), answer in zip(cases, answers, strict=True):
        in_prompt += chunk_id in {c.chunk.id for c in answer.contexts}
        for c in answer.citations:
            assert sample_project.document(c.doc_id).text[c.start : c.end] == c.quote
            assert c.chunk_id in {h.chunk.id for h in answer.contexts}
        right_doc += bool(answer.citations) and answer.citations[0].doc_id == q["source_docs"][0]
    assert in_prompt >= 7, in_prompt
    assert right_doc >= 4, [(a.text, [c.doc_id for c in a.citations]) for a in answers]


def test_openai_backend_against_a_real_loopback_server(smollm2: Any) -> None:
    direct = smollm2.generate([HELLO], SHORT)[0].text
    with serve(smollm2, "smollm2") as url:
        remote = OpenAIGenerator(url, "smollm2", timeout_s=120)
        assert remote.generate([HELLO], SHORT)[0].text == direct
        assert "".join(remote.stream(HELLO, SHORT)).strip() == direct
        with pytest.raises(GenerationError, match="has no model 'other'"):
            OpenAIGenerator(url, "other").generate([HELLO], SHORT)


def test_cli_ask(sample_project: Project, tmp_path: Path) -> None:
    root = str(sample_project.root)
    result = CliRunner().invoke(cli, ["-C", root, "ask", "How long is the on-call rotation?",
                                      "--json", "-k", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # stderr may carry the one-time conversion note
    assert answer["strategy"] == "rag" and answer["text"] and len(answer["contexts"]) == 2
    capped = CliRunner().invoke(cli, ["-C", root, "ask", "VPN port?", "-o", "max_new_tokens=4",
                                      "--json", "--strategy", "base"])  # fmt: skip
    assert capped.exit_code == 0 and json.loads(capped.stdout)["tokens_out"] <= 4
    text = CliRunner().invoke(cli, ["-C", root, "ask", "What is the VPN port?", "--no-stream"])
    assert text.exit_code == 0 and "SmolLM2" in text.output
    bad_gguf = tmp_path / "broken.gguf"
    bad_gguf.write_bytes(b"not a model at all")
    for args, message in [
        (["ask", "  "], "the question is empty"),
        (["ask", "x", "--backend", "nope"], "unknown generator backend 'nope'"),
        (["ask", "x", "--model", "/nonexistent.gguf"], "model not found"),
        (["ask", "x", "--strategy", "magic"], "unknown strategy 'magic'"),
        (["ask", "x", "--model", str(bad_gguf)], "not a valid GGUF file"),
        (["ask", "word " * 9000], "exceeds the model's 8192-token context"),
        (["ask", "x", "-o", "beams=2"], "unknown generation option(s): beams"),
    ]:
        bad = CliRunner().invoke(cli, ["-C", root, *args])
        assert bad.exit_code != 0 and message in bad.output and "Traceback" not in bad.output


def test_repetition_penalty_counts_the_answer_not_the_prompt(smollm2: Any) -> None:
    """By default the penalty ignores the prompt: a passage's words stay free to quote."""
    quote = [{"role": "user", "content": "Repeat this sentence exactly: Paris is lovely."}]
    free = smollm2.generate([quote], GenerationOptions(max_new_tokens=6, repetition_penalty=1.0))
    answer_only = GenerationOptions(max_new_tokens=6, repetition_penalty=2.0)
    with_prompt = GenerationOptions(max_new_tokens=6, repetition_penalty=2.0, penalize_prompt=True)
    assert free[0].text == "Paris is lovely."
    assert smollm2.generate([quote], answer_only)[0].text == free[0].text
    # transformers' own rule penalises the prompt's words, so the verbatim quote is lost
    assert smollm2.generate([quote], with_prompt)[0].text != free[0].text


SYSTEM = (
    "You answer questions about the company handbook. Answer in one short sentence, "
    "and say so when you do not know."
)
QUESTIONS = ("How many days of annual leave do staff get?", "Who approves a purchase order?",
             "What is the capital of France?", "When are promotions decided?")  # fmt: skip


def test_a_shared_prefix_is_evaluated_once_with_the_same_answers(smollm2: Any) -> None:
    from ragtune.generate.transformers_local import TransformersGenerator

    prompts = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]
               for q in QUESTIONS]  # fmt: skip
    plain = TransformersGenerator(batch_size=8, share_prefix=False)
    want = [g.text for g in plain.generate(prompts, SHORT)]
    assert smollm2._prefixes is not None
    smollm2._prefixes.clear()
    got = smollm2.generate(prompts, SHORT)
    assert [g.text for g in got] == want
    assert [g.tokens_in for g in got] == [g.tokens_in for g in plain.generate(prompts, SHORT)]
    assert len(smollm2._prefixes._entries) == 1  # the system prompt's tokens, kept
    (prefix,) = [p for _, p in smollm2._prefixes._entries]
    assert len(prefix) >= 20
    # one prompt alone reuses the kept prefix, and answers as without it
    assert smollm2.generate(prompts[:1], SHORT)[0].text == want[0]
