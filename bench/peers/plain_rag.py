"""The anchor: what a plain script does with the same small model, no tricks.

BM25 (Okapi, k1=1.5, b=0.75) over ~150-word chunks, the top 3 pasted into a chat prompt,
greedy generation with transformers, 64 new tokens. Written the way a tutorial would, so
ragtune's `rag` is compared with what a user gets without it. Generation is batched with
left padding only to save bench time (greedy output is the same as one at a time).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

_WORD = re.compile(r"\w+")
SYSTEM = "Answer the question using the context."


def chunk_words(text: str, size: int = 150) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


class BM25:
    def __init__(self, docs: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = [Counter(_WORD.findall(d.lower())) for d in docs]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / len(self.docs)
        df: Counter[str] = Counter(w for d in self.docs for w in d)
        n = len(docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        self.k1, self.b = k1, b

    def top(self, query: str, k: int) -> list[int]:
        terms = _WORD.findall(query.lower())
        scores = []
        for i, (doc, length) in enumerate(zip(self.docs, self.lengths, strict=True)):
            s = 0.0
            for t in terms:
                if t in doc:
                    tf = doc[t]
                    norm = tf + self.k1 * (1 - self.b + self.b * length / self.avg)
                    s += self.idf[t] * tf * (self.k1 + 1) / norm
            scores.append((s, i))
        return [i for _, i in sorted(scores, key=lambda x: -x[0])[:k]]


def answer_all(
    questions: Sequence[str],
    files: Sequence[Path],
    model_dir: str,
    batch: int = 8,
    on_batch: Callable[[list[str], list[str]], None] | None = None,
) -> list[str]:
    """Answers in question order; ``on_batch(questions, answers)`` after each batch (so a
    caller can keep finished answers when a long run is killed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    chunks = [c for f in files for c in chunk_words(f.read_text(encoding="utf-8"))]
    index = BM25(chunks)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    prompts = []
    for q in questions:
        context = "\n\n".join(chunks[i] for i in index.top(q, 3))
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {q}"},
        ]
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompts.append(text)
    out: list[str] = []
    for i in range(0, len(prompts), batch):
        enc = tok(prompts[i : i + batch], return_tensors="pt", padding=True)
        with torch.no_grad():
            gen = model.generate(
                **enc, max_new_tokens=64, do_sample=False, pad_token_id=tok.pad_token_id
            )
        done = [
            tok.decode(r, skip_special_tokens=True).strip()
            for r in gen[:, enc["input_ids"].shape[1] :]
        ]
        out += done
        if on_batch:
            on_batch(list(questions[i : i + batch]), done)
    return out
