# Guichet - one non-recursive Makefile.
#
#   make            build every binary into build/bin (or build/san/bin)
#   make test       unit self-tests + end-to-end tests, "N passed, N failed"
#   make run        everything up on this machine with demo data
#   make stop       stop what `make run` started
#   make bench      the benchmark (wrk against the gateway, pgbench, nginx)
#   make SANITIZE=address,undefined test   the same under ASan/UBSan
#
# Generated protobuf-c code goes to $(BUILD)/gen, never into git.

SANITIZE ?=
BUILD    := build$(if $(SANITIZE),/san)
PKGS     := libczmq libzmq libpq hiredis libmicrohttpd jansson libprotobuf-c libsodium libcurl
CC       ?= cc
CFLAGS   := -std=c11 -D_GNU_SOURCE -g -O2 -Wall -Wextra -Werror -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
            -fno-common -MMD -MP -Ilib -I$(BUILD)/gen \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS  :=
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

PROTOS   := $(wildcard proto/*.proto)
PB_C     := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
PB_H     := $(PB_C:.c=.h)
PB_O     := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(PB_C))

LIB_SRC  := $(filter-out lib/main_%.c,$(wildcard lib/*.c))
LIB_O    := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
LIBGCH   := $(BUILD)/libgch.a

SERVICES := accounts dossiers documents notify finance
BINS     := $(BUILD)/bin/guichet-bus $(BUILD)/bin/guichetctl \
            $(BUILD)/bin/guichet-gateway \
            $(foreach s,$(SERVICES),$(BUILD)/bin/svc-$(s)) \
            $(BUILD)/bin/gch_selftest

.PHONY: all test check run stop bench clean format format-check memcheck demo
.SECONDARY: $(PB_C) $(PB_H)
all: $(BINS)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(PB_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c | $(PB_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBGCH): $(LIB_O) $(PB_O)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/guichet-bus: $(BUILD)/obj/lib/main_bus.o $(LIBGCH)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/guichetctl: $(BUILD)/obj/lib/main_ctl.o $(LIBGCH)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/gch_selftest: $(BUILD)/obj/lib/main_selftest.o $(LIBGCH)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A service is every .c of its folder; main.c is the entry point, and the
# <svc>_selftest binary is the same objects with main_selftest.c instead.
define service_rules
$(1)_SRC := $$(filter-out $(2)/main.c $(2)/main_selftest.c,$$(wildcard $(2)/*.c))
$(1)_O   := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(BUILD)/bin/$(3): $(BUILD)/obj/$(2)/main.o $$($(1)_O) $(LIBGCH)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
ifneq ($$(wildcard $(2)/main_selftest.c),)
BINS += $(BUILD)/bin/$(3)_selftest
$(BUILD)/bin/$(3)_selftest: $(BUILD)/obj/$(2)/main_selftest.o $$($(1)_O) $(LIBGCH)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endif
endef
$(eval $(call service_rules,gateway,gateway,guichet-gateway))
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s),svc-$(s),svc-$(s))))

all: $(BINS)

test: all
	BUILD=$(BUILD) tests/run

check: test

# On a fresh machine the libraries are not there yet: install them first,
# then build in a sub-make (pkg-config is read again once they are there).
run:
	bash deploy/install-deps.sh
	$(MAKE) all
	BUILD=$(BUILD) deploy/run.sh start

stop:
	BUILD=$(BUILD) deploy/run.sh stop

bench: all
	BUILD=$(BUILD) tests/bench/run

memcheck: all
	BUILD=$(BUILD) GCH_VALGRIND=1 tests/run -k journey

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
