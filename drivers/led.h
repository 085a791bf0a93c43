/*
 * led.h - the appliance's LEDs: one pattern per app_state, rendered on a
 * timer tick from the main loop (no thread of its own).
 *
 * Patterns (phase 0 = the moment the state was entered; levels multiply the
 * colour, [led] brightness scales the whole output):
 *
 *   state      colour              pattern
 *   idle       white               off, or solid at 6 % with `idle = dim`
 *   listening  blue    (0,0,255)   solid; on a ring with a talker direction,
 *                                  a spot toward the talker (100 % at the
 *                                  LED nearest, 25 % beyond 1.5 LED spacings)
 *   thinking   cyan    (0,160,255) pulse: triangle 15 % -> 100 % -> 15 %, 1000 ms
 *   speaking   teal    (0,255,160) breathing: raised cosine 10 % .. 100 %, 3000 ms
 *   followup   blue    (0,0,255)   solid at 40 %
 *   muted      red     (255,0,0)   solid
 *   offline    amber   (255,120,0) blink 500 ms on / 500 ms off
 *   error      red     (255,0,0)   blink 250 ms on / 250 ms off
 *
 * Backends (chosen by [led] type): `apa102` (a ring over spidev, optional
 * supply GPIO through libgpiod), `sysfs` (one LED of the LED class, driven by
 * brightness only) and `null` (type none, and the fallback when a device
 * cannot be opened or fails: it keeps the pixels so tests and `harkctl
 * status` can read them).
 *
 * Threads: main thread only. led_tick() does a small blocking write (spidev
 * or sysfs, tens of microseconds) only when the frame changed; it never
 * allocates or logs.
 */
#ifndef HARK_LED_H
#define HARK_LED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_state.h"
#include "config.h"

#define LED_TICK_MS 40          /* the main loop's tick period for led_tick() */
#define LED_MAX_COUNT 255

struct led_rgb {
    uint8_t r, g, b;
};

struct led;

/* Opens the board's LEDs. sysfs_root replaces /sys/class/leds (tests; NULL
 * for the real one). Never falls over a missing device: the LEDs then use
 * the null backend and err holds a message for the caller to log (err[0] is
 * '\0' when everything opened). NULL only on OOM. */
struct led *led_create(const struct board_cfg *board, const char *sysfs_root, char *err, size_t errlen);
/* Turns the LEDs off (and their supply) and frees everything; NULL is fine. */
void led_destroy(struct led *l);

/* The pattern to show from now_ms on; the same state again keeps its phase. */
void led_set_state(struct led *l, enum app_state s, uint64_t now_ms);
/* Direction of the talker in the board frame (degrees, counter-clockwise
 * from +x); NAN = unknown. Used by the listening pattern on a ring. */
void led_set_direction(struct led *l, double deg);

/* Renders the pattern at now_ms and writes it when it changed. Returns 0,
 * or -errno when the device failed: the LEDs have then switched to the null
 * backend (reported once). */
int led_tick(struct led *l, uint64_t now_ms);

/* Pure rendering, for tests: n pixels of the pattern at now_ms (brightness
 * not applied). */
void led_render(const struct led *l, uint64_t now_ms, struct led_rgb *out);

unsigned led_count(const struct led *l);
enum app_state led_state(const struct led *l);
/* The last frame rendered by led_tick (led_count() pixels). */
const struct led_rgb *led_pixels(const struct led *l);
/* "null", "sysfs" or "apa102": what is driving the LEDs now. */
const char *led_backend_name(const struct led *l);
/* "off", "solid", "spot", "pulse", "breathing", "blink" for a state. */
const char *led_pattern_name(const struct led *l, enum app_state s);

/* The APA102 bytes for n pixels at brightness_pct (1..100): a 32-bit zero
 * start frame, per LED 0xE0|global(5 bits), B, G, R, then an end frame of
 * max(4, ceil(n/16)) bytes of 0xFF (at least n/2 clock edges). Returns the
 * length, or 0 if out is too small. */
size_t led_apa102_frame(const struct led_rgb *px, unsigned n, unsigned brightness_pct, uint8_t *out,
                        size_t outlen);
size_t led_apa102_frame_size(unsigned n);

#endif
