# digitrec: `make run` trains and evaluates the default model on the bundled MNIST;
# `make test` runs the checks; `make bench` measures (slow, writes BENCHMARKS.md).
# Each target sets up .venv first when it is missing or pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch that lies on this machine's disk. An unpinned torch would make pip
# fetch a multi-GB CUDA build, so it is installed first, pinned, and pyproject caps it.
TORCH_VERSION := 2.13.0
STAMP := $(VENV)/.installed-$(TORCH_VERSION)
# Simply expanded once, so that train, eval and the final message name the same folder.
ifndef RUN_NAME
RUN_NAME := run-$(shell date +%Y%m%d-%H%M%S)
endif

# `make run` ends by serving the page for the model it trained.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
# The browser test drives Debian's chromium (never a downloaded one); `make test` installs it.
CHROMIUM := /usr/bin/chromium
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
# Handwriting fonts for the synthetic photos (digitrec/data/synthetic_photos.py): the families
# of FONT_PACKAGES_EVAL for the photos the benchmark reads, the others for photos to train on
# (digitrec/data/photo_crops.py). `make bench` installs them; without them the photos are of
# MNIST digits only.
FONT_PACKAGES_EVAL := fonts-dkg-handwriting fonts-breip fonts-dancingscript
FONT_PACKAGES_TRAIN := fonts-bwht fonts-comic-neue fonts-humor-sans
FONT_PACKAGES := $(FONT_PACKAGES_EVAL) $(FONT_PACKAGES_TRAIN)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint browser fonts bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/digitrec train --recipe fast --name $(RUN_NAME)
	$(BIN)/digitrec eval runs/$(RUN_NAME)
	@echo "run folder and pictures: runs/$(RUN_NAME)/ (curves.png, confusion.png, errors.png)"
	@echo "draw digits for this model at http://$(SERVE_HOST):$(SERVE_PORT)/ (Ctrl-C stops)"
	$(BIN)/digitrec serve --model runs/$(RUN_NAME) --host $(SERVE_HOST) --port $(SERVE_PORT)

lint: $(STAMP)
	$(BIN)/ruff check digitrec tests bench
	$(BIN)/ruff format --check digitrec tests bench

browser:
	@test -x $(CHROMIUM) || $(SUDO) $(APT_INSTALL) chromium chromium-driver || \
		{ $(SUDO) apt-get update && $(SUDO) $(APT_INSTALL) chromium chromium-driver; }

fonts:
	@dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1 || $(SUDO) $(APT_INSTALL) $(FONT_PACKAGES) || \
		{ $(SUDO) apt-get update && $(SUDO) $(APT_INSTALL) $(FONT_PACKAGES); }

test: lint browser
	DIGITREC_REQUIRE_BROWSER=1 $(BIN)/pytest -q

bench: $(STAMP) fonts
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
