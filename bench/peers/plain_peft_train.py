"""Peer baseline: a plain PEFT + Trainer script, no ragtune code, on the same data.

    python bench/peers/plain_peft_train.py MODEL_DIR TRAIN_JSONL MAX_STEPS BATCH SYSTEM

Prints one JSON line: tokens/s over the training run and peak RSS (MB).
"""

import json
import resource
import sys
import tempfile
import time

from peft import LoraConfig, get_peft_model
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    Trainer,
    TrainingArguments,
)


def main() -> None:
    model_dir, train_path, max_steps, batch, system = sys.argv[1:6]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    with open(train_path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    data = []
    for row in rows:
        msgs = [{"role": "system", "content": system}, *row["messages"]]
        prompt = tok.apply_chat_template(msgs[:-1], add_generation_prompt=True, tokenize=False)
        p = tok(prompt, add_special_tokens=False)["input_ids"]
        a = tok(msgs[-1]["content"] + tok.eos_token, add_special_tokens=False)["input_ids"]
        ids = (p + a)[-256:]
        labels = ([-100] * len(p) + a)[-256:]
        data.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
    cfg = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear",
                     task_type="CAUSAL_LM")  # fmt: skip
    model = get_peft_model(model, cfg)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, max_steps=int(max_steps), per_device_train_batch_size=int(batch),
            learning_rate=5e-4, logging_steps=1, save_strategy="no", use_cpu=True,
            report_to=[], seed=0, disable_tqdm=True,
        )  # fmt: skip
        trainer = Trainer(
            model=model, args=args, train_dataset=data,
            data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
        )  # fmt: skip
        started = time.perf_counter()
        result = trainer.train()
        wall = time.perf_counter() - started
    n_tokens = sum(len(x["input_ids"]) for x in data)
    epochs = float(trainer.state.epoch or 0)
    print(json.dumps({
        "tokens_per_s": n_tokens * epochs / float(result.metrics["train_runtime"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "steps": trainer.state.global_step, "wall_s": wall,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
