# Button and LED drivers (issue 6): evdev / libgpiod button with gestures,
# sysfs and APA102-over-spidev LEDs with a null backend.
DRIVER_SRCS += drivers/button.c drivers/led.c drivers/led_sysfs.c drivers/led_apa102.c
EXTRA_LIBS += -lgpiod
