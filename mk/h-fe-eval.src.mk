# Front-end noise suppression / AGC and resampling stages (helper h-fe-eval).
CORE_SRCS += src/fe_ns_agc.c src/fe_resample.c
EXTRA_HOST_TOOLS += hark-fe-eval-score
