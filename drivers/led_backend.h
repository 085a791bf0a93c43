/*
 * led_backend.h - the LED hardware backends behind led.c (private to the
 * LED driver).
 *
 * A backend takes a finished frame of pixels and the [led] brightness and
 * puts it on the hardware. open() fills priv or returns -errno with a
 * message; write() returns 0 or -errno; close() turns the LEDs off and
 * releases everything.
 *
 * Threads: main thread only, called from led.c.
 */
#ifndef HARK_LED_BACKEND_H
#define HARK_LED_BACKEND_H

#include "led.h"

struct led_backend {
    const char *name;
    int (*write)(void *priv, const struct led_rgb *px, unsigned n, unsigned brightness_pct);
    void (*close)(void *priv);
};

extern const struct led_backend led_sysfs_backend;
extern const struct led_backend led_apa102_backend;

/* root: the LED class directory (/sys/class/leds). */
int led_sysfs_open(const char *root, const char *name, void **priv, char *err, size_t errlen);

/* spi_device: /dev/spidevB.C, or any writable file/FIFO that is not a
 * character device (tests: no SPI ioctls are tried on those). power_line: line of gpiochip0 driven high
 * while open, -1 for none; a failure there is only a warning in err. */
int led_apa102_open(const char *spi_device, unsigned count, int power_line, void **priv, char *err,
                    size_t errlen);

#endif
