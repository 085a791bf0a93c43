/*
 * nn_model.h - small neural network model files (.hkm) and a streaming
 * float32 inference engine in plain C, for the on-device VAD and wake-word
 * detectors. No ML runtime: the layer set is the handful those models need.
 *
 * A model is a chain of layers applied to one feature frame at a time (one
 * log-mel frame every 10 ms from mel.h). Layers that look back in time keep
 * their own state in a struct nn_state: a causal 1-D convolution keeps its
 * last (kernel - 1) * dilation + 1 inputs, a GRU its hidden vector. Running
 * frames through nn_step() one by one gives exactly what the training
 * framework computes over the whole sequence at once (tests/unit/
 * test_nn_model.c checks streaming == batch and C == the numpy reference
 * tools/train/harkml/nnref.py).
 *
 * Layers (docs/model-format.md has the byte layout):
 *   NORM    y = (x - mean) * scale                 (per-feature normalisation)
 *   CONV1D  causal conv over time: y_t[o] = b[o] + sum_{i,k} W[o][i][k]
 *           x_{t - (K-1-k) D}[g(o) + i]  (torch Conv1d weight layout, left
 *           padding (K-1) D with zeros, groups 1 or depthwise)
 *   DENSE   y = W x + b                            (torch Linear layout)
 *   GRU     one layer, torch nn.GRU equations and gate order (r, z, n)
 *   ACT     relu, sigmoid, tanh, softmax
 *
 * File = a 256-byte header (magic "HKNN", version, file size, CRC-32 of
 * everything after the first 16 bytes, layer count, input/output sizes, a
 * kind string such as "vad" or "wake", a name and a metadata string of
 * "key=value" pairs separated by ';', e.g. "phrase=hey nova;threshold=0.6")
 * followed by the layers. Loading checks the magic, version, size, checksum,
 * every layer's type, dimensions (1..NN_MAX_DIM) and parameter count, that
 * consecutive layers' sizes chain, and that the file ends exactly after the
 * last layer; anything else is refused with a message naming the problem.
 *
 * Threads: a loaded model is read-only and may be shared by any number of
 * threads; each stream (thread) has its own nn_state. nn_step() never
 * allocates, blocks or logs (the DSP thread calls it). Load, state create
 * and free run on the main thread at start-up.
 *
 * Errors: load returns 0 or a negative errno (-ENOENT, -EIO, -EINVAL for a
 * malformed file, -ENOMEM) with a one-line reason in err. Nothing here
 * prints.
 */
#ifndef HARK_NN_MODEL_H
#define HARK_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define NN_MAGIC "HKNN"
#define NN_VERSION 1
#define NN_HEADER_SIZE 256
#define NN_LAYER_HEADER_SIZE 32
#define NN_KIND_LEN 16
#define NN_NAME_LEN 48
#define NN_META_LEN 160
#define NN_MAX_LAYERS 64
#define NN_MAX_DIM 4096           /* any layer width */
#define NN_MAX_KERNEL 64
#define NN_MAX_DILATION 64
#define NN_MAX_FILE (16u << 20)   /* 16 MiB */

enum nn_layer_type {
    NN_NORM = 1,
    NN_CONV1D = 2,
    NN_DENSE = 3,
    NN_GRU = 4,
    NN_ACT = 5,
};

enum nn_act {
    NN_ACT_RELU = 1,
    NN_ACT_SIGMOID = 2,
    NN_ACT_TANH = 3,
    NN_ACT_SOFTMAX = 4,
};

struct nn_model;
struct nn_state;

/* Load and validate a model file. On success *model is set (free with
 * nn_model_free); on failure *model is NULL and err holds the reason. */
int nn_model_load(const char *path, struct nn_model **model, char *err, size_t errlen);

/* The same from memory (the bytes are copied). */
int nn_model_load_mem(const void *buf, size_t len, struct nn_model **model, char *err, size_t errlen);

void nn_model_free(struct nn_model *m); /* NULL is fine */

unsigned nn_model_n_in(const struct nn_model *m);
unsigned nn_model_n_out(const struct nn_model *m);
unsigned nn_model_n_layers(const struct nn_model *m);
size_t nn_model_n_params(const struct nn_model *m);
const char *nn_model_kind(const struct nn_model *m);
const char *nn_model_name(const struct nn_model *m);
const char *nn_model_meta(const struct nn_model *m); /* whole "k=v;k=v" string */

/* Value of one metadata key copied into val (NUL-terminated); returns 0, or
 * -ENOENT when absent, -ENOSPC when it does not fit. */
int nn_model_meta_get(const struct nn_model *m, const char *key, char *val, size_t len);

/* Numeric metadata value, or dflt when the key is absent or not a number. */
double nn_model_meta_double(const struct nn_model *m, const char *key, double dflt);

/* Streaming state for one stream through the model (zeros, as after reset). */
struct nn_state *nn_state_create(const struct nn_model *m);
void nn_state_destroy(struct nn_state *s); /* NULL is fine */
void nn_state_reset(struct nn_state *s);

/*
 * One frame: in[nn_model_n_in] -> out[nn_model_n_out]. The state must come
 * from nn_state_create() for this model. Returns 0, or -EINVAL when the state
 * belongs to another model. Non-finite values are not checked here (mel.h
 * never produces them).
 */
int nn_step(const struct nn_model *m, struct nn_state *s, const float *in, float *out);

/* CRC-32 (IEEE 802.3, as zlib's crc32()) over len bytes, continuing crc
 * (start with 0). */
uint32_t nn_crc32(uint32_t crc, const void *buf, size_t len);

#endif
