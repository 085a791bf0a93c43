# Source lists shared by harkd, the tests and the tools.

# Portable core (src/): no hardware access.
CORE_SRCS := \
  src/appliance.c \
  src/b64.c \
  src/cloud_auth.c \
  src/cloud_client.c \
  src/config.c \
  src/ctrl.c \
  src/eloop.c \
  src/fe_beamformer.c \
  src/fe_doa.c \
  src/fe_stft.c \
  src/g711.c \
  src/level_meter.c \
  src/log.c \
  src/metrics.c \
  src/pcm_convert.c \
  src/pipeline.c \
  src/ring.c \
  src/rt_events.c \
  src/rt_session.c \
  src/tls_pin.c \
  src/worker.c \
  src/ws_client.c

# Hardware access (drivers/) linked into harkd.
DRIVER_SRCS := \
  drivers/alsa_pcm.c \
  drivers/audio_capture.c \
  drivers/audio_playback.c

HARKD_SRCS := src/harkd.c

UNIT_TEST_SRCS := $(wildcard tests/unit/test_*.c)

# Fuzz targets: each also builds as a replay binary (-DFUZZ_REPLAY) that
# `make test` runs over its committed corpus.
FUZZ_TARGETS := config rt_events
