/* SPDX-License-Identifier: MIT */
/* Which paths are Binder devices, and the daemon sockets that serve them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DEVICE_PATH_MAX 108

/*
 * Whether @path names an emulated Binder device; if so, the daemon socket
 * that serves it goes to @sock. Absolute paths only (lexically normalised:
 * repeated slashes and "." components are ignored).
 */
bool device_lookup(const char *path, char *sock, size_t size);
/* Whether @path asks for a directory after its last name ("/dev/binder/",
 * "/dev/binder/."), which a device path refuses with ENOTDIR. */
bool device_path_names_dir(const char *path);
