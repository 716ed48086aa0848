# libFuzzer targets (tests/fuzz/fuzz_<target>.c), included by the top Makefile. Each target and
# lib/ are built with clang, libFuzzer, ASan and UBSan into $(FUZZ_DIR).
#   make fuzz                    runs every target for FUZZ_SECONDS (60) and prints its executions
#                                and coverage; a crash fails, and its input is saved under
#                                tests/fuzz/regressions/<target>/ to be committed
#   make -j2 fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="hostlist pipeline"
#   make fuzz-regress            replays every seed (tests/fuzz/corpus/) and saved crash input once
#   make fuzz-seeds              regenerates the seeds from tests/fixtures, conf/ and docs/
#   make fuzz-clean              removes $(FUZZ_DIR) and the working corpora
FUZZ_CC       ?= clang
FUZZ_DIR      ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_ALL      := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS  ?= $(FUZZ_ALL)
FUZZ_SAN      := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CPPFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS_ALL)) -Itests/fuzz
FUZZ_CFLAGS   := -std=c11 -O1 -g $(WARN) -MMD -MP $(PKG_CFLAGS) $(FUZZ_SAN)
# lib/ is gcc's code first: clang's extra warnings there are shown, not fatal, in this build.
FUZZ_LIB_CFLAGS := $(FUZZ_CFLAGS) -Wno-error
FUZZ_LIB_SRCS ?= $(LIB_SRCS)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/%.o) $(FUZZ_DIR)/lib/default_config.o
FUZZ_BINS     := $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-seeds fuzz-clean

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@$(MAKE) --no-print-directory -k $(FUZZ_TARGETS:%=fuzz-run-%); st=$$?; \
	    echo "fuzz summary ($(FUZZ_SECONDS) s per target):"; \
	    for t in $(FUZZ_TARGETS); do cat $(FUZZ_DIR)/$$t.summary 2>/dev/null || echo "fuzz $$t: no result"; done; \
	    exit $$st

fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@sh tests/fuzz/run.sh fuzz $* $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz-regress: $(FUZZ_BINS)
	@sh tests/fuzz/run.sh regress "$(FUZZ_ALL)" $(FUZZ_DIR)

fuzz-seeds:
	sh tests/fuzz/make_seeds.sh

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libpcmon.a
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_DIR)/libpcmon.a $(PKG_LIBS) -lm

$(FUZZ_DIR)/libpcmon.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_LIB_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/lib/default_config.c: conf/pcmon.yaml tests/tools/embed.sh
	@mkdir -p $(dir $@)
	sh tests/tools/embed.sh pcmon_default_config $< > $@

$(FUZZ_DIR)/lib/default_config.o: $(FUZZ_DIR)/lib/default_config.c
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_LIB_CFLAGS) -c -o $@ $<

fuzz-clean:
	rm -rf $(FUZZ_DIR) tests/fuzz/corpus-work

-include $(wildcard $(FUZZ_DIR)/*.d $(FUZZ_DIR)/lib/*.d)
