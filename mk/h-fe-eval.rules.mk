# h-fe-eval: the front-end evaluation (docs/frontend.md, "Evaluation").
#
#   make fe-eval [FE_SCENES=/tmp/hark-fe-scenes]
#
# builds the scorer and the two reference runners (speexdsp alone, WebRTC
# APM 0.3; the latter needs tools/setup-eval-deps), generates the scene set
# (tools/fe-scenes, cached in FE_SCENES) and prints the side-by-side table
# (tools/hark-fe-eval). Not part of `make` or `make test`.
$(BIN)/hark-fe-eval-score: $(call objs,tools/hark-fe-eval-score.c)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) -lm)

FE_REF_BIN := $(BUILD)/ref
FE_SCENES ?= /tmp/hark-fe-scenes
WEBRTC_APM_CFLAGS = $(shell $(PKG_CONFIG) --cflags webrtc-audio-processing | sed 's/-I/-isystem /g')
WEBRTC_APM_LIBS = $(shell $(PKG_CONFIG) --libs webrtc-audio-processing)
CXX ?= g++

$(FE_REF_BIN)/speex_ref: tools/ref/speex_ref.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -o $@ $< $(SNDFILE_LIBS) $(SPEEXDSP_LIBS) -lm

$(FE_REF_BIN)/apm_ref: tools/ref/apm_ref.cc
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists webrtc-audio-processing || { echo "apm_ref: run tools/setup-eval-deps"; exit 1; }
	$(Q)$(CXX) $(CFLAGS) -Wall -Wextra -Werror $(WEBRTC_APM_CFLAGS) -o $@ $< $(WEBRTC_APM_LIBS) $(SNDFILE_LIBS)

fe-eval-refs: $(FE_REF_BIN)/speex_ref $(FE_REF_BIN)/apm_ref

fe-eval: all fe-eval-refs
	tools/fe-scenes $(FE_SCENES) $(BIN)
	tools/hark-fe-eval $(FE_SCENES) $(BIN) $(FE_REF_BIN)

.PHONY: fe-eval fe-eval-refs
