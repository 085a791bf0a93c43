# h-aec: hark-fe runs the daemon's front end (src/frontend.c) over WAV files.
$(BIN)/hark-fe: $(call objs,tools/hark-fe.c drivers/wav_io.c) $(CORE_OBJS)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)
