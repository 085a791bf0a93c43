# h-tools: earcons and spoken notices (Ogg Opus), local tools for function calling.
CORE_SRCS += src/earcon.c src/local_tools.c
EXTRA_HOST_TOOLS += hark-earcon
# opusfile.h includes <opus_multistream.h> from /usr/include/opus.
OPUS_CFLAGS := $(or $(call pc,--cflags,opusfile),-I/usr/include/opus)
OPUSFILE_LIBS := -lopusfile -logg -lopus
EXTRA_LIBS += $(OPUSFILE_LIBS)
