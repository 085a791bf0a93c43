# h-vad: hark-vad runs the daemon's VAD (mel + nn_model + vad) over a wav.
$(BIN)/hark-vad: $(call objs,tools/hark-vad.c drivers/wav_io.c) $(CORE_OBJS)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

# VAD evaluation reference (tools/eval/eval_vad.py): the WebRTC GMM VAD from
# Debian's libwebrtc-audio-processing (tools/setup-eval-deps). Not in `make`.
$(BUILD)/ref/webrtc_vad: tools/ref/webrtc_vad.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -o $@ $< $(SNDFILE_LIBS) -lwebrtc_audio_processing

vad-eval-refs: $(BUILD)/ref/webrtc_vad
.PHONY: vad-eval-refs
