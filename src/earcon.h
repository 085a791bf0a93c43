/*
 * earcon.h - earcons and spoken notices: short sounds stored on the device
 * as Ogg Opus files (RFC 7845), decoded once at load time into mono float
 * PCM at the playback rate, so that playing one is a copy of frames into
 * the playback path.
 *
 * The set. earcon_set_load() reads <dir>/<name>.opus for every name in
 * earcon_names (wake, end_of_turn, error, offline, disclosure, alarm). A
 * file that is missing, not Ogg Opus, truncated, corrupt, longer than
 * EARCON_MAX_SECONDS or larger than EARCON_MAX_FILE_BYTES disables that one
 * sound (earcon_get() answers -ENOENT and earcon_error() says why); the
 * others still load. Nothing is ever half-loaded.
 *
 * Validation, before a byte is decoded: the file must start with an Ogg
 * page; every page must pass its CRC; pages must form one logical stream
 * with consecutive sequence numbers, beginning with OpusHead and ending
 * with an end-of-stream page with nothing after it (so a cut file is
 * refused, not played short). Decoding (libopusfile) must then yield
 * exactly the sample count the last granule position announces; a packet
 * libopus rejects is an error, not a click.
 *
 * Rates. Opus always decodes at 48 kHz; other playback rates are reached
 * with speexdsp's resampler (quality 5), delay-compensated, so a sound of N
 * frames at 48 kHz becomes round(N * rate / 48000) frames at `rate`.
 * Multichannel files are downmixed to mono.
 *
 * Player. earcon_player is the lock-free hand-over to the playback thread:
 * the main thread starts or stops a sound; the playback thread mixes it
 * into each period it writes (so it also reaches the software echo
 * reference, and the device never hears itself).
 *
 * Threads: load/decode/destroy and earcon_player_start/stop from the main
 * thread (they allocate and read files). earcon_get() from any thread once
 * loaded (the set is immutable). earcon_player_mix() from the playback
 * thread only: no allocation, lock or system call. Library code: no
 * logging; errors are returned as text for the caller to log.
 */
#ifndef HARK_EARCON_H
#define HARK_EARCON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EARCON_MAX_SECONDS 30           /* longer files are refused */
#define EARCON_MAX_FILE_BYTES (1u << 20) /* 1 MiB */
#define EARCON_ERR_MAX 160

enum earcon_id {
    EARCON_WAKE = 0,      /* chime: awake, streaming starts */
    EARCON_END_OF_TURN,   /* chime: the user's turn ended */
    EARCON_ERROR,         /* chime: something failed */
    EARCON_OFFLINE,       /* spoken: "I'm having trouble connecting." */
    EARCON_DISCLOSURE,    /* spoken: "You're talking with an AI assistant." */
    EARCON_ALARM,         /* chime: a timer expired */
    EARCON_COUNT
};

/* File stem of each sound (<dir>/<name>.opus). */
extern const char *const earcon_names[EARCON_COUNT];

struct earcon_set;

/* Loads every sound from dir, decoded to mono float at rate (8000..192000).
 * Returns NULL only for bad arguments or out of memory (err says which);
 * otherwise a set in which the sounds that failed are disabled, and err
 * holds "" or a summary of the failures ("offline.opus: truncated ...").
 * Main thread. */
struct earcon_set *earcon_set_load(const char *dir, unsigned rate, char *err, size_t errlen);
void earcon_set_destroy(struct earcon_set *set);

/* By name ("wake", ...) or id. 0 with *pcm and *frames set, or -ENOENT for an
 * unknown name or a disabled sound. The PCM belongs to the set. */
int earcon_get(const struct earcon_set *set, const char *name, const float **pcm, size_t *frames);
int earcon_get_id(const struct earcon_set *set, enum earcon_id id, const float **pcm, size_t *frames);
/* Why a sound is disabled ("" when loaded). */
const char *earcon_error(const struct earcon_set *set, enum earcon_id id);
unsigned earcon_set_rate(const struct earcon_set *set);

/* One Ogg Opus file in memory -> malloc'd mono float at rate. 0, or -EINVAL
 * (malformed, with the reason in err), -EFBIG (too long), -ENOMEM. */
int earcon_decode_mem(const uint8_t *data, size_t len, unsigned rate, float **pcm, size_t *frames,
                      char *err, size_t errlen);
/* The same for a file (at most EARCON_MAX_FILE_BYTES); -errno of open/read too. */
int earcon_decode_file(const char *path, unsigned rate, float **pcm, size_t *frames, char *err,
                       size_t errlen);

/* Resamples mono float in_frames at in_rate to exactly out_frames at
 * out_rate with speexdsp (quality 5), compensating its delay, so the output
 * is aligned with the input; past the input's end zeros are fed. Any
 * thread; allocates the resampler. 0, -EINVAL, -ENOMEM (or -EIO should the
 * resampler stall). */
int earcon_resample(const float *in, size_t in_frames, unsigned in_rate, unsigned out_rate, float *out,
                    size_t out_frames);

/* ---- playback hand-over ------------------------------------------------------ */

/* An immutable decoded sound (a set's sounds live as long as the set). */
struct earcon_sound {
    const float *pcm;
    size_t frames;
};

/* NULL when the sound is disabled. */
const struct earcon_sound *earcon_sound(const struct earcon_set *set, enum earcon_id id);

struct earcon_player {
    /* Main thread publishes: stores req, then bumps seq (release). */
    const struct earcon_sound *_Atomic req;
    _Atomic unsigned seq;
    /* Playback thread only. */
    unsigned seen_seq;
    const struct earcon_sound *cur;
    size_t pos;
    /* Playback thread writes, anyone reads. */
    _Atomic bool playing;
};

void earcon_player_init(struct earcon_player *pl);
/* Main thread: play snd (NULL = nothing) from its start at the next period,
 * replacing what is playing. snd must stay valid while it can play. */
void earcon_player_start(struct earcon_player *pl, const struct earcon_sound *snd);
/* Main thread: stop at the next period (barge-in). */
void earcon_player_stop(struct earcon_player *pl);
/* Playback thread: adds the next frames of the sound to out (mono, in
 * place) and returns how many frames it added (0 when idle). */
size_t earcon_player_mix(struct earcon_player *pl, float *out, size_t frames);
/* Any thread: a sound is being mixed (as of the last period). */
bool earcon_player_playing(const struct earcon_player *pl);

#endif
