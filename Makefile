# hark - top-level GNU make build.
#
#   make                      host build into build/host/
#   make ARCH=aarch64         cross build into build/aarch64/ (armhf likewise)
#   make test                 host unit + integration tests, ASan/UBSan run,
#                             aarch64 unit tests under qemu-aarch64
#   make demo                 harkd on the simulated board sim4
#   make bench                benchmark figures
#   make rootfs ARCH=aarch64  stage binaries + rootfs/ overlay + board files
#
# CC, CFLAGS, LDFLAGS, PKG_CONFIG and CROSS_COMPILE may come from outside
# (Buildroot passes them); V=1 shows the commands.

ARCH ?= host
BOARD ?= sim4
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

ifeq ($(ARCH),host)
  MULTIARCH :=
  QEMU :=
else ifeq ($(ARCH),aarch64)
  CROSS_COMPILE ?= aarch64-linux-gnu-
  MULTIARCH := aarch64-linux-gnu
  # Not -L /usr/aarch64-linux-gnu: that mixes the cross toolchain's ld.so
  # (libc6-arm64-cross) with the multiarch libc6:arm64 the -dev packages pull
  # in, and pthread_create then hangs inside ld.so. Without -L both come from
  # libc6:arm64 (/lib/ld-linux-aarch64.so.1).
  QEMU := qemu-aarch64 $(if $(wildcard /lib/ld-linux-aarch64.so.1),,-L /usr/aarch64-linux-gnu)
else ifeq ($(ARCH),armhf)
  CROSS_COMPILE ?= arm-linux-gnueabihf-
  MULTIARCH := arm-linux-gnueabihf
  QEMU := qemu-arm $(if $(wildcard /lib/ld-linux-armhf.so.3),,-L /usr/arm-linux-gnueabihf)
else
  $(error ARCH must be host, aarch64 or armhf)
endif

ifeq ($(origin CC),default)
  CC := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin PKG_CONFIG),undefined)
  ifneq ($(MULTIARCH),)
    PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(MULTIARCH)/pkgconfig:/usr/share/pkgconfig PKG_CONFIG_PATH= pkg-config
  else
    PKG_CONFIG := pkg-config
  endif
endif

SANITIZE ?=
ifeq ($(SANITIZE),1)
  BUILD ?= build/$(ARCH)-asan
  SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  BUILD ?= build/$(ARCH)
  SAN_FLAGS :=
endif
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj
TESTBIN := $(BUILD)/tests
LIBDIR := $(BUILD)/lib

CFLAGS ?= -O2 -g
HARK_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -pthread -Isrc -Idrivers \
  -DHARK_VERSION='"$(VERSION)"' $(SAN_FLAGS)
HARK_LDFLAGS := -pthread $(SAN_FLAGS)

pc = $(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null)
ALSA_CFLAGS := $(call pc,--cflags,alsa)
ALSA_LIBS := $(or $(call pc,--libs,alsa),-lasound)
CJSON_LIBS := $(or $(call pc,--libs,libcjson),-lcjson)
INIH_LIBS := $(or $(call pc,--libs,inih),-linih)
CMOCKA_LIBS := $(or $(call pc,--libs,cmocka),-lcmocka)
SNDFILE_LIBS := $(or $(call pc,--libs,sndfile),-lsndfile)
SPEEXDSP_LIBS := $(or $(call pc,--libs,speexdsp),-lspeexdsp)
KISSFFT_CFLAGS := $(or $(call pc,--cflags,kissfft-float),-I/usr/include/kissfft -Dkiss_fft_scalar=float)
KISSFFT_LIBS := $(or $(call pc,--libs,kissfft-float),-lkissfft-float)
# libwebsockets 4.1.6 built with mbedtls by tools/setup-deps (never Debian's
# OpenSSL build); Debian's mbedtls 2.28 has no .pc file.
LWS_PREFIX ?= build/deps/$(ARCH)
LWS_CFLAGS := -I$(LWS_PREFIX)/include
MBEDTLS_LIBS ?= -lmbedtls -lmbedx509 -lmbedcrypto
LWS_LIBS := $(LWS_PREFIX)/lib/libwebsockets.a $(MBEDTLS_LIBS)

ifeq ($(V),1)
  Q :=
else
  Q := @
endif

include mk/sources.mk
# Per-subsystem fragments: mk/<name>.src.mk may append to CORE_SRCS,
# DRIVER_SRCS, EXTRA_HOST_TOOLS, EXTRA_LIBS (linked into harkd and the unit
# tests), FUZZ_TARGETS; mk/<name>.rules.mk holds the
# link rules of that subsystem's tools (read after the variables below).
-include $(sort $(wildcard mk/*.src.mk))

# ---- objects -------------------------------------------------------------------
# The per-hop DSP (front end, log-mel, the models) is built with -O3, after
# CFLAGS, so that gcc vectorises its loops (SSE on x86, NEON on aarch64):
# about 10 % fewer instructions for the 4-mic front end (docs/frontend.md).
# Float results do not change: no -ffast-math, so no reassociation.
DSP_SRCS := $(wildcard src/fe_*.c) src/frontend.c src/mel.c src/nn_model.c
$(patsubst %.c,$(OBJ)/%.o,$(DSP_SRCS)): DSP_OPT := -O3

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(DSP_OPT) $(HARK_CFLAGS) $(ALSA_CFLAGS) $(LWS_CFLAGS) $(KISSFFT_CFLAGS) -MMD -MP -c -o $@ $<

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))
CORE_OBJS := $(call objs,$(CORE_SRCS))
DRIVER_OBJS := $(call objs,$(DRIVER_SRCS))
HARKD_OBJS := $(call objs,$(HARKD_SRCS)) $(CORE_OBJS) $(DRIVER_OBJS)

# ---- programs ------------------------------------------------------------------
PROGRAMS := $(BIN)/harkd $(BIN)/harkctl
HOST_TOOLS := $(BIN)/hark-wav $(BIN)/hark-scene $(BIN)/hark-bench $(BIN)/hark-cloud-probe $(BIN)/hark-fe-doa-eval \
  $(addprefix $(BIN)/,$(EXTRA_HOST_TOOLS))
PACED_PLUGIN := $(LIBDIR)/libasound_module_pcm_paced.so
ifeq ($(ARCH),host)
  ALL_TARGETS := $(PROGRAMS) $(HOST_TOOLS) $(PACED_PLUGIN)
else
  ALL_TARGETS := $(PROGRAMS) $(PACED_PLUGIN)
endif

all: $(ALL_TARGETS)

link = @mkdir -p $(dir $@); $(if $(Q),echo "  LD      $@";) \
  $(CC) $(CFLAGS) $(LDFLAGS) $(HARK_LDFLAGS) -o $@ $(1)

$(BIN)/harkd: $(HARKD_OBJS)
	$(call link,$^ $(ALSA_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

$(BIN)/harkctl: $(call objs,src/harkctl.c)
	$(call link,$^ $(CJSON_LIBS))

$(BIN)/hark-wav: $(call objs,tools/hark-wav.c drivers/wav_io.c)
	$(call link,$^ $(SNDFILE_LIBS) -lm)

$(BIN)/hark-scene: $(call objs,tools/hark-scene.c tools/room_sim.c drivers/wav_io.c src/config.c src/log.c)
	$(call link,$^ $(SNDFILE_LIBS) $(SPEEXDSP_LIBS) $(INIH_LIBS) -lm)

$(BIN)/hark-cloud-probe: $(call objs,tools/hark-cloud-probe.c drivers/wav_io.c) $(CORE_OBJS)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

$(BIN)/hark-fe-doa-eval: $(call objs,tools/hark-fe-doa-eval.c drivers/wav_io.c src/config.c src/log.c src/fe_doa.c src/fe_beamformer.c src/fe_stft.c)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(KISSFFT_LIBS) -lm)

$(BIN)/hark-bench: $(call objs,tools/hark-bench.c) $(CORE_OBJS)
	$(call link,$^ $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

# The paced ALSA test plugin (tests/alsa/): keeps real-time pace for board sim4.
# -DPIC is required, or alsa-lib's dlopen fails on snd_dlsym_start.
$(PACED_PLUGIN): tests/alsa/pcm_paced.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  PLUGIN  $@")
	$(Q)$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -DPIC -shared -fPIC \
	  $(ALSA_CFLAGS) -o $@ $< $(LDFLAGS) $(ALSA_LIBS)

-include $(sort $(wildcard mk/*.rules.mk))

# ---- tests -----------------------------------------------------------------------
UNIT_TESTS := $(patsubst tests/unit/%.c,$(TESTBIN)/%,$(UNIT_TEST_SRCS))
ifneq ($(ARCH),host)
  UNIT_TESTS := $(filter-out $(TESTBIN)/test_wav_io,$(UNIT_TESTS))
endif

$(TESTBIN)/test_%: $(OBJ)/tests/unit/test_%.o $(CORE_OBJS) $(DRIVER_OBJS)
	$(call link,$^ $(CMOCKA_LIBS) $(ALSA_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

$(TESTBIN)/test_wav_io: $(OBJ)/tests/unit/test_wav_io.o $(call objs,drivers/wav_io.c)
	$(call link,$^ $(CMOCKA_LIBS) $(SNDFILE_LIBS) -lm)

$(TESTBIN)/test_room_sim: $(OBJ)/tests/unit/test_room_sim.o $(call objs,tools/room_sim.c)
	$(call link,$^ $(CMOCKA_LIBS) -lm)

FUZZ_REPLAYS := $(patsubst %,$(TESTBIN)/fuzz_%_replay,$(FUZZ_TARGETS))

$(TESTBIN)/fuzz_%_replay: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/fuzz_replay.o $(CORE_OBJS)
	$(call link,$^ $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

unit-build: $(UNIT_TESTS) $(PACED_PLUGIN) $(FUZZ_REPLAYS)

# Runs every unit test binary (under qemu for cross builds); prints one
# summary line "N passed, M failed" and fails if any failed.
check-unit: unit-build
	@ARCH=$(ARCH) SANITIZE_TAG=$(if $(SAN_FLAGS),-asan) QEMU="$(QEMU)" HARK_PACED_PLUGIN=$(abspath $(PACED_PLUGIN)) \
	  tests/run-unit $(UNIT_TESTS)
	@for t in $(FUZZ_TARGETS); do \
	  $(QEMU) $(TESTBIN)/fuzz_$${t}_replay tests/fuzz/corpus/$$t/* > $(BUILD)/fuzz_$$t.log 2>&1 || \
	    { cat $(BUILD)/fuzz_$$t.log; echo "fuzz replay $$t: FAILED"; exit 1; }; \
	  echo "fuzz replay $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) inputs, no crash"; done

check-integration: all
	@BUILD=$(abspath $(BUILD)) tests/integration/run

# `make test`: everything CI runs.
test: deps
	$(MAKE) ARCH=host check-unit check-integration
	$(MAKE) ARCH=host SANITIZE=1 check-unit check-integration
	$(MAKE) ARCH=aarch64 all check-unit
	@file build/aarch64/bin/harkd | grep -q 'ARM aarch64' && echo "aarch64 harkd: $$(file -b build/aarch64/bin/harkd | cut -d, -f1-2)"

deps:
	@tools/setup-deps

demo: deps
	$(MAKE) ARCH=host all
	@BUILD=$(abspath build/host) tools/demo

bench: deps
	$(MAKE) ARCH=host all
	@BUILD=$(abspath build/host) tools/bench

# ---- rootfs staging ------------------------------------------------------------------
ROOTFS := $(BUILD)/rootfs
rootfs: $(PROGRAMS)
	@test -d board/$(BOARD) || { echo "no board/$(BOARD)"; exit 1; }
	rm -rf $(ROOTFS)
	mkdir -p $(ROOTFS)/usr/bin $(ROOTFS)/etc/hark
	cp -a rootfs/. $(ROOTFS)/
	rm -f $(ROOTFS)/README.md
	install -m 0755 $(PROGRAMS) $(ROOTFS)/usr/bin/
	install -d $(ROOTFS)/usr/share/hark/models
	install -m 0644 models/vad.hkm models/hey_nova.hkm $(ROOTFS)/usr/share/hark/models/
	$(CROSS_COMPILE)strip $(ROOTFS)/usr/bin/harkd $(ROOTFS)/usr/bin/harkctl
	install -m 0644 board/$(BOARD)/board.conf $(ROOTFS)/etc/hark/board.conf
	install -m 0644 board/$(BOARD)/asound.conf $(ROOTFS)/etc/asound.conf
	tar -C $(ROOTFS) --owner=0 --group=0 -czf $(BUILD)/hark-rootfs-$(BOARD)-$(ARCH).tar.gz .
	@echo "staged $(ROOTFS) and $(BUILD)/hark-rootfs-$(BOARD)-$(ARCH).tar.gz"

clean:
	rm -rf build/host build/host-asan build/aarch64 build/aarch64-asan build/armhf

distclean:
	rm -rf build

.PHONY: all test deps demo bench rootfs clean distclean unit-build check-unit check-integration

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
