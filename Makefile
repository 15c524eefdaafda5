# The book's commands. `make help` lists them. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
NB ?= all
ARGS ?=
BUILD_DIR ?= _build

.PHONY: help env book-env book check-pages chromium test lint chapter publish train sweep short-runs campaign data benchmark clean

help:
	@echo "make book                     build the HTML book from the committed results"
	@echo "make test                     lint, unit tests, smoke chapters, nbval, book build"
	@echo "make check-pages              open every page of the book in Chromium (needs chromium)"
	@echo "make chapter NB=02_noise PROFILE=cpu ARGS='-p etas \"[0.1, 0.2]\"'"
	@echo "                              rerun one chapter into runs/<date>-<profile>/ (NB=all)"
	@echo "make publish NB=02_noise      re-execute a chapter of the book (cpu profile) into book/"
	@echo "make sweep PROFILE=cpu        train and sweep every model of a profile (resumable)"
	@echo "make short-runs PROFILE=cpu   the theory chapters' short training runs (resumable)"
	@echo "make campaign PROFILE=cpu     all the profile's compute, in order (Snakemake; CORES=2)"
	@echo "                              DATA_DIR=dir (any target): where CIFAR is"
	@echo "make data DATA_DIR=dir        download CIFAR-10/100 with torchvision (needs internet)"
	@echo "make benchmark                time training and noise sweeps against plain baselines"

# Two layers of the same venv: what renders the book (requirements-book.txt: no PyTorch), and
# everything else on top (requirements.txt, which includes it, and the library itself).
$(VENV)/.book-installed: requirements-book.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-book.txt
	touch $@

$(VENV)/.installed: requirements.txt requirements-book.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.book-installed

env: $(VENV)/.installed

book-env: $(VENV)/.book-installed

book: book-env
	$(VENV)/bin/jupyter-book build . --path-output $(BUILD_DIR) -W -n --keep-going
	@echo "The book is at $(abspath $(BUILD_DIR))/_build/html/index.html"

# Every page in headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM=...): images, clipped
# tables and figures, error output, links, maths; full-page screenshots in $(BUILD_DIR)/screenshots.
check-pages: env book chromium
	$(PY) book_check/selftest.py
	$(PY) book_check/check_pages.py --html $(BUILD_DIR)/_build/html --screenshots $(BUILD_DIR)/screenshots

# Debian's chromium for the browser check, installed with apt when missing (as root, or with sudo).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; fi

lint: env
	$(VENV)/bin/ruff check src tests benchmarks scripts book_check chapters

# Every test: lint, unit tests and every chapter with the smoke profile, the published chapters
# under nbval from the committed results (never training), the book build and the browser check.
# One pytest worker per core (pytest-xdist), one thread each (OMP_NUM_THREADS also reaches the
# chapters' kernels); an idle worker takes tests queued for the other (worksteal: a few tests
# take minutes), and nbval keeps each notebook on one worker. The pages write the tables they
# derive to $(REDERIVED), which must agree with the published ones (bnnoise.build.rederive).
REDERIVED = $(abspath $(BUILD_DIR))/rederived

test: lint
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -n auto --dist worksteal --durations=15
	rm -rf $(REDERIVED)
	OMP_NUM_THREADS=1 BNNOISE_NO_COMPUTE=1 BNNOISE_RESULTS=$(REDERIVED) $(PY) -m pytest book/*.ipynb \
	  -n auto --dist loadscope --nbval-lax --nbval-cell-timeout=600 --durations=15
	$(PY) -m bnnoise.build.rederive data/results/cpu $(REDERIVED)/cpu
	$(MAKE) check-pages

DATA_ARG = $(if $(DATA_DIR),--data-dir $(DATA_DIR))

chapter: env
	$(PY) -m bnnoise chapter $(NB) --profile $(PROFILE) $(DATA_ARG) $(ARGS)

publish: env
	$(PY) -m bnnoise publish $(NB) --profile cpu $(DATA_ARG) $(ARGS)

train sweep short-runs: env
	$(PY) -m bnnoise $@ --profile $(PROFILE) $(DATA_ARG) $(ARGS)

# The whole compute of a profile through the workflow (workflow/Snakefile, target `compute`), in
# the campaign's order; CORES=n runs n/2 jobs at once (two threads each). Rerun to resume.
CORES ?= 2
campaign: env
	$(VENV)/bin/snakemake -s workflow/Snakefile --cores $(CORES) --rerun-incomplete --config profile=$(PROFILE) $(if $(DATA_DIR),data_dir=$(abspath $(DATA_DIR))) $(ARGS) -- compute

data: env
	$(PY) -m bnnoise download $(DATA_ARG)

benchmark: env
	$(PY) benchmarks/benchmark.py $(DATA_ARG) $(ARGS)

clean:
	rm -rf $(BUILD_DIR)/_build data/artifacts/smoke data/results/smoke
