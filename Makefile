# ClientPulse — plain make with pkg-config.
#
#   make            build every binary into bin/
#   make check      deps, build, unit tests, bats suites, man page lint
#   make check-asan the same under AddressSanitizer + UBSan (build/asan/)
#   make demo       deps, build, run the pipeline on examples/ into a temp state
#   make bench      the benchmark (tests/bench/)
#   make fuzz       libFuzzer targets for FUZZ_SECONDS each (needs clang)
#   make soak       the concurrency soak (SOAK_SECONDS, default 300)
#   make test TESTS=tests/cp-fetch.bats   some suites, no deps check
#
# The tests run CP_TEST_JOBS suites at a time (default: the processors,
# at most 4); the builds inside check, check-asan and demo use JOBS.
#   make install    PREFIX=/usr/local DESTDIR= MANPREFIX=$(PREFIX)/share/man
#
# Every name is derived from the files: cmd/NAME.c is the binary bin/NAME,
# man/NAME.1 its page, completions/bash/NAME its completion, tests/NAME.bats
# its suite.  Adding a binary means adding cmd/NAME.c, nothing here.

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANPREFIX ?= $(PREFIX)/share/man
SHAREDIR  ?= $(PREFIX)/share
DESTDIR   ?=

PKGS = jansson libcurl sqlite3 libpcre2-8 libutf8proc libxml-2.0 libcrypto

# BUILD holds objects and BINOUT the binaries; check-asan re-runs make with
# both pointed at build/asan so the two builds never mix objects.
BUILD  ?= build
BINOUT ?= bin

CFLAGS  ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CP_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
              -DCP_VERSION=\"$(VERSION)\" -Ilib -I$(BUILD) $(PKG_CFLAGS)
CP_CFLAGS   = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-unused-parameter
# --as-needed: each binary records (and so loads at start-up) only the shared
# libraries it really calls; libcurl alone costs ~12 ms per process start.
CP_LDFLAGS  = -Wl,--as-needed
CP_LDLIBS   = $(PKG_LIBS) -lm

# quiet by default; make V=1 shows the commands
ifeq ($(V),1)
Q =
msg = @true
else
Q = @
msg = @printf '  %-6s %s\n'
endif

ALL_CFLAGS  = $(CP_CPPFLAGS) $(CPPFLAGS) $(CP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(CP_LDFLAGS) $(LDFLAGS)

CMDS    = $(sort $(patsubst cmd/%.c,%,$(wildcard cmd/*.c)))
BINS    = $(addprefix $(BINOUT)/,$(CMDS))
LIBSRC  = $(sort $(wildcard lib/*.c))
LIBOBJ  = $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIBSRC)) $(BUILD)/lib/data.o
LIBA    = $(BUILD)/libclientpulse.a
DATA    = $(sort $(shell find lib/data -type f ! -name '*~' 2>/dev/null))
UNITSRC = $(sort $(wildcard tests/unit/test_*.c))
UNITS   = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNITSRC))
MAN1    = $(sort $(wildcard man/*.1))
MAN5    = $(sort $(wildcard man/*.5))
MAN7    = $(sort $(wildcard man/*.7))
BASHCOMP = $(sort $(wildcard completions/bash/*))
ZSHCOMP  = $(sort $(wildcard completions/zsh/_*))

# The build inside check, check-asan and demo uses every processor,
# unless make was given its own -j.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
SUBJ = $(if $(findstring j,$(filter-out --%,$(MAKEFLAGS))),,-j$(JOBS))

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined

.PHONY: all deps check check-asan test unit demo bench fuzz soak lint-man \
        install uninstall clean units

all: $(BINS) units

units: $(UNITS)

$(BUILD)/lib $(BUILD)/tests $(BUILD)/tools $(BINOUT):
	@mkdir -p $@

# Embedded default data: tools/embed turns lib/data/** into one C array.
$(BUILD)/tools/embed: tools/embed.c | $(BUILD)/tools
	$(msg) HOSTCC $@
	$(Q)$(CC) -std=c11 -O1 -o $@ tools/embed.c

$(BUILD)/data.c: $(BUILD)/tools/embed $(DATA)
	$(msg) EMBED $@
	$(Q)$(BUILD)/tools/embed lib/data $(DATA) > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/data.o: $(BUILD)/data.c lib/data.h | $(BUILD)/lib
	$(msg) CC $@
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $(BUILD)/data.c

$(BUILD)/lib/%.o: lib/%.c | $(BUILD)/lib
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIBOBJ)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $(LIBOBJ)

$(BUILD)/cmd/%.o: cmd/%.c
	@mkdir -p $(BUILD)/cmd
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BINOUT)/%: $(BUILD)/cmd/%.o $(LIBA) | $(BINOUT)
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(CP_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIBA) | $(BUILD)/tests
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(CP_LDLIBS)

-include $(wildcard $(BUILD)/lib/*.d $(BUILD)/cmd/*.d)

deps:
	@sh tools/deps.sh

# The test driver runs the unit programs and every bats suite, with the
# built binaries first on PATH, and prints "N passed, N failed".
check: deps
	@$(MAKE) $(SUBJ) --no-print-directory all
	@CP_BIN=$(CURDIR)/$(BINOUT) CP_BUILD=$(CURDIR)/$(BUILD) bash tests/run $(TESTS)

test: all
	@CP_BIN=$(CURDIR)/$(BINOUT) CP_BUILD=$(CURDIR)/$(BUILD) bash tests/run $(TESTS)

check-asan: deps
	@$(MAKE) $(SUBJ) --no-print-directory BUILD=build/asan BINOUT=build/asan/bin \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" all
	@CP_BIN=$(CURDIR)/build/asan/bin CP_BUILD=$(CURDIR)/build/asan CP_ASAN=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
	    bash tests/run $(TESTS)

lint-man:
	@sh tests/lint-man $(MAN1) $(MAN5) $(MAN7)

demo: deps
	@$(MAKE) $(SUBJ) --no-print-directory all
	@CP_BIN=$(CURDIR)/$(BINOUT) sh examples/demo.sh

bench: all
	@CP_BIN=$(CURDIR)/$(BINOUT) sh tests/bench/run

FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run

soak: all
	@CP_BIN=$(CURDIR)/$(BINOUT) sh tests/soak/run

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(MANPREFIX)/man7 \
	    $(DESTDIR)$(SHAREDIR)/bash-completion/completions \
	    $(DESTDIR)$(SHAREDIR)/zsh/site-functions \
	    $(DESTDIR)$(SHAREDIR)/clientpulse/examples
	cp -f $(BINS) $(DESTDIR)$(BINDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/
	cp -f $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/
	cp -f $(BASHCOMP) $(DESTDIR)$(SHAREDIR)/bash-completion/completions/
	cp -f $(ZSHCOMP) $(DESTDIR)$(SHAREDIR)/zsh/site-functions/
	cp -Rf examples/. $(DESTDIR)$(SHAREDIR)/clientpulse/examples/

uninstall:
	for b in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$b; done
	for m in $(notdir $(MAN1)); do rm -f $(DESTDIR)$(MANPREFIX)/man1/$$m; done
	for m in $(notdir $(MAN5)); do rm -f $(DESTDIR)$(MANPREFIX)/man5/$$m; done
	for m in $(notdir $(MAN7)); do rm -f $(DESTDIR)$(MANPREFIX)/man7/$$m; done
	for c in $(notdir $(BASHCOMP)); do \
	    rm -f $(DESTDIR)$(SHAREDIR)/bash-completion/completions/$$c; done
	for c in $(notdir $(ZSHCOMP)); do \
	    rm -f $(DESTDIR)$(SHAREDIR)/zsh/site-functions/$$c; done
	rm -rf $(DESTDIR)$(SHAREDIR)/clientpulse

clean:
	rm -rf build bin
