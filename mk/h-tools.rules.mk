# h-tools: link rules for hark-earcon and the earcon unit test (which also
# needs the encoder half, tools/earcon_encode.c, that harkd does not link).
$(OBJ)/src/earcon.o $(OBJ)/tools/earcon_encode.o: CPPFLAGS += $(OPUS_CFLAGS)
$(OBJ)/tools/hark-earcon.o $(OBJ)/tests/unit/test_earcon.o: CPPFLAGS += -Itools

$(BIN)/hark-earcon: $(call objs,tools/hark-earcon.c tools/earcon_encode.c drivers/wav_io.c) $(CORE_OBJS)
	$(call link,$^ $(SNDFILE_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)

$(TESTBIN)/test_earcon: $(OBJ)/tests/unit/test_earcon.o $(call objs,tools/earcon_encode.c) $(CORE_OBJS) $(DRIVER_OBJS)
	$(call link,$^ $(CMOCKA_LIBS) $(ALSA_LIBS) $(CJSON_LIBS) $(INIH_LIBS) $(SPEEXDSP_LIBS) $(KISSFFT_LIBS) $(LWS_LIBS) $(EXTRA_LIBS) -lm)
