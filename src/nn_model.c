/*
 * nn_model.c - .hkm model loading/validation and the streaming float32
 * engine (see nn_model.h; byte layout in docs/model-format.md).
 *
 * The file is read whole into one malloc'd block and validated; layer
 * parameters are then used in place (every parameter array starts at a
 * multiple of 4 bytes from the block start, which malloc aligns, so plain
 * float pointers are valid). The format is little-endian; big-endian hosts
 * are refused at build time.
 *
 * nn_step() walks the layers with two ping-pong scratch vectors of the
 * widest layer size held in the state. A causal convolution keeps a ring of
 * its last span = (K-1) D + 1 input frames (zeros at first, which is the
 * zero left-padding of the batch convolution); a GRU keeps h.
 */
#include "nn_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nn_model: the .hkm format is little-endian; add byte swapping for this host"
#endif

struct nn_layer {
    enum nn_layer_type type;
    unsigned n_in, n_out;
    unsigned a, b, c;       /* conv: kernel, dilation, groups; act: kind */
    const float *p;         /* parameters, in place in the file block */
    size_t n_params;
    /* state layout (offsets into nn_state->mem, in floats) */
    size_t st_off, st_len;
    unsigned span;          /* conv: frames kept */
};

struct nn_model {
    uint8_t *file;
    size_t file_len;
    unsigned n_layers, n_in, n_out, max_dim;
    size_t state_floats, n_params;
    char kind[NN_KIND_LEN + 1];
    char name[NN_NAME_LEN + 1];
    char meta[NN_META_LEN + 1];
    struct nn_layer layer[NN_MAX_LAYERS];
};

struct nn_state {
    const struct nn_model *model;
    float *mem;         /* model->state_floats: conv rings, GRU h */
    unsigned *pos;      /* per layer: conv ring write position */
    float *a, *b;       /* max_dim scratch each */
    float *gates;       /* 6 * max_dim GRU scratch */
};

/* ---- CRC-32 ------------------------------------------------------------ */

uint32_t nn_crc32(uint32_t crc, const void *buf, size_t len)
{
    static uint32_t table[256];
    static int have_table; /* benign race: every thread computes the same values */
    const uint8_t *p = buf;

    if (!have_table) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;

            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        __atomic_store_n(&have_table, 1, __ATOMIC_RELEASE);
    }
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- loading ------------------------------------------------------------ */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

/* Copy a fixed-size text field; it must be NUL-terminated inside the field
 * and printable. */
static bool text_field(char *dst, const uint8_t *src, size_t n)
{
    size_t len = strnlen((const char *) src, n);

    if (len == n)
        return false;
    for (size_t i = 0; i < len; i++)
        if (src[i] < 0x20 || src[i] > 0x7e)
            return false;
    memcpy(dst, src, len);
    dst[len] = 0;
    return true;
}

static const char *type_name(unsigned t)
{
    switch (t) {
    case NN_NORM: return "norm";
    case NN_CONV1D: return "conv1d";
    case NN_DENSE: return "dense";
    case NN_GRU: return "gru";
    case NN_ACT: return "act";
    default: return "?";
    }
}

/* Check one layer's fields; return the parameter count it needs (0 also
 * valid) or -1 with err filled. */
static long long layer_params(const struct nn_layer *L, unsigned idx, char *err, size_t errlen)
{
    unsigned long long ni = L->n_in, no = L->n_out;

    if (L->n_in < 1 || L->n_in > NN_MAX_DIM || L->n_out < 1 || L->n_out > NN_MAX_DIM) {
        fail(err, errlen, 0, "layer %u (%s): sizes %u -> %u outside 1..%u", idx, type_name(L->type), L->n_in,
             L->n_out, NN_MAX_DIM);
        return -1;
    }
    switch (L->type) {
    case NN_NORM:
        if (ni != no || L->a || L->b || L->c)
            break;
        return (long long) (2 * ni);
    case NN_CONV1D:
        if (L->a < 1 || L->a > NN_MAX_KERNEL || L->b < 1 || L->b > NN_MAX_DILATION || L->c < 1 ||
            ni % L->c || no % L->c) {
            fail(err, errlen, 0, "layer %u (conv1d): kernel %u, dilation %u, groups %u invalid for %u -> %u",
                 idx, L->a, L->b, L->c, L->n_in, L->n_out);
            return -1;
        }
        return (long long) (no * (ni / L->c) * L->a + no);
    case NN_DENSE:
        if (L->a || L->b || L->c)
            break;
        return (long long) (no * ni + no);
    case NN_GRU:
        if (L->a || L->b || L->c)
            break;
        return (long long) (3 * no * ni + 3 * no * no + 6 * no);
    case NN_ACT:
        if (ni != no || L->a < NN_ACT_RELU || L->a > NN_ACT_SOFTMAX || L->b || L->c)
            break;
        return 0;
    default:
        fail(err, errlen, 0, "layer %u: unknown layer type %u", idx, (unsigned) L->type);
        return -1;
    }
    fail(err, errlen, 0, "layer %u (%s): invalid fields (sizes %u -> %u, a=%u b=%u c=%u)", idx,
         type_name(L->type), L->n_in, L->n_out, L->a, L->b, L->c);
    return -1;
}

static int parse(struct nn_model *m, char *err, size_t errlen)
{
    const uint8_t *f = m->file;
    size_t len = m->file_len, off;
    uint32_t crc, ver, size;
    unsigned prev_out;

    if (len < NN_HEADER_SIZE)
        return fail(err, errlen, -EINVAL, "truncated: %zu bytes, the header alone is %d", len, NN_HEADER_SIZE);
    if (memcmp(f, NN_MAGIC, 4) != 0)
        return fail(err, errlen, -EINVAL, "not a hark model file (bad magic)");
    ver = rd32(f + 4);
    if (ver != NN_VERSION)
        return fail(err, errlen, -EINVAL, "unsupported model format version %u (this build reads %d)", ver,
                    NN_VERSION);
    size = rd32(f + 8);
    if (size != len)
        return fail(err, errlen, -EINVAL, "%s: header says %u bytes, file has %zu",
                    size > len ? "truncated" : "trailing data", size, len);
    crc = nn_crc32(0, f + 16, len - 16);
    if (crc != rd32(f + 12))
        return fail(err, errlen, -EINVAL, "checksum mismatch (CRC-32 %08x, header says %08x): corrupt file", crc,
                    rd32(f + 12));
    m->n_layers = rd32(f + 16);
    m->n_in = rd32(f + 20);
    m->n_out = rd32(f + 24);
    if (rd32(f + 28) != 0)
        return fail(err, errlen, -EINVAL, "unknown header flags %08x", rd32(f + 28));
    if (m->n_layers < 1 || m->n_layers > NN_MAX_LAYERS)
        return fail(err, errlen, -EINVAL, "layer count %u outside 1..%d", m->n_layers, NN_MAX_LAYERS);
    if (m->n_in < 1 || m->n_in > NN_MAX_DIM || m->n_out < 1 || m->n_out > NN_MAX_DIM)
        return fail(err, errlen, -EINVAL, "model sizes %u -> %u outside 1..%d", m->n_in, m->n_out, NN_MAX_DIM);
    if (!text_field(m->kind, f + 32, NN_KIND_LEN) || !text_field(m->name, f + 48, NN_NAME_LEN) ||
        !text_field(m->meta, f + 96, NN_META_LEN))
        return fail(err, errlen, -EINVAL, "kind/name/metadata field not NUL-terminated printable text");
    if (!m->kind[0])
        return fail(err, errlen, -EINVAL, "empty model kind");

    off = NN_HEADER_SIZE;
    prev_out = m->n_in;
    m->max_dim = m->n_in;
    m->state_floats = 0;
    m->n_params = 0;
    for (unsigned i = 0; i < m->n_layers; i++) {
        struct nn_layer *L = &m->layer[i];
        const uint8_t *h = f + off;
        long long need;

        if (len - off < NN_LAYER_HEADER_SIZE)
            return fail(err, errlen, -EINVAL, "truncated in layer %u header", i);
        L->type = (enum nn_layer_type) rd32(h);
        L->n_in = rd32(h + 4);
        L->n_out = rd32(h + 8);
        L->a = rd32(h + 12);
        L->b = rd32(h + 16);
        L->c = rd32(h + 20);
        L->n_params = rd32(h + 24);
        if (rd32(h + 28) != 0)
            return fail(err, errlen, -EINVAL, "layer %u: reserved field not zero", i);
        need = layer_params(L, i, err, errlen);
        if (need < 0)
            return -EINVAL;
        if ((long long) L->n_params != need)
            return fail(err, errlen, -EINVAL, "layer %u (%s): %zu parameters, its sizes need %lld", i,
                        type_name(L->type), L->n_params, need);
        if (L->n_in != prev_out)
            return fail(err, errlen, -EINVAL, "layer %u (%s) takes %u inputs but gets %u", i, type_name(L->type),
                        L->n_in, prev_out);
        off += NN_LAYER_HEADER_SIZE;
        if ((len - off) / sizeof(float) < L->n_params)
            return fail(err, errlen, -EINVAL, "truncated in layer %u parameters", i);
        L->p = (const float *) (f + off);
        off += L->n_params * sizeof(float);
        for (size_t k = 0; k < L->n_params; k++)
            if (!isfinite(L->p[k]))
                return fail(err, errlen, -EINVAL, "layer %u (%s): parameter %zu is not finite", i,
                            type_name(L->type), k);
        m->n_params += L->n_params;
        L->st_off = m->state_floats;
        L->span = 0;
        L->st_len = 0;
        if (L->type == NN_CONV1D) {
            L->span = (L->a - 1) * L->b + 1;
            L->st_len = (size_t) L->span * L->n_in;
        } else if (L->type == NN_GRU) {
            L->st_len = L->n_out;
        }
        m->state_floats += L->st_len;
        if (L->n_out > m->max_dim)
            m->max_dim = L->n_out;
        prev_out = L->n_out;
    }
    if (off != len)
        return fail(err, errlen, -EINVAL, "%zu bytes of trailing data after the last layer", len - off);
    if (prev_out != m->n_out)
        return fail(err, errlen, -EINVAL, "last layer gives %u outputs, header says %u", prev_out, m->n_out);
    return 0;
}

int nn_model_load_mem(const void *buf, size_t len, struct nn_model **model, char *err, size_t errlen)
{
    struct nn_model *m;
    int rc;

    *model = NULL;
    if (len > NN_MAX_FILE)
        return fail(err, errlen, -EINVAL, "file of %zu bytes is larger than the %u-byte limit", len, NN_MAX_FILE);
    m = calloc(1, sizeof(*m));
    if (!m || !(m->file = malloc(len ? len : 1))) {
        free(m);
        return fail(err, errlen, -ENOMEM, "out of memory");
    }
    memcpy(m->file, buf, len);
    m->file_len = len;
    rc = parse(m, err, errlen);
    if (rc) {
        nn_model_free(m);
        return rc;
    }
    *model = m;
    return 0;
}

int nn_model_load(const char *path, struct nn_model **model, char *err, size_t errlen)
{
    FILE *fp;
    uint8_t *buf;
    long n;
    int rc;

    *model = NULL;
    fp = fopen(path, "rb");
    if (!fp)
        return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return fail(err, errlen, -EIO, "%s: cannot determine size", path);
    }
    if ((unsigned long) n > NN_MAX_FILE) {
        fclose(fp);
        return fail(err, errlen, -EINVAL, "%s: %ld bytes is larger than the %u-byte limit", path, n, NN_MAX_FILE);
    }
    buf = malloc(n ? (size_t) n : 1);
    if (!buf) {
        fclose(fp);
        return fail(err, errlen, -ENOMEM, "%s: out of memory", path);
    }
    if (fread(buf, 1, (size_t) n, fp) != (size_t) n) {
        free(buf);
        fclose(fp);
        return fail(err, errlen, -EIO, "%s: read error", path);
    }
    fclose(fp);
    rc = nn_model_load_mem(buf, (size_t) n, model, err, errlen);
    free(buf);
    if (rc && err && errlen) {
        char tmp[256];

        snprintf(tmp, sizeof(tmp), "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
    }
    return rc;
}

void nn_model_free(struct nn_model *m)
{
    if (!m)
        return;
    free(m->file);
    free(m);
}

unsigned nn_model_n_in(const struct nn_model *m) { return m->n_in; }
unsigned nn_model_n_out(const struct nn_model *m) { return m->n_out; }
unsigned nn_model_n_layers(const struct nn_model *m) { return m->n_layers; }
size_t nn_model_n_params(const struct nn_model *m) { return m->n_params; }
const char *nn_model_kind(const struct nn_model *m) { return m->kind; }
const char *nn_model_name(const struct nn_model *m) { return m->name; }
const char *nn_model_meta(const struct nn_model *m) { return m->meta; }

int nn_model_meta_get(const struct nn_model *m, const char *key, char *val, size_t len)
{
    size_t kl = strlen(key);
    const char *p = m->meta;

    while (*p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t) (end - p) : strlen(p);

        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = n - kl - 1;

            if (vl + 1 > len)
                return -ENOSPC;
            memcpy(val, p + kl + 1, vl);
            val[vl] = 0;
            return 0;
        }
        p += n;
        if (*p == ';')
            p++;
    }
    return -ENOENT;
}

double nn_model_meta_double(const struct nn_model *m, const char *key, double dflt)
{
    char v[64], *end;
    double d;

    if (nn_model_meta_get(m, key, v, sizeof(v)) != 0)
        return dflt;
    d = strtod(v, &end);
    return (end != v && *end == 0 && isfinite(d)) ? d : dflt;
}

/* ---- state ------------------------------------------------------------ */

struct nn_state *nn_state_create(const struct nn_model *m)
{
    struct nn_state *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->model = m;
    s->mem = calloc(m->state_floats ? m->state_floats : 1, sizeof(float));
    s->pos = calloc(m->n_layers, sizeof(unsigned));
    s->a = calloc(m->max_dim, sizeof(float));
    s->b = calloc(m->max_dim, sizeof(float));
    s->gates = calloc(6 * (size_t) m->max_dim, sizeof(float));
    if (!s->mem || !s->pos || !s->a || !s->b || !s->gates) {
        nn_state_destroy(s);
        return NULL;
    }
    return s;
}

void nn_state_destroy(struct nn_state *s)
{
    if (!s)
        return;
    free(s->mem);
    free(s->pos);
    free(s->a);
    free(s->b);
    free(s->gates);
    free(s);
}

void nn_state_reset(struct nn_state *s)
{
    memset(s->mem, 0, (s->model->state_floats ? s->model->state_floats : 1) * sizeof(float));
    memset(s->pos, 0, s->model->n_layers * sizeof(unsigned));
}

/* ---- layers ------------------------------------------------------------- */

static float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static void run_conv(const struct nn_layer *L, float *ring, unsigned *pos, const float *x, float *y)
{
    unsigned K = L->a, D = L->b, G = L->c, span = L->span;
    unsigned cin_g = L->n_in / G, cout_g = L->n_out / G;
    unsigned p = *pos;
    const float *W = L->p, *bias = L->p + (size_t) L->n_out * cin_g * K;

    memcpy(ring + (size_t) p * L->n_in, x, L->n_in * sizeof(float));
    for (unsigned o = 0; o < L->n_out; o++) {
        const float *w = W + (size_t) o * cin_g * K;
        unsigned i0 = (o / cout_g) * cin_g;
        float acc = bias[o];

        for (unsigned k = 0; k < K; k++) {
            unsigned back = (K - 1 - k) * D;
            const float *frame = ring + (size_t) ((p + span - back) % span) * L->n_in + i0;

            for (unsigned i = 0; i < cin_g; i++)
                acc += w[(size_t) i * K + k] * frame[i];
        }
        y[o] = acc;
    }
    *pos = (p + 1) % span;
}

static void run_dense(const struct nn_layer *L, const float *x, float *y)
{
    const float *W = L->p, *b = L->p + (size_t) L->n_out * L->n_in;

    for (unsigned o = 0; o < L->n_out; o++) {
        const float *w = W + (size_t) o * L->n_in;
        float acc = b[o];

        for (unsigned i = 0; i < L->n_in; i++)
            acc += w[i] * x[i];
        y[o] = acc;
    }
}

/* torch.nn.GRU: r = s(W_ir x + b_ir + W_hr h + b_hr), z likewise,
 * n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h. */
static void run_gru(const struct nn_layer *L, float *h, float *g, const float *x, float *y)
{
    unsigned H = L->n_out, I = L->n_in;
    const float *Wih = L->p, *Whh = Wih + (size_t) 3 * H * I;
    const float *bih = Whh + (size_t) 3 * H * H, *bhh = bih + 3 * H;
    float *gi = g, *gh = g + 3 * H;

    for (unsigned r = 0; r < 3 * H; r++) {
        const float *wi = Wih + (size_t) r * I, *wh = Whh + (size_t) r * H;
        float ai = bih[r], ah = bhh[r];

        for (unsigned i = 0; i < I; i++)
            ai += wi[i] * x[i];
        for (unsigned i = 0; i < H; i++)
            ah += wh[i] * h[i];
        gi[r] = ai;
        gh[r] = ah;
    }
    for (unsigned j = 0; j < H; j++) {
        float r = sigmoidf(gi[j] + gh[j]);
        float z = sigmoidf(gi[H + j] + gh[H + j]);
        float n = tanhf(gi[2 * H + j] + r * gh[2 * H + j]);

        h[j] = (1.0f - z) * n + z * h[j];
        y[j] = h[j];
    }
}

static void run_act(const struct nn_layer *L, const float *x, float *y)
{
    unsigned n = L->n_out;

    switch (L->a) {
    case NN_ACT_RELU:
        for (unsigned i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case NN_ACT_SIGMOID:
        for (unsigned i = 0; i < n; i++)
            y[i] = sigmoidf(x[i]);
        break;
    case NN_ACT_TANH:
        for (unsigned i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    default: { /* softmax */
        float mx = x[0], sum = 0;

        for (unsigned i = 1; i < n; i++)
            mx = x[i] > mx ? x[i] : mx;
        for (unsigned i = 0; i < n; i++) {
            y[i] = expf(x[i] - mx);
            sum += y[i];
        }
        for (unsigned i = 0; i < n; i++)
            y[i] /= sum;
        break;
    }
    }
}

int nn_step(const struct nn_model *m, struct nn_state *s, const float *in, float *out)
{
    const float *x = in;
    float *y = s->a;

    if (s->model != m)
        return -EINVAL;
    for (unsigned i = 0; i < m->n_layers; i++) {
        const struct nn_layer *L = &m->layer[i];

        switch (L->type) {
        case NN_NORM:
            for (unsigned k = 0; k < L->n_in; k++)
                y[k] = (x[k] - L->p[k]) * L->p[L->n_in + k];
            break;
        case NN_CONV1D:
            run_conv(L, s->mem + L->st_off, &s->pos[i], x, y);
            break;
        case NN_DENSE:
            run_dense(L, x, y);
            break;
        case NN_GRU:
            run_gru(L, s->mem + L->st_off, s->gates, x, y);
            break;
        case NN_ACT:
            run_act(L, x, y);
            break;
        }
        x = y;
        y = (y == s->a) ? s->b : s->a;
    }
    memcpy(out, x, m->n_out * sizeof(float));
    return 0;
}
