"""What fine-tuning buys on the sample: behaviour (house style) vs knowledge (facts).

    .venv/bin/python bench/finetune_sample.py [--style-epochs 5] [--fact-epochs 10] [--facts 16]

1. Style: a LoRA adapter trained on the house-style examples vs the base model, both given
   the same instructions describing the format; scored by a format check (not by eye).
2. Facts: a LoRA adapter trained on offline QA pairs for a subset of facts; accuracy on the
   trained phrasings vs held-out phrasings of the *same* facts (memorisation vs knowledge).
3. Training speed: `ragtune tune` vs a plain PEFT + Trainer script on the same data and
   steps, each in its own process (tokens/s, peak RSS), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, REPO, RESULTS_DIR, save, token_f1
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.data import build_dataset, load_split
from ragtune.finetune.rows import TrainingRow
from ragtune.finetune.train import train
from ragtune.generate.base import GenerationOptions
from ragtune.project import Project

FORMAT_INSTRUCTION = (
    "Answer in the house format, exactly these lines: 'Short answer: <one sentence>', "
    "'Details:', two or three lines starting with '- ', 'Source: <document title>', and "
    "the sign-off '-- Brightwater People & Finance Desk'."
)


def format_score(text: str) -> tuple[bool, float]:
    """(all four parts in order, share of parts present)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    parts = [
        bool(lines) and lines[0].startswith("Short answer:"),
        "Details:" in lines,
        2 <= sum(line.startswith("- ") for line in lines) <= 3,
        any(line.startswith("Source:") for line in lines),
        bool(lines) and lines[-1] == "-- Brightwater People & Finance Desk",
    ]
    return all(parts), sum(parts) / len(parts)


def ask_all(
    project: Project, adapter: str | None, rows: list[TrainingRow], system: str
) -> list[str]:
    gen = project.adapter_generator(adapter) if adapter else project.generator()
    prompts = [[{"role": "system", "content": system}, (r.messages or [])[-2]] for r in rows]
    return [g.text for g in gen.generate(prompts, GenerationOptions(max_new_tokens=96))]


def style_experiment(project: Project, epochs: float) -> dict[str, Any]:
    build_dataset(project, name="style", style=REPO / "examples" / "style.jsonl", qa=False,
                  split=(0.7, 0.1, 0.2), seed=0)  # fmt: skip
    info = train(project, TuneConfig(name="style", dataset="style", epochs=epochs), force=True)
    test = load_split(project, "style", "test")
    system = f"{project.settings.prompt.base_system} {FORMAT_INSTRUCTION}"
    result: dict[str, Any] = {"n_test": len(test), "train_wall_s": info.wall_time_s}
    for label, adapter in (("base", None), ("lora", "style")):
        scores = [format_score(t) for t in ask_all(project, adapter, test, system)]
        result[label] = {
            "format_pass": sum(ok for ok, _ in scores) / len(scores),
            "format_parts": sum(p for _, p in scores) / len(scores),
        }
    return result


def fact_experiment(project: Project, epochs: float, n_facts: int) -> dict[str, Any]:
    build_dataset(project, name="facts", seed=0)
    train_rows = load_split(project, "facts", "train")
    test_rows = [r for r in load_split(project, "facts", "test") if r.test_kind == "paraphrase"]
    facts = sorted({r.fact_id for r in test_rows})[:n_facts]
    trained = [r for r in train_rows if r.fact_id in facts]
    held_out = [r for r in test_rows if r.fact_id in facts]
    folder = project.state_dir / "datasets" / "facts-subset"
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", trained), ("validation", held_out[:0]), ("test", held_out)):
        (folder / f"{split}.jsonl").write_text(
            "".join(json.dumps(r.to_dict()) + "\n" for r in rows)
        )
    info = train(project, TuneConfig(name="facts", dataset="facts-subset", epochs=epochs,
                                     learning_rate=1e-3), force=True)  # fmt: skip
    system = project.settings.prompt.base_system
    result: dict[str, Any] = {"facts": len(facts), "train_wall_s": info.wall_time_s}
    for label, adapter in (("base", None), ("lora", "facts")):
        for split, rows in (("trained_phrasings", trained), ("held_out_phrasings", held_out)):
            answers = ask_all(project, adapter, rows, system)
            golds = [r.answer for r in rows]
            f1 = [token_f1(a, g) for a, g in zip(answers, golds, strict=True)]
            result.setdefault(label, {})[split] = {"token_f1": sum(f1) / len(f1), "n": len(rows)}
    return result


def speed_experiment(project: Project, steps: int) -> dict[str, Any]:
    from ragtune.models import hf_folder

    train_file = project.state_dir / "datasets" / "style" / "train.jsonl"
    if not train_file.exists():
        build_dataset(project, name="style", style=REPO / "examples" / "style.jsonl", qa=False,
                      split=(0.7, 0.1, 0.2), seed=0)  # fmt: skip
    cmd = [sys.executable, "-m", "ragtune.cli.main", "-C", str(project.root), "tune",
           "--name", "speed", "--dataset", "style", "--max-steps", str(steps), "--force",
           "--json"]  # fmt: skip
    ours = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    peer_cmd = [sys.executable, str(BENCH / "peers" / "plain_peft_train.py"), str(hf_folder("")),
                str(train_file), str(steps), "4", project.settings.prompt.base_system]  # fmt: skip
    peer_out = subprocess.run(peer_cmd, capture_output=True, text=True, check=True).stdout
    peer = json.loads(peer_out.strip().splitlines()[-1])  # Trainer prints its logs first
    return {
        "steps": steps,
        "ragtune": {"tokens_per_s": ours["tokens_per_s"], "peak_rss_mb": ours["peak_rss_mb"]},
        "plain_peft": {"tokens_per_s": peer["tokens_per_s"], "peak_rss_mb": peer["peak_rss_mb"]},
        "tokens_per_s_ratio": ours["tokens_per_s"] / peer["tokens_per_s"],
        "peak_rss_ratio": ours["peak_rss_mb"] / peer["peak_rss_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--style-epochs", type=float, default=5)
    parser.add_argument("--fact-epochs", type=float, default=10)
    parser.add_argument("--facts", type=int, default=16)
    parser.add_argument("--speed-steps", type=int, default=16)
    parser.add_argument("--only", choices=["style", "facts", "speed"], nargs="*", default=None)
    args = parser.parse_args()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(Path(tmp) / "p")
        project.ingest([REPO / "examples" / "docs"])
        wanted = args.only or ["style", "speed", "facts"]
        if "style" in wanted:
            out["style"] = style_experiment(project, args.style_epochs)
            print("style", json.dumps(out["style"]))
        if "speed" in wanted:
            out["speed"] = speed_experiment(project, args.speed_steps)
            print("speed", json.dumps(out["speed"]))
        if "facts" in wanted:
            out["facts"] = fact_experiment(project, args.fact_epochs, args.facts)
            print("facts", json.dumps(out["facts"]))
    previous = RESULTS_DIR / "finetune_sample.json"
    if previous.exists():  # keep the parts not rerun this time
        old = json.loads(previous.read_text())
        out = {**{k: v for k, v in old.items() if k != "env"}, **out}
    print(f"wrote {save('finetune_sample', out)}")


if __name__ == "__main__":
    main()
