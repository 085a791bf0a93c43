/*
 * fuzz_nn_model.c - fuzz target for the .hkm model loader and engine
 * (src/nn_model.c).
 *
 * Each input is tried twice: as is (almost always refused by the magic,
 * size or checksum), and with its size and CRC-32 fields rewritten to match,
 * so that the structural validation behind the checksum is what gets
 * fuzzed. A model that loads is run for 8 frames on a ramp input, and its
 * outputs are read back.
 *
 * libFuzzer:  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *               tests/fuzz/fuzz_nn_model.c src/nn_model.c -lm -o fuzz_nn_model
 *             ./fuzz_nn_model tests/fuzz/corpus/nn_model
 * Replay:     tests/fuzz/fuzz_replay.c (make test does this)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_model.h"

static void try_load(const uint8_t *data, size_t size)
{
    struct nn_model *m;
    struct nn_state *s;
    char err[256];
    float *in, *out;
    volatile float sink = 0;

    if (nn_model_load_mem(data, size, &m, err, sizeof(err)) != 0)
        return;
    s = nn_state_create(m);
    in = calloc(nn_model_n_in(m), sizeof(float));
    out = calloc(nn_model_n_out(m), sizeof(float));
    if (s && in && out) {
        for (int t = 0; t < 8; t++) {
            for (unsigned i = 0; i < nn_model_n_in(m); i++)
                in[i] = (float) (t - 4) * 0.5f + (float) i * 0.01f;
            nn_step(m, s, in, out);
            for (unsigned i = 0; i < nn_model_n_out(m); i++)
                sink += out[i];
        }
    }
    (void) sink;
    free(in);
    free(out);
    nn_state_destroy(s);
    nn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    uint32_t v;

    try_load(data, size);
    if (size < 16 || size > NN_MAX_FILE)
        return 0;
    copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    v = (uint32_t) size;
    memcpy(copy + 8, &v, 4);
    v = nn_crc32(0, copy + 16, size - 16);
    memcpy(copy + 12, &v, 4);
    try_load(copy, size);
    free(copy);
    return 0;
}
