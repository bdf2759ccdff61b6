# SPDX-License-Identifier: AGPL-3.0-only
# scitex-ssh: one Makefile for the library, the programs, the docs and the tests.

VERSION   = 2.0.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/scitex-ssh
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd
DESTDIR  ?=

CC       ?= cc
CFLAGS   ?= -O2 -g
PKGS      = libbsd-overlay yaml-0.1
PKGS_MCP  = jansson

ifeq ($(SANITIZE),1)
O        ?= build/san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HARDEN_CPP =
else
O        ?= build/out
SANFLAGS  =
HARDEN_CPP = -D_FORTIFY_SOURCE=2
endif

# Warnings and hardening are forced; the user's CFLAGS are kept.
XCFLAGS   = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
            $(HARDEN_CPP) -fstack-protector-strong -fPIE -pthread $(SANFLAGS) \
            -DVERSION='"$(VERSION)"' -iquote lib -MMD -MP \
            $(shell pkg-config --cflags $(PKGS))
# jansson only for what speaks JSON-RPC: the MCP modules and their users.
CFLAGS_MCP = $(shell pkg-config --cflags $(PKGS_MCP))
MCPOBJ    = $(O)/lib/jsonrpc.o $(O)/lib/mcp.o $(O)/lib/mcptools.o \
            $(O)/lib/mcptool.o $(O)/lib/mcptunnel.o $(O)/lib/mcpinfo.o \
            $(O)/lib/mcpremote.o
XLDFLAGS  = -pie -pthread -Wl,-z,relro,-z,now -Wl,--as-needed $(SANFLAGS)
# libyaml and libbsd linked statically: fewer objects for the dynamic
# linker to load and relocate on every ssh invocation (ssh-allow-check).
LIBS      = -Wl,-Bstatic $(shell pkg-config --libs --static $(PKGS)) -Wl,-Bdynamic
LIBS_MCP  = $(shell pkg-config --libs $(PKGS_MCP))

PROGS     = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIBSRC    = $(wildcard lib/*.c)
LIBOBJ    = $(patsubst lib/%.c,$(O)/lib/%.o,$(LIBSRC))
LIBA      = $(O)/libscitexssh.a
HDRS      = $(wildcard lib/*.h)
UNITSRC   = $(wildcard tests/unit/*.c)
UNITBIN   = $(patsubst tests/unit/%.c,$(O)/unit/%,$(UNITSRC))
BINS      = $(addprefix $(O)/bin/,$(PROGS))
MAN1      = $(wildcard man/man1/*.1)
MAN5      = $(wildcard man/man5/*.5)
MAN7      = $(wildcard man/man7/*.7)
MAN8      = $(wildcard man/man8/*.8)
MANS      = $(strip $(MAN1) $(MAN5) $(MAN7) $(MAN8))
SHELLCODE = $(wildcard tests/lib/*.bash tests/lib/*.sh tests/run bench/run bench/*.sh \
            .ci/run .ci/deps .ci/fresh)
COMPLETIONS = $(wildcard completions/bash/*)

.PHONY: all check check-build install uninstall clean lint bench fuzz demo \
        deps deps-build deps-demo deps-check deps-bench unit
all: $(BINS)

# Before any compiler runs: the build's packages, or one line naming the
# missing ones and the command that installs them. demo, check and bench
# install their own packages first, then ask again in the make they start.
NOPREFLIGHT = deps deps-build deps-demo deps-check deps-bench demo check \
              bench lint clean uninstall
ifneq ($(filter-out $(NOPREFLIGHT),$(or $(MAKECMDGOALS),all)),)
PREFLIGHT := $(shell sh .ci/deps -n build 2>&1)
$(if $(PREFLIGHT),$(error $(PREFLIGHT)))
endif

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) -I$(O)/gen -c -o $@ $<
$(MCPOBJ): XCFLAGS += $(CFLAGS_MCP)

# The unit templates compiled into lib/unit.c are the files in systemd/,
# ExecStart's binary left as @BIN@: one source for both.
UNITSRC_FILES = systemd/system/ssh-tunnel@.service systemd/user/ssh-tunnel@.service
$(O)/gen/units.h: $(UNITSRC_FILES)
	@mkdir -p $(@D)
	@for k in system user; do \
	    echo "static const char $${k}_tmpl[] ="; \
	    sed -e 's|^ExecStart=/usr/local/bin/ssh-tunnel-up |ExecStart=@BIN@ |' \
	        -e 's/[\\"]/\\&/g' -e 's/^/\t"/' -e 's/$$/\\n"/' \
	        systemd/$$k/ssh-tunnel@.service; \
	    echo "\t;"; \
	done >$@
$(O)/lib/unit.o: $(O)/gen/units.h

$(LIBA): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(O)/bin/%: cmd/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) $(if $(filter ssh-tunnel-mcp,$*),$(CFLAGS_MCP)) \
	    $(XLDFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS) \
	    $(if $(filter ssh-tunnel-mcp,$*),$(LIBS_MCP))

# Unit tests find their fixtures through TOP, wherever they are run from.
$(O)/unit/%: tests/unit/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) $(if $(filter mcp,$*),$(CFLAGS_MCP)) \
	    -DTOP='"$(CURDIR)"' $(XLDFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) \
	    $(LIBS) $(if $(filter mcp,$*),$(LIBS_MCP)) -lcmocka

unit: $(UNITBIN)

# Test harnesses, never installed, built from tests/lib/ against the
# production library: llexec confines itself with the copy-guard's own
# Landlock rules and runs scp or rsync with no path check (the kernel layer
# alone); nolandlock runs a program as on a kernel without Landlock.
TESTBIN   = $(O)/test/llexec $(O)/test/nolandlock
$(O)/test/%: tests/lib/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# Test only, never installed: lib/remote.c, linked unchanged, driven from
# the command line by the bats suite of the primitives.
REMOTERUN = $(O)/test/remote-run
$(REMOTERUN): tests/lib/remote-run.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) $(CFLAGS_MCP) $(XLDFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBA) $(LIBS) $(LIBS_MCP)

# The whole suite: unit tests, bats suites, lint; one line
# "N passed, N failed, N skipped". Installs the check set first (as root).
check:
	@sh .ci/deps check
	@$(MAKE) --no-print-directory check-build
	@O=$(O) TESTS="$(TESTS)" NOTESTS="$(NOTESTS)" SANITIZE=$(SANITIZE) tests/run
check-build: all $(UNITBIN) $(TESTBIN) $(REMOTERUN)
	@:

lint:
	$(if $(MANS),mandoc -Tlint -W warning $(MANS))
	shellcheck -x $(SHELLCODE)
	$(if $(COMPLETIONS),shellcheck -x -s bash $(COMPLETIONS))

# The Debian packages by set (.ci/deps says which): deps installs them all.
deps:
	@sh .ci/deps all
deps-build deps-demo deps-check deps-bench:
	@sh .ci/deps $(@:deps-%=%)

demo:
	@tests/lib/demo.sh $(O)/bin

bench:
	@sh .ci/deps bench
	@$(MAKE) --no-print-directory all
	@O=$(O) bench/run

FUZZERS = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c))
FUZZTIME ?= 60
fuzz: $(O)/gen/units.h
	@mkdir -p build/fuzz
	@set -e; for f in $(FUZZERS); do \
	    clang -g -O1 -std=c11 -D_GNU_SOURCE -iquote lib -I$(O)/gen -DVERSION='"$(VERSION)"' \
	        $$(pkg-config --cflags $(PKGS) $(PKGS_MCP)) \
	        -fsanitize=fuzzer,address,undefined -o build/fuzz/$$f \
	        tests/fuzz/$$f.c $(LIBSRC) $(LIBS) $(LIBS_MCP); \
	    mkdir -p build/fuzz/$$f.corpus build/fuzz/tmp; \
	    echo "fuzz: $$f for $(FUZZTIME)s"; \
	    TMPDIR=$(CURDIR)/build/fuzz/tmp build/fuzz/$$f \
	        -max_total_time=$(FUZZTIME) -timeout=5 \
	        build/fuzz/$$f.corpus tests/fuzz/corpus/$$f 2>build/fuzz/$$f.log \
	        || { tail -40 build/fuzz/$$f.log; rm -rf build/fuzz/tmp; exit 1; }; \
	    rm -rf build/fuzz/tmp; \
	done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/ssh_config.d \
	    $(DESTDIR)$(DATADIR)/skills/scitex-ssh \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	    $(DESTDIR)$(SYSTEMDDIR)/system $(DESTDIR)$(SYSTEMDDIR)/user
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN5),install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(MAN7),install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/)
	$(if $(MAN8),install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	install -m 0644 ssh_config.d/*.conf $(DESTDIR)$(DATADIR)/ssh_config.d/
	install -m 0644 skills/scitex-ssh/SKILL.md $(DESTDIR)$(DATADIR)/skills/scitex-ssh/
	for f in completions/bash/*; do install -m 0644 $$f $(DESTDIR)$(BASHCOMPDIR)/; done
	for f in completions/zsh/_*; do install -m 0644 $$f $(DESTDIR)$(ZSHCOMPDIR)/; done
	for k in system user; do \
	    sed 's|^ExecStart=/usr/local/bin/|ExecStart=$(BINDIR)/|' \
	        systemd/$$k/ssh-tunnel@.service >$(O)/ssh-tunnel@.$$k && \
	    install -m 0644 $(O)/ssh-tunnel@.$$k \
	        $(DESTDIR)$(SYSTEMDDIR)/$$k/ssh-tunnel@.service || exit 1; \
	done

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(BASHCOMPDIR)/$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; done
	for m in $(notdir $(MANS)); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$m; done
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(SYSTEMDDIR)/system/ssh-tunnel@.service $(DESTDIR)$(SYSTEMDDIR)/user/ssh-tunnel@.service

clean:
	rm -rf build

# What each object, program and unit test includes, as the compiler saw it.
-include $(wildcard $(O)/lib/*.d $(O)/bin/*.d $(O)/unit/*.d $(O)/test/*.d)
