/*
 * pcm_paced.c - "paced": a null ALSA PCM that runs in real time.
 *
 * What it is for
 *   Test and board-simulation builds (board sim4, tests/unit) run on machines
 *   with no sound hardware at all: no /dev/snd and no loadable snd-dummy or
 *   snd-aloop.  alsa-lib's own "null" PCM completes any read or write at once
 *   and its poll fd is always ready, so code that relies on the sound card for
 *   timing (the RT audio thread, xrun handling, latency measurements) cannot
 *   be exercised with it.  This external I/O plugin (ioplug) is a null device
 *   that behaves like a card with a crystal:
 *
 *   - capture returns silence (all-zero samples), playback discards data;
 *   - the hardware pointer follows CLOCK_MONOTONIC from snd_pcm_start()
 *     (frames = elapsed time x rate x rate_scale) in whole periods, like a
 *     card that interrupts once per period;
 *   - the poll descriptor is a timerfd that fires at the period boundary at
 *     which avail reaches avail_min (once per period with the default
 *     avail_min), so poll()/snd_pcm_wait() sleep instead of spinning;
 *   - a reader or writer that falls behind by stop_threshold (default: one
 *     buffer) gets an xrun: -EPIPE from readi/writei, state XRUN, POLLERR;
 *     snd_pcm_prepare()/snd_pcm_recover() restart it like a real card;
 *   - stop/drop and prepare reset the clock; playback drain sleeps until the
 *     queued frames have been "played".
 *
 *   Stacked under "type file" it replays a raw file as a paced microphone and
 *   records playback into a file at real-time speed.
 *
 * Which thread calls it
 *   The plugin has no thread of its own.  Every callback runs in the thread
 *   that calls the snd_pcm_*() function on this PCM: in hark that is the RT
 *   audio thread for readi/writei/avail/delay/poll, and the thread that
 *   opens/configures the device (normally the same one, before streaming) for
 *   open, hw_params, sw_params, prepare and close.  As with any ALSA PCM, one
 *   thread at a time may use a handle.  The I/O-path callbacks (pointer,
 *   transfer, poll_revents, delay) never allocate, log or block; they only
 *   read the clock and re-arm the timerfd.  Blocking drain sleeps in
 *   clock_nanosleep().
 *
 * Poll contract
 *   The timerfd signals POLLIN; callers must translate with
 *   snd_pcm_poll_descriptors_revents() (snd_pcm_wait() does), which is also
 *   where the timer is read and re-armed.  A caller that polls the fd and never
 *   calls revents sees it readable forever.
 *
 * Configuration
 *   pcm_type.paced { lib "/abs/path/libasound_module_pcm_paced.so" }
 *   pcm.hark_paced {
 *       type paced
 *       rate_scale 1.0001   # optional, default 1.0: the clock runs this much
 *                           # faster than CLOCK_MONOTONIC (1.0001 = +100 ppm)
 *   }
 *
 * Supported: capture and playback; 1..32 channels; S16_LE, S32_LE, FLOAT_LE;
 * 8000..192000 Hz; RW and MMAP access, interleaved and non-interleaved.
 * Pause and resume are not supported.
 *
 * Build (-DPIC is required: without it alsa-lib's headers emit a reference to
 * snd_dlsym_start and dlopen fails):
 *   gcc -O2 -Wall -Wextra -DPIC -shared -fPIC \
 *       -o libasound_module_pcm_paced.so pcm_paced.c -lasound
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#define NSEC_PER_SEC 1000000000ULL

#define PACED_CHANNELS_MIN 1
#define PACED_CHANNELS_MAX 32
#define PACED_RATE_MIN 8000
#define PACED_RATE_MAX 192000
#define PACED_PERIOD_BYTES_MIN 16
#define PACED_PERIOD_BYTES_MAX (8U << 20)
#define PACED_BUFFER_BYTES_MAX (32U << 20)
#define PACED_PERIODS_MIN 2
#define PACED_PERIODS_MAX 1024
#define PACED_RATE_SCALE_MIN 0.001
#define PACED_RATE_SCALE_MAX 1000.0

struct paced {
	snd_pcm_ioplug_t io;
	int tfd;			/* timerfd, CLOCK_MONOTONIC, the poll fd */
	double rate_scale;		/* clock speed relative to CLOCK_MONOTONIC */
	bool running;			/* clock started (start, or drain from PREPARED) */
	uint64_t t0;			/* CLOCK_MONOTONIC ns of frame 0 */
	snd_pcm_uframes_t last_hw;	/* last hw pointer computed, mod boundary */
	snd_pcm_uframes_t boundary;	/* from sw_params */
	snd_pcm_uframes_t avail_min;	/* from sw_params */
	snd_pcm_uframes_t stop_threshold; /* from sw_params */
};

static uint64_t paced_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Frames the device has moved at CLOCK_MONOTONIC time @now (0 when stopped). */
static uint64_t paced_frames_at(const struct paced *p, uint64_t now)
{
	uint64_t ns, rate = p->io.rate;

	if (!p->running || now <= p->t0)
		return 0;
	ns = now - p->t0;
	if (p->rate_scale != 1.0)
		ns = (uint64_t)((double)ns * p->rate_scale);
	return ns / NSEC_PER_SEC * rate + ns % NSEC_PER_SEC * rate / NSEC_PER_SEC;
}

/* Earliest CLOCK_MONOTONIC time at which paced_frames_at() reaches @frames. */
static uint64_t paced_time_of(const struct paced *p, uint64_t frames)
{
	uint64_t rate = p->io.rate;
	uint64_t ns = frames / rate * NSEC_PER_SEC +
		      (frames % rate * NSEC_PER_SEC + rate - 1) / rate;

	if (p->rate_scale != 1.0)
		ns = (uint64_t)((double)ns / p->rate_scale) + 1;
	return p->t0 + ns;
}

static void paced_arm_abs(struct paced *p, uint64_t when)
{
	struct itimerspec its = { .it_interval = { 0, 0 } };

	its.it_value.tv_sec = (time_t)(when / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(when % NSEC_PER_SEC);
	(void)timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Make the poll fd readable now (an absolute time in the past expires at once). */
static void paced_arm_now(struct paced *p)
{
	paced_arm_abs(p, 1);
}

static void paced_disarm(struct paced *p)
{
	paced_arm_abs(p, 0);
}

/* Fire at the first period boundary at or after frame @target. */
static void paced_arm_frames(struct paced *p, uint64_t target)
{
	uint64_t per = p->io.period_size;

	target = (target + per - 1) / per * per;
	paced_arm_abs(p, paced_time_of(p, target));
}

/*
 * Fire when the application may proceed again: at once if avail already
 * reaches avail_min, else at the period boundary where it will.
 */
static void paced_arm_next(struct paced *p, uint64_t pos, snd_pcm_uframes_t hw)
{
	snd_pcm_uframes_t avail = snd_pcm_ioplug_avail(&p->io, hw, p->io.appl_ptr);

	if (avail >= p->avail_min)
		paced_arm_now(p);
	else
		paced_arm_frames(p, pos + (p->avail_min - avail));
}

/*
 * Move the hw pointer to time @now.  Only for RUNNING and DRAINING.
 * The pointer moves in whole periods, like a card that interrupts once per
 * period (so period-sized reads and writes complete on period boundaries and
 * never split), except that a playback drain ends exactly at the
 * application pointer.  Returns the pointer (mod boundary) and its frame
 * count since start in *@posp, or -EPIPE when the application fell
 * stop_threshold behind.
 */
static snd_pcm_sframes_t paced_advance(struct paced *p, uint64_t now, uint64_t *posp)
{
	snd_pcm_ioplug_t *io = &p->io;
	uint64_t pos = paced_frames_at(p, now);
	uint64_t qpos = pos - pos % io->period_size;
	snd_pcm_uframes_t hw = (snd_pcm_uframes_t)(qpos % p->boundary);

	if (io->state == SND_PCM_STATE_DRAINING) {
		/* ioplug ends the drain when it sees a whole buffer free */
		if (io->stream == SND_PCM_STREAM_PLAYBACK &&
		    snd_pcm_ioplug_hw_avail(io, (snd_pcm_uframes_t)(pos % p->boundary),
					    io->appl_ptr) == 0)
			hw = io->appl_ptr;
	} else if (snd_pcm_ioplug_avail(io, hw, io->appl_ptr) >= p->stop_threshold) {
		paced_arm_now(p);	/* wake pollers: they get POLLERR */
		return -EPIPE;
	}
	p->last_hw = hw;
	*posp = qpos;
	return (snd_pcm_sframes_t)hw;
}

static int paced_start(snd_pcm_ioplug_t *io)
{
	struct paced *p = io->private_data;

	p->t0 = paced_now();
	p->running = true;
	paced_arm_next(p, 0, p->last_hw);
	return 0;
}

static int paced_stop(snd_pcm_ioplug_t *io)
{
	struct paced *p = io->private_data;

	p->running = false;
	paced_arm_now(p);	/* a stopped PCM polls as POLLERR, like the kernel's */
	return 0;
}

static snd_pcm_sframes_t paced_pointer(snd_pcm_ioplug_t *io)
{
	struct paced *p = io->private_data;
	uint64_t pos;

	if (io->state != SND_PCM_STATE_RUNNING && io->state != SND_PCM_STATE_DRAINING)
		return (snd_pcm_sframes_t)p->last_hw;
	return paced_advance(p, paced_now(), &pos);
}

static snd_pcm_sframes_t paced_transfer(snd_pcm_ioplug_t *io,
					const snd_pcm_channel_area_t *areas,
					snd_pcm_uframes_t offset,
					snd_pcm_uframes_t size)
{
	if (io->stream == SND_PCM_STREAM_CAPTURE)
		snd_pcm_areas_silence(areas, offset, io->channels, size, io->format);
	return (snd_pcm_sframes_t)size;
}

static int paced_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	struct paced *p = io->private_data;

	(void)params;
	/* sw_params defaults; alsa-lib installs real ones right after this */
	p->boundary = io->buffer_size;
	while (p->boundary * 2 <= LONG_MAX - io->buffer_size)
		p->boundary *= 2;
	p->avail_min = io->period_size;
	p->stop_threshold = io->buffer_size;
	return 0;
}

static int paced_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	struct paced *p = io->private_data;
	snd_pcm_uframes_t v;

	if (snd_pcm_sw_params_get_boundary(params, &v) == 0 && v > 0)
		p->boundary = v;
	if (snd_pcm_sw_params_get_avail_min(params, &v) == 0)
		p->avail_min = v ? v : 1;
	if (snd_pcm_sw_params_get_stop_threshold(params, &v) == 0)
		p->stop_threshold = v;
	return 0;
}

static int paced_prepare(snd_pcm_ioplug_t *io)
{
	struct paced *p = io->private_data;

	/* ioplug has already reset appl_ptr and hw_ptr to 0 */
	p->running = false;
	p->last_hw = 0;
	if (io->stream == SND_PCM_STREAM_PLAYBACK)
		paced_arm_now(p);	/* a whole buffer of free space */
	else
		paced_disarm(p);	/* nothing to read before start */
	return 0;
}

/* Called without the PCM lock; ioplug drops the stream when this returns 0. */
static int paced_drain(snd_pcm_ioplug_t *io)
{
	struct paced *p = io->private_data;

	if (io->stream == SND_PCM_STREAM_CAPTURE)
		return 0;
	if (!p->running) {
		/* drain straight from PREPARED: ioplug does not call start */
		p->t0 = paced_now();
		p->running = true;
	}
	for (;;) {
		uint64_t pos = paced_frames_at(p, paced_now());
		snd_pcm_uframes_t hw = (snd_pcm_uframes_t)(pos % p->boundary);
		snd_pcm_uframes_t queued = snd_pcm_ioplug_hw_avail(io, hw, io->appl_ptr);
		uint64_t end;
		struct timespec ts;

		if (queued == 0)
			return 0;
		if (io->nonblock) {
			/* poll, then call snd_pcm_drain() again */
			paced_arm_abs(p, paced_time_of(p, pos + queued));
			return -EAGAIN;
		}
		end = paced_time_of(p, pos + queued);
		ts.tv_sec = (time_t)(end / NSEC_PER_SEC);
		ts.tv_nsec = (long)(end % NSEC_PER_SEC);
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static int paced_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd,
			      unsigned int nfds, unsigned short *revents)
{
	struct paced *p = io->private_data;
	unsigned short ready = io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN;
	uint64_t expirations, pos;
	snd_pcm_sframes_t hw;
	snd_pcm_uframes_t queued;

	if (nfds < 1 || pfd[0].fd != p->tfd)
		return -EINVAL;
	if (pfd[0].revents & POLLNVAL) {
		*revents = POLLERR | POLLNVAL;
		return 0;
	}
	/* consume the expiry; EAGAIN just means it had not fired */
	if (read(p->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;

	*revents = 0;
	switch (io->state) {
	case SND_PCM_STATE_RUNNING:
		hw = paced_advance(p, paced_now(), &pos);
		if (hw < 0) {
			snd_pcm_ioplug_set_state(io, SND_PCM_STATE_XRUN);
			*revents = ready | POLLERR;
			break;
		}
		paced_arm_next(p, pos, (snd_pcm_uframes_t)hw);
		if (snd_pcm_ioplug_avail(io, (snd_pcm_uframes_t)hw, io->appl_ptr) >= p->avail_min)
			*revents = ready;
		break;
	case SND_PCM_STATE_DRAINING:
		hw = paced_advance(p, paced_now(), &pos);
		queued = io->stream == SND_PCM_STREAM_PLAYBACK ?
			snd_pcm_ioplug_hw_avail(io, (snd_pcm_uframes_t)hw, io->appl_ptr) : 0;
		if (queued == 0) {
			*revents = ready;	/* drain done: call snd_pcm_drain() again */
			paced_arm_now(p);
		} else {
			paced_arm_abs(p, paced_time_of(p, pos + queued));
		}
		break;
	case SND_PCM_STATE_PREPARED:
		if (io->stream == SND_PCM_STREAM_PLAYBACK &&
		    snd_pcm_ioplug_avail(io, p->last_hw, io->appl_ptr) >= p->avail_min) {
			*revents = ready;
			paced_arm_now(p);
		} else {
			paced_disarm(p);	/* until start */
		}
		break;
	default:
		/* XRUN, SETUP, ...: report an error level-triggered */
		*revents = ready | POLLERR;
		paced_arm_now(p);
		break;
	}
	return 0;
}

static int paced_delay(snd_pcm_ioplug_t *io, snd_pcm_sframes_t *delayp)
{
	struct paced *p = io->private_data;
	snd_pcm_sframes_t hw = (snd_pcm_sframes_t)p->last_hw;
	uint64_t pos;

	if (io->state == SND_PCM_STATE_XRUN)
		return -EPIPE;
	if (io->state == SND_PCM_STATE_RUNNING || io->state == SND_PCM_STATE_DRAINING) {
		hw = paced_advance(p, paced_now(), &pos);
		if (hw < 0) {
			snd_pcm_ioplug_set_state(io, SND_PCM_STATE_XRUN);
			return -EPIPE;
		}
	}
	if (io->stream == SND_PCM_STREAM_PLAYBACK)
		*delayp = (snd_pcm_sframes_t)snd_pcm_ioplug_hw_avail(io,
				(snd_pcm_uframes_t)hw, io->appl_ptr);
	else
		*delayp = (snd_pcm_sframes_t)snd_pcm_ioplug_avail(io,
				(snd_pcm_uframes_t)hw, io->appl_ptr);
	return 0;
}

static void paced_dump(snd_pcm_ioplug_t *io, snd_output_t *out)
{
	struct paced *p = io->private_data;

	snd_output_printf(out, "paced null PCM (CLOCK_MONOTONIC timerfd), rate_scale %.9g\n",
			  p->rate_scale);
	if (io->state != SND_PCM_STATE_OPEN) {
		snd_output_printf(out, "Its setup is:\n");
		snd_pcm_dump_setup(io->pcm, out);
	}
}

static int paced_close(snd_pcm_ioplug_t *io)
{
	struct paced *p = io->private_data;

	if (p->tfd >= 0)
		close(p->tfd);
	free(p);
	return 0;
}

static const snd_pcm_ioplug_callback_t paced_callback = {
	.start = paced_start,
	.stop = paced_stop,
	.pointer = paced_pointer,
	.transfer = paced_transfer,
	.close = paced_close,
	.hw_params = paced_hw_params,
	.sw_params = paced_sw_params,
	.prepare = paced_prepare,
	.drain = paced_drain,
	.poll_revents = paced_poll_revents,
	.dump = paced_dump,
	.delay = paced_delay,
};

static int paced_set_constraints(snd_pcm_ioplug_t *io)
{
	static const unsigned int accesses[] = {
		SND_PCM_ACCESS_RW_INTERLEAVED,
		SND_PCM_ACCESS_RW_NONINTERLEAVED,
		SND_PCM_ACCESS_MMAP_INTERLEAVED,
		SND_PCM_ACCESS_MMAP_NONINTERLEAVED,
	};
	static const unsigned int formats[] = {
		SND_PCM_FORMAT_S16_LE,
		SND_PCM_FORMAT_S32_LE,
		SND_PCM_FORMAT_FLOAT_LE,
	};
	int r;

	r = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS,
					  sizeof(accesses) / sizeof(accesses[0]), accesses);
	if (r < 0)
		return r;
	r = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT,
					  sizeof(formats) / sizeof(formats[0]), formats);
	if (r < 0)
		return r;
	r = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS,
					    PACED_CHANNELS_MIN, PACED_CHANNELS_MAX);
	if (r < 0)
		return r;
	r = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE,
					    PACED_RATE_MIN, PACED_RATE_MAX);
	if (r < 0)
		return r;
	r = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES,
					    PACED_PERIOD_BYTES_MIN, PACED_PERIOD_BYTES_MAX);
	if (r < 0)
		return r;
	r = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES,
					    2 * PACED_PERIOD_BYTES_MIN, PACED_BUFFER_BYTES_MAX);
	if (r < 0)
		return r;
	return snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS,
					       PACED_PERIODS_MIN, PACED_PERIODS_MAX);
}

SND_PCM_PLUGIN_DEFINE_FUNC(paced)
{
	snd_config_iterator_t i, next;
	double rate_scale = 1.0;
	struct paced *p;
	int r;

	(void)root;
	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id;

		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (strcmp(id, "comment") == 0 || strcmp(id, "type") == 0 ||
		    strcmp(id, "hint") == 0)
			continue;
		if (strcmp(id, "rate_scale") == 0) {
			if (snd_config_get_ireal(n, &rate_scale) < 0 ||
			    !(rate_scale >= PACED_RATE_SCALE_MIN &&
			      rate_scale <= PACED_RATE_SCALE_MAX)) {
				SNDERR("paced: rate_scale must be a number in [%g, %g]",
				       PACED_RATE_SCALE_MIN, PACED_RATE_SCALE_MAX);
				return -EINVAL;
			}
			continue;
		}
		SNDERR("paced: unknown field %s", id);
		return -EINVAL;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rate_scale = rate_scale;
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->tfd < 0) {
		r = -errno;
		SNDERR("paced: timerfd_create: %s", strerror(-r));
		goto out_free;
	}

	p->io.version = SND_PCM_IOPLUG_VERSION;
	p->io.name = "paced null PCM";
	p->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA | SND_PCM_IOPLUG_FLAG_MONOTONIC;
	p->io.poll_fd = p->tfd;
	p->io.poll_events = POLLIN;
	p->io.mmap_rw = 0;
	p->io.callback = &paced_callback;
	p->io.private_data = p;

	r = snd_pcm_ioplug_create(&p->io, name, stream, mode);
	if (r < 0)
		goto out_close;
	/* from here on, snd_pcm_ioplug_delete() frees p through paced_close() */
	/* ioplug only learns the mode from later snd_pcm_nonblock() calls */
	p->io.nonblock = (mode & SND_PCM_NONBLOCK) != 0;
	r = paced_set_constraints(&p->io);
	if (r < 0) {
		snd_pcm_ioplug_delete(&p->io);
		return r;
	}
	*pcmp = p->io.pcm;
	return 0;

out_close:
	close(p->tfd);
out_free:
	free(p);
	return r;
}

SND_PCM_PLUGIN_SYMBOL(paced);
