/*
 * fuzz_config.c - fuzz target for the strict INI parser of hark.conf and
 * board files (src/config.c).
 *
 * The input is written to a temp file and loaded both as a board file and
 * as a hark.conf whose board key points at a second copy; every diagnostic
 * string is read back so an unterminated message would be caught.
 *
 * libFuzzer:  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *               tests/fuzz/fuzz_config.c src/config.c src/log.c -linih -lm -o fuzz_config
 *             ./fuzz_config tests/fuzz/corpus/config
 * Replay:     cc ... tests/fuzz/fuzz_replay.c  (make test does this)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct board_cfg board;
    static struct hark_cfg cfg;
    static struct config_diag diag;
    char path[] = "/tmp/hark-fuzz-config-XXXXXX";
    volatile size_t total = 0;
    FILE *f;
    int fd = mkstemp(path);

    if (fd < 0)
        return 0;
    f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(path);
        return 0;
    }
    fwrite(data, 1, size, f);
    fclose(f);

    memset(&diag, 0, sizeof(diag));
    (void)config_load_board(path, &board, &diag);
    for (unsigned i = 0; i < diag.count; i++)
        total += strlen(diag.msg[i]);
    memset(&diag, 0, sizeof(diag));
    (void)config_load(path, path, &cfg, &diag);
    for (unsigned i = 0; i < diag.count; i++)
        total += strlen(diag.msg[i]);
    unlink(path);
    return 0;
}
