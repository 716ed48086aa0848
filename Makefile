# pcmon: one plain GNU Makefile. `make` builds build/pcmon; `make check` runs every test.
VERSION    := 0.1.0
comma      := ,
# A sanitizer build gets its own directory: objects carry no record of their flags, so sharing
# build/ would let `make check SANITIZE=...` run the plain binaries it found there.
BUILDDIR   ?= build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
CC         ?= cc
PKGS       := libsystemd libcurl json-c yaml-0.1 libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wno-unused-parameter
HARDEN  := -fstack-protector-strong -fPIE
# Sanitizer builds use -O1: clearer reports, still fast enough for the whole suite.
OPT     ?= $(if $(SANITIZE),-O1 -g,-O2 -g)
CFLAGS  ?=
CPPFLAGS_ALL := -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DPCMON_VERSION=\"$(VERSION)\" \
                -DPCMON_LIBSYSTEMD_VERSION=\"$(shell pkg-config --modversion libsystemd 2>/dev/null)\" -Ilib
CFLAGS_ALL   := -std=c11 $(OPT) $(WARN) $(HARDEN) -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL  := -pie -Wl,-z,relro,-z,now $(LDFLAGS)

ifdef SANITIZE
CFLAGS_ALL  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_ALL += -fsanitize=$(SANITIZE)
CPPFLAGS_ALL := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS_ALL))
endif

LIB_SRCS    := $(sort $(wildcard lib/*.c))
DAEMON_SRCS := $(sort $(wildcard daemon/*.c))
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILDDIR)/%.o) $(BUILDDIR)/lib/default_config.o
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILDDIR)/%.o)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILDDIR)/tests/%)
TEST_TOOLS  :=

.PHONY: all check check-tailer tests run demo clean deps deps-test bench fuzz soak
all: $(BUILDDIR)/pcmon

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

# The shipped conf/pcmon.yaml is the embedded default: one file, compiled in as bytes.
$(BUILDDIR)/lib/default_config.c: conf/pcmon.yaml tests/tools/embed.sh
	@mkdir -p $(dir $@)
	sh tests/tools/embed.sh pcmon_default_config $< > $@

$(BUILDDIR)/lib/default_config.o: $(BUILDDIR)/lib/default_config.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(BUILDDIR)/libpcmon.a: $(LIB_OBJS)
	ar rcs $@ $^

$(BUILDDIR)/pcmon: $(DAEMON_OBJS) $(BUILDDIR)/libpcmon.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(DAEMON_OBJS) $(BUILDDIR)/libpcmon.a $(PKG_LIBS) -lm

$(BUILDDIR)/tests/%: tests/unit/%.c $(BUILDDIR)/libpcmon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(CHECK_CFLAGS) $(LDFLAGS_ALL) -o $@ $< \
	    $(BUILDDIR)/libpcmon.a $(PKG_LIBS) $(CHECK_LIBS) -lm

# Installs the build (deps) or build and test (deps-test) dependencies when they are missing.
deps:
	@sh tests/tools/deps.sh build
deps-test:
	@sh tests/tools/deps.sh test

# Everything the tests run: the daemon, the unit test binaries and the test drivers.
tests: $(BUILDDIR)/pcmon $(UNIT_BINS) $(TEST_TOOLS)

check: deps-test
	@$(MAKE) --no-print-directory tests
	@sh tests/tools/check.sh $(BUILDDIR)

# Everything in check plus the tailer's stress scripts (see tests/tools/check.sh).
check-tailer: deps-test
	@$(MAKE) --no-print-directory tests
	@PCMON_TAILER_STRESS=1 sh tests/tools/check.sh $(BUILDDIR)

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILDDIR)/pcmon run $(ARGS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/tools/demo.sh $(BUILDDIR)/pcmon

# What pcmon costs a head node against grep, SEC, swatch and rsyslog (docs/performance.md). Not
# part of check; SOAK=1 adds a 10-minute soak, BENCH_ARGS passes options to tests/bench/bench.py.
bench: all
	@mkdir -p $(BUILDDIR)/tests
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $(BUILDDIR)/tests/followlat tests/bench/followlat.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $(BUILDDIR)/tests/runstat tests/bench/runstat.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $(BUILDDIR)/tests/stagebench tests/bench/stagebench.c \
	    $(BUILDDIR)/libpcmon.a $(PKG_LIBS) -lm
	/usr/bin/python3 tests/bench/bench.py --build $(BUILDDIR) $(if $(SOAK),--soak) $(BENCH_ARGS)
	@# The tailer alone (issue 4): write -> rule-engine callback latency over 2000 lines, idle
	@# wake-ups, and catch-up lines/s on a backlog.
	sh tests/bench/tail_latency.sh $(BUILDDIR)

# Whether pcmon's memory stays flat: replay of the largest scenario in a loop, then following files
# appended at 10k lines/s, SOAK_MINUTES (10) each, RSS sampled from /proc (docs/performance.md).
# Not part of check; SOAK_ARGS passes options to tests/bench/soak.py.
soak: all
	/usr/bin/python3 tests/bench/soak.py --build $(BUILDDIR) $(if $(SOAK_MINUTES),--minutes $(SOAK_MINUTES)) $(SOAK_ARGS)

clean:
	rm -rf $(BUILDDIR)

-include $(shell find $(BUILDDIR) -name '*.d' 2>/dev/null)
include tests/fuzz/fuzz.mk

# notifytool: the delivery engine's test driver, run by tests/integration/notify_*.py.
$(BUILDDIR)/tests/notifytool: tests/tools/notifytool.c $(BUILDDIR)/libpcmon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILDDIR)/libpcmon.a $(PKG_LIBS) -lm
tests: $(BUILDDIR)/tests/notifytool
include packaging/install.mk

# tailtool: the tailer's test driver, run by tests/integration/tailer_*.py and tests/bench/tail_latency.sh.
$(BUILDDIR)/tests/tailtool: tests/tools/tailtool.c $(BUILDDIR)/libpcmon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILDDIR)/libpcmon.a $(PKG_LIBS) -lm
tests: $(BUILDDIR)/tests/tailtool
