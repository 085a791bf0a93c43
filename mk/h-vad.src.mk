# On-device ML core (log-mel features, .hkm model engine) and the VAD.
CORE_SRCS += src/mel.c src/nn_model.c
CORE_SRCS += src/vad.c
EXTRA_HOST_TOOLS += hark-vad
FUZZ_TARGETS += nn_model
