# h-wake: hark-wake runs src/wake.c (in CORE_OBJS) over a WAV file.
$(BIN)/hark-wake: $(call objs,tools/hark-wake.c drivers/wav_io.c) $(CORE_OBJS)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)
