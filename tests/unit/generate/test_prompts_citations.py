import pytest

from ragtune.errors import ConfigError, UsageError
from ragtune.generate.base import GenerationOptions, cut_at_stop
from ragtune.generate.citations import infer_citations, parse_citations
from ragtune.generate.prompts import PromptBuilder, trim_to_sentences
from ragtune.text.markers import markers
from ragtune.types import Chunk, ScoredChunk

DOC = "Intro line. New hires get 25 days of leave. Carry-over is five days. The VPN uses port 443."


def words(text: str) -> int:
    return len(text.split())


def hit(n: int, start: int, end: int, doc: str = "hr/leave.md") -> ScoredChunk:
    return ScoredChunk(Chunk(f"c{n}", doc, DOC[start:end], start, end, section="Leave"), 1.0 / n,
                       title="Leave Policy")  # fmt: skip


def builder(context_tokens: int = 1000, window: int = 2048) -> PromptBuilder:
    return PromptBuilder(words, window, 100, "SYS", "BASE", context_tokens)


def test_blocks_are_numbered_with_titles_and_sections() -> None:
    prompt = builder().rag("How many days?", [hit(1, 12, 43), hit(2, 44, 68)])
    user = prompt.messages[1]["content"]
    assert prompt.messages[0] == {"role": "system", "content": "SYS"}
    assert "[1] Leave Policy — Leave\nNew hires get 25 days of leave." in user
    assert "[2] Leave Policy — Leave\nCarry-over" in user
    assert user.endswith("Question: How many days?")


def test_budget_drops_lowest_ranked_first() -> None:
    hits = [hit(1, 12, 43), hit(2, 44, 68), hit(3, 69, len(DOC))]
    prompt = builder(context_tokens=26).rag("q", hits)  # blocks cost 14, 11, 12 words
    assert [b.chunk.id for b in prompt.blocks] == ["c1", "c2"] and prompt.dropped == 1


def test_oversized_top_block_is_cut_at_a_sentence_end() -> None:
    prompt = builder(context_tokens=16).rag("q", [hit(1, 0, len(DOC))])  # 9 words of body
    assert prompt.texts[0].endswith("New hires get 25 days of leave.")
    assert trim_to_sentences("No end here", 10, words) == ""


def test_question_errors() -> None:
    with pytest.raises(UsageError, match="empty"):
        builder().rag("  ", [])
    with pytest.raises(UsageError, match="exceeds the model's 150-token context"):
        builder(window=150).base("word " * 100)


def test_parse_citations_spans_and_invalid_markers() -> None:
    blocks = [hit(1, 12, 68), hit(2, 69, len(DOC), "it/vpn.md")]
    citations, invalid = parse_citations("Five days carry over [1]. Port 443 [2][7].", blocks)
    assert invalid == [7]
    assert [c.doc_id for c in citations] == ["hr/leave.md", "it/vpn.md"]
    first = citations[0]
    assert first.quote == "Carry-over is five days." == DOC[first.start : first.end]
    assert not first.inferred
    assert markers("see [1, 3] and [2;1]") == [1, 3, 2]


def test_inferred_citations_are_labelled() -> None:
    blocks = [hit(1, 12, 43), hit(2, 69, len(DOC), "it/vpn.md")]
    inferred = infer_citations("The VPN uses port 443.", blocks)
    assert [(c.doc_id, c.inferred) for c in inferred] == [("it/vpn.md", True)]
    assert infer_citations("Something unrelated entirely.", blocks) == []


def test_generation_options() -> None:
    assert GenerationOptions().greedy
    with pytest.raises(ConfigError, match="valid options: max_new_tokens"):
        GenerationOptions.from_mapping({"max_tokens": 5})
    with pytest.raises(ConfigError, match="temperature"):
        GenerationOptions(temperature=5)
    assert GenerationOptions.from_mapping({"stop": ["\n"]}).stop == ("\n",)
    assert cut_at_stop("abc\nQuestion: x", ["Question:", "zz"]) == ("abc\n", True)


def test_merged_options_from_cli_strings() -> None:
    merged = GenerationOptions().merged({"max_new_tokens": "12", "stop": "\n|END", "top_p": "0.5"})
    assert merged.max_new_tokens == 12 and merged.stop == ("\n", "END") and merged.top_p == 0.5
    with pytest.raises(ConfigError, match="valid options: max_new_tokens"):
        GenerationOptions().merged({"beam": "2"})
    with pytest.raises(ConfigError, match="cannot read 'many' as int"):
        GenerationOptions().merged({"max_new_tokens": "many"})
