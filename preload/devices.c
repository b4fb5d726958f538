/* SPDX-License-Identifier: MIT */
/*
 * Which paths are Binder devices, and which daemon socket serves each.
 *
 * Defaults: /dev/binder, /dev/hwbinder, /dev/vndbinder and /dev/binderfs/NAME
 * (except binder-control) are devices; the context is the basename, served by
 * $UBINDER_SOCKET_DIR/NAME or else ubt_default_socket(NAME).
 *
 * $UBINDER_DEVICES adds or overrides: a comma-separated list of
 * DEVICE=TARGET where DEVICE is an absolute path and TARGET a context name,
 * an absolute socket path, or empty (the path is not emulated and goes to
 * the real file system).
 *
 * The environment is read once, at the first open().
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "real.h"

#define MAX_MAPPINGS 32

struct mapping {
	char dev[DEVICE_PATH_MAX];
	char target[DEVICE_PATH_MAX]; /* "" = not emulated */
};

static struct mapping mappings[MAX_MAPPINGS];
static size_t nmappings;
static char socket_dir[DEVICE_PATH_MAX];
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

/* Lexical normalisation: "//dev/./binder" -> "/dev/binder". False if the
 * path is relative, has "..", or does not fit. */
static bool normalise(const char *path, char *out, size_t size)
{
	size_t n = 0;

	if (path[0] != '/')
		return false;
	while (*path) {
		const char *end;
		size_t len;

		while (*path == '/')
			path++;
		end = strchrnul(path, '/');
		len = (size_t)(end - path);
		if (len == 0)
			break;
		if (len == 2 && path[0] == '.' && path[1] == '.')
			return false;
		if (!(len == 1 && path[0] == '.')) {
			if (n + 1 + len + 1 > size)
				return false;
			out[n++] = '/';
			memcpy(out + n, path, len);
			n += len;
		}
		path = end;
	}
	if (n == 0)
		return false;
	out[n] = '\0';
	return true;
}

static void read_config(void)
{
	const char *dir = getenv("UBINDER_SOCKET_DIR");
	const char *list = getenv("UBINDER_DEVICES");

	if (dir && dir[0] == '/')
		snprintf(socket_dir, sizeof(socket_dir), "%s", dir);
	while (list && *list && nmappings < MAX_MAPPINGS) {
		const char *end = strchrnul(list, ',');
		const char *eq = memchr(list, '=', (size_t)(end - list));
		char dev[DEVICE_PATH_MAX];

		if (eq && (size_t)(eq - list) < sizeof(dev) &&
		    (size_t)(end - eq - 1) < sizeof(mappings[0].target)) {
			memcpy(dev, list, (size_t)(eq - list));
			dev[eq - list] = '\0';
			if (normalise(dev, mappings[nmappings].dev, sizeof(mappings[0].dev))) {
				memcpy(mappings[nmappings].target, eq + 1, (size_t)(end - eq - 1));
				mappings[nmappings].target[end - eq - 1] = '\0';
				nmappings++;
			} else {
				plog("UBINDER_DEVICES: ignoring '%.*s' (not an absolute path)",
				     (int)(eq - list), list);
			}
		} else if (end != list) {
			plog("UBINDER_DEVICES: ignoring '%.*s' (want DEVICE=TARGET)",
			     (int)(end - list), list);
		}
		list = *end ? end + 1 : end;
	}
}

/* The context a default device path names, or NULL. */
static const char *default_context(const char *path)
{
	static const char *const devs[] = { "/dev/binder", "/dev/hwbinder", "/dev/vndbinder" };
	const char *name;

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		if (strcmp(path, devs[i]) == 0)
			return devs[i] + 5;
	}
	if (strncmp(path, "/dev/binderfs/", 14) != 0)
		return NULL;
	name = path + 14;
	if (!*name || strchr(name, '/') || strcmp(name, "binder-control") == 0)
		return NULL;
	return name;
}

bool device_lookup(const char *path, char *sock, size_t size)
{
	char norm[DEVICE_PATH_MAX];
	const char *target = NULL;

	if (!path || path[0] != '/')
		return false;
	pthread_once(&config_once, read_config);
	/* Cheap rejection: this runs for every open() of the program. */
	if (nmappings == 0 && !strstr(path, "/dev/"))
		return false;
	if (!normalise(path, norm, sizeof(norm)))
		return false;
	for (size_t i = 0; i < nmappings; i++) {
		if (strcmp(mappings[i].dev, norm) == 0) {
			target = mappings[i].target;
			break;
		}
	}
	if (!target)
		target = default_context(norm);
	if (!target || !*target)
		return false;
	if (target[0] == '/')
		snprintf(sock, size, "%s", target);
	else if (socket_dir[0])
		snprintf(sock, size, "%s/%s", socket_dir, target);
	else
		ubt_default_socket(target, sock, size);
	return true;
}

bool device_path_names_dir(const char *path)
{
	size_t n = strlen(path);

	return (n > 1 && path[n - 1] == '/') || (n > 2 && path[n - 1] == '.' && path[n - 2] == '/');
}
