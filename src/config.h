/*
 * config.h - harkd configuration: hark.conf and the board file it names.
 *
 * Both are INI files parsed strictly: an unknown section or key, a value out
 * of range, a missing required key or a syntax error is an error that names
 * file:line and the key. All errors are collected (up to CONFIG_MAX_DIAG) so
 * a product team sees every mistake in one run (`harkd --check-config`).
 *
 * Threads: main thread only, before the audio threads start. The resulting
 * struct is plain data and is copied by value into the modules that need it.
 * Library code: nothing is logged here, diagnostics go to the caller.
 */
#ifndef HARK_CONFIG_H
#define HARK_CONFIG_H

#include <stdbool.h>

#include "log.h"

#define HARK_MAX_MICS 16
#define HARK_MAX_CHANNELS 32
#define CONFIG_PATH_MAX 256
#define CONFIG_MAX_DIAG 32

enum sample_format { SAMPLE_S16_LE = 0, SAMPLE_S32_LE };
enum mic_geometry { GEOM_CIRCULAR = 0, GEOM_LINEAR, GEOM_CUSTOM };
enum button_type { BUTTON_NONE = 0, BUTTON_EVDEV, BUTTON_GPIO };
enum button_mode { BUTTON_MODE_TAP = 0, BUTTON_MODE_PUSH };   /* tap-to-talk, push-to-talk */
enum button_action { BUTTON_ACTION_NONE = 0, BUTTON_ACTION_MUTE, BUTTON_ACTION_CANCEL };
enum led_type { LED_NONE = 0, LED_SYSFS, LED_APA102 };
enum led_idle { LED_IDLE_OFF = 0, LED_IDLE_DIM };

struct pcm_cfg {
    char device[128];
    unsigned rate;
    unsigned channels;
    enum sample_format format;
    unsigned period_frames;
    unsigned buffer_frames;
};

struct board_cfg {
    char name[64];
    char description[256];
    unsigned mic_count;
    enum mic_geometry geometry;
    double radius_mm, start_deg, spacing_mm;
    double mic_pos_mm[HARK_MAX_MICS][3];   /* x, y, z in the board frame */
    struct pcm_cfg capture;
    int channel_map[HARK_MAX_MICS];        /* ALSA capture channel of mic m */
    int ref_channel;                       /* ALSA channel of the loopback, -1 = none */
    struct pcm_cfg playback;
    struct {
        enum button_type type;
        char device[CONFIG_PATH_MAX];
        unsigned key_code;
        char gpio_chip[64];
        unsigned gpio_line;
        bool active_low;
        unsigned debounce_ms;
        bool grab;                         /* evdev: EVIOCGRAB, no other reader sees the key */
        enum button_mode mode;
        unsigned long_press_ms;            /* held this long = long press */
        unsigned double_press_ms;          /* second press within this of the release */
        enum button_action long_press;     /* what a long press does */
        enum button_action double_press;   /* what a double press does */
    } button;
    struct {
        enum led_type type;
        unsigned count;
        char spi_device[CONFIG_PATH_MAX];
        int power_gpio_line;               /* -1 = none */
        char sysfs_name[64];
        unsigned brightness;               /* percent of full scale, 1..100 */
        enum led_idle idle;                /* idle pattern: off or dim */
        double ring_start_deg;             /* apa102 ring: board-frame angle of LED 0 */
        bool ring_clockwise;               /* apa102 ring: LED index grows clockwise */
    } led;
};

enum cloud_mode { CLOUD_OFF = 0, CLOUD_CONVERSATION, CLOUD_TRANSLATION, CLOUD_CAPTIONS };
enum cloud_format { CLOUD_FMT_PCM = 0, CLOUD_FMT_PCMU, CLOUD_FMT_PCMA };        /* uplink audio */
enum cloud_turns { CLOUD_TURNS_LOCAL = 0, CLOUD_TURNS_SERVER_VAD, CLOUD_TURNS_SEMANTIC_VAD };
enum cloud_effort { CLOUD_EFFORT_DEFAULT = 0, CLOUD_EFFORT_MINIMAL, CLOUD_EFFORT_LOW, CLOUD_EFFORT_MEDIUM,
                    CLOUD_EFFORT_HIGH, CLOUD_EFFORT_XHIGH };

struct cloud_cfg {
    enum cloud_mode mode;
    char url[512];                         /* wss://... */
    char ca_file[CONFIG_PATH_MAX];
    char spki_pin[256];                    /* optional "sha256//B64[;...]" on top of CA checks */
    char api_key_file[CONFIG_PATH_MAX];    /* development fallback */
    char token_url[512];                   /* production: mint client secrets */
    char device_credential_file[CONFIG_PATH_MAX];
    char model[64];
    char voice[32];
    char instructions[512];
    char language[16];                     /* captions: input language */
    char target_language[16];              /* translation */
    unsigned chunk_ms;                     /* uplink append size */
    enum cloud_format input_format;        /* pcm (24 kHz PCM16) or G.711 for narrow links */
    enum cloud_turns turn_detection;       /* who ends the user's turn */
    enum cloud_effort reasoning_effort;    /* gpt-realtime-2 reasoning effort */
    unsigned prebuffer_ms;                 /* answer audio queued before playback starts */
    unsigned session_max_s;                /* roll the session over when idle after this */
    char captions_file[CONFIG_PATH_MAX];   /* captions mode: append each completed line here */
};

/* [vad] in hark.conf: the on-device voice activity detector (src/vad.h). */
struct vad_conf {
    char model[CONFIG_PATH_MAX];           /* .hkm file; "" = no VAD */
    double threshold;                      /* speech if prob >= this; 0 = the model's own hint */
    unsigned onset_ms;                     /* speech this long before is_speech rises */
    unsigned hangover_ms;                  /* non-speech this long before it falls */
    unsigned turn_end_ms;                  /* non-speech after speech that ends a turn */
};

/* [wake] in hark.conf: the on-device wake-word detector (src/wake.h). Zero
 * threshold / smooth_frames / refractory_ms = the model's own values. */
struct wake_conf {
    char model[CONFIG_PATH_MAX];           /* .hkm file; "" = no wake word (button only) */
    double threshold;                      /* detection threshold on the smoothed posterior */
    unsigned smooth_frames;                /* moving average, 10 ms frames */
    unsigned refractory_ms;                /* no second detection this soon */
    unsigned preroll_ms;                   /* audio before the detection sent to the cloud */
    double playback_threshold;             /* self-wake guard: threshold while playing */
    unsigned playback_hold_ms;             /* guard kept this long after playback stops */
    double playback_block_dbfs;            /* residual echo at/above: no detection while playing */
    double playback_echo_share;            /* while playing: most of the last second our own echo: no detection */
};

/* [frontend] in hark.conf: the audio front end's stages (docs/frontend.md).
 * Noise suppression and AGC: src/fe_ns_agc.h. */
struct frontend_conf {
    bool ns;                               /* noise suppression on */
    int ns_db;                             /* largest noise attenuation, dB (negative) */
    bool agc;                              /* automatic gain control on */
    double agc_target_dbfs;                /* speech level the AGC aims for */
    double agc_max_gain_db;                /* most gain the AGC applies */
    /* echo canceller (src/fe_aec.h) and the chain (src/frontend.h) */
    bool aec;                              /* cancel the playback echo */
    int aec_mode;                          /* enum frontend_aec_mode */
    unsigned aec_tail_ms;                  /* adaptive filter length */
    int aec_delay_ms;                      /* reference lag assumed until one is measured */
    bool beam;                             /* beamformer on (off: mean of the mics) */
};

/* Where the echo canceller sits: on every mic before the beamformer, or
 * once on the beam (docs/frontend.md says why permic is the default). */
enum frontend_aec_mode { FRONTEND_AEC_PERMIC = 0, FRONTEND_AEC_POST };

struct hark_cfg {
    char path[CONFIG_PATH_MAX];            /* hark.conf as given */
    char board_path[CONFIG_PATH_MAX];      /* resolved against hark.conf's folder */
    enum log_level log_level;
    enum log_target log_target;
    char ctrl_socket[108];                 /* sun_path size; "" = no control socket */
    char sounds_dir[CONFIG_PATH_MAX];      /* earcons and notices (<name>.opus) */
    unsigned volume;                       /* answer volume at start, percent */
    bool disclosure;                       /* AI-disclosure notice at a conversation's start */
    unsigned status_interval_s;
    int realtime_priority;
    struct cloud_cfg cloud;
    struct vad_conf vad;
    struct wake_conf wake;
    struct frontend_conf frontend;
    struct board_cfg board;
};

struct config_diag {
    unsigned count;                        /* errors recorded (capped) */
    unsigned total;                        /* errors seen */
    char msg[CONFIG_MAX_DIAG][320];
};

/* Fill cfg with built-in defaults (no board). */
void config_defaults(struct hark_cfg *cfg);

/* Load hark.conf at path and the board file it names. board_override, when
 * non-NULL, replaces the [harkd] board key. Returns 0, or -EINVAL with
 * diag->count messages ("file:line: [section] key: problem"), or -errno when
 * a file cannot be read (also described in diag). */
int config_load(const char *path, const char *board_override, struct hark_cfg *cfg,
                struct config_diag *diag);

/* Load only a board file (tools such as hark-fe use this). */
int config_load_board(const char *path, struct board_cfg *board, struct config_diag *diag);

const char *sample_format_name(enum sample_format f);
unsigned sample_format_bytes(enum sample_format f);

#endif
