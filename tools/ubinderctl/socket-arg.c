/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "socket-arg.h"
#include "ubinder/ubinder.h"

const char *tool_socket_path(const char *prog, const char *socket, const char *context, char *buf,
			     size_t size, int *bad)
{
	*bad = 0;
	if (context && (!context[0] || strchr(context, '/'))) {
		fprintf(stderr, "%s: bad context name '%s'\n", prog, context);
		*bad = 1;
		return NULL;
	}
	if (socket && context) {
		const char *slash = strrchr(socket, '/');
		int dir = slash ? (int)(slash - socket) : 0;

		if (snprintf(buf, size, "%.*s%s%s", dir, socket, slash ? "/" : "", context) >=
		    (int)size) {
			fprintf(stderr, "%s: socket path too long\n", prog);
			*bad = 1;
			return NULL;
		}
		return buf;
	}
	if (socket) {
		if (snprintf(buf, size, "%s", socket) >= (int)size) {
			fprintf(stderr, "%s: socket path too long\n", prog);
			*bad = 1;
			return NULL;
		}
		return buf;
	}
	if (context) {
		if (ubinder_default_socket(context, buf, size)) {
			fprintf(stderr, "%s: socket path too long\n", prog);
			*bad = 1;
			return NULL;
		}
		return buf;
	}
	return NULL;
}
