# libFuzzer targets (tests/fuzz/fuzz_<target>.c), included by the top Makefile. Each target and
# lib/ are built with clang, libFuzzer, ASan and UBSan into $(FUZZ_DIR).
#   make fuzz                    runs every target for FUZZ_SECONDS (60) with -seed=FUZZ_SEED (1) and
#                                prints its executions and coverage; a crash fails (exit 2), and its
#                                input is saved under tests/fuzz/regressions/<target>/ to be committed
#   make -j2 fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="hostlist pipeline"
#   make fuzz-coverage           line coverage of lib/ by every target's seeds, saved crash inputs and
#                                working corpus (clang source-based coverage, llvm-profdata, llvm-cov)
#   make fuzz-regress            replays every seed (tests/fuzz/corpus/) and saved crash input once
#   make fuzz-seeds              regenerates the seeds from tests/fixtures, conf/ and docs/
#   make fuzz-clean              removes $(FUZZ_DIR) and the working corpora
FUZZ_CC       ?= clang
FUZZ_DIR      ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_SEED     ?= 1
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

.PHONY: fuzz fuzz-build fuzz-regress fuzz-seeds fuzz-clean fuzz-coverage

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@$(MAKE) --no-print-directory -k $(FUZZ_TARGETS:%=fuzz-run-%); st=$$?; \
	    echo "fuzz summary ($(FUZZ_SECONDS) s per target):"; \
	    for t in $(FUZZ_TARGETS); do cat $(FUZZ_DIR)/$$t.summary 2>/dev/null || echo "fuzz $$t: no result"; done; \
	    exit $$st

fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@sh tests/fuzz/run.sh fuzz $* $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_SEED)

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
	rm -rf $(FUZZ_DIR) $(FUZZ_COV_DIR) tests/fuzz/corpus-work

# Line coverage: the targets and lib/ again, without sanitizers, with clang's source-based coverage;
# each target runs its inputs once (-runs=0) and llvm-cov reports lib/ over the merged profile.
FUZZ_COV_DIR    ?= build-fuzz-cov
LLVM_PROFDATA   ?= $(firstword $(shell command -v llvm-profdata-14 llvm-profdata 2>/dev/null) llvm-profdata)
LLVM_COV        ?= $(firstword $(shell command -v llvm-cov-14 llvm-cov 2>/dev/null) llvm-cov)
FUZZ_COV_CFLAGS := -std=c11 -O1 -g $(WARN) -Wno-error -MMD -MP $(PKG_CFLAGS) \
                   -fprofile-instr-generate -fcoverage-mapping
FUZZ_COV_OBJS   := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_COV_DIR)/%.o)
FUZZ_COV_BINS   := $(FUZZ_ALL:%=$(FUZZ_COV_DIR)/fuzz_%)

fuzz-coverage: $(FUZZ_COV_BINS)
	@sh tests/fuzz/run.sh coverage "$(FUZZ_ALL)" $(FUZZ_COV_DIR) "$(LLVM_PROFDATA)" "$(LLVM_COV)"

$(FUZZ_COV_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COV_DIR)/libpcmon.a
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_COV_DIR)/libpcmon.a \
	    $(PKG_LIBS) -lm

$(FUZZ_COV_DIR)/libpcmon.a: $(FUZZ_COV_OBJS) $(FUZZ_DIR)/lib/default_config.c
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_COV_CFLAGS) -c -o $(FUZZ_COV_DIR)/default_config.o $(FUZZ_DIR)/lib/default_config.c
	rm -f $@
	ar rcs $@ $(FUZZ_COV_OBJS) $(FUZZ_COV_DIR)/default_config.o

$(FUZZ_COV_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_COV_CFLAGS) -c -o $@ $<

-include $(wildcard $(FUZZ_DIR)/*.d $(FUZZ_DIR)/lib/*.d $(FUZZ_COV_DIR)/*.d $(FUZZ_COV_DIR)/lib/*.d)
