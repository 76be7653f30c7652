# expcards — build, test, install.  `make test` is what CI runs (.ci/run).
PREFIX ?= /usr/local
SWIFT ?= swift
APT_PACKAGES := libssh2-1-dev zlib1g-dev openssh-server python3 python3-dateutil python3-paramiko pkg-config groff-base

.PHONY: all build release test deps install uninstall clean demo bench fuzz

all: build

# Installs the system packages the build and the tests need, when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "Missing Debian packages. Run as root:"; \
	  echo "  apt-get install -y$$missing"; exit 1; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The main job end to end against a throwaway local OpenSSH server (no credentials, no internet).
demo: deps build
	./scripts/demo.sh

# Release build, generated data, expcards side by side with the tools ops would use instead.
bench: deps release
	./bench/run.sh

# The parser's property tests with many more iterations than `make test`.
fuzz: deps
	$(SWIFT) build --build-tests
	EXPCARDS_FUZZ_ITERATIONS=200000 $(SWIFT) test --skip-build --filter ParserPropertyTests

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	bin=$$($(SWIFT) build -c release --show-bin-path)/expcards; \
	install -m 0755 $$bin $(DESTDIR)$(PREFIX)/bin/expcards && \
	$$bin --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/expcards && \
	$$bin --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_expcards && \
	$$bin --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/expcards.fish
	install -m 0644 Man/expcards.1 $(DESTDIR)$(PREFIX)/share/man/man1/expcards.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/expcards $(DESTDIR)$(PREFIX)/share/man/man1/expcards.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/expcards \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_expcards \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/expcards.fish

clean:
	rm -rf .build
