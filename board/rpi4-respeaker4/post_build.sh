#!/bin/sh
# board/rpi4-respeaker4/post_build.sh - install this board's files into a
# staged root filesystem.
#
# Usage: post_build.sh TARGET_DIR
#
# Buildroot calls post-build scripts with TARGET_DIR as $1
# (BR2_ROOTFS_POST_BUILD_SCRIPT); `make rootfs` calls it the same way.
# Installs:
#   board.conf  -> $TARGET_DIR/etc/hark/board.conf  (harkd's board file)
#   asound.conf -> $TARGET_DIR/etc/asound.conf      (hark_capture, hark_playback)
# Idempotent: every run overwrites the same two files with the same content
# and touches nothing else, so it is safe to run again on the same tree.
set -eu

if [ "$#" -lt 1 ] || [ -z "$1" ]; then
	echo "usage: $0 TARGET_DIR" >&2
	exit 2
fi
TARGET_DIR=$1
BOARD_DIR=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$TARGET_DIR" ]; then
	echo "$0: $TARGET_DIR: no such directory" >&2
	exit 1
fi

install -D -m 0644 "$BOARD_DIR/board.conf" "$TARGET_DIR/etc/hark/board.conf"
install -D -m 0644 "$BOARD_DIR/asound.conf" "$TARGET_DIR/etc/asound.conf"
