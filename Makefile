# expcards — build, test, install.  `make test` is what CI runs (.ci/run), then the same against libssh2 1.11.
PREFIX ?= /usr/local
SWIFT ?= swift
# The libssh2 line builds libssh2 1.11 from Debian 13's source package (`make libssh2`).
APT_PACKAGES := libssh2-1-dev zlib1g-dev openssh-server python3 python3-dateutil python3-paramiko pkg-config groff-base \
  proftpd-core proftpd-mod-crypto chromium python3-aiosmtpd msmtp \
  debian-archive-keyring dpkg-dev gcc make libssl-dev curl openssl
# Packages whose service the tests start themselves: installing them must not leave a daemon
# running system-wide (proftpd would listen on port 21).
NO_SERVICE_PACKAGES := proftpd-core
NO_SERVICE_NAMES := proftpd

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

.PHONY: all build release test lint deps libssh2 install uninstall clean demo bench fuzz

all: build

# Installs the system packages the build and the tests need, when missing.
# Debian starts a package's service on install: while installing, a policy-rc.d (the hook
# invoke-rc.d and deb-systemd-invoke ask) refuses NO_SERVICE_NAMES, unless one already governs
# (Docker images ship one that refuses everything). Afterwards those services are stopped and
# disabled, so nothing listens on port 21 now or after a reboot; tests start their own proftpd.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing:$$missing"; \
	  policy=/usr/sbin/policy-rc.d; ours=""; \
	  if [ ! -e $$policy ]; then \
	    ours=$$policy; trap 'rm -f "$$ours"' EXIT; \
	    printf '#!/bin/sh\n# expcards make deps: no service of these packages starts on install.\nfor a; do case "$$a" in %s) exit 101;; esac; done\nexit 0\n' \
	      "$$(echo $(NO_SERVICE_NAMES) $(addsuffix .service,$(NO_SERVICE_NAMES)) | tr ' ' '|')" > $$policy; \
	    chmod 755 $$policy; \
	  fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  for p in $(NO_SERVICE_PACKAGES); do case " $$missing " in *" $$p "*) \
	    for s in $(NO_SERVICE_NAMES); do \
	      if [ -d /run/systemd/system ]; then systemctl disable --now $$s.service >/dev/null 2>&1; \
	      else update-rc.d $$s disable >/dev/null 2>&1; [ -x /etc/init.d/$$s ] && /etc/init.d/$$s stop >/dev/null 2>&1; fi; \
	    done;; esac; \
	  done; exit 0; \
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
test: $(LIBSSH2_DEPS) lint
	$(SWIFT_BUILD) --build-tests
	EXPCARDS_BIN=$(CURDIR)/$(DEBUG_BIN) EXPCARDS_EXPECT_LIBSSH2=$(or $(LIBSSH2),$(shell pkg-config --modversion libssh2)) \
	  $(SWIFT_ENV) $(SWIFT) test --scratch-path $(SCRATCH) --skip-build

# The layout of the sources: .swift-format (4 spaces, 120 columns); any finding fails.
# `swift format -i -r Sources Tests` applies it.
lint:
	$(SWIFT) format lint --strict -r Sources Tests

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
