# SynthGuard — `make demo` runs the main journey on the embedded default (SQLite); `make test` runs the suite.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
QUIET_PIP := 2>&1 | { grep -v -e '^WARNING: Location' -e '^\s*$$' || true; }
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-out

.PHONY: demo test test-hf test-postgres venv lock system-deps lint lint-duplicates bench clean fuzz fuzz-long i18n

# Installs come from the lock files (exact versions, hashes checked), so a fresh clone tests what CI tested;
# pyproject.toml keeps ranges so the library stays installable into other projects. `make lock` refreshes them.
LOCK := requirements/lock.txt
NODEPS := requirements/nodeps.txt
LOCK_EXTRAS := server report postgres test video voice ray fuzz
PIP_VERSION := 26.3
UV_VERSION := 0.13.9

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==$(PIP_VERSION) $(QUIET_PIP)

venv: $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(LOCK) $(QUIET_PIP)
	$(BIN)/pip install -q --no-deps -e . $(QUIET_PIP)
	@# third-party watermark reader for tests and the speaker-encoder weights (Apache-2.0) for the consent gate:
	@# their metadata demands torch, which the code we use does not need (resemblyzer runs in numpy here)
	$(BIN)/pip install -q --no-deps --require-hashes -r $(NODEPS) $(QUIET_PIP)
	@# message catalogs are compiled at build time (.po -> .mo); the .po files are the source
	$(BIN)/python scripts/i18n.py compile > /dev/null
	@# bytecode now, as a wheel install does: the first commands need not compile 250 modules (issue 22)
	$(BIN)/python -m compileall -q src/synthguard > /dev/null

# Re-resolve every extra the Makefile installs into the lock files (newest versions within pyproject's ranges).
lock: $(BIN)/python
	$(BIN)/pip install -q uv==$(UV_VERSION) $(QUIET_PIP)
	$(BIN)/uv pip compile pyproject.toml $(addprefix --extra ,$(LOCK_EXTRAS)) --generate-hashes \
	  --python-version 3.11 --no-header --quiet -o $(LOCK)
	$(BIN)/uv pip compile requirements/nodeps.in --no-deps --generate-hashes --python-version 3.11 --no-header \
	  --quiet -o $(NODEPS)
	@echo "lock files refreshed: review the diff, then make test"

# Re-extract user-facing strings from code and templates into the catalogs (then translate the new entries).
i18n: $(BIN)/python
	$(BIN)/python scripts/i18n.py extract

# Debian packages the tests use: exiftool (independent metadata reader), a full CJK font, espeak-ng (offline
# speech for audio notices and voice tests), poppler-utils (PDF -> PNG/text checks of reports), tmux (the CLI's
# views captured in a real 80-column terminal), chromium (browser tests drive it with Playwright; `playwright
# install` is never run).
system-deps:
	@missing=""; \
	command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-microhei fontconfig"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install:$$missing (Debian package names)"; fi; \
	fi

demo: export SYNTHGUARD_HOME := $(CURDIR)/$(DEMO)/home
demo: export SYNTHGUARD_DATABASE_URL :=
demo: venv
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@$(BIN)/python -m synthguard keys init > /dev/null
	@$(BIN)/python -m synthguard users add u-42 > /dev/null
	@$(BIN)/python -m synthguard users verify u-42 --method mobile --identifier "+86 138 0013 8000" --reference demo-1 > /dev/null
	@echo "== 1. provider labels a generated image (visible + watermark + GB 45438 metadata + C2PA + ledger)"
	@$(BIN)/python -m synthguard label src/synthguard/samples/generated.jpg -o $(DEMO)/labeled.jpg --producer 001191110102MAD55U9H0F10002 --user u-42 --model demo-diffusion-1
	@echo "== 1b. the same journey for a generated text (notice + GB 45438 AIGC front matter)"
	@$(BIN)/python -m synthguard label src/synthguard/samples/generated.md -o $(DEMO)/labeled.md --producer 001191110102MAD55U9H0F10002 --user u-42 --model demo-llm-1 > /dev/null
	@grep -m1 "AI-generated" $(DEMO)/labeled.md; $(BIN)/python -m synthguard inspect $(DEMO)/labeled.md | grep -E "aigc_integrity|modality"
	@echo "== 2. anyone inspects the labels"
	@$(BIN)/python -m synthguard inspect $(DEMO)/labeled.jpg
	@echo "== 3. someone strips the metadata and re-encodes it (JPEG 75, 60% size)"
	@$(BIN)/python -c "from PIL import Image; im=Image.open('$(DEMO)/labeled.jpg'); im.resize((im.width*3//5, im.height*3//5)).save('$(DEMO)/stripped.jpg', quality=75)"
	@$(BIN)/python -m synthguard inspect $(DEMO)/stripped.jpg
	@echo "== 4. a platform scans the stripped upload: verdict per Labeling Measures Art. 6"
	@$(BIN)/python -m synthguard scan $(DEMO)/stripped.jpg
	@echo "== 5. the victim traces the stripped copy back to its maker, with a Merkle proof"
	@$(BIN)/python -m synthguard ledger checkpoint > /dev/null
	@$(BIN)/python -m synthguard trace $(DEMO)/stripped.jpg
	@echo "== 6. and gets an evidence bundle (JSON + HTML + PDF + standalone verifier)"
	@$(BIN)/python -m synthguard evidence $(DEMO)/stripped.jpg -o $(DEMO)/evidence.zip
	@$(BIN)/python -m synthguard evidence-verify $(DEMO)/evidence.zip
	@$(BIN)/python -m synthguard ledger verify
	@echo "demo files in $(DEMO)/"
	@echo "integrations (label inside diffusers, an OpenAI-compatible gateway, scan on upload): docs/integrations/"

# The suite on SQLite, the torch-side tests, then -- when a Postgres server answers on localhost -- the whole suite
# again on Postgres (a schema per test), so both backends are tested on every run.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PG_PYTEST = SYNTHGUARD_TEST_BACKEND=postgres SYNTHGUARD_TEST_POSTGRES_URL=$${SYNTHGUARD_TEST_POSTGRES_URL:-$(PG_TEST_URL)} \
  $(BIN)/python -m pytest -q -p no:cacheprovider tests
PG_UP = $(BIN)/python -c "import psycopg; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=3).close()" 2>/dev/null

test: venv system-deps
	$(BIN)/ruff check src tests
	@# axe-core (npm) for the accessibility tests of the web pages; they skip without it
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || echo "npm ci failed: the a11y tests will skip"; fi
	@if $(PG_UP); then export SYNTHGUARD_TEST_POSTGRES_URL=$(PG_TEST_URL); \
	  echo "Postgres reachable: postgres tests enabled"; fi; \
	$(BIN)/python -m pytest -q -p no:cacheprovider tests
	@$(MAKE) --no-print-directory test-hf
	@if $(PG_UP); then echo "== the whole suite again, on Postgres =="; $(PG_PYTEST); \
	else echo "Postgres not reachable: the Postgres pass is skipped"; fi

# The text watermark's torch branch with real PyTorch + transformers (a tiny model built in the test), in a side
# venv: SynthGuard itself never needs torch. Skipped (not failed) where no CPU build of torch is available.
test-hf:
	@bash scripts/hf_venv.sh .venv-hf; rc=$$?; \
	if [ $$rc = 3 ]; then echo "tests/hf skipped: no CPU build of torch available (set HF_TORCH_INDEX)"; exit 0; fi; \
	[ $$rc = 0 ] && .venv-hf/bin/python -m pytest -q -p no:cacheprovider tests/hf

# The whole suite against Postgres: every test gets its own schema (needs SYNTHGUARD_TEST_POSTGRES_URL's server).
test-postgres: venv system-deps
	$(PG_PYTEST)

lint: venv
	$(BIN)/ruff check src tests && $(BIN)/mypy src   # both clean
	@$(MAKE) --no-print-directory lint-duplicates

# Issue 23: no six lines repeat outside the Alembic migrations (which must stay frozen copies), but for the pairs of
# files scripts/duplicates-allowed.txt lists with the reason. The `duplicates` finder is a developer tool a fresh
# machine lacks (CI too): skipped there. It always exits 0 and says `incomplete:` when it ran out of time; that
# fails here (raise DUPLICATES_SECONDS), since the rows then speak only of the files it read.
DUPLICATES_SECONDS ?= 300
lint-duplicates:
	@if ! command -v duplicates >/dev/null; then echo "lint-duplicates: no duplicates command here, skipped"; exit 0; fi; \
	out=$$(duplicates --most 200 --seconds $(DUPLICATES_SECONDS)); \
	if grep -q '^incomplete:' <<<"$$out"; then grep '^incomplete:' <<<"$$out"; exit 1; fi; \
	awk 'NR == FNR { if ($$0 !~ /^#/ && NF >= 2) ok[$$1 " " $$2] = 1; next } \
	     /^D[0-9]+ / { a = $$2; b = $$4; sub(/:[0-9-]+$$/, "", a); sub(/:[0-9-]+$$/, "", b); \
	                   if (a ~ /\/migrations\/versions\// && b ~ /\/migrations\/versions\//) next; \
	                   if ((a " " b) in ok || (b " " a) in ok) next; print; bad = 1 } \
	     END { if (bad) print "lint-duplicates: the pairs above repeat six lines: share the code, or list the pair " \
	                          "with its reason in scripts/duplicates-allowed.txt"; exit bad }' \
	  scripts/duplicates-allowed.txt - <<<"$$out"

# Fuzz every parser we own and every reader we wrap (atheris, FUZZ_SECONDS each, byte-level and structure-aware,
# FUZZ_JOBS at once) and the HTTP API (schemathesis on the OpenAPI spec). `make fuzz` is the short, CI-like run;
# `make fuzz-long` gives every target an hour (issue 27), findings in fuzz/findings/summary.json.
FUZZ_SECONDS ?= 30
FUZZ_JOBS ?= 2
fuzz: venv
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python fuzz/run.py --jobs $(FUZZ_JOBS)
	$(BIN)/python fuzz/api.py --examples 25

fuzz-long: venv
	$(BIN)/python fuzz/run.py --seconds 3600 --jobs $(FUZZ_JOBS)
	$(BIN)/python fuzz/api.py --examples 500

bench: venv
	$(BIN)/python bench/label_image.py
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(DEMO) build *.egg-info
