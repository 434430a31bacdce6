"""Fine-tuning: training data (data.py), adapter training and the adapter registry."""
