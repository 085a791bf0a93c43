/*
 * rt_events.h - OpenAI Realtime API (GA protocol) events: building the
 * client events we send and parsing the server events we receive.
 *
 * Covers the voice-agent session (type "realtime"), the transcription-only
 * session (type "transcription", gpt-realtime-whisper) and the translation
 * session (gpt-realtime-translate, its own event set). Field names and
 * shapes follow docs realtime-protocol.md (shared/) §1.2-§1.12.
 *
 * Builders write one JSON text message into a caller buffer, NUL-terminated,
 * and return its length (without the NUL), or -ENOSPC when cap is too small,
 * -EINVAL on bad arguments (NULL required string, value out of range,
 * invalid UTF-8 in configuration strings, tool parameters that are not a JSON
 * object), -ENOMEM when cJSON runs out of memory (session.update only).
 * Every builder takes an optional event_id as its last argument (NULL =
 * none; at most RT_EVENT_ID_MAX bytes). Strings are JSON-escaped; in free
 * text (tool output, instructions override) invalid UTF-8 is replaced by
 * U+FFFD rather than rejected. rt_build_audio_append() never allocates; the
 * session.update builders use cJSON (heap) and are meant for setup time.
 *
 * rt_parse_server_event() parses one server message into a tagged struct.
 * Hostile input is expected: it never reads outside [json, json+len), never
 * writes outside the scratch buffer, frees everything it allocates (cJSON),
 * and reports problems as -EINVAL / -E2BIG with ev->type still telling
 * which event it was when the type could be read.
 *
 * Threads: all functions are reentrant (no globals). In harkd they are
 * called from the network (libwebsockets) thread only: builders from the
 * send path and from rt_session, the parser from the on_message callback.
 * Library code: nothing is logged.
 */
#ifndef HARK_RT_EVENTS_H
#define HARK_RT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_DEFAULT_MODEL "gpt-realtime-2"
#define RT_DEFAULT_TRANSCRIBE_MODEL "gpt-realtime-whisper"
#define RT_RATE_HZ 24000u           /* PCM16 rate of every audio/pcm stream */
#define RT_EVENT_ID_MAX 512         /* client event_id limit (protocol §1.4) */
#define RT_APPEND_MAX_BYTES (15u * 1024 * 1024)   /* one append event, whole text */

/* Parsed strings: ids (event/response/item/call ids, function names) longer
 * than RT_ID_MAX make the event -EINVAL (they are keys: never truncated);
 * labels (status, reason, error type/code/param, session type, model, item
 * type/role) are cut to RT_LABEL_MAX bytes and error messages to
 * RT_MESSAGE_MAX bytes, on a UTF-8 boundary. Payload text (deltas,
 * transcripts, arguments) is copied whole or the event fails with -E2BIG. */
#define RT_ID_MAX 128
#define RT_LABEL_MAX 128
#define RT_MESSAGE_MAX 1024
#define RT_MAX_RATE_LIMITS 4

/* ---- building client events ------------------------------------------------ */

enum rt_audio_format {
    RT_AUDIO_PCM24K = 0,   /* "audio/pcm", rate 24000, PCM16 LE mono */
    RT_AUDIO_PCMU,         /* "audio/pcmu", G.711 u-law, 8 kHz */
    RT_AUDIO_PCMA,         /* "audio/pcma", G.711 A-law, 8 kHz */
};

enum rt_noise_reduction {
    RT_NR_OFF = 0,         /* JSON null */
    RT_NR_NEAR_FIELD,
    RT_NR_FAR_FIELD,
};

enum rt_turn_detection {
    RT_TD_NONE = 0,        /* JSON null: the device commits (local VAD); our default */
    RT_TD_SERVER_VAD,
    RT_TD_SEMANTIC_VAD,
};

enum rt_eagerness { RT_EAGER_AUTO = 0, RT_EAGER_LOW, RT_EAGER_MEDIUM, RT_EAGER_HIGH };

enum rt_reasoning_effort {
    RT_EFFORT_DEFAULT = 0, /* field omitted: the server default (low) */
    RT_EFFORT_MINIMAL,
    RT_EFFORT_LOW,
    RT_EFFORT_MEDIUM,
    RT_EFFORT_HIGH,
    RT_EFFORT_XHIGH,
};

struct rt_tool {
    const char *name;              /* required */
    const char *description;       /* NULL = omitted */
    /* JSON-schema object as text; NULL = {"type":"object","properties":{}} */
    const char *parameters_json;
};

/* Voice-agent session (session.type "realtime"). Start from
 * rt_conversation_cfg_defaults(); NULL strings are omitted from the event. */
struct rt_conversation_cfg {
    const char *model;                     /* default RT_DEFAULT_MODEL; required by the server */
    const char *instructions;              /* NULL = omit, "" = clear */
    const char *voice;                     /* e.g. "marin"; NULL = server default */
    double speed;                          /* 0.25..1.5; 0 = omit */
    enum rt_audio_format input_format;     /* output is always audio/pcm 24000 */
    const char *transcription_model;       /* input transcription; NULL = off */
    const char *transcription_language;    /* e.g. "en"; NULL = omit */
    enum rt_noise_reduction noise_reduction;
    enum rt_turn_detection turn_detection;
    struct {
        double threshold;                  /* 0..1, default 0.5 */
        unsigned prefix_padding_ms;        /* default 300 */
        unsigned silence_duration_ms;      /* default 500 */
        bool create_response;              /* default true */
        bool interrupt_response;           /* default true */
    } server_vad;
    struct {
        enum rt_eagerness eagerness;       /* default auto */
        bool create_response;              /* default true */
        bool interrupt_response;           /* default true */
    } semantic_vad;
    enum rt_reasoning_effort reasoning;    /* reasoning models (gpt-realtime-2*) only */
    const struct rt_tool *tools;
    size_t n_tools;                        /* 0 with tools != NULL sends [] (clears) */
    /* "auto" | "none" | "required", or a function name; NULL = omit */
    const char *tool_choice;
};

/* Transcription-only session (session.type "transcription"); turn_detection
 * is always null (gpt-realtime-whisper requires it): commit each turn. */
struct rt_transcription_cfg {
    const char *model;                     /* default RT_DEFAULT_TRANSCRIBE_MODEL */
    const char *language;                  /* NULL = omit (auto) */
    const char *delay;                     /* whisper "minimal".."xhigh"; NULL = omit */
    enum rt_audio_format input_format;
    enum rt_noise_reduction noise_reduction;
    bool include_logprobs;                 /* include ["item.input_audio_transcription.logprobs"] */
};

/* Translation session: only these fields may be changed (protocol §1.12). */
struct rt_translation_cfg {
    const char *output_language;           /* required, e.g. "de" */
    const char *input_transcription_model; /* NULL = no input transcript */
};

void rt_conversation_cfg_defaults(struct rt_conversation_cfg *cfg);
void rt_transcription_cfg_defaults(struct rt_transcription_cfg *cfg);

int rt_build_session_update(char *buf, size_t cap, const struct rt_conversation_cfg *cfg,
                            const char *event_id);
int rt_build_transcription_session_update(char *buf, size_t cap,
                                          const struct rt_transcription_cfg *cfg,
                                          const char *event_id);
int rt_build_translation_session_update(char *buf, size_t cap,
                                        const struct rt_translation_cfg *cfg,
                                        const char *event_id);

/* {"type":<event_type>,"event_id":..,"audio":"<base64 of pcm as PCM16 LE>"}.
 * event_type is "input_audio_buffer.append" (voice/transcription; NULL means
 * this) or "session.input_audio_buffer.append" (translation); anything else
 * is -EINVAL. samples = 0 is allowed. The whole event must stay within
 * RT_APPEND_MAX_BYTES (else -E2BIG). Hot path: no allocation, one pass of
 * base64 straight into buf. For G.711 sessions pass the encoded bytes and
 * use rt_build_audio_append_bytes(). */
int rt_build_audio_append(char *buf, size_t cap, const int16_t *pcm, size_t samples,
                          const char *event_type, const char *event_id);
int rt_build_audio_append_bytes(char *buf, size_t cap, const void *data, size_t bytes,
                                const char *event_type, const char *event_id);
/* Buffer size (with the NUL) that always suffices for an append of `bytes`
 * audio bytes (2 per PCM16 sample) with this event_id. */
size_t rt_audio_append_cap(size_t bytes, const char *event_id);

int rt_build_audio_commit(char *buf, size_t cap, const char *event_id);
int rt_build_audio_clear(char *buf, size_t cap, const char *event_id);
/* instructions: NULL = plain {"type":"response.create"}; otherwise
 * "response":{"instructions":..} overrides them for this response only. */
int rt_build_response_create(char *buf, size_t cap, const char *instructions,
                             const char *event_id);
/* response_id NULL = cancel whatever is in progress. */
int rt_build_response_cancel(char *buf, size_t cap, const char *response_id,
                             const char *event_id);
/* {item_id, content_index:0, audio_end_ms:<integer>}. */
int rt_build_item_truncate(char *buf, size_t cap, const char *item_id, uint32_t audio_end_ms,
                           const char *event_id);
/* conversation.item.create with item {type:"function_call_output",
 * call_id, output}. output is a string (usually JSON text), sent escaped. */
int rt_build_function_call_output(char *buf, size_t cap, const char *call_id,
                                  const char *output, const char *event_id);
int rt_build_session_close(char *buf, size_t cap, const char *event_id);   /* translation */

/* ---- parsing server events ---------------------------------------------------- */

enum rt_ev_type {
    RT_EV_NONE = 0,        /* unparseable: not JSON, not an object, no string "type" */
    RT_EV_UNKNOWN,         /* valid, but a type we do not handle (ev->type_str) */
    RT_EV_ERROR,
    RT_EV_SESSION_CREATED,
    RT_EV_SESSION_UPDATED,
    RT_EV_INPUT_SPEECH_STARTED,        /* input_audio_buffer.speech_started */
    RT_EV_INPUT_SPEECH_STOPPED,
    RT_EV_INPUT_COMMITTED,
    RT_EV_INPUT_CLEARED,
    RT_EV_INPUT_TIMEOUT_TRIGGERED,
    RT_EV_INPUT_DTMF,                  /* input_audio_buffer.dtmf_event_received (SIP) */
    RT_EV_ITEM_ADDED,                  /* conversation.item.added */
    RT_EV_ITEM_DONE,
    RT_EV_ITEM_CREATED,
    RT_EV_ITEM_TRUNCATED,
    RT_EV_ITEM_DELETED,
    RT_EV_ITEM_RETRIEVED,
    RT_EV_INPUT_TRANSCRIPTION_DELTA,   /* conversation.item.input_audio_transcription.* */
    RT_EV_INPUT_TRANSCRIPTION_COMPLETED,
    RT_EV_INPUT_TRANSCRIPTION_FAILED,
    RT_EV_RESPONSE_CREATED,
    RT_EV_RESPONSE_DONE,
    RT_EV_OUTPUT_ITEM_ADDED,           /* response.output_item.* */
    RT_EV_OUTPUT_ITEM_DONE,
    RT_EV_CONTENT_PART_ADDED,          /* response.content_part.* */
    RT_EV_CONTENT_PART_DONE,
    RT_EV_AUDIO_DELTA,                 /* response.output_audio.delta */
    RT_EV_AUDIO_DONE,
    RT_EV_AUDIO_TRANSCRIPT_DELTA,      /* response.output_audio_transcript.* */
    RT_EV_AUDIO_TRANSCRIPT_DONE,
    RT_EV_TEXT_DELTA,                  /* response.output_text.* */
    RT_EV_TEXT_DONE,
    RT_EV_FUNCTION_ARGS_DELTA,         /* response.function_call_arguments.* */
    RT_EV_FUNCTION_ARGS_DONE,
    RT_EV_OUTPUT_AUDIO_BUFFER_STARTED, /* output_audio_buffer.* (WebRTC/SIP only) */
    RT_EV_OUTPUT_AUDIO_BUFFER_STOPPED,
    RT_EV_OUTPUT_AUDIO_BUFFER_CLEARED,
    RT_EV_RATE_LIMITS_UPDATED,
    RT_EV_TR_INPUT_TRANSCRIPT_DELTA,   /* translation: session.input_transcript.delta */
    RT_EV_TR_OUTPUT_TRANSCRIPT_DELTA,  /* session.output_transcript.delta */
    RT_EV_TR_OUTPUT_AUDIO_DELTA,       /* session.output_audio.delta */
    RT_EV_TR_SESSION_CLOSED,           /* session.closed */
    RT_EV__COUNT
};

enum rt_response_status {
    RT_RESP_NONE = 0,      /* absent */
    RT_RESP_IN_PROGRESS,
    RT_RESP_COMPLETED,
    RT_RESP_CANCELLED,
    RT_RESP_INCOMPLETE,
    RT_RESP_FAILED,
    RT_RESP_OTHER,         /* a value we do not know (status_str has it) */
};

struct rt_rate_limit {
    const char *name;      /* "requests" | "tokens" */
    int64_t limit, remaining;
    double reset_seconds;
};

/*
 * One parsed server event. Every string points into the caller's scratch
 * buffer (NUL-terminated), NULL when absent or JSON null. Integers are -1
 * when absent. Which fields an event fills (others stay NULL / -1 / 0):
 *
 *  all ............................. event_id
 *  ERROR ........................... error.{type,code,message,param,event_id}
 *  SESSION_CREATED/UPDATED ......... session_id, session_type, model, expires_at
 *  INPUT_SPEECH_STARTED ............ item_id, audio_start_ms
 *  INPUT_SPEECH_STOPPED ............ item_id, audio_end_ms
 *  INPUT_COMMITTED ................. item_id, previous_item_id
 *  INPUT_TIMEOUT_TRIGGERED ......... item_id, audio_start_ms, audio_end_ms
 *  INPUT_DTMF ...................... text (the digit)
 *  ITEM_ADDED/DONE/CREATED/RETRIEVED item_id (= item.id), previous_item_id,
 *                                    item_type, item_role, item_status, call_id, name
 *  ITEM_TRUNCATED .................. item_id, content_index, audio_end_ms
 *  ITEM_DELETED .................... item_id
 *  INPUT_TRANSCRIPTION_DELTA ....... item_id, content_index, text (delta)
 *  INPUT_TRANSCRIPTION_COMPLETED ... item_id, content_index, text (transcript)
 *  INPUT_TRANSCRIPTION_FAILED ...... item_id, content_index, error.*
 *  RESPONSE_CREATED ................ response_id, status
 *  RESPONSE_DONE ................... response_id, status, status_reason,
 *                                    error.{type,code} (status_details.error), usage
 *  OUTPUT_ITEM_ADDED/DONE .......... response_id, output_index, item_id, item_type,
 *                                    item_role, item_status, call_id, name, and for a
 *                                    function_call item with arguments: text
 *  CONTENT_PART_ADDED/DONE ......... response_id, item_id, output_index,
 *                                    content_index, part_type
 *  AUDIO_DELTA ..................... response_id, item_id, output_index,
 *                                    content_index, pcm/samples
 *  AUDIO_DONE ...................... response_id, item_id, output_index, content_index
 *  AUDIO_TRANSCRIPT_DELTA/TEXT_DELTA response_id, item_id, ..., text (delta)
 *  AUDIO_TRANSCRIPT_DONE ........... ..., text (transcript)
 *  TEXT_DONE ....................... ..., text (text)
 *  FUNCTION_ARGS_DELTA ............. response_id, item_id, call_id, text (delta)
 *  FUNCTION_ARGS_DONE .............. response_id, item_id, call_id, name (if
 *                                    sent), text (arguments)
 *  OUTPUT_AUDIO_BUFFER_* ........... response_id
 *  RATE_LIMITS_UPDATED ............. rate_limits[n_rate_limits]
 *  TR_INPUT/OUTPUT_TRANSCRIPT_DELTA  text (delta)
 *  TR_OUTPUT_AUDIO_DELTA ........... pcm/samples, elapsed_ms (sample_rate,
 *                                    channels and format are checked, not stored)
 *  UNKNOWN ......................... type_str
 */
struct rt_event {
    enum rt_ev_type type;
    const char *type_str;          /* the received "type" (labels rules) */
    const char *event_id;
    const char *response_id;
    const char *item_id;
    const char *previous_item_id;
    const char *call_id;
    const char *name;              /* function name */
    int64_t output_index, content_index;

    const char *item_type;         /* "message" | "function_call" | "function_call_output" | .. */
    const char *item_role;         /* "assistant" | "user" | "system" */
    const char *item_status;
    const char *part_type;         /* content part: "audio" | "text" | .. */

    enum rt_response_status status;
    const char *status_str;
    const char *status_reason;     /* status_details.reason */
    struct {
        int64_t total_tokens, input_tokens, output_tokens;
    } usage;

    const int16_t *pcm;            /* decoded audio (24 kHz mono, host order) */
    size_t samples;

    const char *text;              /* delta / transcript / text / arguments / digit */
    size_t text_len;               /* strlen(text) */

    struct {
        const char *type, *code, *message, *param, *event_id;
    } error;

    unsigned n_rate_limits;
    struct rt_rate_limit rate_limits[RT_MAX_RATE_LIMITS];   /* extra entries dropped */

    const char *session_id;
    const char *session_type;      /* "realtime" | "transcription" | "translation" */
    const char *model;
    int64_t expires_at;            /* unix seconds */

    int64_t audio_start_ms, audio_end_ms;
    int64_t elapsed_ms;            /* translation output audio */
};

/*
 * Parse one server message (a whole WebSocket text message; no NUL needed).
 * scratch receives the decoded audio (2-byte aligned) and copies of the
 * strings; scratch_len >= len + 2 is always enough. Returns 0 (also for
 * RT_EV_UNKNOWN), -EINVAL for malformed JSON, a missing/non-string type, a
 * present field of the wrong JSON type, a missing required field, an id over
 * RT_ID_MAX, invalid base64, an odd audio byte count or a translation audio
 * format other than pcm16/24000/mono; -E2BIG when scratch is too small.
 * ev is always fully written (zeroed first); on error only ev->type (and
 * type_str when it fit) are meaningful.
 */
int rt_parse_server_event(const char *json, size_t len, struct rt_event *ev, char *scratch,
                          size_t scratch_len);

const char *rt_ev_type_name(enum rt_ev_type t);     /* the wire name; "?" when none */
const char *rt_response_status_name(enum rt_response_status s);

#endif
