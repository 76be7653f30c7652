# expcards — build, test, install.  `make test` is what CI runs (.ci/run), then the same against libssh2 1.11.
PREFIX ?= /usr/local
SWIFT ?= swift
# The last line builds libssh2 1.11 from Debian 13's source package (`make libssh2`).
APT_PACKAGES := libssh2-1-dev zlib1g-dev openssh-server python3 python3-dateutil python3-paramiko pkg-config groff-base \
  debian-archive-keyring dpkg-dev gcc make libssl-dev

# LIBSSH2 empty: the system's libssh2 (1.10 on Debian 12), in SwiftPM's .build.
# LIBSSH2=1.11: libssh2 1.11, in its own .build-libssh2-1.11 so the two builds never mix; on
# Debian 12 the static library `make libssh2` builds (the binary needs no build tree), on
# Debian 13 the system's.
LIBSSH2 ?=
ifeq ($(LIBSSH2),)
SCRATCH := .build
LIBSSH2_DEPS := deps
else ifeq ($(LIBSSH2),1.11)
SCRATCH := .build-libssh2-1.11
LIBSSH2_DEPS := libssh2
else
$(error LIBSSH2 must be empty (the system's libssh2) or 1.11, not "$(LIBSSH2)")
endif
# Expanded when a recipe runs, after `make libssh2`: empty when the system's libssh2 will do.
LIBSSH2_PREFIX = $(if $(LIBSSH2),$(shell scripts/libssh2.sh prefix))
SWIFT_ENV = $(if $(LIBSSH2_PREFIX),PKG_CONFIG_PATH=$(LIBSSH2_PREFIX)/lib/pkgconfig)
SWIFT_BUILD = $(SWIFT_ENV) $(SWIFT) build --scratch-path $(SCRATCH)
DEBUG_BIN = $(SCRATCH)/debug/expcards

.PHONY: all build release test deps libssh2 install uninstall clean demo bench fuzz

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

# libssh2 1.11 for LIBSSH2=1.11 (nothing to do when already built, or on Debian 13).
libssh2: deps
	scripts/libssh2.sh build

build: $(LIBSSH2_DEPS)
	$(SWIFT_BUILD)

release: $(LIBSSH2_DEPS)
	$(SWIFT_BUILD) -c release

# EXPCARDS_BIN: the CLI tests run this build's binary; EXPCARDS_EXPECT_LIBSSH2: the tests check
# that this build runs with the libssh2 asked for.
test: $(LIBSSH2_DEPS)
	$(SWIFT_BUILD) --build-tests
	EXPCARDS_BIN=$(CURDIR)/$(DEBUG_BIN) EXPCARDS_EXPECT_LIBSSH2=$(or $(LIBSSH2),$(shell pkg-config --modversion libssh2)) \
	  $(SWIFT_ENV) $(SWIFT) test --scratch-path $(SCRATCH) --skip-build

# The main job end to end against a throwaway local OpenSSH server (no credentials, no internet).
demo: build
	EXPCARDS_BIN=$(CURDIR)/$(DEBUG_BIN) ./scripts/demo.sh

# Release build, generated data, expcards side by side with the tools ops would use instead.
bench: release
	EXPCARDS_BIN=$(CURDIR)/$(SCRATCH)/release/expcards ./bench/run.sh

# The parser's property tests with many more iterations than `make test`.
fuzz: $(LIBSSH2_DEPS)
	$(SWIFT_BUILD) --build-tests
	EXPCARDS_FUZZ_ITERATIONS=200000 $(SWIFT_ENV) $(SWIFT) test --scratch-path $(SCRATCH) --skip-build --filter ParserPropertyTests

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	bin=$(SCRATCH)/release/expcards; \
	if [ -n "$(LIBSSH2_PREFIX)" ] && readelf -d $$bin | grep -q 'NEEDED.*libssh2'; then \
	  echo "$$bin needs a shared libssh2: it must carry $(LIBSSH2_PREFIX)'s static one"; exit 1; \
	fi; \
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
	rm -rf .build .build-libssh2-1.11
