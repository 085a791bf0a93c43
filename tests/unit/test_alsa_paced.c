/*
 * test_alsa_paced.c - unit tests for the "paced" ALSA plugin
 * (tests/alsa/pcm_paced.c), the real-time null PCM that tests and the sim4
 * board use instead of a sound card.
 *
 * The plugin is loaded from $HARK_PACED_PLUGIN (absolute path of
 * libasound_module_pcm_paced.so).  Each test builds its ALSA configuration in
 * memory (snd_config_top + snd_input_buffer_open + snd_config_load +
 * snd_pcm_open_lconf), so no asound.conf, ALSA_CONFIG_PATH or HOME is used.
 *
 * Timing bounds are wall-clock (CLOCK_MONOTONIC) and sized so that an unpaced
 * device (alsa-lib's "null", which completes any transfer at once and whose
 * poll fd is always ready) fails them.  Tolerance: HARK_PACED_TOL_MS
 * (default 60 ms; qemu-aarch64 and valgrind pass with the default) for
 * slower machines; it must stay below 200 ms for the bounds to keep failing
 * an unpaced device.  test_file_plugin writes two small files in $TMPDIR
 * (default /tmp) and removes them.
 *
 * Build: cc -o test_alsa_paced test_alsa_paced.c -lcmocka -lasound
 * Run:   HARK_PACED_PLUGIN=/abs/libasound_module_pcm_paced.so ./test_alsa_paced
 * Takes about 2.5 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <alsa/asoundlib.h>

#define RATE 16000
#define CHANNELS 4
#define PERIOD 160			/* 10 ms at 16 kHz */
#define PERIODS 8		/* room for scheduling hiccups on a busy CI box */
#define BUFFER (PERIOD * PERIODS)	/* 80 ms */
#define PERIOD_S ((double)PERIOD / RATE)
#define BUFFER_S ((double)BUFFER / RATE)

static const char *plugin;
static double tol = 0.060;		/* seconds */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#define assert_near(v, want, tolerance)						\
	do {									\
		double v_ = (v), w_ = (want), t_ = (tolerance);			\
		if (v_ < w_ - t_ || v_ > w_ + t_)				\
			fail_msg("%s = %.4f, want %.4f +- %.4f", #v, v_, w_, t_); \
	} while (0)

/*
 * Open PCM "t" from an in-memory config.  @defs holds pcm definitions and
 * must define pcm.t; "pcm_type.paced" is prepended.
 */
static int open_pcm(snd_pcm_t **pcm, snd_pcm_stream_t stream, const char *defs)
{
	char text[2048];
	snd_config_t *top;
	snd_input_t *in;
	int r;

	snprintf(text, sizeof(text), "pcm_type.paced { lib \"%s\" }\n%s\n", plugin, defs);
	r = snd_config_top(&top);
	if (r < 0)
		return r;
	r = snd_input_buffer_open(&in, text, -1);
	if (r < 0)
		goto out_config;
	r = snd_config_load(top, in);
	snd_input_close(in);
	if (r < 0)
		goto out_config;
	r = snd_pcm_open_lconf(pcm, "t", stream, 0, top);
out_config:
	snd_config_delete(top);
	return r;
}

static int set_hw(snd_pcm_t *pcm, snd_pcm_access_t access, snd_pcm_format_t format,
		  unsigned int channels, unsigned int rate,
		  snd_pcm_uframes_t period, unsigned int periods)
{
	snd_pcm_hw_params_t *hw;
	int r;

	snd_pcm_hw_params_alloca(&hw);
	if ((r = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (r = snd_pcm_hw_params_set_access(pcm, hw, access)) < 0 ||
	    (r = snd_pcm_hw_params_set_format(pcm, hw, format)) < 0 ||
	    (r = snd_pcm_hw_params_set_channels(pcm, hw, channels)) < 0 ||
	    (r = snd_pcm_hw_params_set_rate(pcm, hw, rate, 0)) < 0 ||
	    (r = snd_pcm_hw_params_set_period_size(pcm, hw, period, 0)) < 0 ||
	    (r = snd_pcm_hw_params_set_periods(pcm, hw, periods, 0)) < 0)
		return r;
	return snd_pcm_hw_params(pcm, hw);
}

static void open_std(snd_pcm_t **pcm, snd_pcm_stream_t stream, const char *defs)
{
	assert_int_equal(open_pcm(pcm, stream, defs), 0);
	assert_int_equal(set_hw(*pcm, SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_S16_LE,
				CHANNELS, RATE, PERIOD, PERIODS), 0);
}

static void set_start_threshold(snd_pcm_t *pcm, snd_pcm_uframes_t frames)
{
	snd_pcm_sw_params_t *sw;

	snd_pcm_sw_params_alloca(&sw);
	assert_int_equal(snd_pcm_sw_params_current(pcm, sw), 0);
	assert_int_equal(snd_pcm_sw_params_set_start_threshold(pcm, sw, frames), 0);
	assert_int_equal(snd_pcm_sw_params(pcm, sw), 0);
}

static const char paced_defs[] = "pcm.t { type paced }";

/* Read @periods periods; every sample must be silence.  Returns wall seconds. */
static double capture_periods(snd_pcm_t *pcm, int periods)
{
	int16_t buf[PERIOD * CHANNELS];
	double t = now_s();

	for (int i = 0; i < periods; i++) {
		memset(buf, 0x55, sizeof(buf));
		assert_int_equal(snd_pcm_readi(pcm, buf, PERIOD), PERIOD);
		for (size_t k = 0; k < PERIOD * CHANNELS; k++)
			if (buf[k] != 0)
				fail_msg("sample %zu of period %d is %d, want 0", k, i, buf[k]);
	}
	return now_s() - t;
}

static void test_capture_paced(void **state)
{
	snd_pcm_t *pcm;
	double wall, cpu;

	(void)state;
	open_std(&pcm, SND_PCM_STREAM_CAPTURE, paced_defs);
	cpu = cpu_s();
	wall = capture_periods(pcm, 50);	/* 0.5 s */
	cpu = cpu_s() - cpu;
	print_message("capture 0.5 s: %.4f s wall, %.4f s cpu\n", wall, cpu);
	assert_near(wall, 0.5, tol);
	/* blocking reads sleep in poll(): no busy loop */
	assert_true(cpu < 0.5 * wall);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_RUNNING);
	assert_int_equal(snd_pcm_close(pcm), 0);
}

static void test_playback_paced(void **state)
{
	int16_t buf[PERIOD * CHANNELS] = { 0 };
	snd_pcm_t *pcm;
	double t, t_written, wall;

	(void)state;
	open_std(&pcm, SND_PCM_STREAM_PLAYBACK, paced_defs);
	t = now_s();
	for (int i = 0; i < 50; i++)
		assert_int_equal(snd_pcm_writei(pcm, buf, PERIOD), PERIOD);
	t_written = now_s() - t;
	/* started on the first write (start_threshold 1): the last write fits
	 * once all but a buffer of the earlier periods have been played */
	assert_near(t_written, 0.5 - BUFFER_S, tol);
	assert_int_equal(snd_pcm_drain(pcm), 0);
	wall = now_s() - t;
	print_message("playback 0.5 s: writes done %.4f s, drained %.4f s\n", t_written, wall);
	assert_near(wall, 0.5, tol);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_SETUP);
	assert_int_equal(snd_pcm_close(pcm), 0);
}

static void test_capture_xrun_recover(void **state)
{
	int16_t buf[PERIOD * CHANNELS];
	snd_pcm_t *pcm;
	double wall;

	(void)state;
	open_std(&pcm, SND_PCM_STREAM_CAPTURE, paced_defs);
	capture_periods(pcm, 2);
	sleep_s(3 * BUFFER_S);		/* reader stalls for 3 buffers */
	assert_int_equal(snd_pcm_readi(pcm, buf, PERIOD), -EPIPE);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_XRUN);
	assert_int_equal(snd_pcm_avail_update(pcm), -EPIPE);
	assert_int_equal(snd_pcm_recover(pcm, -EPIPE, 1), 0);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_PREPARED);
	/* the clock restarted: no backlog, 10 periods take 100 ms again */
	wall = capture_periods(pcm, 10);
	print_message("after recover: 10 periods in %.4f s\n", wall);
	assert_near(wall, 10 * PERIOD_S, tol);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_RUNNING);
	assert_int_equal(snd_pcm_close(pcm), 0);
}

static void test_playback_underrun_recover(void **state)
{
	int16_t buf[PERIOD * CHANNELS] = { 0 };
	snd_pcm_t *pcm;

	(void)state;
	open_std(&pcm, SND_PCM_STREAM_PLAYBACK, paced_defs);
	for (int i = 0; i < PERIODS; i++)
		assert_int_equal(snd_pcm_writei(pcm, buf, PERIOD), PERIOD);
	sleep_s(3 * BUFFER_S);		/* writer stalls: buffer runs dry */
	assert_int_equal(snd_pcm_writei(pcm, buf, PERIOD), -EPIPE);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_XRUN);
	assert_int_equal(snd_pcm_recover(pcm, -EPIPE, 1), 0);
	for (int i = 0; i < PERIODS + 2; i++)
		assert_int_equal(snd_pcm_writei(pcm, buf, PERIOD), PERIOD);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_RUNNING);
	assert_int_equal(snd_pcm_drop(pcm), 0);
	assert_int_equal(snd_pcm_close(pcm), 0);
}

static void test_poll_and_wait(void **state)
{
	int16_t buf[PERIOD * CHANNELS];
	struct pollfd pfd[4];
	unsigned short revents;
	snd_pcm_t *pcm;
	int n, polls = 0, ready = 0;
	double t, dt;

	(void)state;
	open_std(&pcm, SND_PCM_STREAM_CAPTURE, paced_defs);
	n = snd_pcm_poll_descriptors_count(pcm);
	assert_in_range(n, 1, 4);
	assert_int_equal(snd_pcm_poll_descriptors(pcm, pfd, (unsigned int)n), n);
	assert_true(pfd[0].fd >= 0);
	assert_true(pfd[0].events & POLLIN);

	/* prepared, not started: a capture device has nothing to report */
	assert_int_equal(poll(pfd, (nfds_t)n, 20), 0);

	assert_int_equal(snd_pcm_start(pcm), 0);
	capture_periods(pcm, 1);
	/* just consumed everything: the wait ends at the next period boundary */
	t = now_s();
	assert_int_equal(snd_pcm_wait(pcm, 1000), 1);
	dt = now_s() - t;
	print_message("snd_pcm_wait: %.4f s (period %.4f s)\n", dt, PERIOD_S);
	assert_true(dt >= 0.5 * PERIOD_S);
	assert_true(dt <= PERIOD_S + tol);
	assert_true(snd_pcm_avail_update(pcm) >= PERIOD);
	assert_int_equal(snd_pcm_readi(pcm, buf, PERIOD), PERIOD);

	/* raw poll() + revents for 10 periods: wakes about once a period */
	t = now_s();
	while (ready < 10) {
		assert_true(poll(pfd, (nfds_t)n, 1000) > 0);
		polls++;
		assert_int_equal(snd_pcm_poll_descriptors_revents(pcm, pfd, (unsigned int)n,
								  &revents), 0);
		assert_false(revents & POLLERR);
		if (!(revents & POLLIN))
			continue;
		ready++;
		assert_int_equal(snd_pcm_readi(pcm, buf, PERIOD), PERIOD);
	}
	dt = now_s() - t;
	print_message("10 periods by poll(): %.4f s, %d polls\n", dt, polls);
	assert_near(dt, 10 * PERIOD_S, tol);
	assert_true(polls <= 3 * ready);
	assert_int_equal(snd_pcm_close(pcm), 0);

	/* playback: revents says POLLOUT while there is room */
	open_std(&pcm, SND_PCM_STREAM_PLAYBACK, paced_defs);
	n = snd_pcm_poll_descriptors(pcm, pfd, 4);
	assert_true(n >= 1);
	assert_int_equal(poll(pfd, (nfds_t)n, 100), 1);
	assert_int_equal(snd_pcm_poll_descriptors_revents(pcm, pfd, (unsigned int)n, &revents), 0);
	assert_true(revents & POLLOUT);
	assert_int_equal(snd_pcm_close(pcm), 0);
}

static void test_delay_and_restart(void **state)
{
	int16_t buf[BUFFER * CHANNELS] = { 0 };
	snd_pcm_sframes_t delay;
	snd_pcm_t *pcm;
	double t;

	(void)state;
	open_std(&pcm, SND_PCM_STREAM_PLAYBACK, paced_defs);
	set_start_threshold(pcm, BUFFER);
	assert_int_equal(snd_pcm_writei(pcm, buf, BUFFER / 2), BUFFER / 2);
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_PREPARED);
	assert_int_equal(snd_pcm_delay(pcm, &delay), 0);
	assert_int_equal(delay, BUFFER / 2);
	assert_int_equal(snd_pcm_writei(pcm, buf, BUFFER / 2), BUFFER / 2);
	t = now_s();
	assert_int_equal(snd_pcm_state(pcm), SND_PCM_STATE_RUNNING);
	sleep_s(0.015);
	assert_int_equal(snd_pcm_delay(pcm, &delay), 0);
	/* >= 1 period of the 4-period queue played (pointer moves in periods) */
	assert_in_range(delay, BUFFER - (now_s() - t) * RATE, BUFFER - PERIOD);

	/* drop + prepare: pointer and clock back to zero */
	assert_int_equal(snd_pcm_drop(pcm), 0);
	assert_int_equal(snd_pcm_prepare(pcm), 0);
	assert_int_equal(snd_pcm_delay(pcm, &delay), 0);
	assert_int_equal(delay, 0);
	assert_int_equal(snd_pcm_avail(pcm), BUFFER);
	sleep_s(0.020);
	assert_int_equal(snd_pcm_avail(pcm), BUFFER);	/* stopped clock does not move */
	assert_int_equal(snd_pcm_writei(pcm, buf, BUFFER), BUFFER);
	assert_int_equal(snd_pcm_delay(pcm, &delay), 0);
	/* restarted from 0 (the old clock would be >= 3 periods on by now) */
	assert_in_range(delay, BUFFER - 2 * PERIOD, BUFFER);
	assert_int_equal(snd_pcm_close(pcm), 0);

	/* capture delay = frames captured and not yet read */
	open_std(&pcm, SND_PCM_STREAM_CAPTURE, paced_defs);
	t = now_s();
	assert_int_equal(snd_pcm_start(pcm), 0);
	sleep_s(0.015);
	assert_int_equal(snd_pcm_delay(pcm, &delay), 0);
	assert_in_range(delay, PERIOD, (now_s() - t) * RATE);
	assert_int_equal(snd_pcm_close(pcm), 0);
}

static void quiet_error(const char *file, int line, const char *function, int err,
			const char *fmt, ...)
{
	(void)file;
	(void)line;
	(void)function;
	(void)err;
	(void)fmt;
}

static void test_rate_scale(void **state)
{
	snd_pcm_t *pcm;
	double wall;

	(void)state;
	assert_int_equal(open_pcm(&pcm, SND_PCM_STREAM_CAPTURE,
				  "pcm.t { type paced rate_scale 2.0 }"), 0);
	/* 16 periods: the same 80 ms of slack at double speed */
	assert_int_equal(set_hw(pcm, SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_S16_LE,
				CHANNELS, RATE, PERIOD, 2 * PERIODS), 0);
	wall = capture_periods(pcm, 50);	/* 0.5 s of audio at double speed */
	print_message("capture 0.5 s at rate_scale 2: %.4f s\n", wall);
	assert_near(wall, 0.25, tol);
	assert_int_equal(snd_pcm_close(pcm), 0);

	/* bad parameters are refused (the plugin's SNDERR output is muted) */
	snd_lib_error_set_handler(quiet_error);
	assert_int_equal(open_pcm(&pcm, SND_PCM_STREAM_CAPTURE,
				  "pcm.t { type paced rate_scale -1 }"), -EINVAL);
	assert_int_equal(open_pcm(&pcm, SND_PCM_STREAM_CAPTURE,
				  "pcm.t { type paced bogus 1 }"), -EINVAL);
	snd_lib_error_set_handler(NULL);
}

static void test_formats(void **state)
{
	static const struct {
		snd_pcm_access_t access;
		snd_pcm_format_t format;
		unsigned int channels, rate;
		int ok;
	} cases[] = {
		{ SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_S32_LE, 1, 8000, 1 },
		{ SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_FLOAT_LE, 32, 192000, 1 },
		{ SND_PCM_ACCESS_MMAP_INTERLEAVED, SND_PCM_FORMAT_S16_LE, 2, 48000, 1 },
		{ SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_S16_LE, 33, 16000, 0 },
		{ SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_U8, 1, 16000, 0 },
		{ SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_FORMAT_S16_LE, 1, 4000, 0 },
	};
	static unsigned char buf[2 * 960 * 32 * 4];	/* 2 periods, worst case */

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snd_pcm_t *pcm;
		snd_pcm_uframes_t period = cases[i].rate / 200;	/* 5 ms */
		int r;

		assert_int_equal(open_pcm(&pcm, SND_PCM_STREAM_CAPTURE, paced_defs), 0);
		r = set_hw(pcm, cases[i].access, cases[i].format, cases[i].channels,
			   cases[i].rate, period, 16);
		if (!cases[i].ok) {
			assert_true(r < 0);
		} else {
			ssize_t bytes = snd_pcm_frames_to_bytes(pcm, 2 * period);

			assert_int_equal(r, 0);
			assert_true((size_t)bytes <= sizeof(buf));
			memset(buf, 0x55, sizeof(buf));
			if (cases[i].access == SND_PCM_ACCESS_MMAP_INTERLEAVED)
				r = (int)snd_pcm_mmap_readi(pcm, buf, 2 * period);
			else
				r = (int)snd_pcm_readi(pcm, buf, 2 * period);
			assert_int_equal(r, (int)(2 * period));
			for (ssize_t k = 0; k < bytes; k++)
				assert_int_equal(buf[k], 0);
		}
		assert_int_equal(snd_pcm_close(pcm), 0);
	}
}

/* "type file" on top: paced microphone from a raw file, paced recorder to a file. */
static void test_file_plugin(void **state)
{
	enum { FRAMES = 20 * PERIOD };	/* 0.2 s */
	static int16_t data[FRAMES * CHANNELS], got[FRAMES * CHANNELS];
	const char *tmp = getenv("TMPDIR");
	char in_path[512], out_path[512], defs[1024];
	snd_pcm_t *pcm;
	double t, wall;
	int in_fd, out_fd;
	FILE *f;

	(void)state;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(in_path, sizeof(in_path), "%s/test_alsa_paced_in.XXXXXX", tmp);
	snprintf(out_path, sizeof(out_path), "%s/test_alsa_paced_out.XXXXXX", tmp);
	for (size_t k = 0; k < FRAMES * CHANNELS; k++)
		data[k] = (int16_t)(k * 7 + 1);
	in_fd = mkstemp(in_path);
	out_fd = mkstemp(out_path);
	assert_true(in_fd >= 0 && out_fd >= 0);
	assert_int_equal(write(in_fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(in_fd);
	close(out_fd);

	snprintf(defs, sizeof(defs),
		 "pcm.hark_paced { type paced }\n"
		 "pcm.t { type file slave.pcm \"hark_paced\" infile \"%s\" "
		 "file \"/dev/null\" format \"raw\" }", in_path);
	open_std(&pcm, SND_PCM_STREAM_CAPTURE, defs);
	t = now_s();
	for (int i = 0; i < FRAMES / PERIOD; i++)
		assert_int_equal(snd_pcm_readi(pcm, got + i * PERIOD * CHANNELS, PERIOD), PERIOD);
	wall = now_s() - t;
	print_message("file capture 0.2 s: %.4f s\n", wall);
	assert_near(wall, 0.2, tol);
	assert_memory_equal(got, data, sizeof(data));
	assert_int_equal(snd_pcm_close(pcm), 0);

	snprintf(defs, sizeof(defs),
		 "pcm.hark_paced { type paced }\n"
		 "pcm.t { type file slave.pcm \"hark_paced\" file \"%s\" format \"raw\" }",
		 out_path);
	open_std(&pcm, SND_PCM_STREAM_PLAYBACK, defs);
	t = now_s();
	for (int i = 0; i < FRAMES / PERIOD; i++)
		assert_int_equal(snd_pcm_writei(pcm, data + i * PERIOD * CHANNELS, PERIOD), PERIOD);
	assert_int_equal(snd_pcm_drain(pcm), 0);
	wall = now_s() - t;
	print_message("file playback 0.2 s: %.4f s\n", wall);
	assert_near(wall, 0.2, tol);
	assert_int_equal(snd_pcm_close(pcm), 0);
	f = fopen(out_path, "rb");
	assert_non_null(f);
	memset(got, 0, sizeof(got));
	assert_int_equal(fread(got, 1, sizeof(got) + 1, f), sizeof(got));
	fclose(f);
	assert_memory_equal(got, data, sizeof(data));

	unlink(in_path);
	unlink(out_path);
}

static int group_setup(void **state)
{
	const char *s = getenv("HARK_PACED_TOL_MS");

	(void)state;
	plugin = getenv("HARK_PACED_PLUGIN");
	if (!plugin || plugin[0] != '/') {
		fprintf(stderr, "HARK_PACED_PLUGIN must be the absolute path of "
			"libasound_module_pcm_paced.so\n");
		return -1;
	}
	if (access(plugin, R_OK) != 0) {
		fprintf(stderr, "%s: %s\n", plugin, strerror(errno));
		return -1;
	}
	if (s && *s)
		tol = atof(s) / 1000.0;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	snd_config_update_free_global();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_paced),
		cmocka_unit_test(test_playback_paced),
		cmocka_unit_test(test_capture_xrun_recover),
		cmocka_unit_test(test_playback_underrun_recover),
		cmocka_unit_test(test_poll_and_wait),
		cmocka_unit_test(test_delay_and_restart),
		cmocka_unit_test(test_rate_scale),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_file_plugin),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
