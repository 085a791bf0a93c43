/*
 * webrtc_vad.c - reference runner for the VAD evaluation: the WebRTC GMM
 * VAD as shipped inside Debian's libwebrtc-audio-processing (0.3), which
 * exports WebRtcVad_* but installs no header, so the four prototypes of
 * that version's common_audio/vad/include/webrtc_vad.h are declared here.
 * Host tool, offline, main thread only; built by `make vad-eval-refs`
 * (mk/h-vad.rules.mk), never by `make` or `make test`.
 *
 *   webrtc_vad IN.wav MODE FRAME_MS > decisions.csv
 *
 * IN.wav: 16 kHz (first channel used). MODE 0 (quality) .. 3 (very
 * aggressive); FRAME_MS 10, 20 or 30. Prints `time_ms,vad` (vad 0/1) per
 * frame, time_ms = the frame start.
 *
 * Exit status: 0 ok, 1 I/O or library error, 2 bad arguments.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sndfile.h>

typedef struct WebRtcVadInst VadInst;
VadInst *WebRtcVad_Create(void);
void WebRtcVad_Free(VadInst *handle);
int WebRtcVad_Init(VadInst *handle);
int WebRtcVad_set_mode(VadInst *handle, int mode);
int WebRtcVad_Process(VadInst *handle, int fs, const int16_t *audio_frame, size_t frame_length);

int main(int argc, char **argv)
{
    SF_INFO info = {0};
    SNDFILE *sf;
    VadInst *vad;
    int mode, ms;
    size_t frame;
    int16_t *buf, *mono;
    long t = 0;

    if (argc != 4 || (mode = atoi(argv[2])) < 0 || mode > 3 ||
        ((ms = atoi(argv[3])) != 10 && ms != 20 && ms != 30)) {
        fprintf(stderr, "usage: webrtc_vad IN.wav MODE(0-3) FRAME_MS(10|20|30)\n");
        return 2;
    }
    sf = sf_open(argv[1], SFM_READ, &info);
    if (!sf || info.samplerate != 16000) {
        fprintf(stderr, "webrtc_vad: %s: %s\n", argv[1], sf ? "need 16000 Hz" : sf_strerror(NULL));
        return 1;
    }
    frame = (size_t) ms * 16;
    buf = malloc(sizeof(int16_t) * frame * (size_t) info.channels);
    mono = malloc(sizeof(int16_t) * frame);
    vad = WebRtcVad_Create();
    if (!buf || !mono || !vad || WebRtcVad_Init(vad) != 0 || WebRtcVad_set_mode(vad, mode) != 0) {
        fprintf(stderr, "webrtc_vad: init failed\n");
        return 1;
    }
    while (sf_readf_short(sf, buf, (sf_count_t) frame) == (sf_count_t) frame) {
        int r;

        for (size_t i = 0; i < frame; i++)
            mono[i] = buf[i * (size_t) info.channels];
        r = WebRtcVad_Process(vad, 16000, mono, frame);
        if (r < 0) {
            fprintf(stderr, "webrtc_vad: WebRtcVad_Process failed\n");
            return 1;
        }
        printf("%ld,%d\n", t * ms, r);
        t++;
    }
    WebRtcVad_Free(vad);
    sf_close(sf);
    free(buf);
    free(mono);
    return 0;
}
