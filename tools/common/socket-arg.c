/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "socket-arg.h"
#include "ubinder/ubinder.h"

bool tool_common_option(int opt, struct tool_args *a, const char *prog, const char *usage,
			int *exit_status)
{
	*exit_status = -1;
	switch (opt) {
	case 's':
		a->socket = optarg;
		return true;
	case 'c':
		a->context = optarg;
		return true;
	default:
		*exit_status = program_standard_option(opt, prog, usage, NULL);
		return *exit_status >= 0;
	}
}

const char *tool_socket_path(const char *prog, const char *socket, const char *context, char *buf,
			     size_t size, int *bad)
{
	bool too_long;

	*bad = 0;
	if (context && (!context[0] || strchr(context, '/'))) {
		fprintf(stderr, "%s: bad context name '%s'\n", prog, context);
		*bad = 1;
		return NULL;
	}
	if (socket && context) {
		const char *slash = strrchr(socket, '/');
		int dir = slash ? (int)(slash - socket) : 0;

		too_long = snprintf(buf, size, "%.*s%s%s", dir, socket, slash ? "/" : "",
				    context) >= (int)size;
	} else if (socket) {
		too_long = snprintf(buf, size, "%s", socket) >= (int)size;
	} else if (context) {
		too_long = ubinder_default_socket(context, buf, size) != 0;
	} else {
		return NULL;
	}
	if (too_long) {
		fprintf(stderr, "%s: socket path too long\n", prog);
		*bad = 1;
		return NULL;
	}
	return buf;
}
