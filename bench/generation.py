"""Generation speed and answer accuracy on the bundled sample.

    .venv/bin/python bench/generation.py [--questions N] [--skip-accuracy]

1. Decode throughput on the same RAG prompts (top-3 passages, greedy, 48 new tokens):
   transformers sequential (batch 1) vs transformers with its default batch vs llama.cpp
   (when ``make setup-llamacpp`` installed it), as ratios to the sequential run in the same
   process; the target is the default's decode speed >= 80 % of llama.cpp's.
2. Answer accuracy of the ``base`` and ``rag`` strategies on the answerable sample questions:
   token F1 and contains-gold (the gold answer's normalised text appears in the answer).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, RESULTS_DIR, load_jsonl, save, token_f1
from ragtune.generate.base import GenerationOptions
from ragtune.project import Project

_WORD = re.compile(r"\w+")
PROMPTS = 16  # one default batch


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def contains(pred: str, gold: str) -> bool:
    return " ".join(tokens(gold)) in " ".join(tokens(pred))


def timed(generator: Any, prompts: list[Any], options: GenerationOptions) -> tuple[float, int]:
    started = time.perf_counter()
    gens = generator.generate(prompts, options)
    return time.perf_counter() - started, sum(g.tokens_out for g in gens)


def throughput(generator: Any, prompts: list[Any], options: GenerationOptions) -> dict[str, float]:
    """End-to-end tokens/s, and decode tokens/s with the prompt-processing (prefill) time
    taken out: a 1-token run of the same prompts measures prefill."""
    prefill_s, first = timed(generator, prompts, GenerationOptions(max_new_tokens=1))
    seconds, out_tokens = timed(generator, prompts, options)
    return {
        "seconds": seconds,
        "tokens_out": out_tokens,
        "tok_per_s": out_tokens / seconds,
        "prefill_s": prefill_s,
        "decode_tok_per_s": (out_tokens - first) / max(seconds - prefill_s, 1e-9),
    }


def speed(project: Project, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """The same RAG prompts through each backend as ragtune drives it: transformers one
    prompt at a time, transformers with its default batch (``generator.batch_size``), and
    llama.cpp on the packaged GGUF of the same model (one request at a time)."""
    system = project.answer_system("rag")
    prompts = []
    for q in questions[:PROMPTS]:
        hits = project.search(q["question"], k=3)
        prompts.append(system.builder.rag(q["question"], hits).messages)
    options = GenerationOptions(max_new_tokens=48)
    gen = project.generator()
    gen.generate(prompts[:1], GenerationOptions(max_new_tokens=2))  # load + warm up
    default_batch = project.settings.generator.batch_size
    results: dict[str, Any] = {}
    gen.batch_size = 1  # type: ignore[attr-defined]
    results["transformers_sequential"] = throughput(gen, prompts, options)
    gen.batch_size = default_batch  # type: ignore[attr-defined]
    results[f"transformers_default_batch_{default_batch}"] = throughput(gen, prompts, options)
    if importlib.util.find_spec("llama_cpp") is not None:
        llama = project.generator("llamacpp")
        llama.generate(prompts[:1], GenerationOptions(max_new_tokens=2))
        results["llamacpp"] = throughput(llama, prompts, options)
    base = results["transformers_sequential"]
    for r in results.values():
        r["ratio_vs_sequential"] = r["tok_per_s"] / base["tok_per_s"]
        r["decode_ratio_vs_sequential"] = r["decode_tok_per_s"] / base["decode_tok_per_s"]
    return results


def accuracy(project: Project, questions: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for strategy in ("base", "rag"):
        system = project.answer_system(strategy)
        started = time.perf_counter()
        answers = system.answer_many([q["question"] for q in questions])
        f1 = [token_f1(a.text, q["answer"]) for a, q in zip(answers, questions, strict=True)]
        hit = [contains(a.text, q["answer"]) for a, q in zip(answers, questions, strict=True)]
        cited = [bool(a.citations) for a in answers]
        out[strategy] = {
            "token_f1": sum(f1) / len(f1),
            "contains_gold": sum(hit) / len(hit),
            "with_citation": sum(cited) / len(cited),
            "model_cited": sum(any(not c.inferred for c in a.citations) for a in answers)
            / len(answers),
            "seconds": time.perf_counter() - started,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=0, help="limit (0 = all answerable)")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    questions = [q for q in load_jsonl(REPO / "examples" / "eval.jsonl") if not q["unanswerable"]]
    if args.questions:
        questions = questions[: args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(Path(tmp))
        project.ingest([REPO / "examples" / "docs"])
        result: dict[str, Any] = {"speed": speed(project, questions), "prompts": PROMPTS}
        for name, r in result["speed"].items():
            e2e = f"{r['tok_per_s']:6.1f} tok/s x{r['ratio_vs_sequential']:.2f}"
            dec = f"{r['decode_tok_per_s']:6.1f} tok/s x{r['decode_ratio_vs_sequential']:.2f}"
            print(f"{name:26s} end-to-end {e2e}  decode {dec}  prefill {r['prefill_s']:.1f} s")
        if not args.skip_accuracy:
            result["accuracy"] = accuracy(project, questions)
            result["n_questions"] = len(questions)
            result["k"] = project.settings.retrieval.k
            result["context_tokens"] = project.settings.prompt.context_tokens
            for name, r in result["accuracy"].items():
                print(f"{name:6s} F1 {r['token_f1']:.3f}  contains-gold {r['contains_gold']:.3f}  "
                      f"cited {r['with_citation']:.2f} (model {r['model_cited']:.2f})")  # fmt: skip
    previous = RESULTS_DIR / "generation.json"
    if args.skip_accuracy and previous.exists():  # keep the last accuracy run
        old = json.loads(previous.read_text())
        kept = ("accuracy", "n_questions", "k", "context_tokens")
        result.update({k: old[k] for k in kept if k in old})
    print(f"wrote {save('generation', result)}")


if __name__ == "__main__":
    main()
