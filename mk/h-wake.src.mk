# Wake-word detector (issue 4): src/wake.c on the ML core (mel, nn_model),
# and its offline runner hark-wake.
CORE_SRCS += src/wake.c
EXTRA_HOST_TOOLS += hark-wake
