# nudge — one plain Makefile.  make, make check, make demo, make bench,
# make install PREFIX=... DESTDIR=...
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
CC      ?= cc
CFLAGS  ?= -O2 -g
PKG_CONFIG ?= pkg-config
VERSION ?= 0.1

override CFLAGS += -pthread -std=c17 -D_GNU_SOURCE -DNUDGE_VERSION=\"$(VERSION)\" \
	-DPROVIDERDIR=\"$(DATADIR)/nudge/providers\" \
	-DCAMPAIGNDIR=\"$(DATADIR)/nudge/campaigns\" -Wall -Wextra -Wpedantic -Wshadow -Wconversion
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif

PKGS := sqlite3 yaml-0.1
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libcurl 2>/dev/null)
override CFLAGS += $(DEP_CFLAGS)
# libcsv ships no .pc file.  --as-needed keeps a library out of a command
# that does not use it: libcurl costs ~9 ms at every process start, so only
# the commands whose objects call it (send) end up linking it.
LIBS := -pthread -Wl,--as-needed $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lcsv \
        $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null) -lm

# The commands linked statically (glibc, SQLite, libyaml; -static-pie, so
# that the kernel still places them at random): nudge-track runs once per
# request as a CGI program, and a dynamic one spends a third of its
# instructions in ld.so binding libsqlite3's symbols (callgrind: 3.9M a
# click against 2.6M; HACKING.md).  `make STATIC_CMDS=` links every command
# dynamically; `make STATIC_CMDS='track event'` adds one.  send is never
# static: libcurl and its resolver need glibc's shared NSS modules.  When
# an archive is missing (Debian's libsqlite3-dev, libyaml-dev and
# libc6-dev ship them), for SAN=1 (the sanitizers' runtimes are shared
# objects) and under `make check-valgrind` (memcheck replaces malloc in
# shared objects only), the commands link dynamically like the rest.
# ld warns that SQLite's load_extension would need glibc's shared
# libraries at run time: nudge never loads an extension.
STATIC_CMDS ?= track
STATIC_LIBS := $(shell $(PKG_CONFIG) --static --libs $(PKGS) 2>/dev/null) -lm
STATIC_MISSING := $(foreach l,$(patsubst -l%,%,$(filter -l%,$(STATIC_LIBS))) c,\
	$(if $(findstring /,$(shell $(CC) -print-file-name=lib$(l).a)),,lib$(l).a))
STATIC_OK := $(if $(SAN)$(strip $(STATIC_MISSING)),,$(findstring -lsqlite3,$(STATIC_LIBS)))
STATIC_BINS := $(if $(STATIC_OK),$(patsubst %,nudge-%,$(filter-out send,$(STATIC_CMDS))))
# The commands' link depends on which are static: a change relinks them.
LINK_STAMP := lib/link-static
$(shell echo '$(STATIC_BINS)' | cmp -s - $(LINK_STAMP) 2>/dev/null || \
	echo '$(STATIC_BINS)' >$(LINK_STAMP))

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:.c=.o)
CMD_SRC  := $(sort $(filter-out cmd/nudge.c,$(wildcard cmd/*.c)))
CMDS     := $(patsubst cmd/%.c,nudge-%,$(CMD_SRC))
UNIT_SRC := $(sort $(wildcard test/unit/*.c))
UNITS    := $(UNIT_SRC:.c=.t)
MANS     := $(sort $(wildcard man/*.[1-9]))
BENCH_TOOLS := test/bench/gen test/bench/predict-gen
VG_TESTS ?= test/*.t

all: nudge $(CMDS)

lib/libnudge.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

lib/%.o: lib/%.c lib/*.h
	$(CC) $(CFLAGS) -c -o $@ $<

cmd/%.o: cmd/%.c lib/*.h
	$(CC) $(CFLAGS) -Ilib -c -o $@ $<

# nudge takes only util.o (did-you-mean) from the archive: no SQLite
nudge: cmd/nudge.o lib/libnudge.a
	$(CC) $(LDFLAGS) -o $@ cmd/nudge.o lib/libnudge.a

nudge-%: cmd/%.o lib/libnudge.a $(LINK_STAMP)
	$(CC) $(LDFLAGS) -o $@ $< lib/libnudge.a $(LIBS)

$(STATIC_BINS): nudge-%: cmd/%.o lib/libnudge.a $(LINK_STAMP)
	$(CC) $(LDFLAGS) -static-pie -o $@ $< lib/libnudge.a -pthread \
	    $(STATIC_LIBS) -lcsv

test/unit/%.t: test/unit/%.c test/unit/tap.h lib/libnudge.a lib/*.h
	$(CC) $(CFLAGS) -Ilib -Itest/unit $(LDFLAGS) -o $@ $< lib/libnudge.a $(LIBS)

test/bench/gen: test/bench/gen.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

test/bench/predict-gen: test/bench/predict-gen.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lsqlite3 -lm

# The test suite: shell tests (test/NNNN-*.t) and lib/ unit tests, in TAP,
# run by prove.  `make check` first installs missing Debian packages when
# run as root, else names them and stops.
#
# The targets that install packages (check, check-valgrind, torture, demo,
# bench) build through a second $(MAKE) after deps: this make read the
# pkg-config flags (DEP_CFLAGS, LIBS) when it parsed this file, before deps
# ran, so on a fresh machine they are empty and every link fails; the
# second make reads them with the packages in place.
# Most tests wait on servers and sleeps rather than the CPU, so prove runs
# them four at a time (each has its own directory and free ports):
# `make check PROVE_FLAGS=` runs them one by one.
PROVE_FLAGS ?= -j4

check: deps
	$(MAKE) all $(UNITS) $(FUZZ_REGRESS)
	prove $(PROVE_FLAGS) test/unit/*.t test/*.t

deps:
	@sh test/deps.sh

# The suite again with every command and unit test under valgrind memcheck
# (test/valgrind/vg): an error or a definite/indirect leak fails the test.
# Slow (see README); the reports with errors are listed at the end.
check-valgrind: deps
	$(MAKE) all $(UNITS) $(FUZZ_REGRESS) STATIC_CMDS=
	rm -rf test/valgrind/bin test/valgrind/log
	mkdir -p test/valgrind/bin test/valgrind/log
	for c in nudge $(CMDS); do ln -s ../vg test/valgrind/bin/$$c; done
	st=0; prove $(PROVE_FLAGS) --exec test/valgrind/vg test/unit/*.t || st=1; \
	TEST_BIN_DIR=$(CURDIR)/test/valgrind/bin TEST_SLOW=20 prove $(PROVE_FLAGS) \
	    $(VG_TESTS) || st=1; \
	bad=$$(grep -l 'ERROR SUMMARY: [1-9]\|definitely lost\|indirectly lost\|Invalid\|uninitialised' \
	    test/valgrind/log/*.log 2>/dev/null); \
	if [ -n "$$bad" ]; then echo "valgrind reports: $$bad"; st=1; fi; exit $$st

# The long fault tests (allocation failures, crash loops): minutes, so not
# part of `make check`; see test/torture/README.
torture: deps
	$(MAKE) all test/torture/failmalloc.so
	prove $(PROVE_FLAGS) test/torture/*.t

# The LD_PRELOAD shim that fails the N-th allocation or store write
test/torture/failmalloc.so: test/torture/failmalloc.c
	$(CC) -shared -fPIC -O1 -g -Wall -Wextra -o $@ $< -ldl

# ---- fuzzing: test/fuzz/README ----
# Each test/fuzz/TARGET.c is a libFuzzer target.  `make fuzz` builds them
# with clang (lib/ recompiled into build/fuzz/, apart from the gcc
# objects) and runs each for FUZZ_TIME seconds on its seed corpus and
# dictionary; new inputs go to FUZZ_WORK, crashes to test/fuzz/crashes/.
# `make fuzz-afl` does the same with AFL++.  `make check` runs every
# target once over its corpus and kept crashes (test/fuzz/TARGET.regress,
# the normal compiler and flags).
FUZZ_SRC     := $(filter-out test/fuzz/driver.c,$(sort $(wildcard test/fuzz/*.c)))
FUZZ_TARGETS := $(patsubst test/fuzz/%.c,%,$(FUZZ_SRC))
FUZZ_REGRESS := $(patsubst %,test/fuzz/%.regress,$(FUZZ_TARGETS))
FUZZ_TIME    ?= 60
FUZZ_FLAGS   ?= -timeout=10 -rss_limit_mb=2048
FUZZ_BUILD   ?= build/fuzz
FUZZ_WORK    ?= $(FUZZ_BUILD)/work
CC_FUZZ      ?= clang
FUZZ_SAN     ?= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -pthread -std=c17 -D_GNU_SOURCE \
	-DNUDGE_VERSION=\"$(VERSION)\" -DPROVIDERDIR=\"$(DATADIR)/nudge/providers\" \
	-DCAMPAIGNDIR=\"$(DATADIR)/nudge/campaigns\" $(FUZZ_SAN) $(DEP_CFLAGS)
FUZZ_LIB_OBJ := $(patsubst lib/%.c,$(FUZZ_BUILD)/lib/%.o,$(LIB_SRC))
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/%,$(FUZZ_TARGETS))

test/fuzz/%.regress: test/fuzz/%.c test/fuzz/driver.c test/fuzz/fuzz.h lib/libnudge.a lib/*.h
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $< test/fuzz/driver.c lib/libnudge.a $(LIBS)

$(FUZZ_BUILD)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	$(CC_FUZZ) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libnudge.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BUILD)/%: test/fuzz/%.c test/fuzz/fuzz.h $(FUZZ_BUILD)/libnudge.a
	$(CC_FUZZ) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilib -o $@ $< $(FUZZ_BUILD)/libnudge.a $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	@sh test/deps.sh fuzz
	$(MAKE) fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_WORK)/$$t test/fuzz/crashes/$$t; \
	    echo "fuzz: $$t for $(FUZZ_TIME) s"; \
	    $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	        -dict=test/fuzz/$$t.dict -artifact_prefix=test/fuzz/crashes/$$t/ \
	        $(FUZZ_FLAGS) $(FUZZ_WORK)/$$t test/fuzz/corpus/$$t || rc=1; \
	done; exit $$rc

# AFL++ (Debian's afl++: `sh test/deps.sh fuzz`): afl-clang-fast builds the
# same targets (its -fsanitize=fuzzer links AFL++'s libFuzzer driver);
# one afl-fuzz per target for FUZZ_TIME seconds.
fuzz-afl:
	@sh test/deps.sh fuzz
	$(MAKE) fuzz-build CC_FUZZ=afl-clang-fast FUZZ_BUILD=build/fuzz-afl
	@rc=0; for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz-afl/work test/fuzz/crashes/$$t; \
	    rm -rf build/fuzz-afl/work/$$t; \
	    AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 afl-fuzz -V $(FUZZ_TIME) \
	        -i test/fuzz/corpus/$$t -o build/fuzz-afl/work/$$t \
	        -x test/fuzz/$$t.dict -- build/fuzz-afl/$$t || rc=1; \
	    for c in build/fuzz-afl/work/$$t/default/crashes/id*; do \
	        [ -f "$$c" ] && cp "$$c" test/fuzz/crashes/$$t/; done; \
	done; exit $$rc

demo: deps
	@$(MAKE) --no-print-directory all
	@sh samples/demo.sh

# doc/report.png, the README's picture: the demo's HTML report as headless
# Chromium draws it
screenshot: deps
	@$(MAKE) --no-print-directory all
	@sh doc/screenshot.sh

bench:
	@sh test/deps.sh bench
	$(MAKE) all $(BENCH_TOOLS)
	@sh test/bench/run.sh

# run.sh's import, events, segment and trigger parts at 10M contacts and
# 100M events (about an hour and 60 GB; it checks the disk first), each
# figure beside its 1M/10M value: test/bench/scale.sh.
bench-scale:
	@sh test/deps.sh bench
	$(MAKE) all $(BENCH_TOOLS)
	@sh test/bench/scale.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	cp nudge $(CMDS) $(DESTDIR)$(BINDIR)/
	for m in $(MANS); do s=$${m##*.}; cp $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	mkdir -p $(DESTDIR)$(DATADIR)/nudge/providers
	cp samples/providers/*.yaml $(DESTDIR)$(DATADIR)/nudge/providers/
	mkdir -p $(DESTDIR)$(DATADIR)/nudge/campaigns/templates
	cp campaigns/signup-confirm.yaml campaigns/signup-confirm-sms.yaml \
	    $(DESTDIR)$(DATADIR)/nudge/campaigns/
	cp campaigns/templates/signup-confirm.txt \
	    campaigns/templates/signup-confirm.sms \
	    $(DESTDIR)$(DATADIR)/nudge/campaigns/templates/
	mkdir -p $(DESTDIR)$(DATADIR)/bash-completion/completions $(DESTDIR)$(DATADIR)/zsh/site-functions
	cp completion/nudge.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/nudge
	cp completion/_nudge $(DESTDIR)$(DATADIR)/zsh/site-functions/_nudge

lint:
	mandoc -Tlint -Wwarning $(MANS)
	if command -v cppcheck >/dev/null; then cppcheck --quiet --error-exitcode=1 \
	    --enable=warning,performance,portability --std=c11 -D_GNU_SOURCE \
	    -Ilib --suppress=missingIncludeSystem lib cmd; fi

clean:
	rm -f nudge nudge-* cmd/*.o lib/*.o lib/libnudge.a $(LINK_STAMP) test/unit/*.t $(BENCH_TOOLS) test/torture/failmalloc.so
	rm -rf test/fuzz/*.regress build/fuzz build/fuzz-afl test/valgrind/bin test/valgrind/log

.PHONY: all check check-valgrind deps demo screenshot bench bench-scale install lint clean torture fuzz fuzz-build fuzz-afl
.PRECIOUS: cmd/%.o $(FUZZ_BUILD)/lib/%.o
