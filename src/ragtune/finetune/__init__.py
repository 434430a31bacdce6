"""Fine-tuning: training data, adapters (LoRA, prefix, prompt, full) and their registry."""
