# h-aec: acoustic echo canceller, the front-end chain object and hark-fe.
CORE_SRCS += src/fe_aec.c src/fe_delay_est.c src/frontend.c
EXTRA_HOST_TOOLS += hark-fe
