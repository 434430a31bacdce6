"""Kill-and-resume cycles of `ragtune ingest`, `ragtune tune` and `ragtune compare`.

Each scenario builds its inputs and one clean, uninterrupted run once (``setup``), then each
``cycle`` copies the pre-run project, starts the real CLI in a subprocess, SIGKILLs it after
the given delay, checks what the kill left (tests/helpers/crash.py), reruns the command to
completion the way a user would, and checks the result equals the clean run's. Used by
bench/crash_cycles.py (20 cycles each) and tests/integration/test_crash_cycles.py (a few).

The cheapest real paths: ingest and compare use the hash embedder; compare answers with the
deterministic ``eval-fake`` generator (tests/unit/evaluation/fake_backend.py) and the
``extract`` strategy; tune trains real LoRA through PEFT + the transformers Trainer on a tiny
random Llama (2 layers, hidden 32, word-level tokenizer) instead of the 135M SmolLM2, which
needs minutes per run on 2 shared cores.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES, REPO
from tests.helpers import crash

CLI = [sys.executable, "-m", "ragtune.cli.main"]
FAKE_CLI = [sys.executable, "-c", "import tests.unit.evaluation.fake_backend; "
            "from ragtune.cli.main import main; main()"]  # fmt: skip
HASH_TOML = '[embedder]\nname = "hash"\nbatch_size = 8\n[generator]\nbackend = "eval-fake"\n'


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", **extra}


def _init(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "ragtune.toml").write_text(HASH_TOML)
    return root


class Scenario:
    name = ""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.clean_seconds = 0.0

    def setup(self) -> None:
        raise NotImplementedError

    def cycle(self, index: int, delay: float) -> dict[str, Any]:
        raise NotImplementedError

    def _record(self, index: int, variant: str, delay: float, killed: bool, stage: str,
                checks: dict[str, list[str]]) -> dict[str, Any]:  # fmt: skip
        return {"cycle": index, "variant": variant, "delay_s": round(delay, 3), "killed": killed,
                "stage": stage, "checks": {k: not v for k, v in checks.items()},
                "problems": [f"{k}: {p}" for k, v in checks.items() for p in v]}  # fmt: skip


class IngestScenario(Scenario):
    """Even cycles ingest ``n_docs`` new documents into an empty project; odd ones ingest an
    update (every third document changed, one in ten new) over a project holding the first
    version, so kills land both on inserts and on replacements of stored documents."""

    name = "ingest"

    def __init__(self, work: Path, n_docs: int = 1000) -> None:
        super().__init__(work)
        self.n_docs = n_docs

    def _docs(self, folder: Path, version: int) -> None:
        n = self.n_docs if version == 1 else self.n_docs + self.n_docs // 10
        for i in range(n):
            changed = version == 2 and i % 3 == 0
            mark = " (revised)" if changed else ""
            body = "\n\n".join(
                f"Paragraph {j} of document {i} about topic {i % 17}{mark}." for j in range(40)
            )
            (folder / f"d{i:04d}.md").write_text(f"# Doc {i}\n\n{body}\n")

    def setup(self) -> None:
        for version in (1, 2):
            (self.work / f"docs_v{version}").mkdir(parents=True)
            self._docs(self.work / f"docs_v{version}", version)
        empty = _init(self.work / "empty")
        self.clean_seconds, done = crash.run_to_end(self._cmd(empty, 1), env=_env())
        assert done.returncode == 0, done.stderr
        shutil.copytree(empty, self.work / "v1")
        shutil.rmtree(empty)
        _init(empty)
        self.clean = {1: crash.store_state(self._db(self.work / "v1"))}
        v2 = self.work / "v2-clean"
        shutil.copytree(self.work / "v1", v2)
        _, done = crash.run_to_end(self._cmd(v2, 2), env=_env())
        assert done.returncode == 0, done.stderr
        self.clean[2] = crash.store_state(self._db(v2))

    def _cmd(self, root: Path, version: int) -> list[str]:
        return [*CLI, "-C", str(root), "ingest", str(self.work / f"docs_v{version}")]

    @staticmethod
    def _db(root: Path) -> Path:
        return root / ".ragtune" / "ragtune.db"

    def cycle(self, index: int, delay: float) -> dict[str, Any]:
        version = 1 if index % 2 == 0 else 2
        root = self.work / f"cycle{index:02d}"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.work / ("empty" if version == 1 else "v1"), root)
        db = self._db(root)
        before = crash.count_rows(db, "document_versions")
        todo = (
            len(self.clean[version]) if version == 1 else (self.n_docs + 2) // 3 + self.n_docs // 10
        )

        def stage() -> str:
            written = crash.count_rows(db, "document_versions") - before
            if written <= 0:
                return "starting (no document written yet)"
            return "all documents written" if written >= todo else "mid-ingest"

        killed, where, _ = crash.kill_after(self._cmd(root, version), delay, env=_env(),
                                            stage=stage)  # fmt: skip
        checks = {"integrity+complete": crash.store_problems(db), "nothing lost": []}
        if db.exists() and crash.count_rows(db, "documents"):
            have = crash.store_state(db)
            old = self.clean[1] if version == 2 else {}
            for doc_id, state in have.items():  # each stored doc is one whole version
                if state != self.clean[version].get(doc_id) and state != old.get(doc_id):
                    checks["nothing lost"].append(f"{doc_id} is neither version: {state}")
            checks["nothing lost"] += [f"{d} lost" for d in old if d not in have]
        _, done = crash.run_to_end(self._cmd(root, version), env=_env())
        final = crash.store_state(self._db(root)) if done.returncode == 0 else {}
        checks["resume = clean run"] = (
            [f"resume exited {done.returncode}: {done.stderr[-400:]}"] if done.returncode else
            [] if final == self.clean[version] else ["final documents differ from a clean run"]
        )  # fmt: skip
        checks["resume integrity"] = crash.store_problems(db)
        shutil.rmtree(root)
        return self._record(index, f"v{version}", delay, killed, where, checks)


def _tiny_base(folder: Path, words: str) -> None:
    """A random 2-layer Llama with a word-level tokenizer over ``words``: real PEFT, Trainer,
    checkpoints and adapter saving, at a fraction of a second per step."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(words.split())))}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>",
                                  eos_token="<|im_end|>", bos_token="<|im_start|>")  # fmt: skip
    tok.add_special_tokens({"additional_special_tokens": specials[2:]})
    tok.chat_template = ("{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }}"
                         " <|im_end|> {% endfor %}{% if add_generation_prompt %}"
                         "<|im_start|> assistant {% endif %}")  # fmt: skip
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=256, pad_token_id=1, eos_token_id=3,
                         bos_token_id=2, tie_word_embeddings=True)  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)


def _adapter_weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


class TuneScenario(Scenario):
    """Even cycles train adapter ``a`` in a project without one; odd ones replace an existing
    ``a`` (``--force``): the registry must then keep the old adapter or hold the whole new
    one, never a mix or nothing. Four epochs of four steps: a checkpoint (and the deletion
    of an older one, two are kept) each epoch, so kills land between and inside them."""

    name = "tune"

    def setup(self) -> None:
        rows = [json.loads(x) for x in (EXAMPLES / "style.jsonl").read_text().splitlines()][:10]
        examples = [
            {"id": f"s{i}", "kind": "style", "fact_id": f"s{i}", "source": None,
             "test_kind": None, "messages": [{"role": "user", "content": r["question"]},
                                             {"role": "assistant", "content": r["answer"]}]}
            for i, r in enumerate(rows)
        ]  # fmt: skip
        from ragtune.finetune.forgetting import probe_questions, probe_text

        words = " ".join(m["content"] for e in examples for m in e["messages"])
        words += " " + probe_text() + " " + " ".join(q["question"] for q in probe_questions())
        self.base = self.work / "tiny-llama"
        _tiny_base(self.base, words + " system user assistant")
        empty = _init(self.work / "empty")
        data = empty / ".ragtune" / "datasets" / "style"
        data.mkdir(parents=True)
        for split, part in {"train": examples[2:], "validation": examples[:2], "test": []}.items():
            (data / f"{split}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in part))
        trained = self.work / "trained"
        shutil.copytree(empty, trained)
        first, done = crash.run_to_end(self._cmd(trained), env=_env())
        assert done.returncode == 0, done.stderr
        self.clean_weights = _adapter_weights(self._adapter(trained))
        self.clean_steps = self._steps(trained)
        # The faster of two runs: the first also measures the base model's forgetting probe
        # (cached after), and a slow one pushes the late kill delays past a normal run's end.
        second, done = crash.run_to_end(self._cmd(trained, "--force"), env=_env())
        assert done.returncode == 0, done.stderr
        self.clean_seconds = min(first, second)
        assert not self._same_as_clean(trained), "two clean runs trained different adapters"

    def _cmd(self, root: Path, *extra: str) -> list[str]:
        return [*CLI, "-C", str(root), "tune", "--name", "a", "--dataset", "style",
                "--base-model", str(self.base), "--epochs", "4", "--batch-size", "2",
                "--max-length", "64", "--lora-r", "4", "--seed", "0", *extra]  # fmt: skip

    @staticmethod
    def _adapter(root: Path) -> Path:
        return root / ".ragtune" / "adapters" / "a"

    @staticmethod
    def _steps(root: Path) -> int:
        meta = json.loads((root / ".ragtune" / "adapters" / "a" / "ragtune.json").read_text())
        return int(meta["steps"])

    def cycle(self, index: int, delay: float) -> dict[str, Any]:
        replace = index % 2 == 1
        root = self.work / f"cycle{index:02d}"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.work / ("trained" if replace else "empty"), root)
        adapter, state = self._adapter(root), root / ".ragtune"
        old_inode = adapter.stat().st_ino if replace else None
        checkpoints = state / "runs" / "a" / "checkpoints"

        def installed() -> bool:
            return adapter.exists() and adapter.stat().st_ino != old_inode

        def stage() -> str:
            if installed():
                return "adapter registered"
            if list((state / "adapters").glob(".a.*")):
                return "saving adapter"
            if any(checkpoints.glob("checkpoint-*")):
                return "training (after a checkpoint)"
            return "loading or first epoch (no checkpoint yet)"

        extra = ("--force",) if replace else ()
        killed, where, _ = crash.kill_after(self._cmd(root, *extra), delay, env=_env(),
                                            stage=stage)  # fmt: skip
        checks = {"registry whole": crash.adapter_problems(state), "old kept or new whole": []}
        if replace and not (adapter / "ragtune.json").is_file():
            checks["old kept or new whole"].append("adapter 'a' vanished from the registry")
        if not installed():  # rerun as a user would: --resume when a checkpoint exists
            resume = ("--resume",) if any(checkpoints.glob("checkpoint-*/trainer_state.json")) \
                else ()  # fmt: skip
            force = ("--force",) if adapter.exists() else ()
            _, done = crash.run_to_end(self._cmd(root, *resume, *force), env=_env())
            if done.returncode:
                checks["resume = clean run"] = [f"rerun exited {done.returncode}: "
                                                f"{done.stderr[-400:]}"]  # fmt: skip
        if "resume = clean run" not in checks:
            checks["resume = clean run"] = self._same_as_clean(root)
        checks["registry whole after resume"] = crash.adapter_problems(state)
        shutil.rmtree(root)
        return self._record(index, "replace" if replace else "new", delay, killed, where,
                            checks)  # fmt: skip

    def _same_as_clean(self, root: Path) -> list[str]:
        """Same steps and the same weights as the uninterrupted run (seeded, CPU), and PEFT
        loads the adapter onto its base."""
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        problems = []
        if self._steps(root) != self.clean_steps:
            problems.append(f"{self._steps(root)} steps, clean run {self.clean_steps}")
        weights = _adapter_weights(self._adapter(root))
        for key, tensor in self.clean_weights.items():
            if key not in weights or not torch.allclose(weights[key], tensor, atol=1e-6):
                problems.append(f"weight {key} differs from the clean run")
        PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(self.base),
                                  self._adapter(root))  # fmt: skip
        return problems


class CompareScenario(Scenario):
    """`ragtune compare` of base, rag and extract on 20 sample questions (``n_questions``:
    the first answerable and unanswerable ones about HR and legal), a fresh run id
    per cycle; the resumed run's metrics, paired differences and judge numbers must equal
    those of the uninterrupted run."""

    name = "compare"
    FOLDERS = ("hr", "legal")

    def __init__(self, work: Path, n_questions: int = 20, delay_per_batch: float = 0.15) -> None:
        super().__init__(work)
        self.n_questions = n_questions
        self.env = _env(RAGTUNE_FAKE_DELAY=str(delay_per_batch))

    def setup(self) -> None:
        self.root = _init(self.work / "proj")
        docs = self.work / "docs"
        for folder in self.FOLDERS:
            shutil.copytree(EXAMPLES / "docs" / folder, docs / folder)
        evals = [json.loads(x) for x in (EXAMPLES / "eval.jsonl").read_text().splitlines()]
        ours = [e for e in evals if e["source_docs"] and e["source_docs"][0].split("/")[0]
                in self.FOLDERS]  # fmt: skip
        keep = [e for e in evals if e["unanswerable"] or e in ours]
        self.eval = self.work / "eval.jsonl"
        self.eval.write_text("".join(json.dumps(e) + "\n" for e in keep[: self.n_questions]))
        _, done = crash.run_to_end([*CLI, "-C", str(self.root), "ingest", str(docs)], env=_env())
        assert done.returncode == 0, done.stderr
        self.clean_seconds, done = crash.run_to_end(self._cmd("clean"), env=self.env, cwd=REPO)
        assert done.returncode == 0, done.stderr
        self.clean = crash.quality(json.loads(done.stdout[done.stdout.index("{") :]))
        self.total = 3 * len(keep[: self.n_questions])

    def _cmd(self, run_id: str) -> list[str]:
        return [*FAKE_CLI, "-C", str(self.root), "compare", "--eval", str(self.eval),
                "-s", "base,rag,extract", "--resamples", "200", "--batch-size", "4",
                "--judge-selftest", "10", "--run-id", run_id, "--json"]  # fmt: skip

    def cycle(self, index: int, delay: float) -> dict[str, Any]:
        run_id = f"cycle{index:02d}"
        folder = self.root / ".ragtune" / "runs" / f"compare-{run_id}"
        shutil.rmtree(folder, ignore_errors=True)

        def stage() -> str:
            if (folder / "results.json").exists():
                return "results written"
            done = crash.count_rows(folder / "records.sqlite", "answers")
            if done == 0:
                return "starting (no answer stored)"
            return "scoring" if done >= self.total else "answering"

        killed, where, _ = crash.kill_after(self._cmd(run_id), delay, env=self.env, cwd=REPO,
                                            stage=stage)  # fmt: skip
        checks = {"run store whole": crash.run_problems(folder),
                  "project store untouched": crash.store_problems(self.root / ".ragtune"
                                                                  / "ragtune.db")}  # fmt: skip
        _, done = crash.run_to_end(self._cmd(run_id), env=self.env, cwd=REPO)
        if done.returncode:
            checks["resume = clean run"] = [f"rerun exited {done.returncode}: "
                                            f"{done.stderr[-400:]}"]  # fmt: skip
        else:
            got = crash.quality(json.loads(done.stdout[done.stdout.index("{") :]))
            checks["resume = clean run"] = [] if got == self.clean else ["numbers differ"]
        shutil.rmtree(folder, ignore_errors=True)
        return self._record(index, "base,rag,extract", delay, killed, where, checks)


SCENARIOS: dict[str, type[Scenario]] = {
    "ingest": IngestScenario, "tune": TuneScenario, "compare": CompareScenario}  # fmt: skip


def delays(n: int, seconds: float, seed: int) -> list[float]:
    """``n`` kill delays spread over a run of ``seconds``: one uniform draw in each of ``n``
    equal slices (seeded), so early, middle and late kills all occur even for small ``n``."""
    import random

    rng = random.Random(seed)
    return [(i + rng.random()) * seconds / n for i in range(n)]
