# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB := hub/http/web
# Debian packages the tests need: PostgreSQL for the metadata store, GStreamer's
# RTSP server (run under Debian's python3) as a real RTSP camera, Mosquitto,
# Chromium for the browser test (Debian's build plays H.264), ffmpeg for bench/record.py, mosquitto_sub for bench/events.py,
# nginx for bench/public_fanout.py.
DEB_PACKAGES := postgresql mosquitto mosquitto-clients nginx python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad chromium ffmpeg

.PHONY: install run test lint fuzz guides clean system-deps

install: $(STAMP)

$(STAMP): pyproject.toml $(WEB)/package.json $(WEB)/package-lock.json
	@$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# compat: a plain .pth entry, which mypy follows too (a plugin's type check sees the hub's types)
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	@# The pages' libraries (hls.js, Leaflet, its marker clustering; axe-core for the browser tests)
	@# come from the npm registry, as the lock file pins them.
	if command -v npm >/dev/null; then npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error; \
	else echo "note: npm is missing: the page at / shows snapshots but cannot play live video"; fi
	touch $(STAMP)

# Installs missing Debian packages only when run as root on Debian; otherwise
# says what is missing and carries on (the tests needing them skip with a reason).
system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "note: missing Debian packages:$$missing (install them for the full test suite)"; fi; \
	fi

run: install
	$(BIN)/pantau run -c hub.yaml

# Two workers on two cores: the tests wait on real servers, cameras and clocks a third of the time.
# A third worker made the run 13% shorter here (15:12 to 13:13) but each test half again slower,
# which the tests' time limits should not have to absorb.  Most of the CPU is processes starting:
# a hub or a CLI command is about 2.6 s of it, mostly imports.
test: install
	PANTAU_REQUIRE_PEERS=1 $(BIN)/python -m pytest -q -n 2

# Coverage-guided fuzzing of every parser of device and partner input (fuzz/): 100,000 inputs per
# target, a progress bar, then `TARGET: N inputs, 0 crashes` per target.  Not part of `make test`.
FUZZ_STAMP := $(VENV)/.fuzz-installed
$(FUZZ_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,fuzz]' --config-settings editable_mode=compat
	touch $(FUZZ_STAMP)

fuzz: $(FUZZ_STAMP)
	$(BIN)/python -m fuzz.run --runs $${FUZZ_RUNS:-100000}

# The user guides' screenshots (docs/guides/img/*.id.png, *.en.png): the browser tests take them as each
# person goes through their pages, in both languages.  The guides' text is docs/guides/*.md.
guides: install
	rm -rf docs/guides/img
	PANTAU_GUIDE_SHOTS=docs/guides/img PANTAU_REQUIRE_PEERS=1 $(BIN)/python -m pytest -q -n 2 tests/test_browser.py

lint: install
	$(BIN)/ruff check hub plugins tests bench examples fuzz
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules
