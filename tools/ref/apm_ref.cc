/*
 * apm_ref.cc - reference runner for the front-end evaluation: WebRTC APM
 * 0.3 (Debian's libwebrtc-audio-processing, the legacy AEC) on mic 0
 * (host tool, offline, main thread only; built only by `make fe-eval`, see
 * mk/h-fe-eval.rules.mk).
 *
 *   apm_ref MICS.wav REF.wav OUT.wav [--delay-ms 0] [--suppression low|moderate|high]
 *                                    [--ns 0..3] [--no-ns]
 *
 * MICS.wav: one channel per mic (channel 0 is used), REF.wav: the playback
 * reference (channel 0), both 16 kHz. Per 10 ms: ProcessReverseStream(ref)
 * then set_stream_delay_ms + ProcessStream(mic). Settings (its best for
 * unknown alignment): high-pass filter on; AEC on with the extended filter
 * and delay-agnostic mode (its own delay estimator), suppression high;
 * noise suppression high; AGC, VAD and drift compensation off. OUT.wav:
 * mono float, same length as the input.
 *
 * Exit status: 0 ok, 1 I/O or APM error, 2 bad arguments.
 */
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <sndfile.h>
#include <webrtc/modules/audio_processing/include/audio_processing.h>

namespace {

const int kRate = 16000;
const int kFrame = kRate / 100;

bool read_ch0(const char *path, std::vector<float> *x)
{
    SF_INFO info;
    std::memset(&info, 0, sizeof(info));
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        std::fprintf(stderr, "apm_ref: %s: %s\n", path, sf_strerror(NULL));
        return false;
    }
    if (info.samplerate != kRate || info.channels < 1 || info.frames <= 0) {
        std::fprintf(stderr, "apm_ref: %s: need %d Hz audio, got %d Hz\n", path, kRate, info.samplerate);
        sf_close(f);
        return false;
    }
    std::vector<float> all((size_t) info.frames * (size_t) info.channels);
    bool ok = sf_readf_float(f, all.data(), info.frames) == info.frames;
    sf_close(f);
    x->resize((size_t) info.frames);
    for (sf_count_t i = 0; i < info.frames; i++)
        (*x)[(size_t) i] = all[(size_t) (i * info.channels)];
    if (!ok)
        std::fprintf(stderr, "apm_ref: %s: cannot read\n", path);
    return ok;
}

}  // namespace

int main(int argc, char **argv)
{
    int delay_ms = 0, ns_level = 2;
    bool ns = true;
    webrtc::EchoCancellation::SuppressionLevel sup = webrtc::EchoCancellation::kHighSuppression;

    if (argc < 4) {
        std::fprintf(stderr, "usage: apm_ref MICS.wav REF.wav OUT.wav [--delay-ms 0] "
                             "[--suppression low|moderate|high] [--ns 0..3] [--no-ns]\n");
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        if (!std::strcmp(argv[i], "--delay-ms") && i + 1 < argc) {
            delay_ms = std::atoi(argv[++i]);
            if (delay_ms < 0 || delay_ms > 500) {
                std::fprintf(stderr, "apm_ref: --delay-ms must be 0..500\n");
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--suppression") && i + 1 < argc) {
            const char *v = argv[++i];
            if (!std::strcmp(v, "low"))
                sup = webrtc::EchoCancellation::kLowSuppression;
            else if (!std::strcmp(v, "moderate"))
                sup = webrtc::EchoCancellation::kModerateSuppression;
            else if (!std::strcmp(v, "high"))
                sup = webrtc::EchoCancellation::kHighSuppression;
            else {
                std::fprintf(stderr, "apm_ref: --suppression low|moderate|high\n");
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--ns") && i + 1 < argc) {
            ns_level = std::atoi(argv[++i]);
            if (ns_level < 0 || ns_level > 3) {
                std::fprintf(stderr, "apm_ref: --ns must be 0..3\n");
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--no-ns")) {
            ns = false;
        } else {
            std::fprintf(stderr, "apm_ref: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    std::vector<float> mic, ref;
    if (!read_ch0(argv[1], &mic) || !read_ch0(argv[2], &ref))
        return 1;

    webrtc::Config config;
    config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(true));
    config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(true));
    webrtc::AudioProcessing *apm = webrtc::AudioProcessing::Create(config);
    if (!apm)
        return 1;
    static const webrtc::NoiseSuppression::Level levels[] = {
        webrtc::NoiseSuppression::kLow, webrtc::NoiseSuppression::kModerate,
        webrtc::NoiseSuppression::kHigh, webrtc::NoiseSuppression::kVeryHigh
    };
    if (apm->high_pass_filter()->Enable(true) != 0 ||
        apm->echo_cancellation()->enable_drift_compensation(false) != 0 ||
        apm->echo_cancellation()->set_suppression_level(sup) != 0 ||
        apm->echo_cancellation()->Enable(true) != 0 ||
        apm->noise_suppression()->set_level(levels[ns_level]) != 0 ||
        apm->noise_suppression()->Enable(ns) != 0) {
        std::fprintf(stderr, "apm_ref: cannot configure the APM\n");
        return 1;
    }
    webrtc::StreamConfig sc(kRate, 1, false);
    std::vector<float> out(mic.size(), 0.0f);
    float rbuf[kFrame], mbuf[kFrame];
    for (size_t t = 0; t + kFrame <= mic.size(); t += kFrame) {
        for (int i = 0; i < kFrame; i++) {
            rbuf[i] = t + i < ref.size() ? ref[t + i] : 0.0f;
            mbuf[i] = mic[t + i];
        }
        float *rp = rbuf, *mp = mbuf;
        if (apm->ProcessReverseStream(&rp, sc, sc, &rp) != 0)
            return 1;
        apm->set_stream_delay_ms(delay_ms);
        if (apm->ProcessStream(&mp, sc, sc, &mp) != 0) {
            std::fprintf(stderr, "apm_ref: ProcessStream failed\n");
            return 1;
        }
        std::memcpy(&out[t], mbuf, sizeof(mbuf));
    }
    delete apm;

    SF_INFO oi;
    std::memset(&oi, 0, sizeof(oi));
    oi.samplerate = kRate;
    oi.channels = 1;
    oi.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE *of = sf_open(argv[3], SFM_WRITE, &oi);
    if (!of || sf_writef_float(of, out.data(), (sf_count_t) out.size()) != (sf_count_t) out.size()) {
        std::fprintf(stderr, "apm_ref: %s: cannot write\n", argv[3]);
        return 1;
    }
    sf_close(of);
    return 0;
}
