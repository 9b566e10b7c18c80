# The two set-up commands of the README. Each installs what it needs on a fresh Debian 12 machine
# (run as root), then runs; a second run installs nothing and takes seconds.
#   make demo   the main job on the built-in default: the default presenter speaking the bundled sample, demo.mp4
#   make test   the whole test suite
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
# EGL + Mesa's software rasteriser for headless OpenGL; espeak-ng for pronunciations (every language but
# English, and English words outside the dictionary); DejaVu for the pose sheets' labels (IPA symbols).
APT_PACKAGES := libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 espeak-ng fonts-dejavu-core
# The engines the tests import exports into: Chromium (three.js, three-vrm), Godot 3, Assimp (for pyassimp).
ifneq ($(filter test,$(MAKECMDGOALS)),)
APT_PACKAGES += chromium godot3-server libassimp5
endif
.PHONY: demo test setup system-packages test-voices

demo: setup
	$(VENV)/bin/meshsync render assets/demo.flac --text assets/demo.txt --camera bust -o demo.mp4

test: setup $(VENV)/.installed-test node_modules/.installed test-voices
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest

setup: system-packages $(VENV)/.installed

# MBROLA voices speak the alignment tests' sentences with exact phone timings (tests and evaluation only).
test-voices:
	bash tools/install_mbrola.sh

# apt only when something is missing, so a second run does not touch the network.
system-packages:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	python3 -c "import ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e .
	touch $@

# The tests' own consumers: pytest, Blender as a module (bpy, 373 MB), OpenUSD and pyassimp.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@
